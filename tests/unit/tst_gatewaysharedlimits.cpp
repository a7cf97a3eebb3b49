#include <QRandomGenerator>
#include <QTest>

#include "gatewayharness.h"
#include "redisfixture.h"
#include "redisgateway.h"

#include <memory>
#include <optional>
#include <vector>

using namespace sluice;
using namespace sluice::test;

namespace {

constexpr int kWaitMs = 30'000;
const QByteArray kAdminToken = "shared-limits-admin-token";

QByteArray uniqueNamespace(const char *prefix)
{
    return QByteArray(prefix) + QByteArray::number(QRandomGenerator::global()->generate(), 16);
}

QList<QPair<QByteArray, QByteArray>> adminHeaders()
{
    return {{"Authorization", "Bearer " + kAdminToken}};
}

RawHttpResponse chat(const RedisGatewayInstance &instance, const QString &prompt, double temperature = 1.5)
{
    return exchange(instance.port, "POST", "/v1/chat/completions",
                    chatBody(QStringLiteral("gpt-4o-mini"), prompt, false,
                             QJsonObject{{QStringLiteral("temperature"), temperature}}),
                    bearer());
}

double metric(const RedisGatewayInstance &instance, std::string_view name,
              std::initializer_list<metrics::LabelView> labels = {})
{
    return metricSum(instance.gw->registry(), name, labels);
}

} // namespace

// Rate limits and the response cache decided in Redis for every instance at once
// (store::RedisAdmission through ChatExchange), and what happens when Redis goes away.
class TestGatewaySharedLimits : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void requestLimitIsOneLimitForAllInstances();
    void parallelLeasesAreShared();
    void cacheIsSharedAndFlushedEverywhere();
    void outageFallsBackAndRejoins();
    void failClosedRefusesWhileRedisIsAway();

private:
    std::optional<RedisGatewayInstance> start(const QString &id, const QByteArray &keyNamespace,
                                              const std::function<void(config::GatewayConfig &)> &adjust,
                                              const QString &simulatorUrl = {});

    std::unique_ptr<RedisFixture> m_redis;
    std::unique_ptr<gateway::SimulatorServer> m_simulator;
};

void TestGatewaySharedLimits::initTestCase()
{
    m_redis = std::make_unique<RedisFixture>();
    if (!m_redis->available())
        QSKIP(qPrintable(m_redis->unavailableReason()));
    QVERIFY2(m_redis->start(), qPrintable(m_redis->errorString()));
    gateway::SimulatorServerOptions options;
    options.simulator = GatewayHarness::defaultSimulator();
    m_simulator = std::make_unique<gateway::SimulatorServer>(options);
    QVERIFY(m_simulator->listen().ok());
}

std::optional<RedisGatewayInstance> TestGatewaySharedLimits::start(
    const QString &id, const QByteArray &keyNamespace, const std::function<void(config::GatewayConfig &)> &adjust,
    const QString &simulatorUrl)
{
    QString error;
    auto instance = startRedisGateway(id, simulatorUrl.isEmpty() ? m_simulator->baseUrl() : simulatorUrl,
                                      m_redis->port(), keyNamespace, kAdminToken, &error, adjust);
    if (!instance)
        qWarning() << "start" << id << error;
    return instance;
}

void TestGatewaySharedLimits::requestLimitIsOneLimitForAllInstances()
{
    const QByteArray ns = uniqueNamespace("limits");
    // 3 requests a minute (one every 20 s): the test's 8 requests take far less.
    const auto adjust = [](config::GatewayConfig &config) {
        config.apiKeys[0].requestsPerMinute = 3;
        config.cache.enabled = false;
    };
    auto a = start(QStringLiteral("lim-a"), ns, adjust);
    auto b = start(QStringLiteral("lim-b"), ns, adjust);
    QVERIFY(a && b);

    int admitted = 0;
    int refused = 0;
    QString refusal;
    for (int i = 0; i < 8; ++i) {
        const auto answer = chat(i % 2 ? *b : *a, QStringLiteral("request %1").arg(i));
        if (answer.status == 200) {
            ++admitted;
        } else {
            QCOMPARE(answer.status, 429);
            ++refused;
            refusal = jsonOf(answer).value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString();
            QVERIFY(!answer.header("retry-after").isEmpty());
        }
    }
    // Local limits would admit 3 on each instance.
    QCOMPARE(admitted, 3);
    QCOMPARE(refused, 5);
    QVERIFY2(refusal.contains(QStringLiteral("key:demo")), qPrintable(refusal));
    QCOMPARE(metric(*a, "sluice_redis_commands_total", {{"op", "admit"}})
                 + metric(*b, "sluice_redis_commands_total", {{"op", "admit"}}),
             8.0);
    QCOMPARE(metric(*a, "sluice_redis_fallback_total") + metric(*b, "sluice_redis_fallback_total"), 0.0);
    QCOMPARE(metric(*a, "sluice_redis_fallback_active"), 0.0);
    // The refusals count as rate-limit decisions like local ones.
    QCOMPARE(metric(*a, "sluice_client_errors_total", {{"reason", "rate_limited"}})
                 + metric(*b, "sluice_client_errors_total", {{"reason", "rate_limited"}}),
             5.0);
}

