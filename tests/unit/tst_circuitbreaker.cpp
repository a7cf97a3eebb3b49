#include <QTest>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "policy/circuitbreaker.h"
#include "policy/clock.h"

using namespace std::chrono_literals;
using sluice::policy::BreakerPolicy;
using sluice::policy::CircuitBreaker;
using sluice::policy::ManualClock;
using sluice::policy::Nanoseconds;
using State = CircuitBreaker::State;

Q_DECLARE_METATYPE(Nanoseconds)
Q_DECLARE_METATYPE(BreakerPolicy)

namespace QTest {
template <>
char *toString(const State &state)
{
    return qstrdup(std::string(sluice::policy::breakerStateName(state)).c_str());
}
} // namespace QTest

namespace {

BreakerPolicy basePolicy()
{
    BreakerPolicy policy;
    policy.failureRateThreshold = 0.5;
    policy.minimumRequests = 1000;
    policy.consecutiveFailures = 0;
    policy.window = 10s;
    policy.windowBuckets = 10;
    policy.openDuration = 30s;
    policy.openDurationGrowth = 1.0;
    policy.maxOpenDuration = 30s;
    policy.halfOpenMaxProbes = 1;
    policy.successesToClose = 1;
    return policy;
}

// Plays `outcomes` ('S' success, 'F' failure, 'C' cancelled) through a closed
// breaker; returns the index of the outcome that opened it, or -1.
int play(CircuitBreaker &breaker, const QString &outcomes)
{
    for (int index = 0; index < outcomes.size(); ++index) {
        const CircuitBreaker::Permit permit = breaker.tryAcquire();
        if (!permit || permit.probe)
            return -2;
        switch (outcomes[index].toLatin1()) {
        case 'S':
            breaker.onSuccess(permit);
            break;
        case 'F':
            breaker.onFailure(permit);
            break;
        default:
            breaker.onCancelled(permit);
            break;
        }
        if (breaker.state() == State::Open)
            return index;
    }
    return -1;
}

void openByOneFailure(CircuitBreaker &breaker)
{
    BreakerPolicy policy = breaker.policy();
    const std::size_t previous = policy.consecutiveFailures;
    policy.consecutiveFailures = 1;
    breaker.setPolicy(policy);
    breaker.onFailure(breaker.tryAcquire());
    policy.consecutiveFailures = previous;
    breaker.setPolicy(policy);
}

} // namespace

class TestCircuitBreaker : public QObject {
    Q_OBJECT
private slots:
    void opensOnFailureRateOnlyAfterMinimumRequests_data()
    {
        QTest::addColumn<int>("minimumRequests");
        QTest::addColumn<double>("threshold");
        QTest::addColumn<QString>("outcomes");
        QTest::addColumn<int>("opensAt");
        QTest::newRow("all failures below minimum") << 10 << 0.5 << "FFFFFFFFF" << -1;
        QTest::newRow("all failures reach minimum") << 10 << 0.5 << "FFFFFFFFFF" << 9;
        QTest::newRow("exactly at threshold") << 4 << 0.5 << "SSFF" << 3;
        QTest::newRow("below threshold") << 4 << 0.5 << "SSSFSSFS" << -1;
        QTest::newRow("threshold reached later") << 4 << 0.6 << "SFSFFF" << 4;
        QTest::newRow("successes only") << 1 << 0.1 << "SSSSSSSS" << -1;
        QTest::newRow("threshold 1 needs all failures") << 3 << 1.0 << "SFFFFF" << -1;
        QTest::newRow("cancelled do not dilute") << 2 << 0.5 << "SCCCCF" << 5;
    }

    void opensOnFailureRateOnlyAfterMinimumRequests()
    {
        QFETCH(int, minimumRequests);
        QFETCH(double, threshold);
        QFETCH(QString, outcomes);
        QFETCH(int, opensAt);
        ManualClock clock;
        BreakerPolicy policy = basePolicy();
        policy.minimumRequests = std::size_t(minimumRequests);
        policy.failureRateThreshold = threshold;
        CircuitBreaker breaker(policy, clock);
        QCOMPARE(play(breaker, outcomes), opensAt);
        QCOMPARE(breaker.stats().opens, opensAt >= 0 ? 1u : 0u);
    }

