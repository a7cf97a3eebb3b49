#include <QTest>

#include "policy/clock.h"
#include "policy/concurrencylimiter.h"

#include <map>

using namespace std::chrono_literals;
using sluice::policy::Admission;
using sluice::policy::AdmissionKind;
using sluice::policy::ConcurrencyLimiter;
using sluice::policy::ConcurrencyLimits;
using sluice::policy::ManualClock;
using sluice::policy::MonoTime;
using sluice::policy::Nanoseconds;
using sluice::policy::Priority;
using sluice::policy::WaiterId;
using sluice::policy::WaitOutcome;
using sluice::policy::WaitResult;

Q_DECLARE_METATYPE(Nanoseconds)

namespace {

QString resultName(WaitResult result)
{
    switch (result) {
    case WaitResult::Granted:
        return QStringLiteral("granted");
    case WaitResult::TimedOut:
        return QStringLiteral("timedout");
    case WaitResult::Cancelled:
        return QStringLiteral("cancelled");
    }
    return {};
}

Priority priorityOf(QChar letter)
{
    if (letter == u'H')
        return Priority::High;
    if (letter == u'N')
        return Priority::Normal;
    return Priority::Low;
}

// Records every outcome as "name:result" in the order callbacks ran.
struct OutcomeLog {
    QStringList events;
    std::map<QString, Nanoseconds> waited;

    ConcurrencyLimiter::OutcomeCallback record(const QString &name)
    {
        return [this, name](WaitOutcome outcome) {
            events << name + u':' + resultName(outcome.result);
            waited[name] = outcome.waited;
        };
    }
};

} // namespace

class TestConcurrencyLimiter : public QObject {
    Q_OBJECT
private slots:
    void grantsImmediatelyUpToMaxInFlight_data()
    {
        QTest::addColumn<int>("maxInFlight");
        QTest::newRow("paused") << 0;
        QTest::newRow("one") << 1;
        QTest::newRow("three") << 3;
    }

    void grantsImmediatelyUpToMaxInFlight()
    {
        QFETCH(int, maxInFlight);
        ManualClock clock;
        ConcurrencyLimiter limiter({maxInFlight, 10, 1s}, clock);
        OutcomeLog log;
        for (int i = 0; i < maxInFlight; ++i) {
            const Admission admission = limiter.acquire(Priority::Normal, log.record(QString::number(i)));
            QCOMPARE(admission.kind, AdmissionKind::Granted);
            QCOMPARE(admission.id, WaiterId{0});
        }
        const Admission extra = limiter.acquire(Priority::Normal, log.record(QStringLiteral("extra")));
        QCOMPARE(extra.kind, AdmissionKind::Queued);
        QVERIFY(extra.id != 0);
        QCOMPARE(limiter.inFlight(), maxInFlight);
        QCOMPARE(limiter.queued(), 1);
        QVERIFY(log.events.isEmpty()); // immediate grants never call back
    }

    void timesOutExactlyAtDeadline_data()
    {
        QTest::addColumn<Nanoseconds>("queueTimeout");
        QTest::addColumn<Nanoseconds>("enqueuedAt");
        QTest::newRow("1ns") << Nanoseconds(1ns) << Nanoseconds(0ns);
        QTest::newRow("250ms") << Nanoseconds(250ms) << Nanoseconds(3s);
        QTest::newRow("30s") << Nanoseconds(30s) << Nanoseconds(1h + 7ns);
    }