void TestGatewaySharedLimits::parallelLeasesAreShared()
{
    const QByteArray ns = uniqueNamespace("lease");
    // One request at a time for the key, across both instances; slow answers keep it busy.
    const auto adjust = [](config::GatewayConfig &config) {
        config.apiKeys[0].parallelRequests = 1;
        config.cache.enabled = false;
    };
    // A provider that takes 2.5 s before its first token keeps a request's slot taken.
    gateway::SimulatorServerOptions slowOptions;
    slowOptions.simulator = GatewayHarness::defaultSimulator();
    slowOptions.simulator.timeToFirstTokenMilliseconds = {gateway::Distribution::Shape::Fixed, 2500, 0};
    gateway::SimulatorServer slow(slowOptions);
    QVERIFY(slow.listen().ok());
    auto a = start(QStringLiteral("lease-a"), ns, adjust, slow.baseUrl());
    auto b = start(QStringLiteral("lease-b"), ns, adjust, slow.baseUrl());
    QVERIFY(a && b);

    RawHttpClient holder;
    QVERIFY(holder.connectTo(a->port));
    const QByteArray slowBody = chatBody(QStringLiteral("gpt-4o-mini"), QStringLiteral("slow"), false,
                                         QJsonObject{{QStringLiteral("temperature"), 1.5}});
    holder.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                + QByteArray(gateway::kDemoClientKey) + "\r\nContent-Type: application/json\r\nContent-Length: "
                + QByteArray::number(slowBody.size()) + "\r\n\r\n" + slowBody);
    // While it runs, the other instance refuses the key's second parallel request.
    QTRY_VERIFY_WITH_TIMEOUT(metric(*a, "sluice_upstream_in_flight") >= 1.0, kWaitMs);
    const auto second = chat(*b, QStringLiteral("second"));
    QCOMPARE(second.status, 429);
    QVERIFY2(jsonOf(second).value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString().contains(
                 QStringLiteral("parallel")),
             second.body.constData());
    // Once it is answered, the lease is given back.
    QVERIFY(QTest::qWaitFor([&] { return holder.response(0).status != 0; }, kWaitMs));
    QCOMPARE(holder.response(0).status, 200);
    QTRY_COMPARE_WITH_TIMEOUT(chat(*b, QStringLiteral("third")).status, 200, kWaitMs);
}

void TestGatewaySharedLimits::cacheIsSharedAndFlushedEverywhere()
{
    const QByteArray ns = uniqueNamespace("cache");
    const auto adjust = [](config::GatewayConfig &config) { config.cache.enabled = true; };
    auto a = start(QStringLiteral("cache-a"), ns, adjust);
    auto b = start(QStringLiteral("cache-b"), ns, adjust);
    QVERIFY(a && b);

    const auto first = chat(*a, QStringLiteral("what is shared?"), 0.0);
    QCOMPARE(first.status, 200);
    QCOMPARE(first.header("x-sluice-cache"), QByteArray("MISS"));
    // Stored by a (fire-and-forget), read by b.
    QTRY_COMPARE_WITH_TIMEOUT(chat(*b, QStringLiteral("what is shared?"), 0.0).header("x-sluice-cache"),
                              QByteArray("HIT"), kWaitMs);
    // A hit is one call to Redis in all: the admission script reads the entry, and
    // nothing is reserved, so nothing is settled.
    const double admitsBefore = metric(*b, "sluice_redis_commands_total", {{"op", "admit"}});
    const double settlesBefore = metric(*b, "sluice_redis_commands_total", {{"op", "settle"}});
    const auto hit = chat(*b, QStringLiteral("what is shared?"), 0.0);
    QCOMPARE(hit.header("x-sluice-cache"), QByteArray("HIT"));
    QCOMPARE(jsonOf(hit).value(QStringLiteral("choices")), jsonOf(first).value(QStringLiteral("choices")));
    QCOMPARE(metric(*b, "sluice_redis_commands_total", {{"op", "admit"}}), admitsBefore + 1);
    QCOMPARE(metric(*b, "sluice_redis_commands_total", {{"op", "settle"}}), settlesBefore);
    QVERIFY(metric(*a, "sluice_redis_commands_total", {{"op", "cache_set"}}) >= 1.0);

    // A flush through b's admin API sweeps the entry a stored.
    const auto flushed = exchange(b->adminPort, "POST", "/admin/v1/cache/flush", {}, adminHeaders());
    QCOMPARE(flushed.status, 200);
    QCOMPARE(jsonOf(flushed).value(QStringLiteral("shared")).toObject().value(QStringLiteral("sweep")).toString(),
             QStringLiteral("started"));
    // (Not QTRY: it asks once more after success, and a MISS stores the entry again.)
    bool missed = false;
    for (int attempt = 0; attempt < 100 && !missed; ++attempt) {
        missed = chat(*a, QStringLiteral("what is shared?"), 0.0).header("x-sluice-cache") == "MISS";
        if (!missed)
            QTest::qWait(100);
    }
    QVERIFY(missed);
}

