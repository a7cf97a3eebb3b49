#include <QTest>

#include "policy/clock.h"
#include "policy/retrybudget.h"

using namespace std::chrono_literals;
using sluice::policy::ManualClock;
using sluice::policy::Nanoseconds;
using sluice::policy::RetryBudget;
using sluice::policy::RetryBudgetPolicy;

Q_DECLARE_METATYPE(Nanoseconds)

class TestRetryBudget : public QObject {
    Q_OBJECT
private slots:
    void ratioHonouredOverSimulatedMinute_data()
    {
        QTest::addColumn<double>("retryRatio");
        QTest::addColumn<int>("requestsPerSecond");
        QTest::addColumn<int>("retriesWantedPerRequest");
        QTest::newRow("10% of 100/s, one retry each") << 0.1 << 100 << 1;
        QTest::newRow("20% of 1000/s, retry storm") << 0.2 << 1000 << 3;
        QTest::newRow("50% of 40/s") << 0.5 << 40 << 1;
        QTest::newRow("no retries") << 0.0 << 100 << 2;
    }

    void ratioHonouredOverSimulatedMinute()
    {
        QFETCH(double, retryRatio);
        QFETCH(int, requestsPerSecond);
        QFETCH(int, retriesWantedPerRequest);
        ManualClock clock(5h);
        RetryBudget budget({retryRatio, 0, 10s}, clock);

        // Every request fails and wants to retry: the upstream is down.
        const Nanoseconds step = 1s / requestsPerSecond;
        std::uint64_t requests = 0;
        std::uint64_t retries = 0;
        for (int i = 0; i < 60 * requestsPerSecond; ++i) {
            budget.recordRequest();
            ++requests;
            for (int wanted = 0; wanted < retriesWantedPerRequest; ++wanted) {
                if (budget.tryRetry())
                    ++retries;
            }
            const RetryBudget::Stats stats = budget.stats();
            QVERIFY(static_cast<double>(stats.retriesInWindow) <= retryRatio * static_cast<double>(stats.requestsInWindow) + 1e-9);
            clock.advance(step);
        }
        const double budgeted = retryRatio * static_cast<double>(requests);
        QVERIFY2(static_cast<double>(retries) <= budgeted * 1.02 + 1, qPrintable(QString::number(retries)));
        QVERIFY2(static_cast<double>(retries) >= budgeted * 0.95, qPrintable(QString::number(retries)));
        const RetryBudget::Stats stats = budget.stats();
        QCOMPARE(stats.retriesAllowed, retries);
        QCOMPARE(stats.retriesRejected, requests * retriesWantedPerRequest - retries);
    }

    void minimumHonouredWhenTrafficIsLow_data()
    {
        QTest::addColumn<int>("minRetriesPerSecond");
        QTest::addColumn<int>("requestsPerSecond");
        QTest::addColumn<double>("retryRatio");
        QTest::addColumn<int>("expectedPerWindow");
        QTest::newRow("no traffic") << 5 << 0 << 0.2 << 50;
        QTest::newRow("trickle of traffic") << 1 << 1 << 0.2 << 12;
        QTest::newRow("minimum only") << 10 << 100 << 0.0 << 100;
    }

    void minimumHonouredWhenTrafficIsLow()
    {
        QFETCH(int, minRetriesPerSecond);
        QFETCH(int, requestsPerSecond);
        QFETCH(double, retryRatio);
        QFETCH(int, expectedPerWindow);
        ManualClock clock;
        RetryBudget budget({retryRatio, minRetriesPerSecond, 10s}, clock);

        // A steady flow of requests through one window, then a burst of retries inside it.
        for (int i = 0; i < 10 * requestsPerSecond; ++i) {
            if (i > 0)
                clock.advance(1s / requestsPerSecond);
            budget.recordRequest();
        }
        int burst = 0;
        while (budget.tryRetry())
            ++burst;
        QCOMPARE(burst, expectedPerWindow);
        QCOMPARE(budget.available(), 0.0);
    }

    void minimumIsARatePerSecondOverTime()
    {
        ManualClock clock;
        RetryBudget budget({0.5, 5, 10s}, clock);
        int allowed = 0;
        for (int tick = 0; tick < 600; ++tick) { // a retry wanted every 100 ms for a minute, no requests
            if (budget.tryRetry())
                ++allowed;
            clock.advance(100ms);
        }
        // 50 per 10 s window: the reserve for the first window, then 5/s as buckets roll off.
        QCOMPARE(allowed, 300);
    }