    void opensOnConsecutiveFailures_data()
    {
        QTest::addColumn<int>("consecutiveFailures");
        QTest::addColumn<QString>("outcomes");
        QTest::addColumn<int>("opensAt");
        QTest::newRow("three in a row") << 3 << "SFFF" << 3;
        QTest::newRow("broken by successes") << 3 << "FFSFFSFF" << -1;
        QTest::newRow("broken, then three") << 3 << "FFSFFF" << 5;
        QTest::newRow("cancel neither breaks nor extends the run") << 3 << "FFCCF" << 4;
        QTest::newRow("one") << 1 << "SSF" << 2;
        QTest::newRow("disabled") << 0 << "FFFFFFFFFFFF" << -1;
    }

    void opensOnConsecutiveFailures()
    {
        QFETCH(int, consecutiveFailures);
        QFETCH(QString, outcomes);
        QFETCH(int, opensAt);
        ManualClock clock;
        BreakerPolicy policy = basePolicy();
        policy.consecutiveFailures = std::size_t(consecutiveFailures);
        CircuitBreaker breaker(policy, clock);
        QCOMPARE(play(breaker, outcomes), opensAt);
    }

    void oldOutcomesSlideOutOfTheWindow_data()
    {
        // Window 10 s in 10 buckets of 1 s.
        QTest::addColumn<Nanoseconds>("recordedAt");
        QTest::addColumn<Nanoseconds>("readAt");
        QTest::addColumn<int>("counted");
        QTest::newRow("same moment") << Nanoseconds(0s) << Nanoseconds(0s) << 2;
        QTest::newRow("newest bucket at 9 s") << Nanoseconds(0s) << Nanoseconds(9s) << 2;
        QTest::newRow("last nanosecond") << Nanoseconds(0s) << Nanoseconds(10s - 1ns) << 2;
        QTest::newRow("gone at 10 s") << Nanoseconds(0s) << Nanoseconds(10s) << 0;
        QTest::newRow("mid bucket recorded, gone at its bucket's end") << Nanoseconds(500ms) << Nanoseconds(10s) << 0;
        QTest::newRow("mid bucket recorded, kept before") << Nanoseconds(500ms) << Nanoseconds(9999ms) << 2;
        QTest::newRow("long after") << Nanoseconds(3s) << Nanoseconds(1h) << 0;
    }

    void oldOutcomesSlideOutOfTheWindow()
    {
        QFETCH(Nanoseconds, recordedAt);
        QFETCH(Nanoseconds, readAt);
        QFETCH(int, counted);
        ManualClock clock(recordedAt);
        BreakerPolicy policy = basePolicy();
        policy.minimumRequests = 4;
        CircuitBreaker breaker(policy, clock);
        QCOMPARE(play(breaker, "FF"), -1);
        clock.set(readAt);
        QCOMPARE(breaker.stats().requestsInWindow, std::uint64_t(counted));
        QCOMPARE(breaker.stats().failuresInWindow, std::uint64_t(counted));
        // Two more outcomes, one a failure: 3 of 4 failed if the old ones still count, 1 of 2 if not.
        QCOMPARE(play(breaker, "SF"), counted ? 1 : -1);
    }

    void opensToHalfOpenExactlyAfterOpenDuration()
    {
        ManualClock clock(100s);
        BreakerPolicy policy = basePolicy();
        policy.consecutiveFailures = 1;
        CircuitBreaker breaker(policy, clock);
        QCOMPARE(breaker.retryAfter(), Nanoseconds(0));
        breaker.onFailure(breaker.tryAcquire());
        QCOMPARE(breaker.state(), State::Open);
        QCOMPARE(breaker.retryAfter(), Nanoseconds(30s));
        clock.advance(30s - 1ns);
        QCOMPARE(breaker.state(), State::Open);
        QCOMPARE(breaker.retryAfter(), Nanoseconds(1ns));
        QVERIFY(!breaker.tryAcquire());
        QCOMPARE(breaker.stats().rejected, 1u);
        clock.advance(1ns);
        QCOMPARE(breaker.retryAfter(), Nanoseconds(0));
        QCOMPARE(breaker.state(), State::HalfOpen);
        const CircuitBreaker::Permit probe = breaker.tryAcquire();
        QVERIFY(probe);
        QVERIFY(probe.probe);
    }

    void halfOpenLimitsProbesInFlight_data()
    {
        QTest::addColumn<int>("maxProbes");
        QTest::newRow("one") << 1;
        QTest::newRow("three") << 3;
    }