void TestGatewaySharedLimits::outageFallsBackAndRejoins()
{
    const QByteArray ns = uniqueNamespace("outage");
    const auto adjust = [](config::GatewayConfig &config) {
        config.apiKeys[0].requestsPerMinute = 6000;
        config.redis.fallback = config::RedisFallback::Local;
        config.redis.commandTimeout = std::chrono::milliseconds(500);
    };
    auto a = start(QStringLiteral("out-a"), ns, adjust);
    QVERIFY(a);
    QCOMPARE(chat(*a, QStringLiteral("before")).status, 200);
    QCOMPARE(metric(*a, "sluice_redis_fallback_active"), 0.0);

    m_redis->stop();
    QTRY_COMPARE_WITH_TIMEOUT(metric(*a, "sluice_redis_fallback_active"), 1.0, kWaitMs);
    // Served on local limits; counted; reported by /readyz without going unready.
    QCOMPARE(chat(*a, QStringLiteral("during")).status, 200);
    QVERIFY(metric(*a, "sluice_redis_fallback_total", {{"policy", "local"}}) >= 1.0);
    const auto ready = exchange(a->port, "GET", "/readyz", {}, {});
    QCOMPARE(ready.status, 200);
    const QJsonObject redisState = jsonOf(ready).value(QStringLiteral("redis")).toObject();
    QCOMPARE(redisState.value(QStringLiteral("fallback_active")).toBool(), true);
    QCOMPARE(redisState.value(QStringLiteral("fallback_policy")).toString(), QStringLiteral("local"));

    QVERIFY2(m_redis->restart(), qPrintable(m_redis->errorString()));
    QTRY_COMPARE_WITH_TIMEOUT(metric(*a, "sluice_redis_fallback_active"), 0.0, kWaitMs);
    const double fallbacks = metric(*a, "sluice_redis_fallback_total");
    const double admits = metric(*a, "sluice_redis_commands_total", {{"op", "admit"}});
    QCOMPARE(chat(*a, QStringLiteral("after")).status, 200);
    // Decided in Redis again (the scripts were loaded anew: a restarted Redis has none).
    QCOMPARE(metric(*a, "sluice_redis_fallback_total"), fallbacks);
    QCOMPARE(metric(*a, "sluice_redis_commands_total", {{"op", "admit"}}), admits + 1);
    QCOMPARE(metric(*a, "sluice_redis_command_errors_total", {{"op", "admit"}}), 0.0);
}

void TestGatewaySharedLimits::failClosedRefusesWhileRedisIsAway()
{
    const QByteArray ns = uniqueNamespace("closed");
    const auto adjust = [](config::GatewayConfig &config) {
        config.redis.fallback = config::RedisFallback::FailClosed;
        config.cache.enabled = false;
    };
    auto a = start(QStringLiteral("closed-a"), ns, adjust);
    QVERIFY(a);
    QCOMPARE(chat(*a, QStringLiteral("before")).status, 200);

    m_redis->stop();
    QTRY_COMPARE_WITH_TIMEOUT(metric(*a, "sluice_redis_fallback_active"), 1.0, kWaitMs);
    const auto refused = chat(*a, QStringLiteral("during"));
    QCOMPARE(refused.status, 503);
    QCOMPARE(refused.header("retry-after"), QByteArray("1"));
    QVERIFY2(jsonOf(refused).value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString().contains(
                 QStringLiteral("fail_closed")),
             refused.body.constData());
    QCOMPARE(metric(*a, "sluice_redis_fallback_total", {{"policy", "fail_closed"}}), 1.0);
    QCOMPARE(exchange(a->port, "GET", "/readyz", {}, {}).status, 503);

    QVERIFY2(m_redis->restart(), qPrintable(m_redis->errorString()));
    QTRY_COMPARE_WITH_TIMEOUT(metric(*a, "sluice_redis_fallback_active"), 0.0, kWaitMs);
    QCOMPARE(chat(*a, QStringLiteral("after")).status, 200);
    QCOMPARE(exchange(a->port, "GET", "/readyz", {}, {}).status, 200);
}

QTEST_GUILESS_MAIN(TestGatewaySharedLimits)
#include "tst_gatewaysharedlimits.moc"
