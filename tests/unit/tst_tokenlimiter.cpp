#include <QTest>

#include <vector>

#include "policy/clock.h"
#include "policy/tokenlimiter.h"

using namespace std::chrono_literals;
using sluice::policy::KeyedLimits;
using sluice::policy::ManualClock;
using sluice::policy::Nanoseconds;
using sluice::policy::RateAlgorithm;
using sluice::policy::RateRule;
using sluice::policy::TokenLimiter;
using sluice::policy::TokenReservation;

namespace {

// 40 000 tokens per minute, all of them at once: 1.5 ms per token.
const RateRule kFortyThousandTpm{RateAlgorithm::Gcra, 40000, 1min, 0};

} // namespace

class TestTokenLimiter : public QObject {
    Q_OBJECT
private slots:
    void reservationsReconciledOutOfOrder_data()
    {
        QTest::addColumn<QList<qint64>>("estimates");
        QTest::addColumn<QList<qint64>>("actuals");
        QTest::addColumn<QList<int>>("order");
        QTest::addColumn<qint64>("expectedRemaining");
        QTest::addColumn<qint64>("expectedRetryNs");

        QTest::newRow("exact") << QList<qint64>{10000, 20000, 5000} << QList<qint64>{10000, 20000, 5000}
                               << QList<int>{2, 0, 1} << 5000LL << 0LL;
        QTest::newRow("refunds") << QList<qint64>{10000, 10000, 10000} << QList<qint64>{2000, 500, 10000}
                                 << QList<int>{1, 2, 0} << 27500LL << 0LL;
        QTest::newRow("charges") << QList<qint64>{10000, 10000, 10000} << QList<qint64>{20000, 15000, 0}
                                 << QList<int>{2, 0, 1} << 5000LL << 0LL;
        QTest::newRow("up and down") << QList<qint64>{15000, 5000, 10000, 5000} << QList<qint64>{25000, 1000, 10000, 0}
                                     << QList<int>{3, 1, 0, 2} << 4000LL << 0LL;
        // 50 000 used: 10 000 tokens of debt plus the one asked for, at 1.5 ms each.
        QTest::newRow("into debt") << QList<qint64>{10000, 10000, 10000} << QList<qint64>{30000, 20000, 0}
                                   << QList<int>{0, 1, 2} << 0LL << qint64(Nanoseconds(15001500us).count());
    }

    void reservationsReconciledOutOfOrder()
    {
        QFETCH(QList<qint64>, estimates);
        QFETCH(QList<qint64>, actuals);
        QFETCH(QList<int>, order);
        QFETCH(qint64, expectedRemaining);
        QFETCH(qint64, expectedRetryNs);

        ManualClock clock(1h);
        TokenLimiter limiter(kFortyThousandTpm, KeyedLimits{}, clock);
        std::vector<TokenReservation> reservations;
        qint64 reserved = 0;
        for (const qint64 estimate : estimates) {
            auto admission = limiter.reserve("k=abc", estimate);
            QVERIFY(admission.decision.allowed);
            QVERIFY(admission.reservation.open);
            QCOMPARE(admission.reservation.amountTokens, estimate);
            reserved += estimate;
            QCOMPARE(admission.decision.remaining, 40000 - reserved);
            reservations.push_back(std::move(admission.reservation));
        }
        for (const int index : order) {
            limiter.reconcile(reservations[std::size_t(index)], actuals[index]);
            QVERIFY(!reservations[std::size_t(index)].open);
        }
        QCOMPARE(limiter.peek("k=abc").remaining, expectedRemaining);
        QCOMPARE(limiter.peek("k=abc", 1).retryAfter.count(), expectedRetryNs);

        // A settled reservation settles once.
        for (auto &reservation : reservations)
            limiter.reconcile(reservation, 0);
        QCOMPARE(limiter.peek("k=abc").remaining, expectedRemaining);
    }

    void openReservationsCannotOvershoot()
    {
        ManualClock clock;
        TokenLimiter limiter(kFortyThousandTpm, KeyedLimits{}, clock);
        auto first = limiter.reserve("a", 30000);
        QVERIFY(first.decision.allowed);
        const auto second = limiter.reserve("a", 20000);
        QVERIFY(!second.decision.allowed);
        QVERIFY(!second.decision.neverFits);
        QVERIFY(!second.reservation.open);
        QCOMPARE(second.decision.remaining, 10000LL);
        QCOMPARE(second.decision.retryAfter, 15s);
        QVERIFY(limiter.reserve("a", 10000).decision.allowed);
        QVERIFY(!limiter.reserve("a", 1).decision.allowed);

        limiter.reconcile(first.reservation, 20000);
        QVERIFY(limiter.reserve("a", 10000).decision.allowed);
        QVERIFY(!limiter.reserve("a", 1).decision.allowed);
    }

    void estimateAboveBurstNeverFits()
    {
        ManualClock clock;
        TokenLimiter limiter(kFortyThousandTpm, KeyedLimits{}, clock);
        auto admission = limiter.reserve("a", 50000);
        QVERIFY(!admission.decision.allowed);
        QVERIFY(admission.decision.neverFits);
        QCOMPARE(admission.decision.retryAfter, sluice::policy::kRetryNever);
        QCOMPARE(admission.decision.limit, 40000LL);
        QVERIFY(!admission.reservation.open);
        limiter.reconcile(admission.reservation, 50000);
        QCOMPARE(limiter.peek("a").remaining, 40000LL);
        QVERIFY(limiter.reserve("a", 40000).decision.allowed);
    }