    void halfOpenLimitsProbesInFlight()
    {
        QFETCH(int, maxProbes);
        ManualClock clock;
        BreakerPolicy policy = basePolicy();
        policy.halfOpenMaxProbes = std::size_t(maxProbes);
        policy.successesToClose = 100;
        CircuitBreaker breaker(policy, clock);
        openByOneFailure(breaker);
        clock.advance(30s);
        std::vector<CircuitBreaker::Permit> probes;
        for (int index = 0; index < maxProbes; ++index) {
            probes.push_back(breaker.tryAcquire());
            QVERIFY(probes.back());
            QVERIFY(probes.back().probe);
        }
        QCOMPARE(breaker.stats().probesInFlight, std::size_t(maxProbes));
        QVERIFY(!breaker.tryAcquire());
        breaker.onCancelled(probes.back()); // a cancelled probe frees its slot
        probes.pop_back();
        probes.push_back(breaker.tryAcquire());
        QVERIFY(probes.back());
        QVERIFY(!breaker.tryAcquire());
        breaker.onSuccess(probes.front()); // so does a finished one
        QVERIFY(breaker.tryAcquire());
        QVERIFY(!breaker.tryAcquire());
        QCOMPARE(breaker.state(), State::HalfOpen);
        QCOMPARE(breaker.stats().rejected, 3u);
    }

    void probeSuccessesClose_data()
    {
        QTest::addColumn<int>("successesToClose");
        QTest::newRow("one") << 1;
        QTest::newRow("three") << 3;
    }

    void probeSuccessesClose()
    {
        QFETCH(int, successesToClose);
        ManualClock clock;
        BreakerPolicy policy = basePolicy();
        policy.successesToClose = std::size_t(successesToClose);
        policy.minimumRequests = 1;
        CircuitBreaker breaker(policy, clock);
        openByOneFailure(breaker);
        clock.advance(30s);
        for (int index = 0; index < successesToClose; ++index) {
            QCOMPARE(breaker.state(), State::HalfOpen);
            const CircuitBreaker::Permit probe = breaker.tryAcquire();
            QVERIFY(probe.probe);
            breaker.onSuccess(probe);
        }
        QCOMPARE(breaker.state(), State::Closed);
        const CircuitBreaker::Stats stats = breaker.stats();
        QCOMPARE(stats.requestsInWindow, 0u); // closes with a clean window
        QCOMPARE(stats.consecutiveFailures, 0u);
        const CircuitBreaker::Permit permit = breaker.tryAcquire();
        QVERIFY(permit);
        QVERIFY(!permit.probe);
    }

    void probeFailureReopens_data()
    {
        QTest::addColumn<double>("growth");
        QTest::addColumn<Nanoseconds>("maxOpenDuration");
        QTest::addColumn<QList<int>>("openSeconds"); // first open, then after each failed probe
        QTest::newRow("constant") << 1.0 << Nanoseconds(30s) << QList<int>{30, 30, 30, 30};
        QTest::newRow("doubling up to a cap") << 2.0 << Nanoseconds(100s) << QList<int>{30, 60, 100, 100};
        QTest::newRow("one and a half") << 1.5 << Nanoseconds(1h) << QList<int>{30, 45, 67, 101};
    }

    void probeFailureReopens()
    {
        QFETCH(double, growth);
        QFETCH(Nanoseconds, maxOpenDuration);
        QFETCH(QList<int>, openSeconds);
        ManualClock clock;
        BreakerPolicy policy = basePolicy();
        policy.openDurationGrowth = growth;
        policy.maxOpenDuration = maxOpenDuration;
        policy.consecutiveFailures = 1;
        CircuitBreaker breaker(policy, clock);
        breaker.onFailure(breaker.tryAcquire());
        for (int index = 0; index < openSeconds.size(); ++index) {
            QCOMPARE(breaker.state(), State::Open);
            const Nanoseconds wait = breaker.retryAfter();
            QCOMPARE(std::chrono::duration_cast<std::chrono::seconds>(wait).count(), openSeconds[index]);
            clock.advance(wait);
            const CircuitBreaker::Permit probe = breaker.tryAcquire();
            QVERIFY(probe.probe);
            breaker.onFailure(probe);
        }
        QCOMPARE(breaker.stats().opens, std::uint64_t(openSeconds.size() + 1));
        // Closing resets the open time to openDuration.
        clock.advance(breaker.retryAfter());
        breaker.onSuccess(breaker.tryAcquire());
        QCOMPARE(breaker.state(), State::Closed);
        breaker.onFailure(breaker.tryAcquire());
        QCOMPARE(breaker.retryAfter(), Nanoseconds(30s));
    }