    void timesOutExactlyAtDeadline()
    {
        QFETCH(Nanoseconds, queueTimeout);
        QFETCH(Nanoseconds, enqueuedAt);
        ManualClock clock(enqueuedAt);
        ConcurrencyLimiter limiter({1, 10, queueTimeout}, clock);
        OutcomeLog log;
        QCOMPARE(limiter.acquire(Priority::Normal, {}).kind, AdmissionKind::Granted);
        QCOMPARE(limiter.acquire(Priority::Normal, log.record("A")).kind, AdmissionKind::Queued);

        const MonoTime deadline = enqueuedAt + queueTimeout;
        QCOMPARE(limiter.nextDeadline(), std::optional<MonoTime>(deadline));
        clock.set(deadline - 1ns);
        QCOMPARE(limiter.expire(), std::optional<MonoTime>(deadline));
        QVERIFY(log.events.isEmpty());
        QCOMPARE(limiter.queued(), 1);

        clock.set(deadline);
        QCOMPARE(limiter.expire(), std::optional<MonoTime>());
        QCOMPARE(log.events, QStringList{"A:timedout"});
        QCOMPARE(log.waited["A"], queueTimeout);
        QCOMPARE(limiter.queued(), 0);
        QCOMPARE(limiter.stats().timedOut, std::uint64_t{1});
        QCOMPARE(limiter.inFlight(), 1); // a timeout returns no permit
    }

    void fifoWithinClass_data()
    {
        QTest::addColumn<QChar>("priority");
        QTest::newRow("high") << QChar(u'H');
        QTest::newRow("normal") << QChar(u'N');
        QTest::newRow("low") << QChar(u'L');
    }

    void fifoWithinClass()
    {
        QFETCH(QChar, priority);
        ManualClock clock;
        ConcurrencyLimiter limiter({1, 10, 1s}, clock);
        OutcomeLog log;
        limiter.acquire(Priority::Normal, {});
        for (const QString name : {"A", "B", "C", "D"}) {
            QCOMPARE(limiter.acquire(priorityOf(priority), log.record(name)).kind, AdmissionKind::Queued);
            clock.advance(1ms);
        }
        for (int i = 0; i < 4; ++i)
            QVERIFY(limiter.release());
        QCOMPARE(log.events, (QStringList{"A:granted", "B:granted", "C:granted", "D:granted"}));
        QCOMPARE(log.waited["A"], Nanoseconds(4ms));
        QCOMPARE(log.waited["D"], Nanoseconds(1ms));
    }

    void strictPriorityAcrossClasses_data()
    {
        QTest::addColumn<QStringList>("arrivals");
        QTest::addColumn<QStringList>("grantOrder");
        QTest::newRow("low first") << QStringList{"L1", "N1", "H1", "L2", "H2", "N2"}
                                   << QStringList{"H1", "H2", "N1", "N2", "L1", "L2"};
        QTest::newRow("already sorted") << QStringList{"H1", "N1", "L1"} << QStringList{"H1", "N1", "L1"};
        QTest::newRow("reverse") << QStringList{"L1", "L2", "N1", "H1"} << QStringList{"H1", "N1", "L1", "L2"};
        QTest::newRow("one class") << QStringList{"N1", "N2", "N3"} << QStringList{"N1", "N2", "N3"};
    }

    void strictPriorityAcrossClasses()
    {
        QFETCH(QStringList, arrivals);
        QFETCH(QStringList, grantOrder);
        ManualClock clock;
        ConcurrencyLimiter limiter({1, 100, 1min}, clock);
        OutcomeLog log;
        limiter.acquire(Priority::Low, {});
        for (const QString &name : arrivals) {
            QCOMPARE(limiter.acquire(priorityOf(name.front()), log.record(name)).kind, AdmissionKind::Queued);
            clock.advance(1ms);
        }
        QStringList granted;
        for (qsizetype i = 0; i < arrivals.size(); ++i) {
            limiter.release();
            QCOMPARE(log.events.size(), i + 1);
            granted << log.events.last().section(u':', 0, 0);
        }
        QCOMPARE(granted, grantOrder);
    }

    void queueFullRejects_data()
    {
        QTest::addColumn<int>("maxQueue");
        QTest::newRow("no queue") << 0;
        QTest::newRow("one") << 1;
        QTest::newRow("four") << 4;
    }

