#include <QTest>

#include <string>

#include "policy/clock.h"
#include "policy/keyedratelimiter.h"

using namespace std::chrono_literals;
using sluice::policy::KeyedLimits;
using sluice::policy::KeyedRateLimiter;
using sluice::policy::ManualClock;
using sluice::policy::MonoTime;
using sluice::policy::RateAlgorithm;
using sluice::policy::RateRule;

class TestKeyedRateLimiter : public QObject {
    Q_OBJECT
private slots:
    void eachKeyHasItsOwnLimit_data()
    {
        QTest::addColumn<int>("algorithm");
        QTest::newRow("gcra") << int(RateAlgorithm::Gcra);
        QTest::newRow("sliding window") << int(RateAlgorithm::SlidingWindow);
    }

    void eachKeyHasItsOwnLimit()
    {
        QFETCH(int, algorithm);
        ManualClock clock(1h);
        KeyedRateLimiter limiter(RateRule{RateAlgorithm(algorithm), 3, 1min, 0}, KeyedLimits{}, clock);
        for (int i = 0; i < 3; ++i)
            QVERIFY(limiter.decide("k=a").allowed);
        const auto denied = limiter.decide("k=a");
        QVERIFY(!denied.allowed);
        QCOMPARE(denied.limit, 3LL);
        QVERIFY(denied.retryAfter > 0ns);
        QVERIFY(limiter.decide("k=b").allowed);
        QCOMPARE(limiter.peek("k=b").remaining, 2LL);
        QCOMPARE(limiter.peek("k=a", 1).allowed, false);
        QCOMPARE(limiter.peek("k=a").remaining, 0LL);
        QCOMPARE(limiter.keys(), std::size_t(2));
        QVERIFY(limiter.decide("k=c", 4).neverFits);
    }

    void peekOnUnknownKeyChangesNothing()
    {
        ManualClock clock;
        KeyedRateLimiter limiter(RateRule{RateAlgorithm::Gcra, 10, 1min, 0}, KeyedLimits{}, clock);
        const auto peeked = limiter.peek("nobody", 4);
        QVERIFY(peeked.allowed);
        QCOMPARE(peeked.remaining, 6LL);
        QCOMPARE(limiter.peek("nobody").remaining, 10LL);
        QCOMPARE(limiter.keys(), std::size_t(0));
    }

    void explicitTimeIsUsed()
    {
        ManualClock clock;
        KeyedRateLimiter limiter(RateRule{RateAlgorithm::Gcra, 1, 1min, 1}, KeyedLimits{}, clock);
        QVERIFY(limiter.decide("a", 1, MonoTime{0}).allowed);
        QVERIFY(!limiter.decide("a", 1, MonoTime{60s - 1ns}).allowed);
        QVERIFY(limiter.decide("a", 1, MonoTime{60s}).allowed);
    }

    void setRuleKeepsWhatKeysOwe_data()
    {
        QTest::addColumn<qint64>("newLimit");
        QTest::addColumn<qint64>("newBurst");
        QTest::addColumn<qint64>("expectedRemaining");

        // 30 of 60 used; the 30 units owed are kept.
        QTest::newRow("limit doubled") << 120LL << 120LL << 90LL;
        QTest::newRow("burst raised") << 60LL << 100LL << 70LL;
        QTest::newRow("burst cut below what is owed") << 60LL << 20LL << 0LL;
        QTest::newRow("unchanged") << 60LL << 60LL << 30LL;
    }

    void setRuleKeepsWhatKeysOwe()
    {
        QFETCH(qint64, newLimit);
        QFETCH(qint64, newBurst);
        QFETCH(qint64, expectedRemaining);

        ManualClock clock(1h);
        KeyedRateLimiter limiter(RateRule{RateAlgorithm::Gcra, 60, 1min, 60}, KeyedLimits{}, clock);
        QVERIFY(limiter.decide("a", 30).allowed);
        limiter.setRule(RateRule{RateAlgorithm::Gcra, newLimit, 1min, newBurst});
        QCOMPARE(limiter.rule().limit, newLimit);
        QCOMPARE(limiter.peek("a").remaining, expectedRemaining);
        QCOMPARE(limiter.peek("fresh").remaining, newBurst);
    }

