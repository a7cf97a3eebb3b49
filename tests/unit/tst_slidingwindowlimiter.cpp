#include <QTest>

#include "policy/clock.h"
#include "policy/slidingwindowlimiter.h"

using namespace std::chrono_literals;
using sluice::policy::kRetryNever;
using sluice::policy::ManualClock;
using sluice::policy::MonoTime;
using sluice::policy::Nanoseconds;
using sluice::policy::RateAlgorithm;
using sluice::policy::RateRule;
using sluice::policy::SlidingWindowLimiter;
using sluice::policy::SlidingWindowState;

namespace {

qint64 ns(Nanoseconds duration)
{
    return duration.count();
}

// 10 per minute; windows [0, 60 s), [60 s, 120 s), ...
const RateRule kTenPerMinute{RateAlgorithm::SlidingWindow, 10, 1min, 0};

// `previous` units counted in window 0, `current` in window 1 [60 s, 120 s).
SlidingWindowState prepared(qint64 previous, qint64 current)
{
    return SlidingWindowState{1, previous, current};
}

} // namespace

class TestSlidingWindowLimiter : public QObject {
    Q_OBJECT
private slots:
    void handComputedDecisions_data()
    {
        QTest::addColumn<qint64>("previous");
        QTest::addColumn<qint64>("current");
        QTest::addColumn<qint64>("atNs");
        QTest::addColumn<qint64>("cost");
        QTest::addColumn<bool>("allowed");
        QTest::addColumn<qint64>("remaining");
        QTest::addColumn<qint64>("resetAfterNs");
        QTest::addColumn<qint64>("retryAfterNs");
        QTest::addColumn<bool>("neverFits");

        // At 75 s the previous window weighs (60 - 15) / 60 = 3/4.
        QTest::newRow("empty") << 0LL << 0LL << ns(75s) << 1LL << true << 9LL << ns(105s) << 0LL << false;
        // 8 * 3/4 + 0 + 1 = 7 -> 3 left; reset at the end of window 2.
        QTest::newRow("weighted, admitted") << 8LL << 0LL << ns(75s) << 1LL << true << 3LL << ns(105s) << 0LL << false;
        // 8 * 3/4 + 4 + 1 = 11 > 10; admitted once 8 * (60 - e) / 60 <= 5,
        // e = 22.5 s, at 82.5 s.
        QTest::newRow("weighted, denied") << 8LL << 4LL << ns(75s) << 1LL << false << 0LL << ns(105s) << ns(7500ms) << false;
        // 10 in the current window: only in window 2, once 10 * (60 - e) / 60 <= 9,
        // e = 6 s, at 126 s.
        QTest::newRow("current full") << 0LL << 10LL << ns(75s) << 1LL << false << 0LL << ns(105s) << ns(51s) << false;
        // At 119 s the previous 10 weigh 1/60.
        QTest::newRow("previous almost gone") << 10LL << 0LL << ns(119s) << 1LL << true << 8LL << ns(61s) << 0LL << false;
        // At 60 s the previous 10 weigh fully; 10 * (60 - e) / 60 <= 9 at e = 6 s.
        QTest::newRow("previous full, window start") << 10LL << 0LL << ns(60s) << 1LL << false << 0LL << ns(60s) << ns(6s) << false;
        // Two windows later nothing is remembered.
        QTest::newRow("two windows later") << 10LL << 0LL << ns(120s) << 10LL << true << 0LL << ns(120s) << 0LL << false;
        QTest::newRow("whole limit at once") << 0LL << 0LL << ns(75s) << 10LL << true << 0LL << ns(105s) << 0LL << false;
        QTest::newRow("above limit") << 0LL << 0LL << ns(75s) << 11LL << false << 10LL << 0LL << ns(kRetryNever) << true;
        QTest::newRow("cost 0 when full") << 0LL << 10LL << ns(75s) << 0LL << true << 0LL << ns(105s) << 0LL << false;
    }

    void handComputedDecisions()
    {
        QFETCH(qint64, previous);
        QFETCH(qint64, current);
        QFETCH(qint64, atNs);
        QFETCH(qint64, cost);
        QFETCH(bool, allowed);
        QFETCH(qint64, remaining);
        QFETCH(qint64, resetAfterNs);
        QFETCH(qint64, retryAfterNs);
        QFETCH(bool, neverFits);

        const SlidingWindowLimiter window(kTenPerMinute);
        SlidingWindowState state = prepared(previous, current);
        const auto peeked = window.peek(state, MonoTime{atNs}, cost);
        const auto decision = window.decide(state, MonoTime{atNs}, cost);
        QCOMPARE(decision.allowed, allowed);
        QCOMPARE(decision.limit, 10LL);
        QCOMPARE(decision.remaining, remaining);
        QCOMPARE(ns(decision.resetAfter), resetAfterNs);
        QCOMPARE(ns(decision.retryAfter), retryAfterNs);
        QCOMPARE(decision.neverFits, neverFits);
        QCOMPARE(peeked.allowed, decision.allowed);
        QCOMPARE(peeked.remaining, decision.remaining);
        QCOMPARE(peeked.retryAfter, decision.retryAfter);
    }

