// The multi-instance proof (issue 4, "Prove it" 1-5): three sluice-gateway processes
// sharing one Redis and one PostgreSQL, behind nginx (the shipped upstream example),
// scraped by Prometheus every second, in front of one `sluice-gateway simulate`, driven
// through nginx by `sluice-gateway load --json`. The cluster is started once for all
// tests; every child is stopped by pid in cleanupTestCase() and by the fixtures'
// destructors on any other path.
//
// The measured numbers are printed with qInfo() (run with -v1 or read ctest's output).
// $SLUICE_CLUSTER_GATEWAY overrides the gateway binary (default: the one built with it).

#include "blockinghttp.h"
#include "nginxfixture.h"
#include "postgresfixture.h"
#include "processfixture.h"
#include "prometheusfixture.h"
#include "redisfixture.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMap>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <algorithm>
#include <array>
#include <cmath>
#include <csignal>
#include <memory>
#include <optional>

using namespace sluice::test;

namespace {

constexpr int kInstances = 3;
const QByteArray kAdminToken = "cluster-admin-token";
const QString kAdminTokenEnv = QStringLiteral("SLUICE_CLUSTER_ADMIN_TOKEN");
const QString kPostgresEnv = QStringLiteral("SLUICE_CLUSTER_POSTGRES");
const QString kModel = QStringLiteral("gpt-4o-mini");

// Client keys: (id, plaintext).
struct ClientKey {
    const char *id;
    const char *key;
};
constexpr ClientKey kKeyA{"key-a", "sk-cluster-a"}; // rule rpm600
constexpr ClientKey kKeyB{"key-b", "sk-cluster-b"}; // rule tpm-b
constexpr ClientKey kKeyC{"key-c", "sk-cluster-c"}; // no limits: the PostgreSQL outage
constexpr ClientKey kKeyD{"key-d", "sk-cluster-d"}; // a limit that never binds: the Redis outage

constexpr qint64 kRequestsPerMinute = 600;
constexpr qint64 kBurst = 10;
constexpr qint64 kTokensPerMinute = 60'000;

// Request shape of the token driver: prompt and max_tokens fixed, answers of
// kOutputTokens (the simulator's length, below max_tokens).
constexpr int kPromptTokens = 100;
constexpr int kMaxTokens = 40;
constexpr int kOutputTokens = 30;

QString gatewayBinary()
{
    const QString fromEnvironment = qEnvironmentVariable("SLUICE_CLUSTER_GATEWAY");
    return fromEnvironment.isEmpty() ? QStringLiteral(SLUICE_GATEWAY_BINARY) : fromEnvironment;
}

quint16 freePort()
{
    QTcpServer probe;
    if (!probe.listen(QHostAddress::LocalHost, 0))
        return 0;
    return probe.serverPort();
}

QString sha256Hex(const char *key)
{
    return QString::fromLatin1(QCryptographicHash::hash(QByteArray(key), QCryptographicHash::Sha256).toHex());
}

// The sum of the samples of `name` (exactly) whose label set contains `labelFilter`
// (e.g. `op="admit"`; empty = any), in Prometheus text; nullopt when there is none.
std::optional<double> metricSum(const QByteArray &exposition, const QByteArray &name, const QByteArray &labelFilter = {})
{
    std::optional<double> sum;
    for (const QByteArray &rawLine : exposition.split('\n')) {
        const QByteArray line = rawLine.trimmed();
        if (line.isEmpty() || line.startsWith('#') || !line.startsWith(name))
            continue;
        const char next = line.size() > name.size() ? line.at(name.size()) : '\0';
        if (next != '{' && next != ' ')
            continue;
        if (!labelFilter.isEmpty()) {
            const qsizetype close = line.indexOf('}');
            if (next != '{' || close < 0 || !line.left(close).contains(labelFilter))
                continue;
        }
        const qsizetype space = line.lastIndexOf(' ');
        bool ok = false;
        const double value = line.mid(space + 1).toDouble(&ok);
        if (ok)
            sum = sum.value_or(0) + value;
    }
    return sum;
}

// A load driver's --json report.
struct LoadReport {
    QJsonObject json;
    qint64 sent = 0;
    qint64 completed = 0;
    QMap<QString, qint64> status;
    qint64 transportErrors = 0;
    double durationSeconds = 0;
    double requestsPerSecond = 0;
    qint64 inputTokens = 0;
    qint64 outputTokens = 0;

