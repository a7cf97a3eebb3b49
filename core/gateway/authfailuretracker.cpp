#include "gateway/authfailuretracker.h"

#include <algorithm>

namespace sluice::gateway {

AuthFailureTracker::AuthFailureTracker(const policy::Clock &clock, std::size_t maxAddresses)
    : m_clock(clock), m_maxAddresses(std::max<std::size_t>(1, maxAddresses))
{
}

std::chrono::milliseconds AuthFailureTracker::delayAfter(int previousFailures)
{
    if (previousFailures <= 0)
        return std::chrono::milliseconds{0};
    // 100 ms << 6 already exceeds the cap; stopping there keeps the shift small.
    const int doublings = std::min(previousFailures - 1, 16);
    return std::min(kBaseDelay * (std::int64_t{1} << doublings), std::chrono::milliseconds(kMaxDelay));
}

bool AuthFailureTracker::isDecayed(const Entry &entry, policy::MonoTime now) const
{
    return now - entry.lastFailureAt >= kDecay;
}

std::chrono::milliseconds AuthFailureTracker::recordFailure(const QString &address)
{
    const policy::MonoTime now = m_clock.now();
    std::lock_guard lock(m_mutex);

    Entry entry;
    entry.address = address;
    if (const auto found = m_index.constFind(address); found != m_index.constEnd()) {
        entry = std::move(**found);
        m_order.erase(*found);
        m_index.erase(found);
        if (isDecayed(entry, now))
            entry.failures = 0;
    }
    // The list is ordered by last failure, so decayed entries sit at the front.
    while (!m_order.empty() && (isDecayed(m_order.front(), now) || m_order.size() >= m_maxAddresses)) {
        m_index.remove(m_order.front().address);
        m_order.pop_front();
    }

    entry.lastDelay = delayAfter(entry.failures);
    entry.failures = entry.failures < 1'000'000 ? entry.failures + 1 : entry.failures;
    entry.lastFailureAt = now;
    const std::chrono::milliseconds delay = entry.lastDelay;
    m_order.push_back(std::move(entry));
    m_index.insert(address, std::prev(m_order.end()));
    return delay;
}

void AuthFailureTracker::recordSuccess(const QString &address)
{
    std::lock_guard lock(m_mutex);
    if (const auto found = m_index.constFind(address); found != m_index.constEnd()) {
        m_order.erase(*found);
        m_index.erase(found);
    }
}

const AuthFailureTracker::Entry *AuthFailureTracker::findLive(const QString &address) const
{
    const auto found = m_index.constFind(address);
    if (found == m_index.constEnd() || isDecayed(**found, m_clock.now()))
        return nullptr;
    return &**found;
}

int AuthFailureTracker::failureCount(const QString &address) const
{
    std::lock_guard lock(m_mutex);
    const Entry *entry = findLive(address);
    return entry ? entry->failures : 0;
}

std::chrono::milliseconds AuthFailureTracker::lastDelay(const QString &address) const
{
    std::lock_guard lock(m_mutex);
    const Entry *entry = findLive(address);
    return entry ? entry->lastDelay : std::chrono::milliseconds{0};
}

std::size_t AuthFailureTracker::trackedAddresses() const
{
    std::lock_guard lock(m_mutex);
    return m_order.size();
}

} // namespace sluice::gateway
