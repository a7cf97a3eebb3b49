#include <QTest>

#include <vector>

#include "policy/clock.h"
#include "policy/gcralimiter.h"

using namespace std::chrono_literals;
using sluice::policy::GcraLimiter;
using sluice::policy::kRetryNever;
using sluice::policy::ManualClock;
using sluice::policy::MonoTime;
using sluice::policy::Nanoseconds;
using sluice::policy::RateRule;

namespace {

qint64 ns(Nanoseconds duration)
{
    return duration.count();
}

enum Pattern {
    // A flood of requests at the start of every minute.
    MinuteBursts,
    // One request every `spacing`.
    Even,
    // A flood of requests every 10 s.
    TenSecondBursts,
};

} // namespace

class TestGcraLimiter : public QObject {
    Q_OBJECT
private slots:
    void admitsExactlyOverAnHour_data()
    {
        QTest::addColumn<qint64>("limit");
        QTest::addColumn<qint64>("burst");
        QTest::addColumn<int>("pattern");
        QTest::addColumn<qint64>("spacingNs");
        QTest::addColumn<qint64>("expectedAdmitted");

        // Floods: the first one takes the burst, each later one what refilled
        // since, capped at the burst: B + 59 * min(B, N).
        QTest::newRow("minute floods N=60 B=60") << 60LL << 60LL << int(MinuteBursts) << 0LL << 3600LL;
        QTest::newRow("minute floods N=60 B=10") << 60LL << 10LL << int(MinuteBursts) << 0LL << 600LL;
        QTest::newRow("minute floods N=60 B=120") << 60LL << 120LL << int(MinuteBursts) << 0LL << 3660LL;
        QTest::newRow("minute floods N=1000 B=1") << 1000LL << 1LL << int(MinuteBursts) << 0LL << 60LL;
        // Exactly at the rate: every request is admitted, 60 N in the hour.
        QTest::newRow("even at rate N=60 B=1") << 60LL << 1LL << int(Even) << ns(1s) << 3600LL;
        QTest::newRow("even at rate N=1000 B=50") << 1000LL << 50LL << int(Even) << ns(60ms) << 60000LL;
        // Twice the rate: B + floor((1 h - T/2) / T) = B + 60 N - 1.
        QTest::newRow("even at 2x N=60 B=1") << 60LL << 1LL << int(Even) << ns(500ms) << 3600LL;
        QTest::newRow("even at 2x N=60 B=10") << 60LL << 10LL << int(Even) << ns(500ms) << 3609LL;
        QTest::newRow("even at 2x N=600 B=600") << 600LL << 600LL << int(Even) << ns(50ms) << 36599LL;
        // Floods every 10 s: B + 359 * min(B, N / 6).
        QTest::newRow("10 s floods N=60 B=60") << 60LL << 60LL << int(TenSecondBursts) << 0LL << 3650LL;
        QTest::newRow("10 s floods N=60 B=5") << 60LL << 5LL << int(TenSecondBursts) << 0LL << 1800LL;
        QTest::newRow("10 s floods N=6000 B=100") << 6000LL << 100LL << int(TenSecondBursts) << 0LL << 36000LL;
        QTest::newRow("10 s floods N=6000 B=6000") << 6000LL << 6000LL << int(TenSecondBursts) << 0LL << 365000LL;
    }

