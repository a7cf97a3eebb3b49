// MetricsScraper against a real gateway (the harness) and against fake servers: the
// DashboardFrame between two scrapes counts exactly the requests driven in between.
#include "gatewayharness.h"

#include "clients/dashboardframe.h"
#include "clients/metricsscraper.h"
#include "http/httpresponder.h"
#include "http/httpserver.h"

#include <QTest>

#include <cmath>
#include <memory>
#include <mutex>

using namespace sluice;
using namespace sluice::clients;
using namespace sluice::test;

namespace {

constexpr int kWaitMs = 15'000; // only guards against hangs

// An HTTP server on 127.0.0.1 that answers every request with one fixed answer and
// remembers the Authorization headers it saw.
class FixedAnswerServer {
public:
    FixedAnswerServer(int status, QByteArray contentType, QByteArray body)
    {
        http::HttpServerOptions options;
        options.threads = 1;
        m_server = std::make_unique<http::HttpServer>(
            options, [this, status, contentType, body](http::HttpRequest request,
                                                        std::shared_ptr<http::HttpResponder> responder) {
                {
                    std::lock_guard lock(m_mutex);
                    m_authorizations.append(request.headers.value("authorization"));
                    m_paths.append(request.path);
                }
                responder->respond(status, http::HttpHeaders{{"Content-Type", contentType}}, body);
            });
        auto listening = m_server->listen();
        port = listening ? *listening : 0;
    }
    QList<QByteArray> authorizations() const
    {
        std::lock_guard lock(m_mutex);
        return m_authorizations;
    }
    QList<QByteArray> paths() const
    {
        std::lock_guard lock(m_mutex);
        return m_paths;
    }
    quint16 port = 0;

private:
    mutable std::mutex m_mutex;
    QList<QByteArray> m_authorizations;
    QList<QByteArray> m_paths;
    std::unique_ptr<http::HttpServer> m_server;
};

QUrl localUrl(quint16 port, const QString &path = {})
{
    return QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(port).arg(path));
}

// Scrapes once and waits for the outcome; the snapshot, or null with `error` set.
std::shared_ptr<const ScrapeSnapshot> scrapeOnce(MetricsScraper &scraper, SourceError *error = nullptr)
{
    std::shared_ptr<const ScrapeSnapshot> result;
    bool done = false;
    const auto ok = QObject::connect(&scraper, &MetricsScraper::scraped, &scraper,
                                     [&](std::shared_ptr<const ScrapeSnapshot> snapshot) {
                                         result = std::move(snapshot);
                                         done = true;
                                     });
    const auto failed = QObject::connect(&scraper, &MetricsScraper::scrapeFailed, &scraper,
                                         [&](const SourceError &failure) {
                                             if (error)
                                                 *error = failure;
                                             done = true;
                                         });
    if (scraper.scrape())
        (void)QTest::qWaitFor([&] { return done; }, kWaitMs);
    QObject::disconnect(ok);
    QObject::disconnect(failed);
    return result;
}

double requestsCounted(GatewayHarness &harness)
{
    return metricSum(harness.gw->registry(), "sluice_requests_total");
}

} // namespace

class TestMetricsScraper : public QObject {
    Q_OBJECT

private slots:
    void frameCountsTheRequestsDrivenBetweenTwoScrapes();
    void adminListenerServesMetricsToo();
    void keepsTheLastTwoSnapshotsAcrossFailures();
    void notPrometheusTextIsWrongProtocol();
    void unauthorizedIsAuthenticationFailedAndTokenIsSent();
    void cancelReportsCancelled();
    void periodicScrapes();
};

