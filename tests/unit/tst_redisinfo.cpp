#include <QSignalSpy>
#include <QTest>

#include <chrono>

#include "clients/redisinfo.h"
#include "clients/redisinfopoller.h"
#include "redisfixture.h"
#include "store/rediskey.h"
#include "store/redissession.h"

using sluice::clients::RedisInfo;
using sluice::clients::RedisInfoPoller;
using sluice::clients::RedisInfoPollerOptions;
using sluice::clients::RedisSluiceKeys;
using sluice::clients::SourceError;
using sluice::clients::SourceErrorKind;
using sluice::test::RedisFixture;

namespace {

constexpr int kWaitMs = 15'000;

// Abridged from a Redis 7.0 INFO answer (CRLF, as the server sends it).
const char kInfoText[] =
    "# Server\r\n"
    "redis_version:7.0.15\r\n"
    "redis_mode:standalone\r\n"
    "uptime_in_seconds:3600\r\n"
    "\r\n"
    "# Clients\r\n"
    "connected_clients:12\r\n"
    "blocked_clients:1\r\n"
    "\r\n"
    "# Memory\r\n"
    "used_memory:1048576\r\n"
    "used_memory_human:1.00M\r\n"
    "used_memory_rss:2097152\r\n"
    "used_memory_peak:3145728\r\n"
    "maxmemory:268435456\r\n"
    "maxmemory_policy:allkeys-lru\r\n"
    "\r\n"
    "# Stats\r\n"
    "total_commands_processed:10000\r\n"
    "instantaneous_ops_per_sec:42\r\n"
    "keyspace_hits:300\r\n"
    "keyspace_misses:100\r\n"
    "evicted_keys:5\r\n"
    "expired_keys:50\r\n"
    "\r\n"
    "# Errorstats\r\n"
    "errorstat_ERR:count=2\r\n"
    "\r\n"
    "# Keyspace\r\n"
    "db3:keys=7,expires=0,avg_ttl=0\r\n"
    "db0:keys=120,expires=80,avg_ttl=1000\r\n";

RedisInfoPollerOptions pollerOptions(const RedisFixture &redis)
{
    RedisInfoPollerOptions options;
    options.host = redis.host();
    options.port = redis.port();
    options.intervalMs = 200;
    options.keysIntervalMs = 200;
    options.reconnectMinMs = 50;
    options.reconnectMaxMs = 300;
    options.connectTimeoutMs = 2'000;
    options.commandTimeoutMs = 2'000;
    return options;
}

} // namespace

class TestRedisInfo : public QObject {
    Q_OBJECT

private slots:
    void parsesInfoText()
    {
        const auto parsed = sluice::clients::parseRedisInfo(kInfoText);
        QVERIFY(parsed.ok());
        const RedisInfo &info = *parsed;
        QCOMPARE(info.version, QStringLiteral("7.0.15"));
        QCOMPARE(info.mode, QStringLiteral("standalone"));
        QCOMPARE(info.uptimeSeconds, 3600);
        QCOMPARE(info.connectedClients, 12);
        QCOMPARE(info.blockedClients, 1);
        QCOMPARE(info.usedMemoryBytes, 1048576);
        QCOMPARE(info.usedMemoryRssBytes, 2097152);
        QCOMPARE(info.usedMemoryPeakBytes, 3145728);
        QCOMPARE(info.maxMemoryBytes, 268435456);
        QCOMPARE(info.maxMemoryPolicy, QStringLiteral("allkeys-lru"));
        QCOMPARE(info.totalCommandsProcessed, 10000);
        QCOMPARE(info.instantaneousOpsPerSecond, 42.0);
        QCOMPARE(info.keyspaceHits, 300);
        QCOMPARE(info.keyspaceMisses, 100);
        QCOMPARE(info.evictedKeys, 5);
        QCOMPARE(info.expiredKeys, 50);
        QCOMPARE(info.keyspace.size(), 2);
        QCOMPARE(info.keyspace[0].db, 0); // sorted by db
        QCOMPARE(info.keyspace[0].keys, 120);
        QCOMPARE(info.keyspace[0].expires, 80);
        QCOMPARE(info.keyspace[1].db, 3);
        QCOMPARE(info.keyspace[1].keys, 7);
        QCOMPARE(info.totalKeys(), 127);
        QVERIFY(info.hitRatioSinceStart.has_value());
        QCOMPARE(*info.hitRatioSinceStart, 0.75);
        // A single sample: the server's own estimate, no interval ratio.
        QCOMPARE(info.opsPerSecond, 42.0);
        QVERIFY(!info.hitRatio.has_value());
    }

