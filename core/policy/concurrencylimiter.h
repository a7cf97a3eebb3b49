#pragma once

#include "policy/clock.h"

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>

namespace sluice::policy {

// Limits of one bulkhead. Negative values are treated as 0.
struct ConcurrencyLimits {
    // Permits that may be held at once. 0 parks every request in the queue.
    int maxInFlight = 64;
    // Waiters that may queue for a permit, all priority classes together. 0 disables queueing.
    int maxQueue = 256;
    // Longest wait for a permit, counted from acquire(). 0 times a waiter out at the next
    // expire(); Nanoseconds::max() never times out.
    Nanoseconds queueTimeout = std::chrono::seconds(30);
};

// Waiters are served strictly by class (every High before any Normal before any Low) and
// FIFO within a class. There is no ageing: under sustained High load, Low waiters starve.
// The starvation is bounded by queueTimeout — a starved waiter times out (the gateway
// answers 503) instead of waiting forever — which is the intended trade-off: High traffic
// never waits behind Low traffic.
enum class Priority { High, Normal, Low };
inline constexpr int priorityClassCount = 3;

// 0 is never a valid id.
using WaiterId = std::uint64_t;

enum class AdmissionKind {
    Granted,  // the caller holds a permit now; no callback will follow
    Queued,   // exactly one WaitOutcome callback will follow
    Rejected, // the queue is full; no callback will follow
};

struct Admission {
    AdmissionKind kind = AdmissionKind::Rejected;
    WaiterId id = 0; // set only when Queued; the handle for cancel()
};

enum class WaitResult {
    Granted,  // the waiter now holds a permit and must release() it
    TimedOut, // the waiter waited queueTimeout without a permit
    Cancelled,
};

struct WaitOutcome {
    WaitResult result = WaitResult::Cancelled;
    Nanoseconds waited{0}; // from acquire() to this outcome, read from the clock
};

// A bulkhead: at most maxInFlight permits held, and a bounded, prioritised wait queue
// with a per-waiter timeout. Driven by its owner: nothing happens between calls, so the
// owner arms a timer for nextDeadline() (or the value expire() returns) and calls
// expire() when it fires. Every call that changes state first times out overdue waiters,
// so a waiter past its deadline is never granted, however late the timer fires.
//
// Callbacks may re-enter the limiter (acquire, release, cancel, resize, expire). They are
// invoked after the limiter's state is updated, never while iterating its containers;
// callbacks triggered while another callback runs are queued and invoked, in order, once
// it returns, so a chain of callbacks that release at once does not grow the stack. The
// limiter must not be destroyed from inside one of its callbacks.
//
// Not thread-safe: use it from one thread (the owner's event-loop thread).
class ConcurrencyLimiter {
public:
    using OutcomeCallback = std::function<void(WaitOutcome)>;

    struct Stats {
        int inFlight = 0;
        int queued = 0;
        std::array<int, priorityClassCount> queuedByPriority{}; // indexed by Priority
        std::uint64_t granted = 0;          // permits handed out, at once or after a wait
        std::uint64_t grantedAfterWait = 0; // of those, granted from the queue
        std::uint64_t rejected = 0;
        std::uint64_t timedOut = 0;
        std::uint64_t cancelled = 0;
        // Summed over every waiter that has left the queue (granted, timed out or
        // cancelled); divide by grantedAfterWait + timedOut + cancelled for the mean.
        Nanoseconds totalWait{0};
    };

    // The clock must outlive the limiter.
    ConcurrencyLimiter(ConcurrencyLimits limits, const Clock &clock);
    ConcurrencyLimiter(const ConcurrencyLimiter &) = delete;
    ConcurrencyLimiter &operator=(const ConcurrencyLimiter &) = delete;
    // Pending waiters are dropped without a callback; call cancelAll() first to notify them.
    ~ConcurrencyLimiter() = default;

    // Granted when a permit is free (the queue is then necessarily empty), else Queued if
    // the queue has room, else Rejected. onOutcome is kept only when Queued and is called
    // exactly once; it may be empty.
    Admission acquire(Priority priority, OutcomeCallback onOutcome);

    // Returns one permit and grants it to the next waiter, if any. Returns false, and
    // changes nothing, when no permit is held (a double release must not mint a permit).
    bool release();

    // Removes a queued waiter (its client went away) and calls its callback with
    // Cancelled. Returns false if the id is not queued (already granted, timed out,
    // cancelled, or never issued).
    bool cancel(WaiterId id);

    // Cancels every queued waiter, oldest first within each class; returns how many.
    int cancelAll();

    // Times out every waiter whose deadline (enqueue time + queueTimeout) is at or before
    // now, then returns the next deadline to arm a timer for, or nullopt if none waits.
    std::optional<MonoTime> expire();

    // The earliest deadline among queued waiters. May change after any call.
    std::optional<MonoTime> nextDeadline() const;

    // Applies new limits live:
    // - a larger maxInFlight grants waiters at once, in priority then FIFO order;
    // - a smaller maxInFlight never pre-empts holders: inFlight stays above the new
    //   maximum until enough releases bring it down, and no waiter is granted until then;
    // - a smaller maxQueue keeps every existing waiter but rejects new arrivals until the
    //   queue has drained below the new bound;
    // - queueTimeout applies to waiters already queued too (deadlines are enqueue time +
    //   the current timeout), so a shorter timeout may time them out on this call.
    void resize(ConcurrencyLimits limits);

    const ConcurrencyLimits &limits() const { return m_limits; }
    int inFlight() const { return m_inFlight; }
    int queued() const { return m_queued; }
    Stats stats() const;

private:
    struct Waiter {
        MonoTime enqueuedAt;
        OutcomeCallback onOutcome;
    };
    // Ids grow with every acquire() and enqueue times never decrease, so each class's map
    // is in FIFO order and in deadline order at once.
    using WaiterQueue = std::map<WaiterId, Waiter>;

    struct Delivery {
        OutcomeCallback callback;
        WaitOutcome outcome;
    };

    void timeOutOverdue(MonoTime now);
    void grantWaiting(MonoTime now);
    void finish(WaiterQueue &queue, WaiterQueue::iterator waiter, WaitResult result, MonoTime now);
    void dispatch();

    const Clock &m_clock;
    ConcurrencyLimits m_limits;
    std::array<WaiterQueue, priorityClassCount> m_queues;
    int m_inFlight = 0;
    int m_queued = 0;
    WaiterId m_nextId = 1;
    std::deque<Delivery> m_deliveries;
    bool m_dispatching = false;
    Stats m_counters;
};

} // namespace sluice::policy
