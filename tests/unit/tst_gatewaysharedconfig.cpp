#include <QTest>

#include "config/apikeyhash.h"
#include "gatewayharness.h"
#include "redisgateway.h"
#include "redisfixture.h"
#include "store/redisinstanceregistry.h"

#include <memory>
#include <optional>
#include <vector>

using namespace sluice;
using namespace sluice::test;

namespace {

constexpr int kWaitMs = 30'000;
const QByteArray kAdminToken = "shared-config-admin-token";
const QByteArray kNamespace = "sharedcfg";

using Instance = RedisGatewayInstance;

QList<QPair<QByteArray, QByteArray>> adminHeaders()
{
    return {{"Authorization", "Bearer " + kAdminToken}, {"Content-Type", "application/merge-patch+json"}};
}

QByteArray rpmPatch(int requestsPerMinute)
{
    return "{\"api_keys\":[{\"id\":\"demo\",\"key_sha256\":\""
           + config::hashApiKey(QString::fromLatin1(gateway::kDemoClientKey)).toLatin1()
           + "\",\"requests_per_minute\":" + QByteArray::number(requestsPerMinute) + "}]}";
}

int runningVersion(const Instance &instance)
{
    const auto answer = exchange(instance.adminPort, "GET", "/admin/v1/instance", {}, adminHeaders());
    if (answer.status != 200)
        return -1;
    return jsonOf(answer).value(QStringLiteral("config_version")).toInt();
}

QJsonObject redisState(const Instance &instance)
{
    const auto answer = exchange(instance.adminPort, "GET", "/admin/v1/stats", {}, adminHeaders());
    return jsonOf(answer).value(QStringLiteral("redis")).toObject();
}

} // namespace

class TestGatewaySharedConfig : public QObject {
    Q_OBJECT
private slots:
    void configChangesReachEveryInstance();
    void unreadablePasswordFailsStart();

private:
    std::optional<Instance> startInstance(const QString &id, const QString &simulatorBaseUrl, quint16 redisPort,
                                          QString *error);
};

std::optional<Instance> TestGatewaySharedConfig::startInstance(const QString &id, const QString &simulatorBaseUrl,
                                                               quint16 redisPort, QString *error)
{
    return startRedisGateway(id, simulatorBaseUrl, redisPort, kNamespace, kAdminToken, error);
}

