#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "policy/clock.h"
#include "policy/keyedstore.h"
#include "policy/ratelimitdecision.h"

namespace sluice::policy {

// At most maxParallel requests in flight per key: acquire() takes a lease,
// release() gives it back.
//
// Decisions: limit = maxParallel; remaining = leases still free after this
// decision; resetAfter = 0 (leases end on release, not with time);
// retryAfter = 0 when allowed, else retryAfterHint (there is no exact time);
// neverFits when maxParallel < 1 (the key is closed).
//
// Memory: a key with leases outstanding is pinned in the store, so it is
// never evicted by maxKeys nor expired. If every held key has leases, a new
// key grows the store past maxKeys (counted in counters().overflows); memory
// is then bounded by the number of requests in flight, which the gateway's
// concurrency limiter bounds. Keys without leases are kept LRU / idle-expired
// only to avoid re-allocating them on every request.
//
// Not thread-safe.
class ParallelLimiter {
public:
    // `clock` must outlive the limiter.
    ParallelLimiter(std::int64_t maxParallel, KeyedLimits limits, const Clock &clock,
                    Nanoseconds retryAfterHint = std::chrono::seconds(1));

    RateLimitDecision acquire(std::string_view key);
    // Returns false (and changes nothing) when `key` holds no lease: a bug in
    // the caller, counted in unmatchedReleases().
    bool release(std::string_view key);

    // Leases outstanding on `key`.
    std::int64_t active(std::string_view key) const;

    // Live tuning. Leases already held stay held; a lowered limit refuses new
    // ones until enough are released.
    void setMaxParallel(std::int64_t maxParallel) { m_maxParallel = maxParallel; }
    std::int64_t maxParallel() const { return m_maxParallel; }

    std::size_t purgeIdle();
    std::size_t keys() const { return m_store.size(); }
    const KeyedStoreCounters &counters() const { return m_store.counters(); }
    std::uint64_t unmatchedReleases() const { return m_unmatchedReleases; }

private:
    const Clock &m_clock;
    std::int64_t m_maxParallel;
    Nanoseconds m_retryAfterHint;
    std::uint64_t m_unmatchedReleases = 0;
    KeyedStore<std::int64_t> m_store;
};

} // namespace sluice::policy
