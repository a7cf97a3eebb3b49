#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <utility>

#include "policy/clock.h"
#include "policy/outcomewindow.h"
#include "policy/result.h"

namespace sluice::policy {

// When a CircuitBreaker opens, how long it stays open, and how it closes again.
struct BreakerPolicy {
    // Opens when failures / requests over the rolling window reach this
    // fraction, in (0, 1], once the window holds at least minimumRequests.
    double failureRateThreshold = 0.5;
    std::size_t minimumRequests = 20;
    // Opens after this many failures in a row, whatever the window says. 0 disables.
    std::size_t consecutiveFailures = 5;
    // The rolling window and how many buckets it is kept in (see OutcomeWindow).
    Nanoseconds window = std::chrono::seconds(10);
    std::size_t windowBuckets = 10;
    // Time spent open before probing. Every probe failure re-opens for the
    // previous open time × openDurationGrowth, capped at maxOpenDuration;
    // closing resets it to openDuration. Growth 1 keeps it constant.
    Nanoseconds openDuration = std::chrono::seconds(30);
    double openDurationGrowth = 2.0;
    Nanoseconds maxOpenDuration = std::chrono::minutes(5);
    // Half-open: at most this many probes in flight at once, and this many
    // probe successes (without a probe failure) close the breaker.
    std::size_t halfOpenMaxProbes = 1;
    std::size_t successesToClose = 2;

    friend bool operator==(const BreakerPolicy &, const BreakerPolicy &) = default;
};

// A circuit breaker for one upstream.
//
// Closed: every request is admitted and its outcome recorded; the breaker
// opens when the failure rate over the window or the run of consecutive
// failures reaches its threshold. Open: nothing is admitted until
// openDuration has passed; the move to half-open happens lazily, on the
// first call that looks at the state at or after that moment. Half-open: up
// to halfOpenMaxProbes probes at a time; successesToClose probe successes
// close it (with an empty window), any probe failure re-opens it.
//
// Each admitted Permit must be reported exactly once, by onSuccess(),
// onFailure() or onCancelled() (a cancelled request — the client went away —
// counts as neither success nor failure, and frees its probe slot). Outcomes
// of permits granted before the latest state change or reset() are ignored
// (counted in Stats::ignoredOutcomes): a slow request admitted while closed
// does not decide a later half-open test.
//
// Forced states (admin API): forceOpen() admits nothing until reset() or
// forceClosed(); forceClosed() admits everything and never opens, while
// still recording outcomes. reset() leaves a forced state and starts afresh
// closed.
//
// Not thread-safe: the gateway owns one per upstream on one thread, or
// guards it with a mutex.
class CircuitBreaker {
public:
    enum class State { Closed, Open, HalfOpen };

    struct Permit {
        bool allowed = false;
        // A half-open test request.
        bool probe = false;
        std::uint64_t epoch = 0;
        explicit operator bool() const { return allowed; }
    };

    struct Stats {
        State state = State::Closed;
        bool forced = false;
        // Over the rolling window, at the time of the call.
        double failureRate = 0.0;
        std::uint64_t requestsInWindow = 0;
        std::uint64_t failuresInWindow = 0;
        std::uint64_t consecutiveFailures = 0;
        std::size_t probesInFlight = 0;
        // The open time the breaker uses (or is using) for its next (current) open period.
        Nanoseconds openDuration{0};
        // Since construction, never reset. opens counts every move into Open,
        // forceOpen() included; rejected counts denied tryAcquire() calls.
        std::uint64_t opens = 0;
        std::uint64_t rejected = 0;
        std::uint64_t successes = 0;
        std::uint64_t failures = 0;
        std::uint64_t cancelled = 0;
        std::uint64_t ignoredOutcomes = 0;
    };

    // Called synchronously, exactly once per transition, on the thread that
    // caused it, after the breaker is in its new state. It may read the
    // breaker but must not change it.
    using StateListener = std::function<void(State from, State to)>;

    // The policy is sanitised as described at sanitised(); `clock` must outlive the breaker.
    CircuitBreaker(BreakerPolicy policy, const Clock &clock);

    // Returns the policy unchanged, or an error naming the first field that is out of range.
    static Result<BreakerPolicy> validate(BreakerPolicy policy);
    // Clamps every field into range (thresholds to (0, 1], counts to >= 1,
    // durations to >= 1 ns, growth to >= 1, maxOpenDuration to >= openDuration).
    static BreakerPolicy sanitised(BreakerPolicy policy);

    Permit tryAcquire();
    void onSuccess(const Permit &permit);
    void onFailure(const Permit &permit);
    void onCancelled(const Permit &permit);

    // Non-const: reading may move open to half-open (and notify).
    State state();
    // Open: the time left until half-open (for Retry-After); forced open: the
    // policy's openDuration, as a hint; otherwise zero (also when half-open
    // with every probe slot taken: the caller picks its own short hint).
    Nanoseconds retryAfter();

    // Live, sanitised like the constructor's. A new window or bucket count
    // empties the window; a new openDuration restarts the growth from it and
    // applies from the next opening (a current open period ends as
    // scheduled); thresholds apply from the next recorded outcome; probe
    // limits at once.
    void setPolicy(BreakerPolicy policy);
    const BreakerPolicy &policy() const { return m_policy; }

    void forceOpen();
    void forceClosed();
    void reset();
    bool isForced() const { return m_forced != Forced::No; }

    void setStateListener(StateListener listener) { m_listener = std::move(listener); }
    Stats stats();

private:
    enum class Forced { No, Open, Closed };

    void refresh(MonoTime now);
    void transitionTo(State to, MonoTime now);
    bool isCurrent(const Permit &permit);

    BreakerPolicy m_policy;
    const Clock &m_clock;
    OutcomeWindow m_window;
    StateListener m_listener;
    State m_state = State::Closed;
    Forced m_forced = Forced::No;
    std::uint64_t m_epoch = 0;
    MonoTime m_openUntil{0};
    Nanoseconds m_openDuration;
    std::uint64_t m_consecutiveFailures = 0;
    std::size_t m_probesInFlight = 0;
    std::size_t m_probeSuccesses = 0;
    Stats m_counters;
};

// "closed", "open", "half_open": for metrics labels, logs and the admin API.
std::string_view breakerStateName(CircuitBreaker::State state);

} // namespace sluice::policy