    qint64 count(int code) const { return status.value(QString::number(code)); }
    qint64 tokens() const { return inputTokens + outputTokens; }
    // Statuses other than `allowed`, as "code: n" text; empty when none.
    QString unexpectedStatuses(std::initializer_list<int> allowed) const
    {
        QStringList parts;
        for (auto it = status.cbegin(); it != status.cend(); ++it) {
            if (std::find(allowed.begin(), allowed.end(), it.key().toInt()) == allowed.end())
                parts << QStringLiteral("%1: %2").arg(it.key()).arg(it.value());
        }
        return parts.join(QStringLiteral(", "));
    }
    QString summary() const { return QString::fromUtf8(QJsonDocument(json).toJson(QJsonDocument::Compact)); }
};

std::optional<LoadReport> parseReport(const QByteArray &output)
{
    // The report is the last JSON object on stdout.
    const qsizetype start = output.lastIndexOf("\n{") >= 0 ? output.lastIndexOf("\n{") + 1 : output.indexOf('{');
    if (start < 0)
        return std::nullopt;
    const QJsonDocument document = QJsonDocument::fromJson(output.mid(start).trimmed());
    if (!document.isObject())
        return std::nullopt;
    LoadReport report;
    report.json = document.object();
    report.sent = report.json.value(QLatin1String("sent")).toInteger();
    report.completed = report.json.value(QLatin1String("completed")).toInteger();
    const QJsonObject status = report.json.value(QLatin1String("status")).toObject();
    for (auto it = status.begin(); it != status.end(); ++it)
        report.status.insert(it.key(), it.value().toInteger());
    const QJsonValue errors = report.json.value(QLatin1String("transport_errors"));
    if (errors.isObject()) {
        const QJsonObject kinds = errors.toObject();
        for (auto it = kinds.begin(); it != kinds.end(); ++it)
            report.transportErrors += it.value().toInteger();
    } else {
        report.transportErrors = errors.toInteger();
    }
    report.durationSeconds = report.json.value(QLatin1String("duration_seconds")).toDouble();
    report.requestsPerSecond = report.json.value(QLatin1String("requests_per_second")).toDouble();
    const QJsonObject tokens = report.json.value(QLatin1String("tokens")).toObject();
    report.inputTokens = tokens.value(QLatin1String("input")).toInteger();
    report.outputTokens = tokens.value(QLatin1String("output")).toInteger();
    return report;
}

// What a driver sends: OpenAI chat requests for one key through nginx.
struct DriverPlan {
    const ClientKey *key = nullptr;
    double ratePerSecond = 10;
    double durationSeconds = 10;
    int users = 40;
    double streamShare = 0;
    int promptTokens = kPromptTokens;
    int maxTokens = kMaxTokens;
    int seed = 1;
};

} // namespace

class ClusterTest : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();

    void requestLimitHoldsAcrossInstances();
    void prometheusAgreesWithTheDriver();
    void configChangeReachesAllWithinOneSecond();
    void redisKilledUnderLoad();
    void postgresStoppedUnderLoad();

private:
    QJsonObject gatewayConfig(int index) const;
    bool startDriver(ProcessFixture &driver, const DriverPlan &plan);
    // Waits for the driver and parses its report; nullopt (with `failure` set) if it
    // did not finish in time, failed or printed no report.
    std::optional<LoadReport> finishDriver(ProcessFixture &driver, int timeoutMs, QString &failure);
    std::optional<LoadReport> runDriver(const DriverPlan &plan, int timeoutMs, QString &failure);
    QByteArray metricsOf(int index) const;
    BlockingHttpResult admin(int index, const QByteArray &method, const QByteArray &path, const QByteArray &body = {},
                             const QByteArray &contentType = {}) const;
    std::optional<qint64> configVersion(int index) const;
    std::optional<qint64> usageRows(const QString &keyId, QString &failure) const;
    QString gatewaysFailureText() const;
    bool allGatewaysRunning() const;

    QTemporaryDir m_directory;
    std::unique_ptr<RedisFixture> m_redis;
    std::unique_ptr<PostgresFixture> m_postgres;
    std::unique_ptr<ProcessFixture> m_simulator;
    std::array<std::unique_ptr<ProcessFixture>, kInstances> m_gateways;
    std::unique_ptr<NginxFixture> m_nginx;
    std::unique_ptr<PrometheusFixture> m_prometheus;
    QString m_psql;
    quint16 m_simulatorPort = 0;
    std::array<quint16, kInstances> m_ports{};
    std::array<quint16, kInstances> m_adminPorts{};

    // The measured minute of requestLimitHoldsAcrossInstances, for prometheusAgreesWithTheDriver.
    double m_minuteEndUnixSeconds = 0;
    double m_minuteDriverRequestsPerSecond = 0;
};