    void queueFullRejects()
    {
        QFETCH(int, maxQueue);
        ManualClock clock;
        ConcurrencyLimiter limiter({1, maxQueue, 1s}, clock);
        OutcomeLog log;
        limiter.acquire(Priority::Normal, {});
        for (int i = 0; i < maxQueue; ++i)
            QCOMPARE(limiter.acquire(Priority::Low, log.record(QString::number(i))).kind, AdmissionKind::Queued);
        // The bound is for all classes together: High does not get extra room.
        const Admission rejected = limiter.acquire(Priority::High, log.record("over"));
        QCOMPARE(rejected.kind, AdmissionKind::Rejected);
        QCOMPARE(rejected.id, WaiterId{0});
        QCOMPARE(limiter.queued(), maxQueue);
        QCOMPARE(limiter.stats().rejected, std::uint64_t{1});
        limiter.cancelAll();
        QVERIFY(!log.events.contains("over:cancelled")); // a rejected request never calls back
    }

    void cancelRemovesWaiterAndFreesSlot()
    {
        ManualClock clock;
        ConcurrencyLimiter limiter({1, 1, 10s}, clock);
        OutcomeLog log;
        limiter.acquire(Priority::Normal, {});
        const Admission a = limiter.acquire(Priority::Normal, log.record("A"));
        QCOMPARE(a.kind, AdmissionKind::Queued);
        QCOMPARE(limiter.acquire(Priority::Normal, log.record("B")).kind, AdmissionKind::Rejected);

        clock.advance(3s);
        QVERIFY(limiter.cancel(a.id));
        QCOMPARE(log.events, QStringList{"A:cancelled"});
        QCOMPARE(log.waited["A"], Nanoseconds(3s));
        QVERIFY(!limiter.cancel(a.id)); // exactly one callback
        QVERIFY(!limiter.cancel(a.id + 1000));
        QVERIFY(!limiter.cancel(0));
        QCOMPARE(limiter.nextDeadline(), std::optional<MonoTime>());

        const Admission c = limiter.acquire(Priority::Normal, log.record("C"));
        QCOMPARE(c.kind, AdmissionKind::Queued);
        limiter.release();
        QCOMPARE(log.events, (QStringList{"A:cancelled", "C:granted"}));
        QVERIFY(!limiter.cancel(c.id)); // granted waiters are no longer cancellable
        QCOMPARE(limiter.stats().cancelled, std::uint64_t{1});
    }

    void growingAdmitsWaitersAtOnceInOrder()
    {
        ManualClock clock;
        ConcurrencyLimiter limiter({1, 10, 10s}, clock);
        OutcomeLog log;
        limiter.acquire(Priority::Normal, {});
        for (const QString name : {"L1", "N1", "N2", "H1", "L2"})
            limiter.acquire(priorityOf(name.front()), log.record(name));
        clock.advance(1s);

        limiter.resize({4, 10, 10s});
        QCOMPARE(log.events, (QStringList{"H1:granted", "N1:granted", "N2:granted"}));
        QCOMPARE(limiter.inFlight(), 4);
        QCOMPARE(limiter.queued(), 2);

        limiter.resize({100, 10, 10s});
        QCOMPARE(log.events.mid(3), (QStringList{"L1:granted", "L2:granted"}));
        QCOMPARE(limiter.inFlight(), 6);
        QCOMPARE(limiter.acquire(Priority::Low, {}).kind, AdmissionKind::Granted);
    }

    void shrinkingNeverPreemptsThenConverges()
    {
        ManualClock clock;
        ConcurrencyLimiter limiter({4, 10, 1min}, clock);
        OutcomeLog log;
        for (int i = 0; i < 4; ++i)
            limiter.acquire(Priority::Normal, {});
        limiter.acquire(Priority::Normal, log.record("A"));
        limiter.acquire(Priority::Normal, log.record("B"));

        limiter.resize({2, 10, 1min});
        QCOMPARE(limiter.inFlight(), 4); // holders keep their permits
        QCOMPARE(limiter.queued(), 2);
        QCOMPARE(limiter.acquire(Priority::High, log.record("H")).kind, AdmissionKind::Queued);

        limiter.release();
        limiter.release();
        QCOMPARE(limiter.inFlight(), 2);
        QVERIFY(log.events.isEmpty()); // still at the new maximum: nobody admitted

        limiter.release();
        QCOMPARE(log.events, QStringList{"H:granted"});
        QCOMPARE(limiter.inFlight(), 2);
        for (int i = 0; i < 2; ++i)
            limiter.release();
        QCOMPARE(log.events, (QStringList{"H:granted", "A:granted", "B:granted"}));
        QCOMPARE(limiter.inFlight(), 2); // converged on the new maximum
    }

