#include <QLabel>
#include <QSignalSpy>
#include <QTest>

#include <memory>

#include "activedeployment.h"
#include "clients/postgresinfopoller.h"
#include "clients/redisinfopoller.h"
#include "panels/storetiles.h"
#include "postgresfixture.h"
#include "redisfixture.h"
#include "statusbar/sourcestatus.h"

using sluice::test::PostgresFixture;
using sluice::test::RedisFixture;
using sluice::ui::ActiveDeployment;
using sluice::ui::SourceStatus;
using sluice::ui::StoreTiles;
using TileState = sluice::ui::StoreTiles::TileState;

namespace {

constexpr int kWaitMs = 20'000;

QString labelText(const StoreTiles &tiles, const char *name)
{
    const auto *label = tiles.findChild<QLabel *>(QLatin1String(name));
    return label ? label->text() : QStringLiteral("<no label %1>").arg(QLatin1String(name));
}

ActiveDeployment deploymentNamed(const QString &name)
{
    ActiveDeployment deployment;
    deployment.name = name;
    deployment.environmentLabel = QStringLiteral("staging");
    deployment.refreshIntervalSeconds = 1;
    return deployment;
}

// The last status the tiles published for `id`; an empty id when none was.
SourceStatus lastStatus(const QSignalSpy &spy, const QString &id)
{
    SourceStatus found;
    for (const QList<QVariant> &signal : spy) {
        const auto status = signal.at(0).value<SourceStatus>();
        if (status.id == id)
            found = status;
    }
    return found;
}

} // namespace

class TestStoreTiles : public QObject {
    Q_OBJECT

private slots:
    void withoutSourcesBothSayNotConfigured()
    {
        StoreTiles tiles;
        QSignalSpy statuses(&tiles, &StoreTiles::sourceStatusChanged);
        tiles.setDeployment(deploymentNamed(QStringLiteral("no stores")));
        QCOMPARE(tiles.redisState(), TileState::NotConfigured);
        QCOMPARE(tiles.postgresState(), TileState::NotConfigured);
        QCOMPARE(labelText(tiles, "redisStatus"), QStringLiteral("not configured"));
        QCOMPARE(labelText(tiles, "postgresStatus"), QStringLiteral("not configured"));
        QCOMPARE(labelText(tiles, "redisOps"), QStringLiteral("—"));
        QVERIFY(!tiles.redisPoller());
        QVERIFY(!tiles.postgresPoller());
        QVERIFY(statuses.isEmpty()); // nothing for the status bar to show
    }

    void redisTileShowsLiveValues()
    {
        RedisFixture redis;
        if (!redis.available())
            QSKIP(qPrintable(redis.unavailableReason()));
        QVERIFY2(redis.start(), qPrintable(redis.errorString()));

        StoreTiles tiles;
        tiles.resize(800, 200);
        tiles.show();
        QSignalSpy statuses(&tiles, &StoreTiles::sourceStatusChanged);
        ActiveDeployment deployment = deploymentNamed(QStringLiteral("with redis"));
        deployment.redis = sluice::models::RedisEndpoint{redis.host(), redis.port(), 0, {}};
        tiles.setDeployment(deployment);
        QCOMPARE(tiles.redisState(), TileState::Connecting);
        QVERIFY(labelText(tiles, "redisStatus").contains(QStringLiteral("connecting")));
        QCOMPARE(lastStatus(statuses, QStringLiteral("redis")).state, SourceStatus::State::Connecting);
        QCOMPARE(tiles.postgresState(), TileState::NotConfigured);

        QTRY_COMPARE_WITH_TIMEOUT(tiles.redisState(), TileState::Live, kWaitMs);
        const sluice::clients::RedisInfo info = *tiles.redisPoller()->latest();
        QCOMPARE(labelText(tiles, "redisClients"), QLocale().toString(info.connectedClients));
        QVERIFY2(labelText(tiles, "redisMemory").contains(QLocale().formattedDataSize(info.usedMemoryBytes, 1)),
                 qPrintable(labelText(tiles, "redisMemory")));
        QVERIFY(labelText(tiles, "redisMemory").contains(QStringLiteral("no limit")));
        QVERIFY(labelText(tiles, "redisOps") != QStringLiteral("—"));
        QVERIFY(labelText(tiles, "redisUpdated").startsWith(QStringLiteral("at ")));
        const SourceStatus connected = lastStatus(statuses, QStringLiteral("redis"));
        QCOMPARE(connected.state, SourceStatus::State::Connected);
        QVERIFY(connected.lastUpdate.isValid());
        QVERIFY(connected.detail.contains(info.version));

        // The server goes away: the tile says why, keeps its values as stale, and the
        // status bar hears of it.
        redis.stop();
        QTRY_COMPARE_WITH_TIMEOUT(tiles.redisState(), TileState::Error, kWaitMs);
        QVERIFY2(labelText(tiles, "redisStatus").contains(tiles.redisPoller()->endpoint()),
                 qPrintable(labelText(tiles, "redisStatus")));
        QVERIFY(labelText(tiles, "redisUpdated").startsWith(QStringLiteral("stale")));
        QCOMPARE(lastStatus(statuses, QStringLiteral("redis")).state, SourceStatus::State::Error);

        QVERIFY2(redis.restart(), qPrintable(redis.errorString()));
        QTRY_COMPARE_WITH_TIMEOUT(tiles.redisState(), TileState::Live, kWaitMs);

        tiles.clearDeployment();
        QCOMPARE(tiles.redisState(), TileState::NotConfigured);
        QCOMPARE(labelText(tiles, "redisOps"), QStringLiteral("—"));
        QVERIFY(!tiles.redisPoller());
    }