QJsonObject ClusterTest::gatewayConfig(int index) const
{
    const auto key = [](const ClientKey &client, qint64 requestsPerMinute = 0) {
        QJsonObject entry{{QStringLiteral("id"), QLatin1String(client.id)},
                          {QStringLiteral("key_sha256"), sha256Hex(client.key)}};
        if (requestsPerMinute > 0)
            entry.insert(QStringLiteral("requests_per_minute"), requestsPerMinute);
        return entry;
    };
    const QJsonArray rules{
        QJsonObject{{QStringLiteral("name"), QStringLiteral("rpm600")},
                    {QStringLiteral("scope"), QJsonArray{QStringLiteral("api_key")}},
                    {QStringLiteral("match"), QJsonObject{{QStringLiteral("api_key"), QLatin1String(kKeyA.id)}}},
                    {QStringLiteral("requests_per_minute"), kRequestsPerMinute},
                    {QStringLiteral("burst"), kBurst}},
        QJsonObject{{QStringLiteral("name"), QStringLiteral("tpm-b")},
                    {QStringLiteral("scope"), QJsonArray{QStringLiteral("api_key")}},
                    {QStringLiteral("match"), QJsonObject{{QStringLiteral("api_key"), QLatin1String(kKeyB.id)}}},
                    {QStringLiteral("tokens_per_minute"), kTokensPerMinute}},
    };
    return QJsonObject{
        {QStringLiteral("version"), 1},
        {QStringLiteral("comment"), QStringLiteral("tst_cluster instance %1").arg(index + 1)},
        {QStringLiteral("server"),
         QJsonObject{{QStringLiteral("listeners"),
                      QJsonArray{QJsonObject{{QStringLiteral("address"), QStringLiteral("127.0.0.1")},
                                             {QStringLiteral("port"), m_ports[index]}}}},
                     {QStringLiteral("threads"), 2}}},
        {QStringLiteral("upstreams"),
         QJsonArray{QJsonObject{{QStringLiteral("name"), QStringLiteral("simulated")},
                                {QStringLiteral("kind"), QStringLiteral("openai")},
                                {QStringLiteral("base_url"), QStringLiteral("http://127.0.0.1:%1/v1").arg(m_simulatorPort)},
                                {QStringLiteral("models"), QJsonArray{kModel}}}}},
        {QStringLiteral("api_keys"),
         QJsonArray{key(kKeyA), key(kKeyB), key(kKeyC), key(kKeyD, 1'000'000)}},
        {QStringLiteral("rate_limits"), rules},
        {QStringLiteral("cache"), QJsonObject{{QStringLiteral("enabled"), false}}},
        {QStringLiteral("admin"),
         QJsonObject{{QStringLiteral("enabled"), true},
                     {QStringLiteral("address"), QStringLiteral("127.0.0.1")},
                     {QStringLiteral("port"), m_adminPorts[index]},
                     {QStringLiteral("token_env"), kAdminTokenEnv}}},
        {QStringLiteral("logging"), QJsonObject{{QStringLiteral("level"), QStringLiteral("warn")}}},
        {QStringLiteral("redis"),
         QJsonObject{{QStringLiteral("enabled"), true},
                     {QStringLiteral("address"), QStringLiteral("127.0.0.1")},
                     {QStringLiteral("port"), m_redis->port()},
                     {QStringLiteral("key_namespace"), QStringLiteral("cluster")}}},
        {QStringLiteral("postgres"),
         QJsonObject{{QStringLiteral("enabled"), true}, {QStringLiteral("connection_string_env"), kPostgresEnv}}},
    };
}