    void notifiesExactlyOncePerTransitionInOrder()
    {
        ManualClock clock;
        BreakerPolicy policy = basePolicy();
        policy.consecutiveFailures = 2;
        policy.successesToClose = 2;
        policy.halfOpenMaxProbes = 2;
        CircuitBreaker breaker(policy, clock);
        std::vector<std::pair<State, State>> seen;
        bool stateWasNewInListener = true;
        breaker.setStateListener([&](State from, State to) {
            seen.emplace_back(from, to);
            stateWasNewInListener = stateWasNewInListener && breaker.state() == to;
        });

        QCOMPARE(play(breaker, "SFF"), 2);
        for (int read = 0; read < 3; ++read) {
            QCOMPARE(breaker.state(), State::Open);
            breaker.retryAfter();
            breaker.stats();
        }
        clock.advance(30s);
        for (int read = 0; read < 3; ++read)
            QCOMPARE(breaker.state(), State::HalfOpen);
        breaker.onFailure(breaker.tryAcquire());
        clock.advance(30s);
        const CircuitBreaker::Permit first = breaker.tryAcquire();
        const CircuitBreaker::Permit second = breaker.tryAcquire();
        breaker.onSuccess(first);
        breaker.onSuccess(second);
        breaker.forceOpen();
        breaker.forceOpen();
        breaker.forceClosed();
        breaker.reset(); // already closed: no transition

        const std::vector<std::pair<State, State>> expected{
            {State::Closed, State::Open},   {State::Open, State::HalfOpen}, {State::HalfOpen, State::Open},
            {State::Open, State::HalfOpen}, {State::HalfOpen, State::Closed}, {State::Closed, State::Open},
            {State::Open, State::Closed},
        };
        QCOMPARE(seen, expected);
        QVERIFY(stateWasNewInListener);
    }

    void cancelledPermitsDoNotCount()
    {
        ManualClock clock;
        BreakerPolicy policy = basePolicy();
        policy.consecutiveFailures = 2;
        policy.minimumRequests = 1;
        policy.failureRateThreshold = 1.0;
        CircuitBreaker breaker(policy, clock);
        QCOMPARE(play(breaker, "CCCCC"), -1);
        CircuitBreaker::Stats stats = breaker.stats();
        QCOMPARE(stats.requestsInWindow, 0u);
        QCOMPARE(stats.cancelled, 5u);
        QCOMPARE(stats.successes, 0u);
        QCOMPARE(stats.failures, 0u);
        QCOMPARE(play(breaker, "SCF"), -1);
        stats = breaker.stats();
        QCOMPARE(stats.requestsInWindow, 2u);
        QCOMPARE(stats.failureRate, 0.5);
        QCOMPARE(stats.consecutiveFailures, 1u);
    }

    void outcomesOfEarlierStatesAreIgnored()
    {
        ManualClock clock;
        BreakerPolicy policy = basePolicy();
        policy.consecutiveFailures = 1;
        CircuitBreaker breaker(policy, clock);
        const CircuitBreaker::Permit slowSuccess = breaker.tryAcquire();
        const CircuitBreaker::Permit slowFailure = breaker.tryAcquire();
        breaker.onFailure(breaker.tryAcquire());
        QCOMPARE(breaker.state(), State::Open);
        const CircuitBreaker::Permit denied = breaker.tryAcquire();
        QVERIFY(!denied);
        breaker.onFailure(denied); // reporting a denied permit is harmless
        breaker.onSuccess(slowSuccess);
        clock.advance(30s);
        const CircuitBreaker::Permit probe = breaker.tryAcquire();
        QVERIFY(probe.probe);
        breaker.onFailure(slowFailure); // admitted while closed: must not decide the test
        QCOMPARE(breaker.state(), State::HalfOpen);
        breaker.onSuccess(probe);
        QCOMPARE(breaker.state(), State::Closed);
        QCOMPARE(breaker.stats().ignoredOutcomes, 2u);
        QCOMPARE(breaker.stats().failures, 1u);
    }

