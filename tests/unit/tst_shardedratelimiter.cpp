#include <QTest>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "policy/clock.h"
#include "policy/keyedratelimiter.h"
#include "policy/shardedratelimiter.h"

using namespace std::chrono_literals;
using sluice::policy::KeyedLimits;
using sluice::policy::KeyedRateLimiter;
using sluice::policy::ManualClock;
using sluice::policy::RateAlgorithm;
using sluice::policy::RateRule;
using sluice::policy::ShardedRateLimiter;

class TestShardedRateLimiter : public QObject {
    Q_OBJECT
private slots:
    void twoThreadsOnOneKeyAdmitExactlyTheLimit_data()
    {
        QTest::addColumn<int>("algorithm");
        QTest::addColumn<qint64>("limit");
        QTest::addColumn<int>("shards");
        QTest::addColumn<int>("attemptsPerThread");

        QTest::newRow("gcra 1000, 16 shards") << int(RateAlgorithm::Gcra) << 1000LL << 16 << 5000;
        QTest::newRow("gcra 1, 1 shard") << int(RateAlgorithm::Gcra) << 1LL << 1 << 1000;
        QTest::newRow("gcra 777, 4 shards") << int(RateAlgorithm::Gcra) << 777LL << 4 << 2000;
        QTest::newRow("window 1000, 8 shards") << int(RateAlgorithm::SlidingWindow) << 1000LL << 8 << 5000;
    }

    void twoThreadsOnOneKeyAdmitExactlyTheLimit()
    {
        QFETCH(int, algorithm);
        QFETCH(qint64, limit);
        QFETCH(int, shards);
        QFETCH(int, attemptsPerThread);

        const ManualClock clock(1h); // frozen: read concurrently, never advanced
        ShardedRateLimiter limiter(RateRule{RateAlgorithm(algorithm), limit, 1min, 0}, KeyedLimits{}, clock,
                                   std::size_t(shards));
        std::atomic<qint64> admitted{0};
        const auto hammer = [&] {
            qint64 mine = 0;
            for (int i = 0; i < attemptsPerThread; ++i)
                mine += limiter.decide("k=shared").allowed ? 1 : 0;
            admitted += mine;
        };
        std::thread first(hammer);
        std::thread second(hammer);
        first.join();
        second.join();
        QCOMPARE(admitted.load(), limit);
        QCOMPARE(limiter.keys(), std::size_t(1));
    }

    void twoThreadsOnDifferentKeys()
    {
        const ManualClock clock(1h);
        ShardedRateLimiter limiter(RateRule{RateAlgorithm::Gcra, 10, 1min, 0}, KeyedLimits{}, clock, 8);
        std::atomic<qint64> admitted{0};
        const auto hammer = [&](char prefix) {
            qint64 mine = 0;
            for (int round = 0; round < 50; ++round) {
                for (int key = 0; key < 100; ++key)
                    mine += limiter.decide(std::string(1, prefix) + std::to_string(key)).allowed ? 1 : 0;
            }
            admitted += mine;
        };
        std::thread first(hammer, 'a');
        std::thread second(hammer, 'b');
        first.join();
        second.join();
        QCOMPARE(admitted.load(), 2 * 100 * 10LL);
        QCOMPARE(limiter.keys(), std::size_t(200));
    }

    void decidesLikeOneKeyedLimiter()
    {
        ManualClock clock;
        const RateRule rule{RateAlgorithm::Gcra, 5, 10s, 3};
        ShardedRateLimiter sharded(rule, KeyedLimits{}, clock, 4);
        KeyedRateLimiter single(rule, KeyedLimits{}, clock);
        int denials = 0;
        for (int step = 0; step < 500; ++step) {
            const std::string key = "k" + std::to_string(step % 7);
            const std::int64_t cost = 1 + step % 3;
            const auto expected = single.decide(key, cost);
            const auto actual = sharded.decide(key, cost);
            QCOMPARE(actual.allowed, expected.allowed);
            QCOMPARE(actual.remaining, expected.remaining);
            QCOMPARE(actual.resetAfter, expected.resetAfter);
            QCOMPARE(actual.retryAfter, expected.retryAfter);
            denials += expected.allowed ? 0 : 1;
            clock.advance(173ms);
        }
        QVERIFY(denials > 0);
        QVERIFY(sharded.shardOf("k1") == sharded.shardOf(std::string("k1")));
    }

    void maxKeysIsSharedOutAndCounted()
    {
        ManualClock clock;
        ShardedRateLimiter limiter(RateRule{RateAlgorithm::Gcra, 10, 1min, 0}, KeyedLimits{8, 10s}, clock, 4);
        for (int key = 0; key < 100; ++key)
            limiter.decide("k" + std::to_string(key), 0);
        QVERIFY(limiter.keys() <= 8);
        QCOMPARE(limiter.counters().evictions, std::uint64_t(100 - limiter.keys()));
        clock.advance(10s);
        const std::size_t held = limiter.keys();
        QCOMPARE(limiter.purgeIdle(), held);
        QCOMPARE(limiter.keys(), std::size_t(0));
        QCOMPARE(limiter.counters().expirations, std::uint64_t(held));
    }

    void setRuleReachesEveryShard()
    {
        ManualClock clock;
        ShardedRateLimiter limiter(RateRule{RateAlgorithm::Gcra, 10, 1min, 0}, KeyedLimits{}, clock, 4);
        const RateRule tighter{RateAlgorithm::Gcra, 1, 1min, 1};
        limiter.setRule(tighter);
        QCOMPARE(limiter.rule(), tighter);
        for (int key = 0; key < 20; ++key) {
            const std::string name = "k" + std::to_string(key);
            QVERIFY(limiter.decide(name).allowed);
            QVERIFY(!limiter.decide(name).allowed);
            QVERIFY(!limiter.peek(name, 1).allowed);
            QCOMPARE(limiter.peek(name).remaining, 0LL);
        }
    }
};

QTEST_APPLESS_MAIN(TestShardedRateLimiter)
#include "tst_shardedratelimiter.moc"