    void admitsExactlyOverAnHour()
    {
        QFETCH(qint64, limit);
        QFETCH(qint64, burst);
        QFETCH(int, pattern);
        QFETCH(qint64, spacingNs);
        QFETCH(qint64, expectedAdmitted);

        const GcraLimiter gcra(RateRule{sluice::policy::RateAlgorithm::Gcra, limit, 1min, burst});
        std::int64_t tat = GcraLimiter::kFreshState;
        std::vector<MonoTime> admitted;
        const auto offer = [&](MonoTime now, std::int64_t requests) {
            for (std::int64_t i = 0; i < requests; ++i) {
                if (gcra.decide(tat, now).allowed)
                    admitted.push_back(now);
            }
        };
        const std::int64_t flood = 2 * burst + limit;
        switch (pattern) {
        case MinuteBursts:
            for (MonoTime now{0}; now < 1h; now += 1min)
                offer(now, flood);
            break;
        case Even:
            for (MonoTime now{0}; now < 1h; now += Nanoseconds(spacingNs))
                offer(now, 1);
            break;
        case TenSecondBursts:
            for (MonoTime now{0}; now < 1h; now += 10s)
                offer(now, flood);
            break;
        }

        QCOMPARE(qint64(admitted.size()), expectedAdmitted);
        // No closed window of one period ever holds more than B + N.
        std::size_t windowEnd = 0;
        for (std::size_t first = 0; first < admitted.size(); ++first) {
            while (windowEnd < admitted.size() && admitted[windowEnd] <= admitted[first] + 1min)
                ++windowEnd;
            QVERIFY2(qint64(windowEnd - first) <= burst + limit, "a one-minute window exceeded B + N");
        }
    }

    void handComputedDecisions_data()
    {
        // Rule: 10 per minute (T = 6 s), burst 5 (tau = 30 s). `prior` units
        // are taken at t = 0, then `cost` is asked for at `at`.
        QTest::addColumn<qint64>("prior");
        QTest::addColumn<qint64>("atNs");
        QTest::addColumn<qint64>("cost");
        QTest::addColumn<bool>("allowed");
        QTest::addColumn<qint64>("remaining");
        QTest::addColumn<qint64>("resetAfterNs");
        QTest::addColumn<qint64>("retryAfterNs");
        QTest::addColumn<bool>("neverFits");

        QTest::newRow("fresh, one") << 0LL << 0LL << 1LL << true << 4LL << ns(6s) << 0LL << false;
        QTest::newRow("fresh, whole burst") << 0LL << 0LL << 5LL << true << 0LL << ns(30s) << 0LL << false;
        QTest::newRow("empty") << 5LL << 0LL << 1LL << false << 0LL << ns(30s) << ns(6s) << false;
        QTest::newRow("empty, 1 ns early") << 5LL << ns(6s - 1ns) << 1LL << false << 0LL << ns(24s + 1ns) << 1LL << false;
        QTest::newRow("empty, one refilled") << 5LL << ns(6s) << 1LL << true << 0LL << ns(30s) << 0LL << false;
        QTest::newRow("two refilled, ask three") << 5LL << ns(12s) << 3LL << false << 2LL << ns(18s) << ns(6s) << false;
        QTest::newRow("two left, ask two at 1 s") << 3LL << ns(1s) << 2LL << true << 0LL << ns(29s) << 0LL << false;
        QTest::newRow("fully refilled") << 5LL << ns(60s) << 1LL << true << 4LL << ns(6s) << 0LL << false;
        QTest::newRow("above burst") << 0LL << 0LL << 6LL << false << 5LL << 0LL << ns(kRetryNever) << true;
        QTest::newRow("above burst, in use") << 2LL << 0LL << 7LL << false << 3LL << ns(12s) << ns(kRetryNever) << true;
        QTest::newRow("cost 0 on empty") << 5LL << 0LL << 0LL << true << 0LL << ns(30s) << 0LL << false;
        QTest::newRow("negative cost is 0") << 5LL << 0LL << -3LL << true << 0LL << ns(30s) << 0LL << false;
    }