    void hiddenOrPausedTilesDoNotPoll()
    {
        RedisFixture redis;
        if (!redis.available())
            QSKIP(qPrintable(redis.unavailableReason()));
        QVERIFY2(redis.start(), qPrintable(redis.errorString()));

        StoreTiles tiles;
        ActiveDeployment deployment = deploymentNamed(QStringLiteral("paused"));
        deployment.redis = sluice::models::RedisEndpoint{redis.host(), redis.port(), 0, {}};
        tiles.setDeployment(deployment);
        QTRY_COMPARE_WITH_TIMEOUT(tiles.redisState(), TileState::Live, kWaitMs);
        QSignalSpy updates(tiles.redisPoller(), &sluice::clients::RedisInfoPoller::updated);

        tiles.setLiveViewVisible(false);
        QVERIFY(tiles.redisPoller()->isPaused());
        tiles.setLiveViewVisible(true);
        tiles.setLiveUpdatesPaused(true);
        QVERIFY(tiles.redisPoller()->isPaused());
        QTest::qWait(300);
        const int paused = updates.count();
        QTest::qWait(2'500); // more than two 1-second intervals
        QCOMPARE(updates.count(), paused);
        tiles.refresh();     // F5 fetches once even while paused
        QTRY_COMPARE_WITH_TIMEOUT(updates.count(), paused + 1, kWaitMs);
        tiles.setLiveUpdatesPaused(false);
        QVERIFY(!tiles.redisPoller()->isPaused());
        QTRY_VERIFY_WITH_TIMEOUT(updates.count() > paused + 1, kWaitMs);
    }

    void postgresTileShowsConnectionsAndErrors()
    {
        PostgresFixture postgres;
        if (!postgres.available())
            QSKIP(qPrintable(postgres.reason()));
        QVERIFY2(postgres.isRunning(), qPrintable(postgres.lastError()));

        StoreTiles tiles;
        QSignalSpy statuses(&tiles, &StoreTiles::sourceStatusChanged);
        ActiveDeployment deployment = deploymentNamed(QStringLiteral("with postgres"));
        deployment.postgresConnection = postgres.connectionString();
        tiles.setDeployment(deployment);
        QCOMPARE(tiles.postgresState(), TileState::Connecting);
        QTRY_COMPARE_WITH_TIMEOUT(tiles.postgresState(), TileState::Live, kWaitMs);
        const QString connections = labelText(tiles, "postgresConnections");
        QVERIFY2(connections.endsWith(QStringLiteral(" / 60")), qPrintable(connections));
        QCOMPARE(labelText(tiles, "postgresUsageRows"), QStringLiteral("no usage table"));
        QCOMPARE(lastStatus(statuses, QStringLiteral("postgres")).state, SourceStatus::State::Connected);
        QCOMPARE(tiles.redisState(), TileState::NotConfigured);

        QVERIFY(postgres.stop());
        QTRY_COMPARE_WITH_TIMEOUT(tiles.postgresState(), TileState::Error, kWaitMs);
        QVERIFY(!labelText(tiles, "postgresStatus").isEmpty());
        QCOMPARE(lastStatus(statuses, QStringLiteral("postgres")).state, SourceStatus::State::Error);
        tiles.postgresPoller()->stop();
        QVERIFY(tiles.postgresPoller()->waitForStopped(10'000));
    }
};

QTEST_MAIN(TestStoreTiles)
#include "tst_storetiles.moc"