void TestMetricsScraper::frameCountsTheRequestsDrivenBetweenTwoScrapes()
{
    GatewayHarness harness;
    QVERIFY2(harness.startError.isEmpty(), qPrintable(harness.startError));
    // Some traffic before the first scrape, which the frame must not count.
    QCOMPARE(exchange(harness.port, "POST", "/v1/chat/completions",
                      chatBody(QStringLiteral("gpt-4o-mini"), QStringLiteral("before")), bearer())
                 .status,
             200);
    QTRY_COMPARE_WITH_TIMEOUT(requestsCounted(harness), 1.0, kWaitMs);

    MetricsScraper scraper(MetricsScraperOptions{localUrl(harness.port), {}, 5'000, {}});
    QCOMPARE(scraper.url().path(), QStringLiteral("/metrics"));
    SourceError error;
    const auto first = scrapeOnce(scraper, &error);
    QVERIFY2(first, qPrintable(error.message));
    QCOMPARE(first->instance, QStringLiteral("127.0.0.1:%1").arg(harness.port));
    QVERIFY(first->family("sluice_requests_total"));

    // 3 different prompts (misses) and 2 repeats (cache hits): 5 × 2xx.
    for (const char *prompt : {"one", "two", "three", "one", "two"}) {
        QCOMPARE(exchange(harness.port, "POST", "/v1/chat/completions",
                          chatBody(QStringLiteral("gpt-4o-mini"), QString::fromLatin1(prompt)), bearer())
                     .status,
                 200);
    }
    // 2 × 401 (a wrong key) and 1 × 404 (an unknown model): 3 × 4xx.
    for (int i = 0; i < 2; ++i) {
        QCOMPARE(exchange(harness.port, "POST", "/v1/chat/completions",
                          chatBody(QStringLiteral("gpt-4o-mini"), QStringLiteral("x")), bearer("sk-wrong"))
                     .status,
                 401);
    }
    QCOMPARE(exchange(harness.port, "POST", "/v1/chat/completions",
                      chatBody(QStringLiteral("no-such-model"), QStringLiteral("x")), bearer())
                 .status,
             404);
    // The gateway counts a request once its answer is out; wait for the last one.
    QTRY_COMPARE_WITH_TIMEOUT(requestsCounted(harness), 9.0, kWaitMs);

    const auto second = scrapeOnce(scraper, &error);
    QVERIFY2(second, qPrintable(error.message));
    QVERIFY(second->steadyMs > first->steadyMs);
    QCOMPARE(scraper.previous(), first);
    QCOMPARE(scraper.latest(), second);

    const auto frame = DashboardFrame::between(*first, *second);
    QVERIFY2(frame.ok(), qPrintable(frame.ok() ? QString() : frame.error()));
    QCOMPARE(frame->intervalSeconds, double(second->steadyMs - first->steadyMs) / 1000.0);
    const double interval = frame->intervalSeconds;
    const auto count = [&](double perSecond) { return perSecond * interval; };
    QVERIFY2(std::abs(count(frame->requestsPerSecond) - 8) < 1e-9,
             qPrintable(QString::number(count(frame->requestsPerSecond))));
    QVERIFY(std::abs(count(frame->requestsPerSecondByClass.at(QStringLiteral("2xx"))) - 5) < 1e-9);
    QVERIFY(std::abs(count(frame->requestsPerSecondByClass.at(QStringLiteral("4xx"))) - 3) < 1e-9);
    QVERIFY(std::abs(count(frame->requestsPerSecondByClass.at(QStringLiteral("5xx")))) < 1e-9);
    QCOMPARE(frame->errorRatio.value_or(-1), 0.0);
    // 2 hits of 5 lookups.
    QVERIFY(frame->cacheHitRatio);
    QCOMPARE(*frame->cacheHitRatio, 0.4);
    QVERIFY(std::abs(count(frame->cacheHitsPerSecond) - 2) < 1e-9);
    QVERIFY(frame->cacheSavedTokensPerSecond > 0);
    // 3 upstream calls, one upstream; latency quantiles from this interval's observations.
    const UpstreamFrame *openai = frame->upstream(QStringLiteral("simulated-openai"));
    QVERIFY(openai);
    QVERIFY(std::abs(openai->requestsPerMinute / 60 * interval - 3) < 1e-9);
    QVERIFY(openai->breaker == BreakerState::Closed);
    QVERIFY(frame->requestDuration.p50 && *frame->requestDuration.p50 > 0);
    QVERIFY(frame->upstreamDuration.p95 && *frame->upstreamDuration.p95 > 0);
    QVERIFY(frame->gatewayOverhead.p99);
    QVERIFY(frame->concurrencyLimit && *frame->concurrencyLimit > 0);
    QVERIFY(frame->costUsdPerHour > 0);
    QCOMPARE(frame->costUsdPerDay, frame->costUsdPerHour * 24);
    QCOMPARE(frame->instances.size(), std::size_t(1));
    QVERIFY(!frame->instances[0].version.isEmpty());
    QCOMPARE(frame->instances[0].configVersion.value_or(-1), qint64(1));
    QVERIFY(frame->instances[0].uptimeSeconds.value_or(-1) >= 0);
    QVERIFY(!frame->instances[0].restarted);
}

void TestMetricsScraper::adminListenerServesMetricsToo()
{
    GatewayHarness harness;
    QVERIFY2(harness.startError.isEmpty(), qPrintable(harness.startError));
    MetricsScraper scraper(MetricsScraperOptions{localUrl(harness.adminPort, QStringLiteral("/metrics")), {}, 5'000,
                                                 QStringLiteral("gw-admin")});
    SourceError error;
    const auto snapshot = scrapeOnce(scraper, &error);
    QVERIFY2(snapshot, qPrintable(error.message));
    QCOMPARE(snapshot->instance, QStringLiteral("gw-admin"));
    QVERIFY(snapshot->family("sluice_build_info"));
    QVERIFY(snapshot->wallTimeUtc.isValid());
}

void TestMetricsScraper::keepsTheLastTwoSnapshotsAcrossFailures()
{
    auto harness = std::make_unique<GatewayHarness>();
    QVERIFY2(harness->startError.isEmpty(), qPrintable(harness->startError));
    MetricsScraper scraper(MetricsScraperOptions{localUrl(harness->port), {}, 5'000, {}});
    QVERIFY(scrapeOnce(scraper));
    const auto second = scrapeOnce(scraper);
    QVERIFY(second);
    harness.reset(); // nothing listens there any more
    SourceError error;
    QVERIFY(!scrapeOnce(scraper, &error));
    QCOMPARE(error.kind, SourceErrorKind::Refused);
    QVERIFY2(error.message.contains(QStringLiteral("refused")), qPrintable(error.message));
    QCOMPARE(scraper.latest(), second);
}

void TestMetricsScraper::notPrometheusTextIsWrongProtocol()
{
    FixedAnswerServer server(200, "text/html", "<html><body>Welcome to nginx!</body></html>\n");
    QVERIFY(server.port != 0);
    MetricsScraper scraper(MetricsScraperOptions{localUrl(server.port), {}, 5'000, {}});
    SourceError error;
    QVERIFY(!scrapeOnce(scraper, &error));
    QCOMPARE(error.kind, SourceErrorKind::WrongProtocol);
    QVERIFY2(error.message.contains(QStringLiteral("127.0.0.1:%1").arg(server.port)), qPrintable(error.message));
    QVERIFY(!scraper.latest());
}

void TestMetricsScraper::unauthorizedIsAuthenticationFailedAndTokenIsSent()
{
    FixedAnswerServer server(401, "text/plain", "no\n");
    MetricsScraper scraper(MetricsScraperOptions{localUrl(server.port, QStringLiteral("/custom/metrics")),
                                                 "scrape-token", 5'000, {}});
    SourceError error;
    QVERIFY(!scrapeOnce(scraper, &error));
    QCOMPARE(error.kind, SourceErrorKind::AuthenticationFailed);
    QCOMPARE(error.httpStatus, 401);
    QVERIFY2(error.message.startsWith(QStringLiteral("authentication failed")), qPrintable(error.message));
    QCOMPARE(server.authorizations().value(0), QByteArray("Bearer scrape-token"));
    QCOMPARE(server.paths().value(0), QByteArray("/custom/metrics"));
}

void TestMetricsScraper::cancelReportsCancelled()
{
    FixedAnswerServer server(200, "text/plain", "");
    MetricsScraper scraper(MetricsScraperOptions{localUrl(server.port), {}, 5'000, {}});
    SourceError error;
    int failures = 0;
    connect(&scraper, &MetricsScraper::scrapeFailed, this, [&](const SourceError &failure) {
        error = failure;
        ++failures;
    });
    QVERIFY(scraper.scrape());
    QVERIFY(scraper.isScraping());
    QVERIFY(!scraper.scrape()); // one at a time
    QVERIFY(scraper.cancel());
    QCOMPARE(failures, 1);
    QCOMPARE(error.kind, SourceErrorKind::Cancelled);
    QVERIFY(!scraper.isScraping());
    QVERIFY(!scraper.cancel());
    // Nothing else arrives later.
    QTest::qWait(50);
    QCOMPARE(failures, 1);
    QVERIFY(!scraper.latest());
}

void TestMetricsScraper::periodicScrapes()
{
    FixedAnswerServer server(200, "text/plain; version=0.0.4", "# TYPE x counter\nx_total 1\n");
    MetricsScraper scraper(MetricsScraperOptions{localUrl(server.port), {}, 5'000, {}});
    int scrapes = 0;
    connect(&scraper, &MetricsScraper::scraped, this, [&] { ++scrapes; });
    scraper.start(100);
    QVERIFY(scraper.isRunning());
    QTRY_VERIFY_WITH_TIMEOUT(scrapes >= 3, kWaitMs);
    scraper.stop();
    QVERIFY(!scraper.isRunning());
    QVERIFY(scraper.previous() && scraper.latest());
    QVERIFY(scraper.latest()->steadyMs > scraper.previous()->steadyMs);
}

QTEST_GUILESS_MAIN(TestMetricsScraper)
#include "tst_metricsscraper.moc"