    void handComputedDecisions()
    {
        QFETCH(qint64, prior);
        QFETCH(qint64, atNs);
        QFETCH(qint64, cost);
        QFETCH(bool, allowed);
        QFETCH(qint64, remaining);
        QFETCH(qint64, resetAfterNs);
        QFETCH(qint64, retryAfterNs);
        QFETCH(bool, neverFits);

        const GcraLimiter gcra(RateRule{sluice::policy::RateAlgorithm::Gcra, 10, 1min, 5});
        QCOMPARE(ns(gcra.emissionInterval()), ns(6s));
        std::int64_t tat = GcraLimiter::kFreshState;
        if (prior > 0)
            QVERIFY(gcra.decide(tat, MonoTime{0}, prior).allowed);

        const std::int64_t before = tat;
        const auto peeked = gcra.peek(tat, MonoTime{atNs}, cost);
        QCOMPARE(tat, before);
        const auto decision = gcra.decide(tat, MonoTime{atNs}, cost);
        QCOMPARE(decision.allowed, allowed);
        QCOMPARE(decision.limit, 10LL);
        QCOMPARE(decision.remaining, remaining);
        QCOMPARE(ns(decision.resetAfter), resetAfterNs);
        QCOMPARE(ns(decision.retryAfter), retryAfterNs);
        QCOMPARE(decision.neverFits, neverFits);
        QCOMPARE(peeked.allowed, decision.allowed);
        QCOMPARE(peeked.remaining, decision.remaining);
        QCOMPARE(peeked.retryAfter, decision.retryAfter);
        if (!allowed)
            QCOMPARE(tat, before);
    }

    void retryingAtRetryAfterIsAdmitted_data()
    {
        QTest::addColumn<qint64>("limit");
        QTest::addColumn<qint64>("periodNs");
        QTest::addColumn<qint64>("burst");
        QTest::addColumn<qint64>("cost");

        QTest::newRow("60/min, burst 1") << 60LL << ns(1min) << 1LL << 1LL;
        QTest::newRow("60/min, burst 10") << 60LL << ns(1min) << 10LL << 1LL;
        QTest::newRow("7/min (interval rounded up)") << 7LL << ns(1min) << 3LL << 1LL;
        QTest::newRow("40000 TPM, 1234 tokens") << 40000LL << ns(1min) << 40000LL << 1234LL;
        QTest::newRow("90000 TPM, 9999 tokens, burst 20000") << 90000LL << ns(1min) << 20000LL << 9999LL;
        QTest::newRow("3 per hour") << 3LL << ns(1h) << 3LL << 2LL;
    }

    void retryingAtRetryAfterIsAdmitted()
    {
        QFETCH(qint64, limit);
        QFETCH(qint64, periodNs);
        QFETCH(qint64, burst);
        QFETCH(qint64, cost);

        const GcraLimiter gcra(RateRule{sluice::policy::RateAlgorithm::Gcra, limit, Nanoseconds(periodNs), burst});
        ManualClock clock(123ms);
        std::int64_t tat = GcraLimiter::kFreshState;
        while (gcra.decide(tat, clock.now(), cost).allowed) {
        }
        for (int round = 0; round < 5; ++round) {
            const auto denied = gcra.decide(tat, clock.now(), cost);
            QVERIFY(!denied.allowed);
            QVERIFY(denied.retryAfter > 0ns);
            clock.advance(denied.retryAfter - 1ns);
            const auto early = gcra.decide(tat, clock.now(), cost);
            QVERIFY(!early.allowed);
            QCOMPARE(ns(early.retryAfter), 1LL);
            clock.advance(1ns);
            QVERIFY(gcra.decide(tat, clock.now(), cost).allowed);
        }
    }

    void chargeGoesIntoDebtAndRefundStopsAtFull()
    {
        // 10 per minute, burst 5: T = 6 s.
        const GcraLimiter gcra(RateRule{sluice::policy::RateAlgorithm::Gcra, 10, 1min, 5});
        std::int64_t tat = GcraLimiter::kFreshState;
        gcra.charge(tat, MonoTime{0}, 8);
        QCOMPARE(tat, ns(48s));
        QVERIFY(GcraLimiter::isBusy(tat, MonoTime{0}));
        const auto inDebt = gcra.decide(tat, MonoTime{0});
        QVERIFY(!inDebt.allowed);
        QCOMPARE(inDebt.remaining, 0LL);
        QCOMPARE(ns(inDebt.resetAfter), ns(48s));
        QCOMPARE(ns(inDebt.retryAfter), ns(24s));

        gcra.refund(tat, MonoTime{0}, 2);
        QCOMPARE(tat, ns(36s));
        gcra.refund(tat, MonoTime{10s}, 100);
        QCOMPARE(tat, ns(10s));
        QVERIFY(!GcraLimiter::isBusy(tat, MonoTime{10s}));
        QCOMPARE(gcra.peek(tat, MonoTime{10s}).remaining, 5LL);
        // A refund to a full bucket changes nothing.
        gcra.refund(tat, MonoTime{20s}, 3);
        QCOMPARE(tat, ns(10s));
    }