    void shrunkQueueBoundKeepsExistingWaiters()
    {
        ManualClock clock;
        ConcurrencyLimiter limiter({1, 5, 1min}, clock);
        OutcomeLog log;
        limiter.acquire(Priority::Normal, {});
        for (const QString name : {"A", "B", "C"})
            limiter.acquire(Priority::Normal, log.record(name));

        limiter.resize({1, 1, 1min});
        QCOMPARE(limiter.queued(), 3);
        QCOMPARE(limiter.acquire(Priority::High, {}).kind, AdmissionKind::Rejected);
        limiter.release();
        limiter.release();
        QCOMPARE(limiter.queued(), 1);
        QCOMPARE(limiter.acquire(Priority::High, {}).kind, AdmissionKind::Rejected);
        limiter.release();
        QCOMPARE(limiter.queued(), 0);
        QCOMPARE(limiter.acquire(Priority::High, log.record("D")).kind, AdmissionKind::Queued);
        QCOMPARE(log.events, (QStringList{"A:granted", "B:granted", "C:granted"}));
    }

    void reentrantCallbackReleasesImmediately_data()
    {
        QTest::addColumn<int>("waiters");
        QTest::newRow("one") << 1;
        QTest::newRow("three") << 3;
        QTest::newRow("long chain") << 20000;
    }

    void reentrantCallbackReleasesImmediately()
    {
        QFETCH(int, waiters);
        ManualClock clock;
        ConcurrencyLimiter limiter({1, waiters, 1min}, clock);
        limiter.acquire(Priority::Normal, {});
        std::vector<int> order;
        for (int i = 0; i < waiters; ++i) {
            limiter.acquire(Priority::Normal, [&limiter, &order, i](WaitOutcome outcome) {
                QCOMPARE(outcome.result, WaitResult::Granted);
                order.push_back(i);
                QVERIFY(limiter.release());
            });
        }
        QVERIFY(limiter.release());
        QCOMPARE(static_cast<int>(order.size()), waiters);
        QVERIFY(std::is_sorted(order.begin(), order.end()));
        QCOMPARE(limiter.inFlight(), 0);
        QCOMPARE(limiter.queued(), 0);
        QCOMPARE(limiter.stats().grantedAfterWait, static_cast<std::uint64_t>(waiters));
    }

    void reentrantCallbacksAcquireAndCancel()
    {
        ManualClock clock;
        ConcurrencyLimiter limiter({1, 10, 1min}, clock);
        OutcomeLog log;
        limiter.acquire(Priority::Normal, {});
        WaiterId victim = 0;
        Admission fromCallback;
        limiter.acquire(Priority::High, [&](WaitOutcome outcome) {
            log.events << "A:" + resultName(outcome.result);
            QVERIFY(limiter.cancel(victim));
            fromCallback = limiter.acquire(Priority::High, log.record("C"));
            QCOMPARE(limiter.inFlight(), 1); // the permit A holds is already counted
        });
        victim = limiter.acquire(Priority::Normal, log.record("B")).id;

        limiter.release();
        QCOMPARE(fromCallback.kind, AdmissionKind::Queued);
        QCOMPARE(log.events, (QStringList{"A:granted", "B:cancelled"}));
        limiter.release();
        QCOMPARE(log.events, (QStringList{"A:granted", "B:cancelled", "C:granted"}));
    }