    void countsRollBetweenWindows()
    {
        const SlidingWindowLimiter window(kTenPerMinute);
        SlidingWindowState state;
        QVERIFY(window.decide(state, MonoTime{10s}, 3).allowed);
        QVERIFY(window.decide(state, MonoTime{59s}, 2).allowed);
        QCOMPARE(state.windowIndex, 0LL);
        QCOMPARE(state.currentCount, 5LL);
        QCOMPARE(state.previousCount, 0LL);
        QVERIFY(window.decide(state, MonoTime{61s}, 1).allowed);
        QCOMPARE(state.windowIndex, 1LL);
        QCOMPARE(state.previousCount, 5LL);
        QCOMPARE(state.currentCount, 1LL);
        QVERIFY(window.decide(state, MonoTime{200s}, 1).allowed);
        QCOMPARE(state.windowIndex, 3LL);
        QCOMPARE(state.previousCount, 0LL);
        QCOMPARE(state.currentCount, 1LL);
        // A read out of order counts in the state's window.
        QVERIFY(window.decide(state, MonoTime{170s}, 1).allowed);
        QCOMPARE(state.windowIndex, 3LL);
        QCOMPARE(state.currentCount, 2LL);
    }

    void neverMoreThanLimitPerWindowWhenFlooded()
    {
        const SlidingWindowLimiter window(kTenPerMinute);
        SlidingWindowState state;
        qint64 admittedInWindow0 = 0;
        qint64 admittedInWindow1 = 0;
        for (MonoTime now{0}; now < 120s; now += 100ms) {
            for (int i = 0; i < 5; ++i) {
                if (window.decide(state, now).allowed)
                    ++(now < 60s ? admittedInWindow0 : admittedInWindow1);
            }
        }
        QCOMPARE(admittedInWindow0, 10LL);
        // The previous 10 fade by 1 per 6 s; the last admission of window 1
        // is at e = 54 s (10 * 6 / 60 + 9 = 10): 9 in total.
        QCOMPARE(admittedInWindow1, 9LL);
    }

    void retryingAtRetryAfterIsAdmitted_data()
    {
        QTest::addColumn<qint64>("previous");
        QTest::addColumn<qint64>("current");
        QTest::addColumn<qint64>("atNs");
        QTest::addColumn<qint64>("cost");

        QTest::newRow("weighted") << 8LL << 4LL << ns(75s) << 1LL;
        QTest::newRow("current full") << 0LL << 10LL << ns(75s) << 1LL;
        QTest::newRow("previous full") << 10LL << 0LL << ns(60s) << 1LL;
        QTest::newRow("large cost") << 7LL << 3LL << ns(61s) << 9LL;
        QTest::newRow("uneven division") << 7LL << 2LL << ns(62s) << 3LL;
    }

    void retryingAtRetryAfterIsAdmitted()
    {
        QFETCH(qint64, previous);
        QFETCH(qint64, current);
        QFETCH(qint64, atNs);
        QFETCH(qint64, cost);

        const SlidingWindowLimiter window(kTenPerMinute);
        SlidingWindowState state = prepared(previous, current);
        ManualClock clock(MonoTime{atNs});
        const auto denied = window.decide(state, clock.now(), cost);
        QVERIFY(!denied.allowed);
        QVERIFY(denied.retryAfter > 0ns);
        clock.advance(denied.retryAfter - 1ns);
        const auto early = window.decide(state, clock.now(), cost);
        QVERIFY(!early.allowed);
        QCOMPARE(ns(early.retryAfter), 1LL);
        clock.advance(1ns);
        QVERIFY(window.decide(state, clock.now(), cost).allowed);
    }

    void busyWhileCountsWeigh_data()
    {
        QTest::addColumn<qint64>("atNs");
        QTest::addColumn<bool>("busy");

        // 3 counted at 30 s (window 0).
        QTest::newRow("same window") << ns(59s) << true;
        QTest::newRow("next window") << ns(119s) << true;
        QTest::newRow("two windows later") << ns(120s) << false;
    }

    void busyWhileCountsWeigh()
    {
        QFETCH(qint64, atNs);
        QFETCH(bool, busy);

        const SlidingWindowLimiter window(kTenPerMinute);
        SlidingWindowState state;
        QVERIFY(!window.isBusy(state, MonoTime{0}));
        QVERIFY(window.decide(state, MonoTime{30s}, 3).allowed);
        QCOMPARE(window.isBusy(state, MonoTime{atNs}), busy);
    }
};

QTEST_APPLESS_MAIN(TestSlidingWindowLimiter)
#include "tst_slidingwindowlimiter.moc"
