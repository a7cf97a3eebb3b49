#include <QTest>

#include "policy/clock.h"
#include "policy/parallellimiter.h"

using namespace std::chrono_literals;
using sluice::policy::KeyedLimits;
using sluice::policy::ManualClock;
using sluice::policy::ParallelLimiter;

class TestParallelLimiter : public QObject {
    Q_OBJECT
private slots:
    void acquireToTheLimitThenDeny_data()
    {
        QTest::addColumn<qint64>("maxParallel");
        QTest::newRow("1") << 1LL;
        QTest::newRow("3") << 3LL;
        QTest::newRow("10") << 10LL;
    }

    void acquireToTheLimitThenDeny()
    {
        QFETCH(qint64, maxParallel);
        ManualClock clock;
        ParallelLimiter limiter(maxParallel, KeyedLimits{}, clock, 2s);
        for (qint64 i = 0; i < maxParallel; ++i) {
            const auto decision = limiter.acquire("k=a");
            QVERIFY(decision.allowed);
            QCOMPARE(decision.limit, maxParallel);
            QCOMPARE(decision.remaining, maxParallel - i - 1);
            QCOMPARE(decision.retryAfter, 0s);
        }
        QCOMPARE(limiter.active("k=a"), maxParallel);
        const auto denied = limiter.acquire("k=a");
        QVERIFY(!denied.allowed);
        QVERIFY(!denied.neverFits);
        QCOMPARE(denied.remaining, 0LL);
        QCOMPARE(denied.retryAfter, 2s);
        QCOMPARE(limiter.active("k=a"), maxParallel);

        QVERIFY(limiter.acquire("k=b").allowed);
        QVERIFY(limiter.release("k=a"));
        QCOMPARE(limiter.active("k=a"), maxParallel - 1);
        QVERIFY(limiter.acquire("k=a").allowed);
        QVERIFY(!limiter.acquire("k=a").allowed);
    }

    void unmatchedReleasesAreRefusedAndCounted()
    {
        ManualClock clock;
        ParallelLimiter limiter(2, KeyedLimits{}, clock);
        QVERIFY(!limiter.release("nobody"));
        QVERIFY(limiter.acquire("a").allowed);
        QVERIFY(limiter.release("a"));
        QVERIFY(!limiter.release("a"));
        QCOMPARE(limiter.unmatchedReleases(), std::uint64_t(2));
        QCOMPARE(limiter.active("a"), 0LL);
    }

    void keysWithLeasesAreNeverEvicted()
    {
        ManualClock clock;
        ParallelLimiter limiter(5, KeyedLimits{2, 1h}, clock);
        QVERIFY(limiter.acquire("a").allowed);
        QVERIFY(limiter.acquire("b").allowed);
        QVERIFY(limiter.acquire("c").allowed);
        QCOMPARE(limiter.keys(), std::size_t(3));
        QCOMPARE(limiter.counters().evictions, std::uint64_t(0));
        QCOMPARE(limiter.counters().overflows, std::uint64_t(1));

        QVERIFY(limiter.release("a"));
        QVERIFY(limiter.acquire("d").allowed);
        QCOMPARE(limiter.counters().evictions, std::uint64_t(1));
        QCOMPARE(limiter.active("a"), 0LL);
        QCOMPARE(limiter.active("b"), 1LL);
        QCOMPARE(limiter.active("c"), 1LL);
        QCOMPARE(limiter.active("d"), 1LL);
    }

    void keysWithLeasesNeverExpire()
    {
        ManualClock clock;
        ParallelLimiter limiter(5, KeyedLimits{100, 10s}, clock);
        QVERIFY(limiter.acquire("leased").allowed);
        QVERIFY(limiter.acquire("done").allowed);
        QVERIFY(limiter.release("done"));
        clock.advance(1h);
        QCOMPARE(limiter.purgeIdle(), std::size_t(1));
        QCOMPARE(limiter.active("leased"), 1LL);
        QVERIFY(limiter.release("leased"));
        clock.advance(10s);
        QCOMPARE(limiter.purgeIdle(), std::size_t(1));
        QCOMPARE(limiter.keys(), std::size_t(0));
    }

    void liveTuning()
    {
        ManualClock clock;
        ParallelLimiter limiter(3, KeyedLimits{}, clock);
        for (int i = 0; i < 3; ++i)
            QVERIFY(limiter.acquire("a").allowed);
        limiter.setMaxParallel(1);
        QVERIFY(!limiter.acquire("a").allowed);
        QVERIFY(limiter.release("a"));
        QVERIFY(limiter.release("a"));
        QVERIFY(!limiter.acquire("a").allowed);
        QVERIFY(limiter.release("a"));
        QVERIFY(limiter.acquire("a").allowed);

        limiter.setMaxParallel(0);
        const auto closed = limiter.acquire("b");
        QVERIFY(!closed.allowed);
        QVERIFY(closed.neverFits);
    }
};

QTEST_APPLESS_MAIN(TestParallelLimiter)
#include "tst_parallellimiter.moc"