    void releaseWithoutPermitIsIgnored()
    {
        ManualClock clock;
        ConcurrencyLimiter limiter({1, 10, 1s}, clock);
        QVERIFY(!limiter.release());
        QCOMPARE(limiter.acquire(Priority::Normal, {}).kind, AdmissionKind::Granted);
        QVERIFY(limiter.release());
        QVERIFY(!limiter.release());
        QCOMPARE(limiter.inFlight(), 0);
        QCOMPARE(limiter.acquire(Priority::Normal, {}).kind, AdmissionKind::Granted);
        QCOMPARE(limiter.acquire(Priority::Normal, {}).kind, AdmissionKind::Queued); // no permit was minted
    }

    void overdueWaiterIsNeverGranted()
    {
        ManualClock clock;
        ConcurrencyLimiter limiter({1, 10, 10ms}, clock);
        OutcomeLog log;
        limiter.acquire(Priority::Normal, {});
        limiter.acquire(Priority::High, log.record("A"));
        clock.advance(8ms);
        limiter.acquire(Priority::Low, log.record("B"));
        clock.advance(7ms); // A's deadline passed and the owner's timer has not fired yet

        limiter.release();
        QCOMPARE(log.events, (QStringList{"A:timedout", "B:granted"}));
        QCOMPARE(log.waited["A"], Nanoseconds(15ms));
        QCOMPARE(log.waited["B"], Nanoseconds(7ms));
    }

    void lowPriorityStarvesUntilTimeout()
    {
        // The documented trade-off: no ageing, so sustained High load starves Low, and
        // queueTimeout is what bounds the wait.
        ManualClock clock;
        ConcurrencyLimiter limiter({1, 10, 100ms}, clock);
        OutcomeLog log;
        limiter.acquire(Priority::High, {});
        limiter.acquire(Priority::Low, log.record("low"));
        for (int i = 0; i < 10; ++i) {
            limiter.acquire(Priority::High, {});
            clock.advance(10ms);
            limiter.expire();
            limiter.release(); // grants the High waiter, never the older Low one
        }
        QCOMPARE(log.events, QStringList{"low:timedout"});
        QCOMPARE(log.waited["low"], Nanoseconds(100ms));
        QCOMPARE(limiter.stats().grantedAfterWait, std::uint64_t{10});
    }

    void queueTimeoutChangeAppliesToWaiters_data()
    {
        QTest::addColumn<Nanoseconds>("newTimeout");
        QTest::addColumn<bool>("timedOutAtOnce");
        QTest::addColumn<MonoTime>("nextDeadline");
        QTest::newRow("shorter, already passed") << Nanoseconds(2s) << true << MonoTime(4s);
        QTest::newRow("shorter, still ahead") << Nanoseconds(5s) << false << MonoTime(5s);
        QTest::newRow("longer") << Nanoseconds(1min) << false << MonoTime(1min);
        QTest::newRow("never") << Nanoseconds::max() << false << MonoTime::max();
    }

    void queueTimeoutChangeAppliesToWaiters()
    {
        QFETCH(Nanoseconds, newTimeout);
        QFETCH(bool, timedOutAtOnce);
        QFETCH(MonoTime, nextDeadline);
        ManualClock clock;
        ConcurrencyLimiter limiter({1, 10, 10s}, clock);
        OutcomeLog log;
        limiter.acquire(Priority::Normal, {});
        limiter.acquire(Priority::Normal, log.record("A"));
        clock.advance(2s);
        limiter.acquire(Priority::Normal, log.record("B"));
        clock.advance(1s);

        limiter.resize({1, 10, newTimeout});
        QCOMPARE(log.events.contains("A:timedout"), timedOutAtOnce);
        QCOMPARE(limiter.nextDeadline(), std::optional<MonoTime>(nextDeadline));
    }