    void forcedStates()
    {
        ManualClock clock;
        BreakerPolicy policy = basePolicy();
        policy.consecutiveFailures = 1;
        CircuitBreaker breaker(policy, clock);

        breaker.forceOpen();
        QVERIFY(breaker.isForced());
        QVERIFY(!breaker.tryAcquire());
        clock.advance(1h);
        QCOMPARE(breaker.state(), State::Open);
        QVERIFY(!breaker.tryAcquire());
        QCOMPARE(breaker.retryAfter(), Nanoseconds(30s));
        QVERIFY(breaker.stats().forced);

        breaker.forceClosed();
        QCOMPARE(breaker.state(), State::Closed);
        QCOMPARE(play(breaker, "FFFFFFFFFF"), -1);
        QCOMPARE(breaker.stats().failuresInWindow, 10u); // still recorded for the operator
        QCOMPARE(breaker.stats().consecutiveFailures, 10u);

        breaker.reset();
        QVERIFY(!breaker.isForced());
        QCOMPARE(breaker.stats().requestsInWindow, 0u);
        QCOMPARE(breaker.stats().consecutiveFailures, 0u);
        QCOMPARE(play(breaker, "SF"), 1);

        breaker.reset(); // from a normal open state
        QCOMPARE(breaker.state(), State::Closed);
        QVERIFY(breaker.tryAcquire());
    }

    void policyChangesApplyLive()
    {
        ManualClock clock;
        BreakerPolicy policy = basePolicy();
        policy.minimumRequests = 10;
        CircuitBreaker breaker(policy, clock);
        QCOMPARE(play(breaker, "SFF"), -1);
        policy.minimumRequests = 4;
        breaker.setPolicy(policy);
        QCOMPARE(breaker.policy().minimumRequests, 4u);
        QCOMPARE(play(breaker, "F"), 0);

        breaker.reset();
        QCOMPARE(play(breaker, "SSF"), -1);
        policy.window = 20s;
        breaker.setPolicy(policy);
        QCOMPARE(breaker.stats().requestsInWindow, 0u); // a new window geometry starts empty
        QCOMPARE(play(breaker, "SSF"), -1);
        QCOMPARE(breaker.stats().requestsInWindow, 3u);

        policy.halfOpenMaxProbes = 0; // sanitised to 1
        breaker.setPolicy(policy);
        QCOMPARE(breaker.policy().halfOpenMaxProbes, 1u);
    }

    void validateNamesTheBadField_data()
    {
        QTest::addColumn<BreakerPolicy>("policy");
        QTest::addColumn<QString>("field"); // empty: valid
        BreakerPolicy valid;
        QTest::newRow("defaults") << valid << "";
        BreakerPolicy policy = valid;
        policy.failureRateThreshold = 0.0;
        QTest::newRow("zero threshold") << policy << "failureRateThreshold";
        policy.failureRateThreshold = 1.5;
        QTest::newRow("threshold above 1") << policy << "failureRateThreshold";
        policy = valid;
        policy.minimumRequests = 0;
        QTest::newRow("no minimum") << policy << "minimumRequests";
        policy = valid;
        policy.windowBuckets = 0;
        QTest::newRow("no buckets") << policy << "windowBuckets";
        policy = valid;
        policy.window = 5ns;
        QTest::newRow("window narrower than its buckets") << policy << "window";
        policy = valid;
        policy.openDuration = 0s;
        QTest::newRow("zero open duration") << policy << "openDuration";
        policy = valid;
        policy.openDurationGrowth = 0.5;
        QTest::newRow("shrinking growth") << policy << "openDurationGrowth";
        policy = valid;
        policy.maxOpenDuration = 1s;
        QTest::newRow("cap below open duration") << policy << "maxOpenDuration";
        policy = valid;
        policy.halfOpenMaxProbes = 0;
        QTest::newRow("no probes") << policy << "halfOpenMaxProbes";
        policy = valid;
        policy.successesToClose = 0;
        QTest::newRow("no successes") << policy << "successesToClose";
    }

    void validateNamesTheBadField()
    {
        QFETCH(BreakerPolicy, policy);
        QFETCH(QString, field);
        const auto result = CircuitBreaker::validate(policy);
        QCOMPARE(result.ok(), field.isEmpty());
        if (!result.ok())
            QVERIFY2(QString::fromStdString(result.error().message).startsWith(field + ":"), result.error().message.c_str());
        // Whatever comes in, the sanitised policy always validates.
        QVERIFY(CircuitBreaker::validate(CircuitBreaker::sanitised(policy)).ok());
    }
};

QTEST_APPLESS_MAIN(TestCircuitBreaker)
#include "tst_circuitbreaker.moc"