    void chargeSaturates()
    {
        const GcraLimiter gcra(RateRule{sluice::policy::RateAlgorithm::Gcra, 1, 1h, 1});
        std::int64_t tat = GcraLimiter::kFreshState;
        gcra.charge(tat, MonoTime{5s}, std::numeric_limits<std::int64_t>::max());
        gcra.charge(tat, MonoTime{5s}, std::numeric_limits<std::int64_t>::max());
        QVERIFY(tat > ns(5s));
        const auto decision = gcra.decide(tat, MonoTime{5s});
        QVERIFY(!decision.allowed);
        QVERIFY(decision.retryAfter > 1000h);
    }

    void rescaleKeepsUnitsOwedClampedToBurst_data()
    {
        QTest::addColumn<qint64>("usedUnits");
        QTest::addColumn<qint64>("newLimit");
        QTest::addColumn<qint64>("newBurst");
        QTest::addColumn<qint64>("expectedOwedNs");

        // Old rule: 60 per minute, burst 60 (T = 1 s).
        QTest::newRow("limit doubled") << 30LL << 120LL << 120LL << ns(15s);
        QTest::newRow("limit halved") << 30LL << 30LL << 30LL << ns(60s);
        QTest::newRow("burst cut below use") << 50LL << 60LL << 10LL << ns(10s);
        QTest::newRow("unchanged") << 7LL << 60LL << 60LL << ns(7s);
    }

    void rescaleKeepsUnitsOwedClampedToBurst()
    {
        QFETCH(qint64, usedUnits);
        QFETCH(qint64, newLimit);
        QFETCH(qint64, newBurst);
        QFETCH(qint64, expectedOwedNs);

        const GcraLimiter before(RateRule{sluice::policy::RateAlgorithm::Gcra, 60, 1min, 60});
        const GcraLimiter after(RateRule{sluice::policy::RateAlgorithm::Gcra, newLimit, 1min, newBurst});
        std::int64_t tat = GcraLimiter::kFreshState;
        QVERIFY(before.decide(tat, MonoTime{1h}, usedUnits).allowed);
        after.rescale(tat, MonoTime{1h}, before);
        QCOMPARE(tat - ns(1h), expectedOwedNs);
    }

    void invalidRuleIsSanitised()
    {
        const GcraLimiter gcra(RateRule{sluice::policy::RateAlgorithm::Gcra, 0, 0ns, -4});
        QCOMPARE(gcra.limit(), 1LL);
        QCOMPARE(gcra.burst(), 1LL);
        QCOMPARE(ns(gcra.emissionInterval()), 1LL);
        std::int64_t tat = GcraLimiter::kFreshState;
        QVERIFY(gcra.decide(tat, MonoTime{0}).allowed);
        QVERIFY(!gcra.decide(tat, MonoTime{0}).allowed);
    }
    void hugePeriodIsCapped()
    {
        const GcraLimiter gcra(RateRule{sluice::policy::RateAlgorithm::Gcra, 1, Nanoseconds::max(), 5});
        QCOMPARE(ns(gcra.emissionInterval()), qint64(1) << 61);
        QCOMPARE(gcra.burst(), 1LL);
        std::int64_t tat = GcraLimiter::kFreshState;
        QVERIFY(gcra.decide(tat, MonoTime{1h}).allowed);
        const auto denied = gcra.decide(tat, MonoTime{1h});
        QVERIFY(!denied.allowed);
        QCOMPARE(ns(denied.retryAfter), qint64(1) << 61);
    }
};

QTEST_APPLESS_MAIN(TestGcraLimiter)
#include "tst_gcralimiter.moc"
