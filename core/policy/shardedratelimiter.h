#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "policy/clock.h"
#include "policy/keyedratelimiter.h"
#include "policy/keyedstore.h"
#include "policy/ratelimitdecision.h"
#include "policy/raterule.h"

namespace sluice::policy {

// A KeyedRateLimiter split into shards, each behind its own mutex, with a key
// always hashed to the same shard: decisions on one key are exactly those of
// a single KeyedRateLimiter, and threads working on different keys rarely
// contend. maxKeys is divided evenly between the shards (rounded up) and LRU
// order is kept per shard, so eviction is LRU only within a shard.
//
// Thread-safe: every method may be called from any thread. The clock is read
// under the shard's lock (so time never runs backwards for a key) and must be
// safe to read concurrently (SteadyClock is; a ManualClock only while no
// thread advances it).
class ShardedRateLimiter {
public:
    // shardCount < 1 counts as 1. `clock` must outlive the limiter.
    ShardedRateLimiter(RateRule rule, KeyedLimits limits, const Clock &clock, std::size_t shardCount = 16);
    ~ShardedRateLimiter();
    ShardedRateLimiter(const ShardedRateLimiter &) = delete;
    ShardedRateLimiter &operator=(const ShardedRateLimiter &) = delete;

    RateLimitDecision decide(std::string_view key, std::int64_t cost = 1);
    // See KeyedRateLimiter::peek().
    RateLimitDecision peek(std::string_view key, std::int64_t cost = 0) const;

    // Applied shard by shard: a decision racing with it sees the old rule or
    // the new one.
    void setRule(RateRule rule);
    RateRule rule() const;
    void setLimits(KeyedLimits limits);

    std::size_t purgeIdle();
    std::size_t keys() const;
    // Summed over the shards.
    KeyedStoreCounters counters() const;
    std::size_t shardCount() const { return m_shards.size(); }
    // The shard `key` lives in; stable for the limiter's lifetime.
    std::size_t shardOf(std::string_view key) const;

private:
    struct alignas(64) Shard {
        Shard(RateRule rule, KeyedLimits limits, const Clock &clock) : limiter(rule, limits, clock) {}
        mutable std::mutex mutex;
        KeyedRateLimiter limiter;
    };

    static KeyedLimits shardLimits(KeyedLimits limits, std::size_t shardCount);

    std::vector<std::unique_ptr<Shard>> m_shards;
};

} // namespace sluice::policy
