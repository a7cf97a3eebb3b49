// PrometheusClient against a fake Prometheus (answers and errors of the HTTP API) and,
// when /usr/bin/prometheus is installed, every PromQueries expression against a real
// Prometheus scraping a real gateway.
#include "gatewayharness.h"

#include "clients/prometheusclient.h"
#include "clients/promqueries.h"
#include "http/httpresponder.h"
#include "http/httpserver.h"

#include <QFile>
#include <QProcess>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <QUrlQuery>

#include <algorithm>
#include <cmath>
#include <memory>
#include <mutex>
#include <optional>

using namespace sluice;
using namespace sluice::clients;
using namespace sluice::test;

namespace {

constexpr int kWaitMs = 20'000; // only guards against hangs

QUrl localUrl(quint16 port)
{
    return QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port));
}

// Answers every request with one fixed answer; remembers the requests.
class FakePrometheus {
public:
    FakePrometheus(int status, QByteArray contentType, QByteArray body)
    {
        http::HttpServerOptions options;
        options.threads = 1;
        m_server = std::make_unique<http::HttpServer>(
            options, [this, status, contentType, body](http::HttpRequest request,
                                                        std::shared_ptr<http::HttpResponder> responder) {
                {
                    std::lock_guard lock(m_mutex);
                    m_requests.append(request);
                }
                responder->respond(status, http::HttpHeaders{{"Content-Type", contentType}}, body);
            });
        auto listening = m_server->listen();
        port = listening ? *listening : 0;
    }
    http::HttpRequest lastRequest() const
    {
        std::lock_guard lock(m_mutex);
        return m_requests.value(m_requests.size() - 1);
    }
    quint16 port = 0;

private:
    mutable std::mutex m_mutex;
    QList<http::HttpRequest> m_requests;
    std::unique_ptr<http::HttpServer> m_server;
};

struct QueryOutcome {
    PrometheusClient::QueryCallback callback()
    {
        return [this](Result<PromQueryResult, SourceError> outcome) { result.emplace(std::move(outcome)); };
    }
    bool wait() { return QTest::qWaitFor([this] { return result.has_value(); }, kWaitMs); }
    bool ok() const { return result && result->ok(); }
    const PromQueryResult &value() const { return **result; }
    const SourceError &error() const { return result->error(); }
    QString failure() const { return result && !result->ok() ? result->error().message : QString(); }
    std::optional<Result<PromQueryResult, SourceError>> result;
};

QueryOutcome runQuery(PrometheusClient &client, const QString &promql, std::optional<QDateTime> at = {})
{
    QueryOutcome outcome;
    client.query(promql, at, nullptr, outcome.callback());
    outcome.wait();
    return outcome;
}