    void cancelRefundsEverythingOnce()
    {
        ManualClock clock;
        TokenLimiter limiter(kFortyThousandTpm, KeyedLimits{}, clock);
        auto a = limiter.reserve("a", 10000);
        auto b = limiter.reserve("a", 5000);
        QCOMPARE(limiter.peek("a").remaining, 25000LL);
        limiter.cancel(a.reservation);
        QCOMPARE(limiter.peek("a").remaining, 35000LL);
        limiter.cancel(a.reservation);
        QCOMPARE(limiter.peek("a").remaining, 35000LL);
        limiter.cancel(b.reservation);
        QCOMPARE(limiter.peek("a").remaining, 40000LL);
    }

    void refundNeverExceedsBurst_data()
    {
        QTest::addColumn<qint64>("estimate");
        QTest::addColumn<qint64>("elapsedNs");
        QTest::addColumn<qint64>("actual");
        QTest::addColumn<qint64>("expectedRemaining");

        QTest::newRow("refund after a full refill") << 10000LL << qint64(Nanoseconds(60s).count()) << 0LL << 40000LL;
        // 30 s refilled 20 000 of the 30 000: refunding all would exceed the burst.
        QTest::newRow("refund bigger than the gap") << 30000LL << qint64(Nanoseconds(30s).count()) << 0LL << 40000LL;
        // 15 s refilled 10 000: 20 000 in hand, 10 000 back.
        QTest::newRow("refund within the gap") << 30000LL << qint64(Nanoseconds(15s).count()) << 20000LL << 30000LL;
        QTest::newRow("immediate full refund") << 30000LL << 0LL << 0LL << 40000LL;
    }

    void refundNeverExceedsBurst()
    {
        QFETCH(qint64, estimate);
        QFETCH(qint64, elapsedNs);
        QFETCH(qint64, actual);
        QFETCH(qint64, expectedRemaining);

        ManualClock clock;
        TokenLimiter limiter(kFortyThousandTpm, KeyedLimits{}, clock);
        auto admission = limiter.reserve("a", estimate);
        QVERIFY(admission.decision.allowed);
        clock.advance(Nanoseconds(elapsedNs));
        limiter.reconcile(admission.reservation, actual);
        QCOMPARE(limiter.peek("a").remaining, expectedRemaining);
        QVERIFY(limiter.reserve("a", expectedRemaining).decision.allowed);
        QVERIFY(!limiter.reserve("a", 1).decision.allowed);
    }

    void reconcileAfterEviction()
    {
        ManualClock clock;
        TokenLimiter limiter(kFortyThousandTpm, KeyedLimits{1, 1h}, clock);
        auto a = limiter.reserve("a", 10000);
        auto b = limiter.reserve("b", 1000);
        QVERIFY(a.decision.allowed && b.decision.allowed);
        QCOMPARE(limiter.keys(), std::size_t(1));
        QCOMPARE(limiter.counters().busyEvictions, std::uint64_t(1));

        // The extra 5 000 lands on a fresh bucket for "a" (evicting "b").
        limiter.reconcile(a.reservation, 15000);
        QCOMPARE(limiter.peek("a").remaining, 35000LL);
        QCOMPARE(limiter.counters().busyEvictions, std::uint64_t(2));
        // The refund for the evicted "b" is discarded: a fresh bucket is full.
        limiter.reconcile(b.reservation, 0);
        QCOMPARE(limiter.peek("b").remaining, 40000LL);
        QCOMPARE(limiter.keys(), std::size_t(1));
    }

    void setRuleKeepsTokensOwed()
    {
        ManualClock clock;
        TokenLimiter limiter(kFortyThousandTpm, KeyedLimits{}, clock);
        auto admission = limiter.reserve("a", 20000);
        limiter.setRule(RateRule{RateAlgorithm::Gcra, 80000, 1min, 0});
        QCOMPARE(limiter.peek("a").remaining, 60000LL);
        QCOMPARE(limiter.peek("a").limit, 80000LL);
        limiter.reconcile(admission.reservation, 10000);
        QCOMPARE(limiter.peek("a").remaining, 70000LL);
    }

    void idleKeysExpireButDebtIsKept()
    {
        ManualClock clock;
        TokenLimiter limiter(kFortyThousandTpm, KeyedLimits{100, 10s}, clock);
        auto settled = limiter.reserve("settled", 100);
        limiter.reconcile(settled.reservation, 100);
        auto inDebt = limiter.reserve("debtor", 40000);
        limiter.reconcile(inDebt.reservation, 80000);
        clock.advance(30s);
        QCOMPARE(limiter.purgeIdle(), std::size_t(1));
        QCOMPARE(limiter.keys(), std::size_t(1));
        // 80 000 owed, 20 000 paid off in 30 s: 60 000 still owed.
        const auto decision = limiter.peek("debtor");
        QCOMPARE(decision.remaining, 0LL);
        QCOMPARE(decision.resetAfter, 90s);
    }
};

QTEST_APPLESS_MAIN(TestTokenLimiter)
#include "tst_tokenlimiter.moc"