    void loweredBurstLocksOutForAtMostOneNewBurst()
    {
        ManualClock clock;
        KeyedRateLimiter limiter(RateRule{RateAlgorithm::Gcra, 60, 1min, 60}, KeyedLimits{}, clock);
        QVERIFY(limiter.decide("a", 60).allowed);
        limiter.setRule(RateRule{RateAlgorithm::Gcra, 60, 1min, 5});
        const auto denied = limiter.decide("a");
        QVERIFY(!denied.allowed);
        QCOMPARE(denied.resetAfter, 5s);
        QCOMPARE(denied.retryAfter, 1s);
    }

    void switchingAlgorithmStartsFresh()
    {
        ManualClock clock;
        KeyedRateLimiter limiter(RateRule{RateAlgorithm::Gcra, 5, 1min, 0}, KeyedLimits{}, clock);
        QVERIFY(limiter.decide("a", 5).allowed);
        QVERIFY(!limiter.decide("a").allowed);
        limiter.setRule(RateRule{RateAlgorithm::SlidingWindow, 5, 1min, 0});
        QVERIFY(limiter.decide("a", 5).allowed);
        QVERIFY(!limiter.decide("a").allowed);
        limiter.setRule(RateRule{RateAlgorithm::Gcra, 5, 1min, 0});
        QVERIFY(limiter.decide("a", 5).allowed);
    }

    void slidingWindowKeepsCountsUnlessThePeriodChanges()
    {
        ManualClock clock(10s);
        KeyedRateLimiter limiter(RateRule{RateAlgorithm::SlidingWindow, 10, 1min, 0}, KeyedLimits{}, clock);
        QVERIFY(limiter.decide("a", 5).allowed);
        limiter.setRule(RateRule{RateAlgorithm::SlidingWindow, 6, 1min, 0});
        QCOMPARE(limiter.peek("a").remaining, 1LL);
        limiter.setRule(RateRule{RateAlgorithm::SlidingWindow, 6, 2min, 0});
        QCOMPARE(limiter.peek("a").remaining, 6LL);
    }

    void idleExpiryNeverChangesADecision_data()
    {
        QTest::addColumn<int>("algorithm");
        QTest::newRow("gcra") << int(RateAlgorithm::Gcra);
        QTest::newRow("sliding window") << int(RateAlgorithm::SlidingWindow);
    }

    void idleExpiryNeverChangesADecision()
    {
        QFETCH(int, algorithm);
        ManualClock clock;
        // 2 per minute, keys idle after 10 s: a key that used its limit is
        // busy past 10 s, so it must not be forgotten.
        KeyedRateLimiter limiter(RateRule{RateAlgorithm(algorithm), 2, 1min, 0}, KeyedLimits{100, 10s}, clock);
        QVERIFY(limiter.decide("heavy", 2).allowed);
        QVERIFY(limiter.decide("light", 0).allowed);
        clock.advance(30s);
        QCOMPARE(limiter.purgeIdle(), std::size_t(1));
        QCOMPARE(limiter.counters().expirations, std::uint64_t(1));
        QCOMPARE(limiter.keys(), std::size_t(1));
        QVERIFY(!limiter.decide("heavy", 2).allowed);
        QCOMPARE(limiter.peek("light", 2).allowed, true);
    }

    void busyKeyIsNotEvicted()
    {
        ManualClock clock;
        KeyedRateLimiter limiter(RateRule{RateAlgorithm::Gcra, 1, 1min, 1}, KeyedLimits{2, 1h}, clock);
        QVERIFY(limiter.decide("busy").allowed);
        QVERIFY(limiter.decide("quiet", 0).allowed);
        clock.advance(1s);
        QVERIFY(limiter.decide("new").allowed);
        QCOMPARE(limiter.keys(), std::size_t(2));
        QCOMPARE(limiter.counters().evictions, std::uint64_t(1));
        QCOMPARE(limiter.counters().busyEvictions, std::uint64_t(0));
        QVERIFY(!limiter.decide("busy").allowed);
    }

    void floodOfNewKeysStaysBounded()
    {
        ManualClock clock;
        KeyedRateLimiter limiter(RateRule{RateAlgorithm::Gcra, 10, 1min, 0}, KeyedLimits{100, 1h}, clock);
        for (int i = 0; i < 1000; ++i)
            QVERIFY(limiter.decide("ip=" + std::to_string(i)).allowed);
        QCOMPARE(limiter.keys(), std::size_t(100));
        QCOMPARE(limiter.counters().evictions, std::uint64_t(900));
        // Every key was in debt: each eviction forgave it and was counted.
        QCOMPARE(limiter.counters().busyEvictions, std::uint64_t(900));
    }
};

QTEST_APPLESS_MAIN(TestKeyedRateLimiter)
#include "tst_keyedratelimiter.moc"