void ClusterTest::initTestCase()
{
    const QString binary = gatewayBinary();
    if (!QFileInfo(binary).isExecutable())
        QSKIP(qPrintable(QStringLiteral("sluice-gateway is not built: ") + binary));
    QVERIFY2(m_directory.isValid(), qPrintable(m_directory.errorString()));
    m_psql = QStandardPaths::findExecutable(QStringLiteral("psql"));
    if (m_psql.isEmpty())
        QSKIP("psql is not installed (apt install postgresql-client)");

    m_redis = std::make_unique<RedisFixture>();
    if (!m_redis->available())
        QSKIP(qPrintable(m_redis->unavailableReason()));
    m_postgres = std::make_unique<PostgresFixture>();
    if (!m_postgres->available())
        QSKIP(qPrintable(m_postgres->reason()));

    m_simulatorPort = freePort();
    QList<quint16> backends;
    QStringList targets;
    for (int i = 0; i < kInstances; ++i) {
        m_ports[i] = freePort();
        m_adminPorts[i] = freePort();
        backends << m_ports[i];
        targets << QStringLiteral("127.0.0.1:%1").arg(m_ports[i]);
    }
    m_nginx = std::make_unique<NginxFixture>(backends);
    if (!m_nginx->available())
        QSKIP(qPrintable(m_nginx->unavailableReason()));
    m_prometheus = std::make_unique<PrometheusFixture>(targets);
    if (!m_prometheus->available())
        QSKIP(qPrintable(m_prometheus->unavailableReason()));

    QVERIFY2(m_redis->start(), qPrintable(m_redis->errorString()));
    QVERIFY2(m_postgres->isRunning(), qPrintable(m_postgres->lastError()));

    // Answers in a few milliseconds: 2 ms to the first token, 30 tokens at 5000/s.
    m_simulator = std::make_unique<ProcessFixture>(QStringLiteral("simulator"));
    QVERIFY2(m_simulator->start(binary, {QStringLiteral("simulate"), QStringLiteral("--listen"),
                                         QStringLiteral("127.0.0.1:%1").arg(m_simulatorPort), QStringLiteral("--threads"),
                                         QStringLiteral("2"), QStringLiteral("--ttft-ms"), QStringLiteral("2"),
                                         QStringLiteral("--ttft-shape"), QStringLiteral("fixed"),
                                         QStringLiteral("--tokens-per-second"), QStringLiteral("5000"),
                                         QStringLiteral("--output-tokens"), QString::number(kOutputTokens),
                                         QStringLiteral("--seed"), QStringLiteral("7")}),
             qPrintable(m_simulator->failureText()));
    QTRY_VERIFY2_WITH_TIMEOUT(blockingHttp(m_simulatorPort, "GET", "/v1/models", {}, {}, 1000).ok(),
                              qPrintable(m_simulator->failureText()), 10'000);

    // One after the other: the first applies the PostgreSQL migrations, the others find
    // them done (concurrent first starts are not what this test is about).
    for (int i = 0; i < kInstances; ++i) {
        const QString path = m_directory.filePath(QStringLiteral("gateway-%1.json").arg(i + 1));
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
        file.write(QJsonDocument(gatewayConfig(i)).toJson());
        file.close();
        auto &gateway = m_gateways[i];
        gateway = std::make_unique<ProcessFixture>(QStringLiteral("gateway-%1").arg(i + 1));
        gateway->setEnvironmentValue(kAdminTokenEnv, QString::fromLatin1(kAdminToken));
        gateway->setEnvironmentValue(kPostgresEnv, m_postgres->connectionString());
        QVERIFY2(gateway->start(binary, {QStringLiteral("--config"), path}), qPrintable(gateway->failureText()));
        const quint16 port = m_ports[i];
        QTRY_VERIFY2_WITH_TIMEOUT(gateway->isRunning() && blockingHttp(port, "GET", "/readyz", {}, {}, 1000).response.status == 200,
                                  qPrintable(gateway->failureText()), 30'000);
    }

    QVERIFY2(m_nginx->start(), qPrintable(m_nginx->errorString()));
    QVERIFY2(m_prometheus->start(), qPrintable(m_prometheus->errorString()));
    QTRY_VERIFY2_WITH_TIMEOUT(m_prometheus->healthyTargets() == kInstances, qPrintable(m_prometheus->log().right(2000)),
                              30'000);

    // One request through the whole chain.
    const QByteArray body = QJsonDocument(QJsonObject{
                                              {QStringLiteral("model"), kModel},
                                              {QStringLiteral("max_tokens"), 16},
                                              {QStringLiteral("messages"),
                                               QJsonArray{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                                                                      {QStringLiteral("content"), QStringLiteral("hello cluster")}}}},
                                          })
                                .toJson(QJsonDocument::Compact);
    const auto answer = blockingHttp(m_nginx->port(), "POST", "/v1/chat/completions",
                                     {{"Authorization", QByteArray("Bearer ") + kKeyD.key}, {"Content-Type", "application/json"}},
                                     body, 15'000);
    QVERIFY2(answer.ok(), qPrintable(answer.error + QLatin1Char('\n') + m_nginx->errorLog()));
    QVERIFY2(answer.response.status == 200,
             qPrintable(QStringLiteral("HTTP %1: %2\n%3")
                            .arg(answer.response.status)
                            .arg(QString::fromUtf8(answer.response.body.left(500)), gatewaysFailureText())));
}

void ClusterTest::cleanupTestCase()
{
    m_prometheus.reset();
    m_nginx.reset();
    for (auto &gateway : m_gateways) {
        if (gateway) {
            gateway->stop(10'000);
            gateway.reset();
        }
    }
    m_simulator.reset();
    m_postgres.reset();
    m_redis.reset();
}

bool ClusterTest::startDriver(ProcessFixture &driver, const DriverPlan &plan)
{
    return driver.start(gatewayBinary(),
                        {QStringLiteral("load"), QStringLiteral("--url"), m_nginx->baseUrl(),
                         QStringLiteral("--models"), kModel,
                         QStringLiteral("--api-key"), QLatin1String(plan.key->key),
                         QStringLiteral("--users"), QString::number(plan.users),
                         QStringLiteral("--think-ms"), QStringLiteral("0"),
                         QStringLiteral("--rate"), QString::number(plan.ratePerSecond),
                         QStringLiteral("--duration"), QString::number(plan.durationSeconds),
                         QStringLiteral("--repeat-share"), QStringLiteral("0"),
                         QStringLiteral("--stream-share"), QString::number(plan.streamShare),
                         QStringLiteral("--prompt-tokens"), QString::number(plan.promptTokens),
                         QStringLiteral("--max-tokens"), QString::number(plan.maxTokens),
                         QStringLiteral("--timeout-ms"), QStringLiteral("30000"),
                         QStringLiteral("--seed"), QString::number(plan.seed),
                         QStringLiteral("--json")});
}

std::optional<LoadReport> ClusterTest::finishDriver(ProcessFixture &driver, int timeoutMs, QString &failure)
{
    if (!driver.waitForFinished(timeoutMs)) {
        failure = QStringLiteral("the load driver did not finish within %1 ms\n%2").arg(timeoutMs).arg(driver.failureText());
        driver.stop();
        return std::nullopt;
    }
    const auto report = parseReport(driver.standardOutput());
    if (driver.exitCode() != 0 || !report) {
        failure = QStringLiteral("the load driver failed\n%1\nstdout: %2")
                      .arg(driver.failureText(), QString::fromUtf8(driver.standardOutput().right(2000)));
        return std::nullopt;
    }
    return report;
}

std::optional<LoadReport> ClusterTest::runDriver(const DriverPlan &plan, int timeoutMs, QString &failure)
{
    ProcessFixture driver(QStringLiteral("load-%1").arg(QLatin1String(plan.key->id)));
    if (!startDriver(driver, plan)) {
        failure = driver.failureText();
        return std::nullopt;
    }
    return finishDriver(driver, timeoutMs, failure);
}

QByteArray ClusterTest::metricsOf(int index) const
{
    const auto answer = blockingHttp(m_ports[index], "GET", "/metrics", {}, {}, 5'000);
    return answer.ok() && answer.response.status == 200 ? answer.response.body : QByteArray();
}

BlockingHttpResult ClusterTest::admin(int index, const QByteArray &method, const QByteArray &path, const QByteArray &body,
                                      const QByteArray &contentType) const
{
    QList<QPair<QByteArray, QByteArray>> headers{{"Authorization", "Bearer " + kAdminToken}};
    if (!contentType.isEmpty())
        headers.append({"Content-Type", contentType});
    return blockingHttp(m_adminPorts[index], method, path, headers, body, 5'000);
}

std::optional<qint64> ClusterTest::configVersion(int index) const
{
    const auto answer = admin(index, "GET", "/admin/v1/instance");
    if (!answer.ok() || answer.response.status != 200)
        return std::nullopt;
    const QJsonValue version = QJsonDocument::fromJson(answer.response.body).object().value(QLatin1String("config_version"));
    if (!version.isDouble())
        return std::nullopt;
    return qint64(version.toDouble());
}

std::optional<qint64> ClusterTest::usageRows(const QString &keyId, QString &failure) const
{
    QProcess psql;
    psql.setProcessChannelMode(QProcess::MergedChannels);
    // keyId is one of this file's constants ([a-z-]).
    psql.start(m_psql, {QStringLiteral("-X"), QStringLiteral("-A"), QStringLiteral("-t"), QStringLiteral("-d"),
                        m_postgres->connectionString(), QStringLiteral("-c"),
                        QStringLiteral("SELECT count(*) FROM usage WHERE api_key_id = '%1'").arg(keyId)});
    if (!psql.waitForFinished(15'000)) {
        psql.kill();
        psql.waitForFinished(2'000);
        failure = QStringLiteral("psql did not answer within 15 s");
        return std::nullopt;
    }
    const QByteArray output = psql.readAll().trimmed();
    bool ok = false;
    const qint64 rows = output.toLongLong(&ok);
    if (psql.exitCode() != 0 || !ok) {
        failure = QStringLiteral("psql: ") + QString::fromUtf8(output);
        return std::nullopt;
    }
    return rows;
}

QString ClusterTest::gatewaysFailureText() const
{
    QStringList parts;
    for (const auto &gateway : m_gateways) {
        if (gateway)
            parts << gateway->failureText(1500);
    }
    return parts.join(QLatin1Char('\n'));
}

bool ClusterTest::allGatewaysRunning() const
{
    return std::all_of(m_gateways.begin(), m_gateways.end(), [](const auto &gateway) { return gateway && gateway->isRunning(); });
}

// 1. One request limit and one token limit for the whole deployment, not one per
// instance: a minute at twice each limit, spread by nginx over three instances.
void ClusterTest::requestLimitHoldsAcrossInstances()
{
    QString failure;
    // Warm-up: empty both buckets. Key B's first (60000 tokens) with large prompts, then
    // both with the measured request shapes, key B at three times its measured rate so
    // its last few hundred tokens are gone within the run; key A's 3 s at 20/s take its
    // burst and what refills.
    DriverPlan drainB{&kKeyB, 20, 3, 40, 1.0, 4'000, kMaxTokens, 11};
    const auto drained = runDriver(drainB, 60'000, failure);
    QVERIFY2(drained, qPrintable(failure));
    ProcessFixture warmA(QStringLiteral("warm-a"));
    ProcessFixture warmB(QStringLiteral("warm-b"));
    QVERIFY2(startDriver(warmA, {&kKeyA, 20, 3, 40, 0.0, kPromptTokens, kMaxTokens, 12}), qPrintable(warmA.failureText()));
    QVERIFY2(startDriver(warmB, {&kKeyB, 45, 3, 60, 1.0, kPromptTokens, kMaxTokens, 13}), qPrintable(warmB.failureText()));
    const auto warmedA = finishDriver(warmA, 60'000, failure);
    QVERIFY2(warmedA, qPrintable(failure));
    const auto warmedB = finishDriver(warmB, 60'000, failure);
    QVERIFY2(warmedB, qPrintable(failure));
    qInfo("warm-up: key B large prompts %lld x 200 of %lld (%lld tokens); key A %lld x 200 of %lld; key B %lld x 200 of %lld (%lld tokens)",
          drained->count(200), drained->sent, drained->tokens(), warmedA->count(200), warmedA->sent,
          warmedB->count(200), warmedB->sent, warmedB->tokens());
    QVERIFY2(warmedA->count(429) > 0, qPrintable(QStringLiteral("key A was never limited in the warm-up: ") + warmedA->summary()));
    QVERIFY2(warmedB->count(429) > 0, qPrintable(QStringLiteral("key B was never limited in the warm-up: ") + warmedB->summary()));

    // The measured minute: 20 req/s for a 600/min limit (2x), and about 2x the token
    // limit for key B (15 req/s of ~137 tokens = ~2000 tokens/s for 1000/s).
    ProcessFixture driverA(QStringLiteral("load-a"));
    ProcessFixture driverB(QStringLiteral("load-b"));
    const double startUnixSeconds = double(QDateTime::currentMSecsSinceEpoch()) / 1000.0;
    QVERIFY2(startDriver(driverA, {&kKeyA, 20, 60, 40, 0.0, kPromptTokens, kMaxTokens, 21}), qPrintable(driverA.failureText()));
    QVERIFY2(startDriver(driverB, {&kKeyB, 15, 60, 40, 1.0, kPromptTokens, kMaxTokens, 22}), qPrintable(driverB.failureText()));
    const auto a = finishDriver(driverA, 150'000, failure);
    QVERIFY2(a, qPrintable(failure));
    const auto b = finishDriver(driverB, 150'000, failure);
    QVERIFY2(b, qPrintable(failure));

    m_minuteEndUnixSeconds = startUnixSeconds + std::max(a->durationSeconds, b->durationSeconds);
    m_minuteDriverRequestsPerSecond = a->requestsPerSecond + b->requestsPerSecond;

    const qint64 acceptedRequests = a->count(200);
    const qint64 acceptedTokens = b->tokens();
    qInfo("key A (requests_per_minute %lld, burst %lld): sent %lld in %.2f s (%.2f req/s), accepted (200) %lld = %.2f %% of "
          "the limit, 429 %lld, transport errors %lld",
          kRequestsPerMinute, kBurst, a->sent, a->durationSeconds, a->requestsPerSecond, acceptedRequests,
          100.0 * double(acceptedRequests) / double(kRequestsPerMinute), a->count(429), a->transportErrors);
    qInfo("key B (tokens_per_minute %lld, streamed): sent %lld in %.2f s, 200 %lld, 429 %lld; accepted tokens %lld "
          "(input %lld + output %lld) = %.2f %% of the limit; offered about %.0f tokens/min",
          kTokensPerMinute, b->sent, b->durationSeconds, b->count(200), b->count(429), acceptedTokens, b->inputTokens,
          b->outputTokens, 100.0 * double(acceptedTokens) / double(kTokensPerMinute),
          b->count(200) > 0 ? double(acceptedTokens) / double(b->count(200)) * double(b->sent) * 60.0 / b->durationSeconds : 0.0);

    for (const LoadReport *report : {&*a, &*b}) {
        QVERIFY2(report->transportErrors == 0, qPrintable(report->summary()));
        QVERIFY2(report->unexpectedStatuses({200, 429}).isEmpty(), qPrintable(report->summary()));
        QVERIFY2(report->completed == report->sent, qPrintable(report->summary()));
    }
    // Per-instance limits would admit about three times the limit.
    const double tolerance = 0.02 * double(kRequestsPerMinute);
    QVERIFY2(double(acceptedRequests) >= double(kRequestsPerMinute) - tolerance
                 && double(acceptedRequests) <= double(kRequestsPerMinute) + tolerance + double(kBurst),
             qPrintable(QStringLiteral("key A: %1 accepted in the minute for a limit of %2 (burst %3)")
                            .arg(acceptedRequests)
                            .arg(kRequestsPerMinute)
                            .arg(kBurst)));
    QVERIFY2(std::abs(double(acceptedTokens) - double(kTokensPerMinute)) <= 0.02 * double(kTokensPerMinute),
             qPrintable(QStringLiteral("key B: %1 tokens accepted in the minute for a limit of %2 (%3 %)")
                            .arg(acceptedTokens)
                            .arg(kTokensPerMinute)
                            .arg(100.0 * double(acceptedTokens) / double(kTokensPerMinute), 0, 'f', 2)));
}

// 2. Prometheus, scraping the three instances, sees the drivers' rate.
void ClusterTest::prometheusAgreesWithTheDriver()
{
    if (m_minuteEndUnixSeconds <= 0)
        QSKIP("needs the measured minute of requestLimitHoldsAcrossInstances");
    // The scrapes after the end of the minute must have landed.
    const double now = double(QDateTime::currentMSecsSinceEpoch()) / 1000.0;
    if (now < m_minuteEndUnixSeconds + 4)
        QTest::qWait(int((m_minuteEndUnixSeconds + 4 - now) * 1000));
    const QString promql = QStringLiteral("sum(rate(sluice_requests_total[1m]))");
    const auto rate = m_prometheus->query(promql, m_minuteEndUnixSeconds);
    QVERIFY2(rate.ok(), qPrintable(rate.error));
    const double ratio = rate.value / m_minuteDriverRequestsPerSecond;
    qInfo("%s at the end of the minute: %.3f req/s; the drivers: %.3f req/s; ratio %.4f", qPrintable(promql), rate.value,
          m_minuteDriverRequestsPerSecond, ratio);
    QVERIFY2(std::abs(ratio - 1.0) <= 0.05,
             qPrintable(QStringLiteral("Prometheus %1 req/s, drivers %2 req/s").arg(rate.value).arg(m_minuteDriverRequestsPerSecond)));
}

// 3. A change through one instance's admin API is live on all three within a second.
void ClusterTest::configChangeReachesAllWithinOneSecond()
{
    const auto current = admin(0, "GET", "/admin/v1/config");
    QVERIFY2(current.ok() && current.response.status == 200,
             qPrintable(current.error + QString::fromUtf8(current.response.body.left(500))));
    QJsonArray rules = QJsonDocument::fromJson(current.response.body).object().value(QLatin1String("rate_limits")).toArray();
    bool changed = false;
    for (qsizetype i = 0; i < rules.size(); ++i) {
        QJsonObject rule = rules.at(i).toObject();
        if (rule.value(QLatin1String("name")).toString() == QLatin1String("rpm600")) {
            rule.insert(QStringLiteral("requests_per_minute"), 900);
            rules.replace(i, rule);
            changed = true;
        }
    }
    QVERIFY2(changed, "no rpm600 rule in instance 1's configuration");
    std::array<qint64, kInstances> before{};
    for (int i = 0; i < kInstances; ++i) {
        const auto version = configVersion(i);
        QVERIFY2(version, qPrintable(QStringLiteral("instance %1: no config_version").arg(i + 1)));
        before[i] = *version;
    }
    // Merge patch: an array is replaced whole.
    const QByteArray patch = QJsonDocument(QJsonObject{{QStringLiteral("rate_limits"), rules}}).toJson(QJsonDocument::Compact);
    const auto patched = admin(0, "PATCH", "/admin/v1/config", patch, "application/merge-patch+json");
    QElapsedTimer sincePatchAnswer;
    sincePatchAnswer.start();
    QVERIFY2(patched.ok() && patched.response.status == 200,
             qPrintable(QStringLiteral("PATCH: %1 HTTP %2 %3")
                            .arg(patched.error)
                            .arg(patched.response.status)
                            .arg(QString::fromUtf8(patched.response.body.left(500)))));
    const auto newVersion = configVersion(0);
    QVERIFY(newVersion);
    QVERIFY2(*newVersion > before[0], qPrintable(QStringLiteral("instance 1 still reports version %1").arg(*newVersion)));

    std::array<qint64, kInstances> reachedMs{-1, -1, -1};
    while (sincePatchAnswer.elapsed() < 5'000) {
        for (int i = 0; i < kInstances; ++i) {
            if (reachedMs[i] >= 0)
                continue;
            const auto version = configVersion(i);
            if (version && *version >= *newVersion)
                reachedMs[i] = sincePatchAnswer.elapsed();
        }
        if (std::all_of(reachedMs.begin(), reachedMs.end(), [](qint64 ms) { return ms >= 0; }))
            break;
        QThread::msleep(20);
    }
    const qint64 slowest = *std::max_element(reachedMs.begin(), reachedMs.end());
    qInfo("config version %lld -> %lld through instance 1's admin API; seen after the PATCH answer by instance 1: %lld ms, "
          "2: %lld ms, 3: %lld ms (-1 = not within 5 s)",
          before[0], *newVersion, reachedMs[0], reachedMs[1], reachedMs[2]);
    QVERIFY2(std::all_of(reachedMs.begin(), reachedMs.end(), [](qint64 ms) { return ms >= 0; }),
             "an instance did not adopt the new configuration within 5 s");
    QVERIFY2(slowest <= 1'000, qPrintable(QStringLiteral("the slowest instance took %1 ms").arg(slowest)));
}

// 4. Redis SIGKILLed under load: every request is answered, each instance says it is on
// its fallback, and returns to Redis once it is back.
void ClusterTest::redisKilledUnderLoad()
{
    QVERIFY(allGatewaysRunning());
    ProcessFixture driver(QStringLiteral("load-d"));
    QElapsedTimer sinceStart;
    sinceStart.start();
    QVERIFY2(startDriver(driver, {&kKeyD, 30, 20, 60, 0.5, kPromptTokens, kMaxTokens, 31}), qPrintable(driver.failureText()));
    QTest::qWait(5'000);
    QVERIFY2(driver.isRunning(), qPrintable(driver.failureText()));

    const qint64 redisPid = m_redis->pid();
    QVERIFY(redisPid > 0);
    ::kill(pid_t(redisPid), SIGKILL);
    m_redis->stop(); // reaps it
    const qint64 killedAtMs = sinceStart.elapsed();

    // Every instance reports its fallback while Redis is away.
    std::array<qint64, kInstances> fallbackSeenMs{-1, -1, -1};
    QElapsedTimer sinceKill;
    sinceKill.start();
    while (sinceKill.elapsed() < 4'500) {
        for (int i = 0; i < kInstances; ++i) {
            if (fallbackSeenMs[i] < 0 && metricSum(metricsOf(i), "sluice_redis_fallback_active") == 1.0)
                fallbackSeenMs[i] = sinceKill.elapsed();
        }
        if (std::all_of(fallbackSeenMs.begin(), fallbackSeenMs.end(), [](qint64 ms) { return ms >= 0; }))
            break;
        QThread::msleep(100);
    }
    qInfo("Redis SIGKILLed at %.1f s of the run; sluice_redis_fallback_active 1 seen after %lld / %lld / %lld ms "
          "(-1 = not within 4.5 s)",
          double(killedAtMs) / 1000.0, fallbackSeenMs[0], fallbackSeenMs[1], fallbackSeenMs[2]);
    for (int i = 0; i < kInstances; ++i)
        QVERIFY2(fallbackSeenMs[i] >= 0,
                 qPrintable(QStringLiteral("instance %1 never showed sluice_redis_fallback_active 1 while Redis was down").arg(i + 1)));

    if (sinceKill.elapsed() < 5'000)
        QTest::qWait(int(5'000 - sinceKill.elapsed()));
    // The admissions the outage sent to the fallback policy ("local").
    std::array<double, kInstances> fallbackTotals{};
    for (int i = 0; i < kInstances; ++i)
        fallbackTotals[i] = metricSum(metricsOf(i), "sluice_redis_fallback_total", "policy=\"local\"").value_or(-1);
    qInfo("after %lld ms without Redis: sluice_redis_fallback_total{policy=\"local\"} %.0f / %.0f / %.0f",
          sinceKill.elapsed(), fallbackTotals[0], fallbackTotals[1], fallbackTotals[2]);
    QVERIFY2(fallbackTotals[0] + fallbackTotals[1] + fallbackTotals[2] > 0, "no admission was counted as decided by the fallback");

    QVERIFY2(m_redis->restart(), qPrintable(m_redis->errorString()));
    const qint64 restartedAtMs = sinceStart.elapsed();

    // Back on Redis within 30 s (measured while the driver still runs).
    std::array<qint64, kInstances> recoveredMs{-1, -1, -1};
    while (sinceStart.elapsed() - restartedAtMs < 30'000) {
        for (int i = 0; i < kInstances; ++i) {
            if (recoveredMs[i] < 0 && metricSum(metricsOf(i), "sluice_redis_fallback_active") == 0.0)
                recoveredMs[i] = sinceStart.elapsed() - restartedAtMs;
        }
        if (std::all_of(recoveredMs.begin(), recoveredMs.end(), [](qint64 ms) { return ms >= 0; }))
            break;
        QThread::msleep(100);
    }
    qInfo("Redis restarted at %.1f s of the run; sluice_redis_fallback_active back to 0 after %lld / %lld / %lld ms "
          "(-1 = not within 30 s)",
          double(restartedAtMs) / 1000.0, recoveredMs[0], recoveredMs[1], recoveredMs[2]);

    QString failure;
    const auto report = finishDriver(driver, 90'000, failure);
    QVERIFY2(report, qPrintable(failure));
    qInfo("driver through the outage: sent %lld, completed %lld, status %s, transport errors %lld",
          report->sent, report->completed,
          qPrintable(QString::fromUtf8(QJsonDocument(report->json.value(QLatin1String("status")).toObject()).toJson(QJsonDocument::Compact))),
          report->transportErrors);
    QVERIFY2(allGatewaysRunning(), qPrintable(gatewaysFailureText()));
    QVERIFY2(report->transportErrors == 0, qPrintable(report->summary()));
    QVERIFY2(report->completed == report->sent, qPrintable(report->summary()));
    QVERIFY2(report->unexpectedStatuses({200, 429}).isEmpty(), qPrintable(report->summary()));
    for (int i = 0; i < kInstances; ++i) {
        QVERIFY2(recoveredMs[i] >= 0,
                 qPrintable(QStringLiteral("instance %1 still on its fallback 30 s after Redis came back\n%2")
                                .arg(i + 1)
                                .arg(m_gateways[i]->failureText())));
    }

    // New requests are decided in Redis again: the admit scripts are counted.
    std::array<double, kInstances> admitBefore{};
    for (int i = 0; i < kInstances; ++i)
        admitBefore[i] = metricSum(metricsOf(i), "sluice_redis_commands_total", "op=\"admit\"").value_or(0);
    const auto after = runDriver({&kKeyD, 15, 2, 20, 0.0, kPromptTokens, kMaxTokens, 32}, 60'000, failure);
    QVERIFY2(after, qPrintable(failure));
    QCOMPARE(after->count(200), after->sent);
    double admitDelta = 0;
    for (int i = 0; i < kInstances; ++i)
        admitDelta += metricSum(metricsOf(i), "sluice_redis_commands_total", "op=\"admit\"").value_or(0) - admitBefore[i];
    qInfo("after recovery: %lld requests, sluice_redis_commands_total{op=\"admit\"} grew by %.0f over the three instances",
          after->sent, admitDelta);
    QVERIFY2(admitDelta >= double(after->sent),
             qPrintable(QStringLiteral("%1 requests but only %2 admissions in Redis").arg(after->sent).arg(admitDelta)));
}

// 5. PostgreSQL stopped for 10 s under load: every answered request still becomes a
// usage row once it is back.
void ClusterTest::postgresStoppedUnderLoad()
{
    QVERIFY(allGatewaysRunning());
    QString failure;
    const auto rowsBefore = usageRows(QLatin1String(kKeyC.id), failure);
    QVERIFY2(rowsBefore, qPrintable(failure));
    QCOMPARE(*rowsBefore, 0);

    ProcessFixture driver(QStringLiteral("load-c"));
    QVERIFY2(startDriver(driver, {&kKeyC, 30, 25, 60, 0.5, kPromptTokens, kMaxTokens, 41}), qPrintable(driver.failureText()));
    QTest::qWait(5'000);
    QVERIFY2(driver.isRunning(), qPrintable(driver.failureText()));
    QVERIFY2(m_postgres->stop(), "PostgreSQL did not stop");
    QTest::qWait(10'000);
    QVERIFY2(m_postgres->start(), qPrintable(m_postgres->lastError()));

    const auto report = finishDriver(driver, 90'000, failure);
    QVERIFY2(report, qPrintable(failure));
    QVERIFY2(allGatewaysRunning(), qPrintable(gatewaysFailureText()));
    QVERIFY2(report->transportErrors == 0, qPrintable(report->summary()));
    QVERIFY2(report->unexpectedStatuses({200}).isEmpty(), qPrintable(report->summary()));

    QElapsedTimer sinceEnd;
    sinceEnd.start();
    qint64 rows = -1;
    while (sinceEnd.elapsed() < 60'000) {
        const auto counted = usageRows(QLatin1String(kKeyC.id), failure);
        if (counted) {
            rows = *counted;
            if (rows >= report->completed)
                break;
        }
        QThread::msleep(1'000);
    }
    qInfo("PostgreSQL stopped 5-15 s into a 25 s run: driver completed %lld (sent %lld); usage rows for %s: %lld after %lld ms",
          report->completed, report->sent, kKeyC.id, rows, sinceEnd.elapsed());
    QVERIFY2(rows == report->completed,
             qPrintable(QStringLiteral("%1 usage rows for %2 answered requests\n%3")
                            .arg(rows)
                            .arg(report->completed)
                            .arg(gatewaysFailureText())));
}

QTEST_GUILESS_MAIN(ClusterTest)
#include "tst_cluster.moc"
