#include "policy/concurrencylimiter.h"

#include <algorithm>

namespace sluice::policy {

namespace {

ConcurrencyLimits normalized(ConcurrencyLimits limits)
{
    limits.maxInFlight = std::max(limits.maxInFlight, 0);
    limits.maxQueue = std::max(limits.maxQueue, 0);
    limits.queueTimeout = std::max(limits.queueTimeout, Nanoseconds{0});
    return limits;
}

// An "infinite" timeout must not wrap around into the past.
MonoTime deadlineOf(MonoTime enqueuedAt, Nanoseconds timeout)
{
    if (enqueuedAt.count() > 0 && timeout > Nanoseconds::max() - enqueuedAt)
        return MonoTime::max();
    return enqueuedAt + timeout;
}

} // namespace

ConcurrencyLimiter::ConcurrencyLimiter(ConcurrencyLimits limits, const Clock &clock)
    : m_clock(clock), m_limits(normalized(limits))
{
}

Admission ConcurrencyLimiter::acquire(Priority priority, OutcomeCallback onOutcome)
{
    // Fast path: nobody waits, so there is nothing to time out and no clock to read.
    if (m_inFlight < m_limits.maxInFlight && m_queued == 0) {
        ++m_inFlight;
        ++m_counters.granted;
        return {AdmissionKind::Granted, 0};
    }

    const MonoTime now = m_clock.now();
    timeOutOverdue(now);
    Admission admission;
    if (m_queued >= m_limits.maxQueue) {
        ++m_counters.rejected;
        admission = {AdmissionKind::Rejected, 0};
    } else {
        const WaiterId id = m_nextId++;
        m_queues[static_cast<int>(priority)].emplace_hint(
            m_queues[static_cast<int>(priority)].end(), id, Waiter{now, std::move(onOutcome)});
        ++m_queued;
        admission = {AdmissionKind::Queued, id};
    }
    dispatch();
    return admission;
}

bool ConcurrencyLimiter::release()
{
    if (m_inFlight == 0)
        return false;
    --m_inFlight;
    if (m_queued > 0) {
        const MonoTime now = m_clock.now();
        timeOutOverdue(now);
        grantWaiting(now);
        dispatch();
    }
    return true;
}

bool ConcurrencyLimiter::cancel(WaiterId id)
{
    for (WaiterQueue &queue : m_queues) {
        const auto waiter = queue.find(id);
        if (waiter == queue.end())
            continue;
        const MonoTime now = m_clock.now();
        finish(queue, waiter, WaitResult::Cancelled, now);
        timeOutOverdue(now);
        dispatch();
        return true;
    }
    return false;
}

int ConcurrencyLimiter::cancelAll()
{
    const int count = m_queued;
    if (count == 0)
        return 0;
    const MonoTime now = m_clock.now();
    for (WaiterQueue &queue : m_queues) {
        while (!queue.empty())
            finish(queue, queue.begin(), WaitResult::Cancelled, now);
    }
    dispatch();
    return count;
}

std::optional<MonoTime> ConcurrencyLimiter::expire()
{
    if (m_queued > 0) {
        timeOutOverdue(m_clock.now());
        dispatch();
    }
    return nextDeadline();
}

std::optional<MonoTime> ConcurrencyLimiter::nextDeadline() const
{
    std::optional<MonoTime> earliest;
    for (const WaiterQueue &queue : m_queues) {
        if (queue.empty())
            continue;
        const MonoTime deadline = deadlineOf(queue.begin()->second.enqueuedAt, m_limits.queueTimeout);
        if (!earliest || deadline < *earliest)
            earliest = deadline;
    }
    return earliest;
}

void ConcurrencyLimiter::resize(ConcurrencyLimits limits)
{
    m_limits = normalized(limits);
    if (m_queued > 0) {
        const MonoTime now = m_clock.now();
        timeOutOverdue(now);
        grantWaiting(now);
        dispatch();
    }
}

ConcurrencyLimiter::Stats ConcurrencyLimiter::stats() const
{
    Stats stats = m_counters;
    stats.inFlight = m_inFlight;
    stats.queued = m_queued;
    for (int i = 0; i < priorityClassCount; ++i)
        stats.queuedByPriority[i] = static_cast<int>(m_queues[i].size());
    return stats;
}

void ConcurrencyLimiter::timeOutOverdue(MonoTime now)
{
    for (WaiterQueue &queue : m_queues) {
        while (!queue.empty() && deadlineOf(queue.begin()->second.enqueuedAt, m_limits.queueTimeout) <= now)
            finish(queue, queue.begin(), WaitResult::TimedOut, now);
    }
}

void ConcurrencyLimiter::grantWaiting(MonoTime now)
{
    for (WaiterQueue &queue : m_queues) {
        while (!queue.empty() && m_inFlight < m_limits.maxInFlight) {
            ++m_inFlight;
            ++m_counters.granted;
            finish(queue, queue.begin(), WaitResult::Granted, now);
        }
    }
}

void ConcurrencyLimiter::finish(WaiterQueue &queue, WaiterQueue::iterator waiter, WaitResult result, MonoTime now)
{
    const Nanoseconds waited = now - waiter->second.enqueuedAt;
    m_counters.totalWait += waited;
    switch (result) {
    case WaitResult::Granted:
        ++m_counters.grantedAfterWait;
        break;
    case WaitResult::TimedOut:
        ++m_counters.timedOut;
        break;
    case WaitResult::Cancelled:
        ++m_counters.cancelled;
        break;
    }
    if (waiter->second.onOutcome)
        m_deliveries.push_back({std::move(waiter->second.onOutcome), {result, waited}});
    queue.erase(waiter);
    --m_queued;
}

void ConcurrencyLimiter::dispatch()
{
    // The outermost call delivers; a call made from inside a callback only enqueues, so
    // callbacks that re-enter do not recurse.
    if (m_dispatching)
        return;
    m_dispatching = true;
    while (!m_deliveries.empty()) {
        Delivery delivery = std::move(m_deliveries.front());
        m_deliveries.pop_front();
        delivery.callback(delivery.outcome);
    }
    m_dispatching = false;
}

} // namespace sluice::policy