    void nextDeadlineIsEarliestAcrossClasses()
    {
        ManualClock clock(1s);
        ConcurrencyLimiter limiter({0, 10, 10s}, clock);
        OutcomeLog log;
        QCOMPARE(limiter.expire(), std::optional<MonoTime>());
        limiter.acquire(Priority::High, log.record("H"));
        clock.advance(1s);
        limiter.acquire(Priority::Low, log.record("L"));
        clock.advance(1s);
        const WaiterId high = limiter.acquire(Priority::High, log.record("H2")).id;
        QCOMPARE(limiter.expire(), std::optional<MonoTime>(11s));

        clock.set(11s);
        QCOMPARE(limiter.expire(), std::optional<MonoTime>(12s)); // L is now the oldest
        QVERIFY(limiter.cancel(high));
        clock.set(12s);
        QCOMPARE(limiter.expire(), std::optional<MonoTime>());
        QCOMPARE(log.events, (QStringList{"H:timedout", "H2:cancelled", "L:timedout"}));
    }

    void cancelAllNotifiesEveryWaiter()
    {
        ManualClock clock;
        ConcurrencyLimiter limiter({1, 10, 10s}, clock);
        OutcomeLog log;
        QCOMPARE(limiter.cancelAll(), 0);
        limiter.acquire(Priority::Normal, {});
        for (const QString name : {"L1", "H1", "N1"})
            limiter.acquire(priorityOf(name.front()), log.record(name));
        QCOMPARE(limiter.cancelAll(), 3);
        QCOMPARE(log.events, (QStringList{"H1:cancelled", "N1:cancelled", "L1:cancelled"}));
        QCOMPARE(limiter.queued(), 0);
        QCOMPARE(limiter.inFlight(), 1);
    }

    void negativeLimitsCountAsZero()
    {
        ManualClock clock;
        ConcurrencyLimiter limiter({-3, -1, -5s}, clock);
        QCOMPARE(limiter.limits().maxInFlight, 0);
        QCOMPARE(limiter.limits().maxQueue, 0);
        QCOMPARE(limiter.limits().queueTimeout, Nanoseconds(0));
        QCOMPARE(limiter.acquire(Priority::High, {}).kind, AdmissionKind::Rejected);
    }

    void statsCountEveryOutcome()
    {
        ManualClock clock;
        ConcurrencyLimiter limiter({2, 3, 10s}, clock);
        limiter.acquire(Priority::Normal, {});
        limiter.acquire(Priority::Normal, {});
        limiter.acquire(Priority::High, {});                      // granted after 1 s
        const WaiterId low = limiter.acquire(Priority::Low, {}).id; // cancelled after 2 s
        limiter.acquire(Priority::Low, {});                       // timed out after 10 s
        limiter.acquire(Priority::Normal, {});                    // rejected

        ConcurrencyLimiter::Stats stats = limiter.stats();
        QCOMPARE(stats.inFlight, 2);
        QCOMPARE(stats.queued, 3);
        QCOMPARE(stats.queuedByPriority[static_cast<int>(Priority::High)], 1);
        QCOMPARE(stats.queuedByPriority[static_cast<int>(Priority::Normal)], 0);
        QCOMPARE(stats.queuedByPriority[static_cast<int>(Priority::Low)], 2);
        QCOMPARE(stats.rejected, std::uint64_t{1});

        clock.advance(1s);
        limiter.release();
        clock.advance(1s);
        limiter.cancel(low);
        clock.advance(8s);
        limiter.expire();

        stats = limiter.stats();
        QCOMPARE(stats.inFlight, 2);
        QCOMPARE(stats.queued, 0);
        QCOMPARE(stats.granted, std::uint64_t{3});
        QCOMPARE(stats.grantedAfterWait, std::uint64_t{1});
        QCOMPARE(stats.cancelled, std::uint64_t{1});
        QCOMPARE(stats.timedOut, std::uint64_t{1});
        QCOMPARE(stats.rejected, std::uint64_t{1});
        QCOMPARE(stats.totalWait, Nanoseconds(1s + 2s + 10s));
    }
};

QTEST_APPLESS_MAIN(TestConcurrencyLimiter)
#include "tst_concurrencylimiter.moc"