// A real Prometheus on a free port scraping `target` every second, in a temp dir.
class PrometheusProcess {
public:
    explicit PrometheusProcess(quint16 target)
    {
        QTcpServer probe;
        probe.listen(QHostAddress::LocalHost, 0);
        port = probe.serverPort();
        probe.close();
        QFile config(m_dir.filePath(QStringLiteral("prometheus.yml")));
        if (!config.open(QIODevice::WriteOnly))
            return;
        config.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                     "scrape_configs:\n  - job_name: sluice-gateway\n    static_configs:\n"
                     "      - targets: ['127.0.0.1:"
                     + QByteArray::number(target) + "']\n");
        config.close();
        m_process.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        m_process.setStandardOutputFile(QProcess::nullDevice());
        m_process.start(QStringLiteral("/usr/bin/prometheus"),
                        {QStringLiteral("--config.file=%1").arg(config.fileName()),
                         QStringLiteral("--storage.tsdb.path=%1").arg(m_dir.filePath(QStringLiteral("data"))),
                         QStringLiteral("--web.listen-address=127.0.0.1:%1").arg(port),
                         QStringLiteral("--log.level=error")});
    }
    ~PrometheusProcess()
    {
        if (m_process.state() == QProcess::NotRunning)
            return;
        m_process.terminate();
        if (!m_process.waitForFinished(10'000)) {
            m_process.kill();
            m_process.waitForFinished(5'000);
        }
    }
    bool started() { return m_process.waitForStarted(10'000); }
    quint16 port = 0;

private:
    QTemporaryDir m_dir;
    QProcess m_process;
};

} // namespace

class TestPrometheusClient : public QObject {
    Q_OBJECT

private slots:
    void stepFor_data();
    void stepFor();
    void instantVectorAndTheFormSent();
    void matrixWithSpecialValuesAndWarnings();
    void scalarResult();
    void prometheusErrorsArePrecise_data();
    void prometheusErrorsArePrecise();
    void promQueriesUseMatchersAndWindow();
    void everyDashboardQueryRunsOnARealPrometheus();
};

void TestPrometheusClient::stepFor_data()
{
    QTest::addColumn<double>("rangeSeconds");
    QTest::addColumn<int>("widthPixels");
    QTest::addColumn<double>("step");

    QTest::newRow("5 min on 600 px: 1 s") << 300.0 << 600 << 1.0;
    QTest::newRow("never below 1 s") << 10.0 << 2000 << 1.0;
    QTest::newRow("15 min on 600 px: 3 s -> 5 s") << 900.0 << 600 << 5.0;
    QTest::newRow("1 h on 800 px: 9 s -> 10 s") << 3600.0 << 800 << 10.0;
    QTest::newRow("1 h on 300 px: 24 s -> 30 s") << 3600.0 << 300 << 30.0;
    QTest::newRow("6 h on 800 px: 54 s -> 1 min") << 21600.0 << 800 << 60.0;
    QTest::newRow("1 d on 1000 px: 172.8 s -> 5 min") << 86400.0 << 1000 << 300.0;
    QTest::newRow("7 d on 1000 px: 1209.6 s -> 30 min") << 604800.0 << 1000 << 1800.0;
    QTest::newRow("30 d on 600 px: 8640 s -> 3 h") << 2592000.0 << 600 << 10800.0;
    QTest::newRow("1 y on 100 px: 630720 s -> 8 d") << 31536000.0 << 100 << 8.0 * 86400;
    QTest::newRow("zero width") << 60.0 << 0 << 60.0;
    QTest::newRow("no range") << 0.0 << 500 << 1.0;
}

void TestPrometheusClient::stepFor()
{
    QFETCH(double, rangeSeconds);
    QFETCH(int, widthPixels);
    QFETCH(double, step);
    QCOMPARE(PrometheusClient::stepFor(rangeSeconds, widthPixels), step);
    // Never more than one point per 2 px (Prometheus refuses more than 11000 points).
    if (widthPixels >= 2 && rangeSeconds > 0)
        QVERIFY(rangeSeconds / PrometheusClient::stepFor(rangeSeconds, widthPixels) <= widthPixels / 2 + 1e-9);
}

void TestPrometheusClient::instantVectorAndTheFormSent()
{
    FakePrometheus server(200, "application/json",
                          "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
                          "{\"metric\":{\"code\":\"2xx\"},\"value\":[1700000000.5,\"12.5\"]},"
                          "{\"metric\":{\"code\":\"5xx\"},\"value\":[1700000000.5,\"0\"]}]}}");
    PrometheusClient client(PrometheusClientOptions{localUrl(server.port), "prom-token", 10'000});
    const QString promql = QStringLiteral("sum by (code) (rate(sluice_requests_total{job=\"a+b\"}[1m])) + 0");
    const QDateTime at = QDateTime::fromMSecsSinceEpoch(1'700'000'000'500, Qt::UTC);
    const QueryOutcome outcome = runQuery(client, promql, at);
    QVERIFY2(outcome.ok(), qPrintable(outcome.failure()));
    QCOMPARE(outcome.value().type, PromResultType::Vector);
    QCOMPARE(outcome.value().series.size(), std::size_t(2));
    QCOMPARE(outcome.value().series[0].label(QStringLiteral("code")), QStringLiteral("2xx"));
    QCOMPARE(outcome.value().series[0].points.size(), std::size_t(1));
    QCOMPARE(outcome.value().series[0].points[0].value, 12.5);
    QCOMPARE(outcome.value().series[0].points[0].timestampSeconds, 1700000000.5);

    const http::HttpRequest request = server.lastRequest();
    QCOMPARE(request.method, QByteArray("POST"));
    QCOMPARE(request.path, QByteArray("/api/v1/query"));
    QVERIFY(request.headers.value("content-type").startsWith("application/x-www-form-urlencoded"));
    QCOMPARE(request.headers.value("authorization"), QByteArray("Bearer prom-token"));
    // Decoded the way a form decoder does ('+' is a space unless percent-encoded).
    QByteArray body = request.body;
    body.replace('+', ' ');
    const QUrlQuery form(QString::fromUtf8(body));
    QCOMPARE(form.queryItemValue(QStringLiteral("query"), QUrl::FullyDecoded), promql);
    QCOMPARE(form.queryItemValue(QStringLiteral("time")), QStringLiteral("1700000000.500"));
}

void TestPrometheusClient::matrixWithSpecialValuesAndWarnings()
{
    FakePrometheus server(200, "application/json",
                          "{\"status\":\"success\",\"warnings\":[\"partial response\"],\"data\":{\"resultType\":"
                          "\"matrix\",\"result\":[{\"metric\":{\"__name__\":\"x\",\"upstream\":\"openai\"},"
                          "\"values\":[[1700000000,\"1\"],[1700000015,\"NaN\"],[1700000030,\"+Inf\"]]}]}}");
    PrometheusClient client(PrometheusClientOptions{localUrl(server.port), {}, 10'000});
    QueryOutcome outcome;
    const QDateTime end = QDateTime::fromSecsSinceEpoch(1'700'000'030, Qt::UTC);
    client.queryRange(QStringLiteral("x"), end.addSecs(-30), end, 15, this, outcome.callback());
    QVERIFY(outcome.wait());
    QVERIFY2(outcome.ok(), qPrintable(outcome.failure()));
    QCOMPARE(outcome.value().type, PromResultType::Matrix);
    QCOMPARE(outcome.value().warnings, QStringList{QStringLiteral("partial response")});
    const PromSeries &series = outcome.value().series.at(0);
    QCOMPARE(series.label(QStringLiteral("upstream")), QStringLiteral("openai"));
    QCOMPARE(series.points.size(), std::size_t(3));
    QCOMPARE(series.points[0].value, 1.0);
    QVERIFY(std::isnan(series.points[1].value));
    QVERIFY(std::isinf(series.points[2].value) && series.points[2].value > 0);
    QCOMPARE(series.points[2].timestampSeconds, 1700000030.0);

    QByteArray body = server.lastRequest().body;
    body.replace('+', ' ');
    const QUrlQuery form(QString::fromUtf8(body));
    QCOMPARE(server.lastRequest().path, QByteArray("/api/v1/query_range"));
    QCOMPARE(form.queryItemValue(QStringLiteral("start")), QStringLiteral("1700000000.000"));
    QCOMPARE(form.queryItemValue(QStringLiteral("end")), QStringLiteral("1700000030.000"));
    QCOMPARE(form.queryItemValue(QStringLiteral("step")), QStringLiteral("15"));
}

void TestPrometheusClient::scalarResult()
{
    FakePrometheus server(200, "application/json",
                          "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[1700000000,\"42\"]}}");
    PrometheusClient client(PrometheusClientOptions{localUrl(server.port), {}, 10'000});
    const QueryOutcome outcome = runQuery(client, QStringLiteral("42"));
    QVERIFY2(outcome.ok(), qPrintable(outcome.failure()));
    QCOMPARE(outcome.value().type, PromResultType::Scalar);
    QCOMPARE(outcome.value().series.at(0).points.at(0).value, 42.0);
    QVERIFY(outcome.value().series.at(0).labels.empty());
}

void TestPrometheusClient::prometheusErrorsArePrecise_data()
{
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("contentType");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<SourceErrorKind>("kind");
    QTest::addColumn<QString>("messagePart");

    QTest::newRow("bad_data") << 400 << QByteArray("application/json")
                              << QByteArray("{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"1:5: parse "
                                            "error: unexpected <op:+>\"}")
                              << SourceErrorKind::HttpStatus
                              << QStringLiteral("refused the query (bad_data): 1:5: parse error: unexpected <op:+>");
    QTest::newRow("execution") << 422 << QByteArray("application/json")
                               << QByteArray("{\"status\":\"error\",\"errorType\":\"execution\",\"error\":\"many-to-"
                                             "many matching not allowed\"}")
                               << SourceErrorKind::HttpStatus
                               << QStringLiteral("(execution): many-to-many matching not allowed");
    QTest::newRow("query timeout") << 503 << QByteArray("application/json")
                                   << QByteArray("{\"status\":\"error\",\"errorType\":\"timeout\",\"error\":\"query "
                                                 "timed out in expression evaluation\"}")
                                   << SourceErrorKind::TimedOut << QStringLiteral("query timed out");
    QTest::newRow("web page") << 200 << QByteArray("text/html") << QByteArray("<html>Grafana</html>")
                              << SourceErrorKind::WrongProtocol << QStringLiteral("is not Prometheus");
    QTest::newRow("other JSON") << 404 << QByteArray("application/json")
                                << QByteArray("{\"error\":{\"message\":\"Unknown request URL\"}}")
                                << SourceErrorKind::WrongProtocol << QStringLiteral("answered 404");
    QTest::newRow("proxy 502") << 502 << QByteArray("text/html") << QByteArray("<html>Bad Gateway</html>")
                               << SourceErrorKind::HttpStatus << QStringLiteral("answered 502");
    QTest::newRow("proxy auth") << 401 << QByteArray("text/plain") << QByteArray("Unauthorized")
                                << SourceErrorKind::AuthenticationFailed
                                << QStringLiteral("authentication failed: Prometheus at");
    QTest::newRow("no data") << 200 << QByteArray("application/json") << QByteArray("{\"status\":\"success\"}")
                             << SourceErrorKind::WrongProtocol << QStringLiteral("no data");
}

void TestPrometheusClient::prometheusErrorsArePrecise()
{
    QFETCH(int, status);
    QFETCH(QByteArray, contentType);
    QFETCH(QByteArray, body);
    QFETCH(SourceErrorKind, kind);
    QFETCH(QString, messagePart);
    FakePrometheus server(status, contentType, body);
    PrometheusClient client(PrometheusClientOptions{localUrl(server.port), {}, 10'000});
    const QueryOutcome outcome = runQuery(client, QStringLiteral("up"));
    QVERIFY(outcome.result.has_value());
    QVERIFY(!outcome.ok());
    QCOMPARE(outcome.error().kind, kind);
    QVERIFY2(outcome.error().message.contains(messagePart), qPrintable(outcome.error().message));
    QVERIFY2(outcome.error().message.contains(QStringLiteral("127.0.0.1:%1").arg(server.port)),
             qPrintable(outcome.error().message));
}

void TestPrometheusClient::promQueriesUseMatchersAndWindow()
{
    const PromQueries plain;
    QCOMPARE(plain.requestsPerSecondByClass(), QStringLiteral("sum by (code) (rate(sluice_requests_total[1m]))"));
    QCOMPARE(plain.requestDurationQuantile(0.95),
             QStringLiteral("histogram_quantile(0.95, sum by (le) (rate(sluice_request_duration_seconds_bucket[1m])))"));
    const PromQueries scoped(QStringLiteral("job=\"sluice-gateway\""), QStringLiteral("5m"));
    QCOMPARE(scoped.ownLimit429PerSecond(),
             QStringLiteral("sum(rate(sluice_client_errors_total{job=\"sluice-gateway\", reason=\"rate_limited\"}[5m]))"));
    QCOMPARE(scoped.inFlight(), QStringLiteral("sum(sluice_in_flight_requests{job=\"sluice-gateway\"})"));
    QVERIFY(scoped.costUsdPerMonth().startsWith(QStringLiteral("2592000 * ")));
}

void TestPrometheusClient::everyDashboardQueryRunsOnARealPrometheus()
{
    if (!QFile::exists(QStringLiteral("/usr/bin/prometheus")))
        QSKIP("Prometheus is not installed (/usr/bin/prometheus; Debian package: prometheus)");
    GatewayHarness harness;
    QVERIFY2(harness.startError.isEmpty(), qPrintable(harness.startError));
    PrometheusProcess prometheus(harness.port);
    QVERIFY(prometheus.started());
    PrometheusClient client(PrometheusClientOptions{localUrl(prometheus.port), {}, 10'000});

    // Ready once the API answers.
    bool ready = false;
    for (int attempt = 0; attempt < 100 && !ready; ++attempt) {
        std::optional<Result<QJsonObject, SourceError>> info;
        client.buildInfo(nullptr, [&](Result<QJsonObject, SourceError> result) { info.emplace(std::move(result)); });
        (void)QTest::qWaitFor([&] { return info.has_value(); }, kWaitMs);
        ready = info && info->ok();
        if (!ready)
            QTest::qWait(200);
    }
    QVERIFY2(ready, "Prometheus did not start answering");
    const auto hasValue = [&](const QString &promql) {
        const QueryOutcome outcome = runQuery(client, promql);
        return outcome.ok() && !outcome.value().series.empty() && outcome.value().series[0].points.at(0).value > 0;
    };
    // Prometheus applies discovered targets only every 5 s: wait for the first scrape.
    QTRY_VERIFY_WITH_TIMEOUT(hasValue(QStringLiteral("up{job=\"sluice-gateway\"}")), kWaitMs);

    // Traffic over several scrapes: misses, hits and a 4xx.
    for (int round = 0; round < 12; ++round) {
        exchange(harness.port, "POST", "/v1/chat/completions",
                 chatBody(QStringLiteral("gpt-4o-mini"), QStringLiteral("prompt %1").arg(round % 4)), bearer());
        exchange(harness.port, "POST", "/v1/chat/completions",
                 chatBody(QStringLiteral("gpt-4o-mini"), QStringLiteral("x")), bearer("sk-wrong"));
        QTest::qWait(300);
    }
    // Until the counters Prometheus holds show the traffic.
    const PromQueries queries(QStringLiteral("job=\"sluice-gateway\""), QStringLiteral("10s"));
    QTRY_VERIFY_WITH_TIMEOUT(hasValue(queries.requestsPerSecond()), kWaitMs);

    const QDateTime at = QDateTime::currentDateTimeUtc();
    const std::vector<std::pair<const char *, QString>> all{
        {"requestsPerSecond", queries.requestsPerSecond()},
        {"requestsPerSecondByClass", queries.requestsPerSecondByClass()},
        {"errorRatio", queries.errorRatio()},
        {"requestDurationQuantile", queries.requestDurationQuantile(0.95)},
        {"upstreamDurationQuantile", queries.upstreamDurationQuantile(0.5)},
        {"upstreamDurationQuantileByUpstream", queries.upstreamDurationQuantileByUpstream(0.99)},
        {"gatewayOverheadQuantile", queries.gatewayOverheadQuantile(0.99)},
        {"timeToFirstTokenQuantile", queries.timeToFirstTokenQuantile(0.5)},
        {"ownLimit429PerSecond", queries.ownLimit429PerSecond()},
        {"providerQuota429PerSecond", queries.providerQuota429PerSecond()},
        {"provider429PerSecond", queries.provider429PerSecond()},
        {"provider429PerSecondByUpstream", queries.provider429PerSecondByUpstream()},
        {"ownLimit429Ratio", queries.ownLimit429Ratio()},
        {"providerQuota429Ratio", queries.providerQuota429Ratio()},
        {"limitedPerSecondByScope", queries.limitedPerSecondByScope()},
        {"cacheHitRatio", queries.cacheHitRatio()},
        {"cacheSavedTokensPerSecond", queries.cacheSavedTokensPerSecond()},
        {"cacheSavedTokensPerHour", queries.cacheSavedTokensPerHour()},
        {"cacheSavedUsdPerHour", queries.cacheSavedUsdPerHour()},
        {"inFlight", queries.inFlight()},
        {"upstreamInFlight", queries.upstreamInFlight()},
        {"concurrencyLimit", queries.concurrencyLimit()},
        {"concurrencyUtilisation", queries.concurrencyUtilisation()},
        {"queueDepth", queries.queueDepth()},
        {"meanQueueWaitSeconds", queries.meanQueueWaitSeconds()},
        {"queueRejectionsPerSecond", queries.queueRejectionsPerSecond()},
        {"tokensPerSecond", queries.tokensPerSecond()},
        {"tokensPerSecondByType", queries.tokensPerSecondByType()},
        {"tokensPerMinuteByModel", queries.tokensPerMinuteByModel()},
        {"costUsdPerHour", queries.costUsdPerHour()},
        {"costUsdPerDay", queries.costUsdPerDay()},
        {"costUsdPerMonth", queries.costUsdPerMonth()},
        {"costUsdPerHourByModel", queries.costUsdPerHourByModel()},
        {"upstreamRequestsPerMinute", queries.upstreamRequestsPerMinute()},
        {"upstreamErrorsPerSecond", queries.upstreamErrorsPerSecond()},
        {"providerQuotaLimit", queries.providerQuotaLimit()},
        {"providerQuotaRemaining", queries.providerQuotaRemaining()},
        {"providerRequestQuotaPercentUsed", queries.providerRequestQuotaPercentUsed()},
        {"providerRequestQuotaSecondsToExhaustion", queries.providerRequestQuotaSecondsToExhaustion()},
        {"breakerState", queries.breakerState()},
        {"uptimeSecondsByInstance", queries.uptimeSecondsByInstance()},
        {"configVersionByInstance", queries.configVersionByInstance()},
        {"buildInfoByInstance", queries.buildInfoByInstance()},
    };
    std::map<QString, PromQueryResult> results;
    for (const auto &[name, promql] : all) {
        const QueryOutcome outcome = runQuery(client, promql, at);
        QVERIFY2(outcome.ok(), qPrintable(QStringLiteral("%1: %2\n  %3").arg(QLatin1StringView(name),
                                                                              outcome.failure(), promql)));
        results[QString::fromLatin1(name)] = outcome.value();
    }
    const auto single = [&](const char *name) {
        const PromQueryResult &result = results.at(QString::fromLatin1(name));
        return result.series.empty() ? std::nan("") : result.series[0].points.at(0).value;
    };
    QVERIFY(single("requestsPerSecond") > 0);
    bool has2xx = false;
    bool has4xx = false;
    for (const PromSeries &series : results.at(QStringLiteral("requestsPerSecondByClass")).series) {
        has2xx = has2xx || series.label(QStringLiteral("code")) == u"2xx";
        has4xx = has4xx || series.label(QStringLiteral("code")) == u"4xx";
    }
    QVERIFY(has2xx && has4xx);
    QCOMPARE(single("errorRatio"), 0.0);
    QVERIFY(single("requestDurationQuantile") > 0);
    QVERIFY(single("cacheHitRatio") >= 0 && single("cacheHitRatio") <= 1);
    QVERIFY(single("concurrencyLimit") > 0);
    QVERIFY(std::abs(single("costUsdPerDay") - 24 * single("costUsdPerHour")) <= 1e-9 * single("costUsdPerDay"));
    QCOMPARE(single("configVersionByInstance"), 1.0);
    QVERIFY(single("uptimeSecondsByInstance") >= 0);
    const PromQueryResult &breakers = results.at(QStringLiteral("breakerState"));
    QVERIFY(std::any_of(breakers.series.begin(), breakers.series.end(), [](const PromSeries &series) {
        return series.label(QStringLiteral("upstream")) == u"simulated-openai" && series.points.at(0).value == 0;
    }));
    QVERIFY(!results.at(QStringLiteral("buildInfoByInstance")).series.at(0).label(QStringLiteral("version")).isEmpty());

    // A range query over the last 30 s with a chart-friendly step.
    const double step = PrometheusClient::stepFor(30, 30);
    QCOMPARE(step, 2.0);
    QueryOutcome range;
    client.queryRange(queries.requestsPerSecond(), at.addSecs(-30), at, step, this, range.callback());
    QVERIFY(range.wait());
    QVERIFY2(range.ok(), qPrintable(range.failure()));
    QCOMPARE(range.value().type, PromResultType::Matrix);
    QVERIFY(!range.value().series.empty());
    QVERIFY(range.value().series[0].points.size() >= 2);
}

QTEST_GUILESS_MAIN(TestPrometheusClient)
#include "tst_prometheusclient.moc"
