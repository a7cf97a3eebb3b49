#include "policy/shardedratelimiter.h"

#include <functional>

namespace sluice::policy {

ShardedRateLimiter::ShardedRateLimiter(RateRule rule, KeyedLimits limits, const Clock &clock,
                                       std::size_t shardCount)
{
    shardCount = shardCount < 1 ? 1 : shardCount;
    const KeyedLimits perShard = shardLimits(limits, shardCount);
    m_shards.reserve(shardCount);
    for (std::size_t i = 0; i < shardCount; ++i)
        m_shards.push_back(std::make_unique<Shard>(rule, perShard, clock));
}

ShardedRateLimiter::~ShardedRateLimiter() = default;

KeyedLimits ShardedRateLimiter::shardLimits(KeyedLimits limits, std::size_t shardCount)
{
    limits.maxKeys = (limits.maxKeys + shardCount - 1) / shardCount;
    return limits;
}

std::size_t ShardedRateLimiter::shardOf(std::string_view key) const
{
    // The shards' hash maps use the same hash; taking the high bits of a
    // remixed value keeps shard choice independent of bucket choice.
    const std::uint64_t mixed = std::uint64_t(std::hash<std::string_view>{}(key)) * 0x9E3779B97F4A7C15ull;
    return std::size_t((mixed >> 32) % m_shards.size());
}

RateLimitDecision ShardedRateLimiter::decide(std::string_view key, std::int64_t cost)
{
    Shard &shard = *m_shards[shardOf(key)];
    const std::lock_guard lock(shard.mutex);
    return shard.limiter.decide(key, cost);
}

RateLimitDecision ShardedRateLimiter::peek(std::string_view key, std::int64_t cost) const
{
    const Shard &shard = *m_shards[shardOf(key)];
    const std::lock_guard lock(shard.mutex);
    return shard.limiter.peek(key, cost);
}

void ShardedRateLimiter::setRule(RateRule rule)
{
    for (auto &shard : m_shards) {
        const std::lock_guard lock(shard->mutex);
        shard->limiter.setRule(rule);
    }
}

RateRule ShardedRateLimiter::rule() const
{
    const std::lock_guard lock(m_shards.front()->mutex);
    return m_shards.front()->limiter.rule();
}

void ShardedRateLimiter::setLimits(KeyedLimits limits)
{
    const KeyedLimits perShard = shardLimits(limits, m_shards.size());
    for (auto &shard : m_shards) {
        const std::lock_guard lock(shard->mutex);
        shard->limiter.setLimits(perShard);
    }
}

std::size_t ShardedRateLimiter::purgeIdle()
{
    std::size_t dropped = 0;
    for (auto &shard : m_shards) {
        const std::lock_guard lock(shard->mutex);
        dropped += shard->limiter.purgeIdle();
    }
    return dropped;
}

std::size_t ShardedRateLimiter::keys() const
{
    std::size_t total = 0;
    for (const auto &shard : m_shards) {
        const std::lock_guard lock(shard->mutex);
        total += shard->limiter.keys();
    }
    return total;
}

KeyedStoreCounters ShardedRateLimiter::counters() const
{
    KeyedStoreCounters total;
    for (const auto &shard : m_shards) {
        const std::lock_guard lock(shard->mutex);
        total += shard->limiter.counters();
    }
    return total;
}

} // namespace sluice::policy
