#include "policy/parallellimiter.h"

#include <algorithm>

namespace sluice::policy {

ParallelLimiter::ParallelLimiter(std::int64_t maxParallel, KeyedLimits limits, const Clock &clock,
                                 Nanoseconds retryAfterHint)
    : m_clock(clock)
    , m_maxParallel(maxParallel)
    , m_retryAfterHint(retryAfterHint)
    , m_store(limits)
{
}

RateLimitDecision ParallelLimiter::acquire(std::string_view key)
{
    auto &entry = m_store.obtain(key, m_clock.now());
    std::int64_t &leases = entry.state;
    RateLimitDecision decision;
    decision.limit = m_maxParallel;
    if (m_maxParallel < 1) {
        decision.neverFits = true;
        decision.retryAfter = kRetryNever;
    } else if (leases < m_maxParallel) {
        decision.allowed = true;
        if (leases++ == 0)
            m_store.pin(entry);
    } else {
        decision.retryAfter = m_retryAfterHint;
    }
    decision.remaining = std::max<std::int64_t>(m_maxParallel - leases, 0);
    return decision;
}

bool ParallelLimiter::release(std::string_view key)
{
    auto *entry = m_store.find(key);
    if (!entry || entry->state <= 0) {
        ++m_unmatchedReleases;
        return false;
    }
    if (--entry->state == 0)
        m_store.unpin(*entry, m_clock.now());
    return true;
}

std::int64_t ParallelLimiter::active(std::string_view key) const
{
    const auto *entry = m_store.find(key);
    return entry ? entry->state : 0;
}

std::size_t ParallelLimiter::purgeIdle()
{
    return m_store.purgeIdle(m_clock.now());
}

} // namespace sluice::policy
