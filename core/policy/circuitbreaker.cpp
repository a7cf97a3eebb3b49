#include "policy/circuitbreaker.h"

#include <algorithm>

namespace sluice::policy {

namespace {

MonoTime saturatingAdd(MonoTime time, Nanoseconds duration)
{
    if (duration > MonoTime::max() - time)
        return MonoTime::max();
    return time + duration;
}

Nanoseconds grown(Nanoseconds duration, double growth, Nanoseconds cap)
{
    const long double next = static_cast<long double>(duration.count()) * growth;
    if (next >= static_cast<long double>(cap.count()))
        return cap;
    return Nanoseconds(static_cast<Nanoseconds::rep>(next));
}

} // namespace

std::string_view breakerStateName(CircuitBreaker::State state)
{
    switch (state) {
    case CircuitBreaker::State::Closed:
        return "closed";
    case CircuitBreaker::State::Open:
        return "open";
    case CircuitBreaker::State::HalfOpen:
        return "half_open";
    }
    return "unknown";
}

Result<BreakerPolicy> CircuitBreaker::validate(BreakerPolicy policy)
{
    auto fail = [](const char *message) { return sluice::unexpected(Error{message}); };
    if (!(policy.failureRateThreshold > 0.0 && policy.failureRateThreshold <= 1.0))
        return fail("failureRateThreshold: must be in (0, 1]");
    if (policy.minimumRequests < 1)
        return fail("minimumRequests: must be at least 1");
    if (policy.windowBuckets < 1)
        return fail("windowBuckets: must be at least 1");
    if (policy.window.count() < static_cast<Nanoseconds::rep>(policy.windowBuckets))
        return fail("window: must be at least 1 ns per bucket");
    if (policy.openDuration <= Nanoseconds::zero())
        return fail("openDuration: must be positive");
    if (!(policy.openDurationGrowth >= 1.0))
        return fail("openDurationGrowth: must be at least 1");
    if (policy.maxOpenDuration < policy.openDuration)
        return fail("maxOpenDuration: must be at least openDuration");
    if (policy.halfOpenMaxProbes < 1)
        return fail("halfOpenMaxProbes: must be at least 1");
    if (policy.successesToClose < 1)
        return fail("successesToClose: must be at least 1");
    return policy;
}

BreakerPolicy CircuitBreaker::sanitised(BreakerPolicy policy)
{
    if (!(policy.failureRateThreshold > 0.0 && policy.failureRateThreshold <= 1.0))
        policy.failureRateThreshold = 1.0;
    policy.minimumRequests = std::max<std::size_t>(policy.minimumRequests, 1);
    policy.windowBuckets = std::max<std::size_t>(policy.windowBuckets, 1);
    policy.window = std::max(policy.window, Nanoseconds(static_cast<Nanoseconds::rep>(policy.windowBuckets)));
    policy.openDuration = std::max(policy.openDuration, Nanoseconds(1));
    if (!(policy.openDurationGrowth >= 1.0))
        policy.openDurationGrowth = 1.0;
    policy.maxOpenDuration = std::max(policy.maxOpenDuration, policy.openDuration);
    policy.halfOpenMaxProbes = std::max<std::size_t>(policy.halfOpenMaxProbes, 1);
    policy.successesToClose = std::max<std::size_t>(policy.successesToClose, 1);
    return policy;
}

CircuitBreaker::CircuitBreaker(BreakerPolicy policy, const Clock &clock)
    : m_policy(sanitised(policy))
    , m_clock(clock)
    , m_window(m_policy.window, m_policy.windowBuckets)
    , m_openDuration(m_policy.openDuration)
{
}

void CircuitBreaker::transitionTo(State to, MonoTime now)
{
    const State from = m_state;
    if (from == to)
        return;
    m_state = to;
    ++m_epoch;
    switch (to) {
    case State::Open:
        ++m_counters.opens;
        m_openUntil = saturatingAdd(now, m_openDuration);
        break;
    case State::HalfOpen:
        m_probesInFlight = 0;
        m_probeSuccesses = 0;
        break;
    case State::Closed:
        m_window.clear();
        m_consecutiveFailures = 0;
        m_openDuration = m_policy.openDuration;
        break;
    }
    if (m_listener)
        m_listener(from, to);
}

void CircuitBreaker::refresh(MonoTime now)
{
    if (m_state == State::Open && m_forced != Forced::Open && now >= m_openUntil)
        transitionTo(State::HalfOpen, now);
}

bool CircuitBreaker::isCurrent(const Permit &permit)
{
    if (!permit.allowed)
        return false;
    if (permit.epoch != m_epoch) {
        ++m_counters.ignoredOutcomes;
        return false;
    }
    return true;
}

CircuitBreaker::Permit CircuitBreaker::tryAcquire()
{
    // Only an open breaker can change state with time; the closed path skips the clock.
    if (m_state == State::Open)
        refresh(m_clock.now());
    switch (m_state) {
    case State::Closed:
        return Permit{true, false, m_epoch};
    case State::HalfOpen:
        if (m_probesInFlight < m_policy.halfOpenMaxProbes) {
            ++m_probesInFlight;
            return Permit{true, true, m_epoch};
        }
        break;
    case State::Open:
        break;
    }
    ++m_counters.rejected;
    return Permit{false, false, m_epoch};
}

void CircuitBreaker::onSuccess(const Permit &permit)
{
    if (!isCurrent(permit))
        return;
    ++m_counters.successes;
    const MonoTime now = m_clock.now();
    if (m_state == State::Closed) {
        m_window.record(now, false);
        m_consecutiveFailures = 0;
    } else if (m_state == State::HalfOpen && permit.probe) {
        --m_probesInFlight;
        if (++m_probeSuccesses >= m_policy.successesToClose)
            transitionTo(State::Closed, now);
    }
}

void CircuitBreaker::onFailure(const Permit &permit)
{
    if (!isCurrent(permit))
        return;
    ++m_counters.failures;
    const MonoTime now = m_clock.now();
    if (m_state == State::Closed) {
        m_window.record(now, true);
        ++m_consecutiveFailures;
        if (m_forced == Forced::Closed)
            return;
        const bool tooManyInARow =
            m_policy.consecutiveFailures > 0 && m_consecutiveFailures >= m_policy.consecutiveFailures;
        const OutcomeWindow::Totals totals = m_window.totals(now);
        const bool rateTooHigh = totals.requests >= m_policy.minimumRequests
            && totals.failureRate() >= m_policy.failureRateThreshold;
        if (tooManyInARow || rateTooHigh)
            transitionTo(State::Open, now);
    } else if (m_state == State::HalfOpen && permit.probe) {
        --m_probesInFlight;
        m_openDuration = grown(m_openDuration, m_policy.openDurationGrowth, m_policy.maxOpenDuration);
        transitionTo(State::Open, now);
    }
}

void CircuitBreaker::onCancelled(const Permit &permit)
{
    if (!isCurrent(permit))
        return;
    ++m_counters.cancelled;
    if (m_state == State::HalfOpen && permit.probe)
        --m_probesInFlight;
}

CircuitBreaker::State CircuitBreaker::state()
{
    refresh(m_clock.now());
    return m_state;
}

Nanoseconds CircuitBreaker::retryAfter()
{
    const MonoTime now = m_clock.now();
    refresh(now);
    if (m_state != State::Open)
        return Nanoseconds::zero();
    if (m_forced == Forced::Open)
        return m_policy.openDuration;
    return m_openUntil - now;
}

void CircuitBreaker::setPolicy(BreakerPolicy policy)
{
    policy = sanitised(policy);
    if (policy.window != m_policy.window || policy.windowBuckets != m_policy.windowBuckets)
        m_window = OutcomeWindow(policy.window, policy.windowBuckets);
    const bool openDurationChanged = policy.openDuration != m_policy.openDuration;
    m_policy = policy;
    if (m_state == State::Closed || openDurationChanged)
        m_openDuration = m_policy.openDuration;
    m_openDuration = std::min(m_openDuration, m_policy.maxOpenDuration);
}

void CircuitBreaker::forceOpen()
{
    m_forced = Forced::Open;
    transitionTo(State::Open, m_clock.now());
}

void CircuitBreaker::forceClosed()
{
    m_forced = Forced::Closed;
    transitionTo(State::Closed, m_clock.now());
}

void CircuitBreaker::reset()
{
    m_forced = Forced::No;
    ++m_epoch;
    m_window.clear();
    m_consecutiveFailures = 0;
    m_openDuration = m_policy.openDuration;
    transitionTo(State::Closed, m_clock.now());
}

CircuitBreaker::Stats CircuitBreaker::stats()
{
    const MonoTime now = m_clock.now();
    refresh(now);
    Stats result = m_counters;
    const OutcomeWindow::Totals totals = m_window.totals(now);
    result.state = m_state;
    result.forced = isForced();
    result.failureRate = totals.failureRate();
    result.requestsInWindow = totals.requests;
    result.failuresInWindow = totals.failures;
    result.consecutiveFailures = m_consecutiveFailures;
    result.probesInFlight = m_state == State::HalfOpen ? m_probesInFlight : 0;
    result.openDuration = m_openDuration;
    return result;
}

} // namespace sluice::policy