    void windowRollOver()
    {
        ManualClock clock;
        RetryBudget budget({0.5, 0, 10s}, clock);
        for (int i = 0; i < 10; ++i)
            budget.recordRequest();
        for (int i = 0; i < 5; ++i)
            QVERIFY(budget.tryRetry());
        QVERIFY(!budget.tryRetry());

        clock.set(10s - 1ns); // the first bucket is still inside the window
        QCOMPARE(budget.stats().requestsInWindow, std::uint64_t{10});
        QVERIFY(!budget.tryRetry());

        clock.set(10s); // ...and now it has rolled off with its requests and retries
        QCOMPARE(budget.stats().requestsInWindow, std::uint64_t{0});
        QCOMPARE(budget.stats().retriesInWindow, std::uint64_t{0});
        QVERIFY(!budget.tryRetry());
        budget.recordRequest();
        budget.recordRequest();
        QVERIFY(budget.tryRetry());
        QVERIFY(!budget.tryRetry());

        // A ring slot reused after a long idle time must not revive old counts.
        clock.advance(1h);
        QCOMPARE(budget.stats().requestsInWindow, std::uint64_t{0});
        QCOMPARE(budget.stats().retriesInWindow, std::uint64_t{0});
    }

    void bucketsSlideInTenths()
    {
        ManualClock clock;
        RetryBudget budget({1.0, 0, 10s}, clock);
        for (int second = 0; second < 10; ++second) {
            budget.recordRequest();
            clock.advance(1s);
        }
        // At t = 10 s the bucket of [0 s, 1 s) has left; each further second drops one more.
        for (int second = 10; second < 20; ++second) {
            QCOMPARE(budget.stats().requestsInWindow, std::uint64_t(19 - second));
            clock.advance(1s);
        }
    }

    void negativeClockTimes()
    {
        ManualClock clock(-25s);
        RetryBudget budget({1.0, 0, 10s}, clock);
        budget.recordRequest();
        clock.advance(5s);
        budget.recordRequest();
        QCOMPARE(budget.stats().requestsInWindow, std::uint64_t{2});
        clock.advance(6s); // -14 s: the request at -25 s has rolled off
        QCOMPARE(budget.stats().requestsInWindow, std::uint64_t{1});
        clock.advance(20s); // +6 s
        QCOMPARE(budget.stats().requestsInWindow, std::uint64_t{0});
    }

    void availableDoesNotConsume()
    {
        ManualClock clock;
        RetryBudget budget({0.25, 0, 10s}, clock);
        for (int i = 0; i < 10; ++i)
            budget.recordRequest();
        QCOMPARE(budget.available(), 2.5);
        QCOMPARE(budget.available(), 2.5);
        QVERIFY(budget.tryRetry());
        QVERIFY(budget.tryRetry());
        QCOMPARE(budget.available(), 0.5);
        QVERIFY(!budget.tryRetry()); // half a retry is not a retry
    }

    void ratioRoundingDoesNotCostARetry()
    {
        ManualClock clock;
        RetryBudget budget({0.29, 0, 10s}, clock); // 0.29 * 100 = 28.999999999999996 in double
        for (int i = 0; i < 100; ++i)
            budget.recordRequest();
        int allowed = 0;
        while (budget.tryRetry())
            ++allowed;
        QCOMPARE(allowed, 29);
    }

    void setPolicy_data()
    {
        QTest::addColumn<double>("newRatio");
        QTest::addColumn<Nanoseconds>("newWindow");
        QTest::addColumn<quint64>("requestsKept");
        QTest::addColumn<bool>("canRetry");
        QTest::newRow("ratio raised") << 0.5 << Nanoseconds(10s) << quint64{10} << true;
        QTest::newRow("ratio lowered") << 0.1 << Nanoseconds(10s) << quint64{10} << false;
        QTest::newRow("window changed") << 0.5 << Nanoseconds(30s) << quint64{0} << false;
    }

    void setPolicy()
    {
        QFETCH(double, newRatio);
        QFETCH(Nanoseconds, newWindow);
        QFETCH(quint64, requestsKept);
        QFETCH(bool, canRetry);
        ManualClock clock;
        RetryBudget budget({0.2, 0, 10s}, clock);
        for (int i = 0; i < 10; ++i)
            budget.recordRequest();
        QVERIFY(budget.tryRetry());
        QVERIFY(budget.tryRetry());
        QVERIFY(!budget.tryRetry());

        budget.setPolicy({newRatio, 0, newWindow});
        QCOMPARE(budget.policy().window, newWindow);
        QCOMPARE(budget.stats().requestsInWindow, requestsKept);
        QCOMPARE(budget.tryRetry(), canRetry);
    }

    void invalidPolicyIsNormalised()
    {
        ManualClock clock;
        RetryBudget budget({-1.0, -5, 0ns}, clock);
        QCOMPARE(budget.policy().retryRatio, 0.0);
        QCOMPARE(budget.policy().minRetriesPerSecond, 0);
        QVERIFY(budget.policy().window > 0ns);
        budget.recordRequest();
        QVERIFY(!budget.tryRetry());
        QCOMPARE(budget.stats().retriesRejected, std::uint64_t{1});
    }
};

QTEST_APPLESS_MAIN(TestRetryBudget)
#include "tst_retrybudget.moc"