void TestGatewaySharedConfig::configChangesReachEveryInstance()
{
    RedisFixture redis;
    if (!redis.available())
        QSKIP(qPrintable(redis.unavailableReason()));
    QVERIFY2(redis.start(), qPrintable(redis.errorString()));

    gateway::SimulatorServerOptions simulatorOptions;
    simulatorOptions.simulator = GatewayHarness::defaultSimulator();
    gateway::SimulatorServer simulator(simulatorOptions);
    QVERIFY(simulator.listen().ok());

    std::vector<Instance> instances;
    for (const QString &id : {QStringLiteral("gw-a"), QStringLiteral("gw-b"), QStringLiteral("gw-c")}) {
        QString error;
        auto instance = startInstance(id, simulator.baseUrl(), redis.port(), &error);
        QVERIFY2(instance, qPrintable(error));
        instances.push_back(std::move(*instance));
    }
    for (const Instance &instance : instances) {
        QVERIFY(instance.gw->sharedConfig());
        QTRY_VERIFY_WITH_TIMEOUT(instance.gw->sharedConfig()->isConnected(), kWaitMs);
        QTRY_COMPARE_WITH_TIMEOUT(metricSum(instance.gw->registry(), "sluice_redis_connected"), 1.0, kWaitMs);
        // The first one found Redis empty and published its config (version 1); the
        // others hold the same version.
        QTRY_COMPARE_WITH_TIMEOUT(redisState(instance).value(QStringLiteral("shared_version")).toInt(), 1, kWaitMs);
    }

    // Discovery: every instance's heartbeat is listed, with its admin URL.
    QObject context;
    QStringList discovered;
    QStringList adminUrls;
    auto discoverAll = [&] {
        store::RedisInstanceRegistry::discover(
            instances[0].gw->sharedConfig()->session(), kNamespace, &context,
            [&](Result<QList<store::InstanceInfo>, store::StoreError> found) {
                discovered.clear();
                adminUrls.clear();
                if (!found)
                    return;
                for (const store::InstanceInfo &info : *found) {
                    discovered.append(info.id);
                    adminUrls.append(info.adminUrl);
                }
            });
    };
    const QStringList ids{QStringLiteral("gw-a"), QStringLiteral("gw-b"), QStringLiteral("gw-c")};
    QTRY_VERIFY_WITH_TIMEOUT((discoverAll(), QTest::qWait(50), discovered == ids), kWaitMs);
    for (std::size_t i = 0; i < instances.size(); ++i)
        QCOMPARE(adminUrls.at(qsizetype(i)), instances[i].gw->adminUrl().toString());

    // A PATCH through one instance's admin API is running everywhere.
    auto distributed = [&](std::size_t i, const char *direction) {
        return metricSum(instances[i].gw->registry(), "sluice_config_distributed_total", {{"direction", direction}});
    };
    const double publishedBefore = distributed(0, "published");
    std::vector<double> adoptedBefore;
    for (std::size_t i = 0; i < instances.size(); ++i)
        adoptedBefore.push_back(distributed(i, "adopted"));
    const auto patched = exchange(instances[0].adminPort, "PATCH", "/admin/v1/config", rpmPatch(1000), adminHeaders());
    QCOMPARE(patched.status, 200);
    QCOMPARE(jsonOf(patched).value(QStringLiteral("version")).toInt(), 2);
    for (const Instance &instance : instances) {
        QTRY_COMPARE_WITH_TIMEOUT(runningVersion(instance), 2, kWaitMs);
        QCOMPARE(instance.gw->configStore().current()->apiKeys.at(0).requestsPerMinute, 1000);
    }
    QTRY_COMPARE_WITH_TIMEOUT(distributed(0, "published"), publishedBefore + 1, kWaitMs);
    QCOMPARE(distributed(0, "adopted"), adoptedBefore[0]);
    for (std::size_t i = 1; i < instances.size(); ++i) {
        QCOMPARE(distributed(i, "adopted"), adoptedBefore[i] + 1);
        QCOMPARE(instances[i].gw->configStore().history().last().who, QStringLiteral("redis"));
        QCOMPARE(redisState(instances[i]).value(QStringLiteral("last_adopted_version")).toInt(), 2);
    }
    QCOMPARE(redisState(instances[0]).value(QStringLiteral("last_published_version")).toInt(), 2);
    // The registry carries the running version too.
    QTRY_VERIFY_WITH_TIMEOUT(instances[2].gw->sharedConfig()->instanceRegistry().info().configVersion == 2, kWaitMs);

    // Redis goes away: every instance keeps serving with its running config, stays
    // ready, and says it is disconnected.
    redis.stop();
    for (Instance &instance : instances) {
        QTRY_VERIFY_WITH_TIMEOUT(!instance.gw->sharedConfig()->isConnected(), kWaitMs);
        QCOMPARE(metricSum(instance.gw->registry(), "sluice_redis_connected"), 0.0);
        const auto chat = exchange(instance.port, "POST", "/v1/chat/completions",
                                   chatBody(QStringLiteral("gpt-4o-mini"), QStringLiteral("still there?")), bearer());
        QCOMPARE(chat.status, 200);
        QCOMPARE(exchange(instance.port, "GET", "/readyz", {}, {}).status, 200);
        const QJsonObject state = redisState(instance);
        QCOMPARE(state.value(QStringLiteral("connected")).toBool(), false);
        QVERIFY(!state.value(QStringLiteral("last_error")).toString().isEmpty());
        QCOMPARE(runningVersion(instance), 2);
    }

    // Redis is back (empty): they reconnect, put the running version back, and a new
    // PATCH through another instance propagates again.
    QVERIFY2(redis.restart(), qPrintable(redis.errorString()));
    for (const Instance &instance : instances) {
        QTRY_VERIFY_WITH_TIMEOUT(instance.gw->sharedConfig()->isConnected(), kWaitMs);
        QTRY_COMPARE_WITH_TIMEOUT(redisState(instance).value(QStringLiteral("shared_version")).toInt(), 2, kWaitMs);
        QTRY_VERIFY_WITH_TIMEOUT(instance.gw->sharedConfig()->configChannel().isListening(), kWaitMs);
    }
    QTRY_VERIFY_WITH_TIMEOUT((discoverAll(), QTest::qWait(50), discovered == ids), kWaitMs);
    const auto again = exchange(instances[1].adminPort, "PATCH", "/admin/v1/config", rpmPatch(2000), adminHeaders());
    QCOMPARE(again.status, 200);
    QCOMPARE(jsonOf(again).value(QStringLiteral("version")).toInt(), 3);
    for (const Instance &instance : instances) {
        QTRY_COMPARE_WITH_TIMEOUT(runningVersion(instance), 3, kWaitMs);
        QCOMPARE(instance.gw->configStore().current()->apiKeys.at(0).requestsPerMinute, 2000);
    }
    if (QTest::currentTestFailed()) {
        for (const Instance &instance : instances)
            qWarning().noquote() << instance.logText();
    }
}

void TestGatewaySharedConfig::unreadablePasswordFailsStart()
{
    gateway::GatewayOptions options;
    options.config = gateway::demoConfig(QStringLiteral("http://127.0.0.1:9"), 0, 0);
    options.config.redis.enabled = true;
    options.config.redis.passwordEnv = QStringLiteral("SLUICE_TEST_UNSET_REDIS_PASSWORD");
    qunsetenv("SLUICE_TEST_UNSET_REDIS_PASSWORD");
    options.logger = std::make_shared<gateway::Logger>([](std::string_view) {}, config::LogLevel::Error);
    gateway::Gateway gw(std::move(options));
    const auto started = gw.start();
    QVERIFY(!started.ok());
    QVERIFY2(started.error().contains(QStringLiteral("redis.password_env")), qPrintable(started.error()));
    QVERIFY(gw.listenUrls().isEmpty());
    QVERIFY(!gw.sharedConfig());
}

QTEST_GUILESS_MAIN(TestGatewaySharedConfig)
#include "tst_gatewaysharedconfig.moc"