    void parsesPlainNewlinesAndMissingFields()
    {
        const auto parsed = sluice::clients::parseRedisInfo("# Server\nredis_version:6.0.16\nsome_new_field:x\n");
        QVERIFY(parsed.ok());
        QCOMPARE(parsed->version, QStringLiteral("6.0.16"));
        QCOMPARE(parsed->usedMemoryBytes, 0);
        QVERIFY(parsed->keyspace.isEmpty());
        QVERIFY(!parsed->hitRatioSinceStart.has_value());
    }

    void rejectsTextThatIsNotInfo_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::newRow("empty") << QByteArray();
        QTest::newRow("http") << QByteArray("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html>");
        QTest::newRow("unrelated fields") << QByteArray("# Server\r\nfoo:1\r\nbar:2\r\n");
    }

    void rejectsTextThatIsNotInfo()
    {
        QFETCH(QByteArray, text);
        const auto parsed = sluice::clients::parseRedisInfo(text);
        QVERIFY(!parsed.ok());
        QVERIFY(!parsed.error().isEmpty());
    }

    void derivesRatesOverTheRealInterval()
    {
        RedisInfo previous = *sluice::clients::parseRedisInfo(kInfoText);
        RedisInfo current = previous;
        current.uptimeSeconds += 2;
        current.totalCommandsProcessed += 500;   // over 2.5 s: 200/s
        current.keyspaceHits += 90;
        current.keyspaceMisses += 10;            // 90 % in the interval (75 % since start)
        current.evictedKeys += 5;                // 2/s
        current.expiredKeys += 25;               // 10/s
        current.instantaneousOpsPerSecond = 7;   // ignored when the counter can be used
        sluice::clients::deriveRedisRates(current, &previous, 2'500);
        QVERIFY(current.opsFromCounter);
        QCOMPARE(current.opsPerSecond, 200.0);
        QVERIFY(current.hitRatio.has_value());
        QCOMPARE(*current.hitRatio, 0.9);
        QCOMPARE(current.evictedPerSecond, 2.0);
        QCOMPARE(current.expiredPerSecond, 10.0);
        QCOMPARE(current.intervalMs, 2'500);
    }

    void noLookupsMeansNoHitRatio()
    {
        RedisInfo previous = *sluice::clients::parseRedisInfo(kInfoText);
        RedisInfo current = previous;
        current.totalCommandsProcessed += 10;
        sluice::clients::deriveRedisRates(current, &previous, 1'000);
        QVERIFY(!current.hitRatio.has_value());
        QCOMPARE(current.opsPerSecond, 10.0);
    }

    void restartFallsBackToInstantaneous()
    {
        RedisInfo previous = *sluice::clients::parseRedisInfo(kInfoText);
        RedisInfo current = previous;
        current.uptimeSeconds = 3;
        current.totalCommandsProcessed = 20;
        current.keyspaceHits = 1;
        current.keyspaceMisses = 0;
        current.instantaneousOpsPerSecond = 6;
        sluice::clients::deriveRedisRates(current, &previous, 1'000);
        QVERIFY(!current.opsFromCounter);
        QCOMPARE(current.opsPerSecond, 6.0);
        QVERIFY(!current.hitRatio.has_value());
        QCOMPARE(current.intervalMs, 0);
    }

    void pollerReadsARealServer()
    {
        RedisFixture redis;
        if (!redis.available())
            QSKIP(qPrintable(redis.unavailableReason()));
        QVERIFY2(redis.start(), qPrintable(redis.errorString()));

        RedisInfoPoller poller(pollerOptions(redis));
        QSignalSpy updates(&poller, &RedisInfoPoller::updated);
        QSignalSpy failures(&poller, &RedisInfoPoller::failed);
        poller.start();
        QTRY_VERIFY_WITH_TIMEOUT(poller.latest().has_value(), kWaitMs);
        QVERIFY(!poller.latest()->version.isEmpty());
        QVERIFY(poller.latest()->usedMemoryBytes > 0);
        QVERIFY(poller.latest()->connectedClients >= 1); // the poller itself
        QVERIFY(poller.latest()->uptimeSeconds >= 0);

        // Some traffic from another connection: keys, hits and misses.
        sluice::store::RedisSessionOptions sessionOptions;
        sessionOptions.host = redis.host();
        sessionOptions.port = redis.port();
        sluice::store::RedisSession traffic(sessionOptions);
        traffic.open();
        QTRY_VERIFY_WITH_TIMEOUT(traffic.isReady(), kWaitMs);
        int answered = 0;
        for (int index = 0; index < 50; ++index) {
            const QByteArray key = QByteArrayLiteral("plain:") + QByteArray::number(index);
            traffic.command({"SET", key, "v"}, this, [&](auto) { ++answered; });
            traffic.command({"GET", key}, this, [&](auto) { ++answered; });
            traffic.command({"GET", key + ":missing"}, this, [&](auto) { ++answered; });
        }
        QTRY_COMPARE_WITH_TIMEOUT(answered, 150, kWaitMs);

        // A sample whose interval covers that traffic: counter-based ops/s and a hit
        // ratio of 50 % (50 hits, 50 misses, plus nothing else looking keys up).
        const int seen = updates.count();
        QTRY_VERIFY_WITH_TIMEOUT(updates.count() >= seen + 2, kWaitMs);
        QVERIFY(failures.isEmpty());
        QTRY_VERIFY_WITH_TIMEOUT(poller.latest()->opsFromCounter && poller.latest()->opsPerSecond > 0, kWaitMs);
        QVERIFY(poller.latest()->intervalMs > 0);
        QVERIFY(poller.latest()->totalKeys() >= 50);
        QVERIFY(poller.latest()->hitRatioSinceStart.has_value());
        QCOMPARE(*poller.latest()->hitRatioSinceStart, 0.5);
    }

    void pollerCountsSluiceKeysAndInstances()
    {
        RedisFixture redis;
        if (!redis.available())
            QSKIP(qPrintable(redis.unavailableReason()));
        QVERIFY2(redis.start(), qPrintable(redis.errorString()));

        sluice::store::RedisSessionOptions sessionOptions;
        sessionOptions.host = redis.host();
        sessionOptions.port = redis.port();
        sluice::store::RedisSession writer(sessionOptions);
        writer.open();
        QTRY_VERIFY_WITH_TIMEOUT(writer.isReady(), kWaitMs);
        int answered = 0;
        const auto done = [&](auto) { ++answered; };
        for (int index = 0; index < 30; ++index)
            writer.command({"SET", sluice::store::redisKey("prod", "ratelimit", QByteArray::number(index)), "1"}, this,
                           done);
        for (int index = 0; index < 25; ++index)
            writer.command({"SET", sluice::store::redisKey("prod", "cache", QByteArray::number(index)), "x"}, this, done);
        // Another namespace and a plain key: not counted.
        writer.command({"SET", sluice::store::redisKey("staging", "cache", "1"), "x"}, this, done);
        writer.command({"SET", "unrelated", "x"}, this, done);
        QTRY_COMPARE_WITH_TIMEOUT(answered, 57, kWaitMs);

        sluice::store::InstanceInfo instance;
        instance.id = QStringLiteral("gw-test-1");
        instance.address = QStringLiteral("127.0.0.1:8080");
        instance.adminUrl = QStringLiteral("http://127.0.0.1:9090");
        instance.version = QStringLiteral("9.9.9");
        instance.configVersion = 4;
        sluice::store::RedisInstanceRegistryOptions registryOptions;
        registryOptions.keyNamespace = "prod";
        registryOptions.heartbeatInterval = std::chrono::milliseconds(1'000);
        sluice::store::RedisInstanceRegistry registry(writer, instance, registryOptions);
        registry.start();
        QTRY_VERIFY_WITH_TIMEOUT(registry.heartbeatsWritten() >= 1, kWaitMs);

        RedisInfoPollerOptions options = pollerOptions(redis);
        options.keyNamespace = "prod";
        {
            RedisInfoPoller poller(options);
            QSignalSpy keyFailures(&poller, &RedisInfoPoller::sluiceKeysFailed);
            poller.start();
            QTRY_VERIFY_WITH_TIMEOUT(poller.latestKeys().has_value(), kWaitMs);
            const RedisSluiceKeys &keys = *poller.latestKeys();
            QVERIFY(keyFailures.isEmpty());
            QCOMPARE(keys.keyNamespace, QByteArray("prod"));
            QCOMPARE(keys.rateLimitKeys, 30);
            QCOMPARE(keys.cacheKeys, 25);
            QCOMPARE(keys.instanceKeys, 1);
            QCOMPARE(keys.otherKeys, 0);
            QVERIFY(!keys.truncated);
            QCOMPARE(keys.instances.size(), 1);
            QCOMPARE(keys.instances[0].id, instance.id);
            QCOMPARE(keys.instances[0].adminUrl, instance.adminUrl);
            QCOMPARE(keys.instances[0].configVersion, 4);
            QVERIFY(keys.instances[0].heartbeatAt.isValid());
        }

        // Bounded: one page of COUNT 5 cannot cover 56 keys, so the counts are lower bounds.
        options.scanPageLimit = 1;
        options.scanCount = 5;
        RedisInfoPoller bounded(options);
        bounded.start();
        QTRY_VERIFY_WITH_TIMEOUT(bounded.latestKeys().has_value(), kWaitMs);
        QVERIFY(bounded.latestKeys()->truncated);
        QVERIFY(bounded.latestKeys()->rateLimitKeys + bounded.latestKeys()->cacheKeys < 55);
        registry.stop();
    }

    void pollerReportsOutageAndRecovers()
    {
        RedisFixture redis;
        if (!redis.available())
            QSKIP(qPrintable(redis.unavailableReason()));
        QVERIFY2(redis.start(), qPrintable(redis.errorString()));

        RedisInfoPoller poller(pollerOptions(redis));
        QSignalSpy updates(&poller, &RedisInfoPoller::updated);
        QSignalSpy failures(&poller, &RedisInfoPoller::failed);
        poller.start();
        QTRY_VERIFY_WITH_TIMEOUT(!updates.isEmpty(), kWaitMs);
        QVERIFY(failures.isEmpty());

        redis.stop();
        // The lost connection first, then reconnect attempts that nothing listens for.
        const auto refused = [&] {
            for (const QList<QVariant> &signal : failures) {
                if (signal.at(0).value<SourceError>().kind == SourceErrorKind::Refused)
                    return true;
            }
            return false;
        };
        QTRY_VERIFY_WITH_TIMEOUT(refused(), kWaitMs);
        for (const QList<QVariant> &signal : failures) {
            const SourceError error = signal.at(0).value<SourceError>();
            QCOMPARE(error.endpoint, poller.endpoint());
            QVERIFY2(error.message.contains(poller.endpoint()), qPrintable(error.message));
        }

        const int before = updates.count();
        QVERIFY2(redis.restart(), qPrintable(redis.errorString()));
        QTRY_VERIFY_WITH_TIMEOUT(updates.count() > before, kWaitMs);
        // The restarted server's counters start again: no negative rate.
        QVERIFY(poller.latest()->opsPerSecond >= 0);
    }

    void pausedPollerSendsNothing()
    {
        RedisFixture redis;
        if (!redis.available())
            QSKIP(qPrintable(redis.unavailableReason()));
        QVERIFY2(redis.start(), qPrintable(redis.errorString()));

        RedisInfoPoller poller(pollerOptions(redis));
        QSignalSpy updates(&poller, &RedisInfoPoller::updated);
        poller.start();
        QTRY_VERIFY_WITH_TIMEOUT(!updates.isEmpty(), kWaitMs);
        poller.setPaused(true);
        QTest::qWait(100); // let an INFO already in flight land
        const int paused = updates.count();
        QTest::qWait(800);  // four intervals
        QCOMPARE(updates.count(), paused);
        poller.pollNow();   // F5 polls even while paused
        QTRY_COMPARE_WITH_TIMEOUT(updates.count(), paused + 1, kWaitMs);
        poller.setPaused(false);
        QTRY_VERIFY_WITH_TIMEOUT(updates.count() > paused + 1, kWaitMs);
    }

    void withoutHostNothingStarts()
    {
        RedisInfoPoller poller(RedisInfoPollerOptions{});
        poller.start();
        QVERIFY(!poller.isRunning());
    }
};

QTEST_GUILESS_MAIN(TestRedisInfo)
#include "tst_redisinfo.moc"
