#include <QAbstractButton>
#include <QDir>
#include <QLabel>
#include <QLineEdit>
#include <QTableWidget>
#include <QTest>

#include <chrono>

#include "activedeployment.h"
#include "charts/sparkline.h"
#include "clients/redisinfopoller.h"
#include "panels/emptystate.h"
#include "panels/redispanel.h"
#include "redisfixture.h"
#include "store/redisinstanceregistry.h"
#include "store/rediskey.h"
#include "store/redissession.h"

using sluice::test::RedisFixture;
using sluice::ui::ActiveDeployment;
using sluice::ui::EmptyState;
using sluice::ui::RedisPanel;
using sluice::ui::Sparkline;

namespace {

constexpr int kWaitMs = 20'000;

QString labelText(const QWidget &panel, const char *name)
{
    const auto *label = panel.findChild<QLabel *>(QLatin1String(name));
    return label ? label->text() : QStringLiteral("<no label %1>").arg(QLatin1String(name));
}

} // namespace

class TestRedisPanel : public QObject {
    Q_OBJECT

private slots:
    void withoutRedisShowsTheEmptyState()
    {
        RedisPanel panel;
        QCOMPARE(panel.objectName(), QStringLiteral("redisPanel"));
        QVERIFY(panel.emptyState());
        ActiveDeployment deployment;
        deployment.name = QStringLiteral("no redis");
        panel.setDeployment(deployment);
        QVERIFY(!panel.isShowingLiveView());
        QVERIFY(!panel.poller());
        QVERIFY(panel.findChildren<QAbstractButton *>().isEmpty());
        QVERIFY(!panel.emptyState()->title().isEmpty());
    }

    void showsServerInstancesAndKeys()
    {
        RedisFixture redis;
        if (!redis.available())
            QSKIP(qPrintable(redis.unavailableReason()));
        QVERIFY2(redis.start(), qPrintable(redis.errorString()));

        // A gateway instance in the registry and some Sluice keys of namespace "prod".
        sluice::store::RedisSessionOptions sessionOptions;
        sessionOptions.host = redis.host();
        sessionOptions.port = redis.port();
        sluice::store::RedisSession session(sessionOptions);
        session.open();
        QTRY_VERIFY_WITH_TIMEOUT(session.isReady(), kWaitMs);
        int answered = 0;
        for (int index = 0; index < 4; ++index)
            session.command({"SET", sluice::store::redisKey("prod", "ratelimit", QByteArray::number(index)), "1"}, this,
                            [&](auto) { ++answered; });
        for (int index = 0; index < 6; ++index)
            session.command({"SET", sluice::store::redisKey("prod", "cache", QByteArray::number(index)), "1"}, this,
                            [&](auto) { ++answered; });
        QTRY_COMPARE_WITH_TIMEOUT(answered, 10, kWaitMs);
        sluice::store::InstanceInfo instance;
        instance.id = QStringLiteral("gw-panel");
        instance.address = QStringLiteral("10.1.2.3:8080");
        instance.adminUrl = QStringLiteral("http://10.1.2.3:9090");
        instance.version = QStringLiteral("1.2.3");
        instance.configVersion = 7;
        sluice::store::RedisInstanceRegistryOptions registryOptions;
        registryOptions.keyNamespace = "prod";
        registryOptions.heartbeatInterval = std::chrono::milliseconds(1'000);
        sluice::store::RedisInstanceRegistry registry(session, instance, registryOptions);
        registry.start();
        QTRY_VERIFY_WITH_TIMEOUT(registry.heartbeatsWritten() >= 1, kWaitMs);

        RedisPanel panel;
        panel.resize(1100, 800);
        panel.show();
        panel.setKeyNamespace("prod");
        ActiveDeployment deployment;
        deployment.name = QStringLiteral("staging");
        deployment.redis = sluice::models::RedisEndpoint{redis.host(), redis.port(), 0, {}};
        deployment.refreshIntervalSeconds = 1;
        panel.setDeployment(deployment);
        QVERIFY(panel.isShowingLiveView());
        QVERIFY(panel.poller());

        QTRY_VERIFY_WITH_TIMEOUT(panel.poller()->latest().has_value(), kWaitMs);
        QVERIFY2(labelText(panel, "redisVersion").startsWith(panel.poller()->latest()->version),
                 qPrintable(labelText(panel, "redisVersion")));
        QVERIFY(labelText(panel, "redisKeyspace").contains(QStringLiteral("db0")));
        QVERIFY(labelText(panel, "redisMemory").contains(QStringLiteral("no maxmemory limit")));

        auto *table = panel.findChild<QTableWidget *>(QStringLiteral("redisInstances"));
        QVERIFY(table);
        QTRY_COMPARE_WITH_TIMEOUT(table->rowCount(), 1, kWaitMs);
        QCOMPARE(table->item(0, 0)->text(), instance.id);
        QCOMPARE(table->item(0, 1)->text(), instance.address);
        QCOMPARE(table->item(0, 2)->text(), instance.adminUrl);
        QCOMPARE(table->item(0, 3)->text(), instance.version);
        QCOMPARE(table->item(0, 4)->text(), QStringLiteral("7"));
        QVERIFY(!table->item(0, 5)->text().isEmpty());
        const QString counts = labelText(panel, "redisKeyCounts");
        QVERIFY2(counts.contains(QStringLiteral("rate limits 4")) && counts.contains(QStringLiteral("cache 6")),
                 qPrintable(counts));

        // Two samples: the charts have points.
        auto *ops = panel.findChild<Sparkline *>(QStringLiteral("redisOpsChart"));
        QVERIFY(ops);
        QTRY_VERIFY_WITH_TIMEOUT(ops->pointCount() >= 2, kWaitMs);
        QVERIFY(panel.findChild<Sparkline *>(QStringLiteral("redisMemoryChart"))->pointCount() >= 2);

        QDir().mkpath(QStringLiteral(SLUICE_TEST_ARTIFACTS_DIR));
        panel.grab().save(QStringLiteral(SLUICE_TEST_ARTIFACTS_DIR "/redispanel.png"));

        // Another namespace: no keys, no instances.
        panel.setKeyNamespace("other");
        QTRY_VERIFY_WITH_TIMEOUT(panel.poller()->latestKeys().has_value(), kWaitMs);
        QCOMPARE(table->rowCount(), 0);
        QVERIFY(labelText(panel, "redisKeyCounts").contains(QStringLiteral("rate limits 0")));

        // Hidden: no polling.
        panel.hide();
        QVERIFY(panel.poller()->isPaused());
        panel.show();
        QVERIFY(!panel.poller()->isPaused());

        panel.clearDeployment();
        QVERIFY(!panel.isShowingLiveView());
        QVERIFY(!panel.poller());
        registry.stop();
    }
};

QTEST_MAIN(TestRedisPanel)
#include "tst_redispanel.moc"
