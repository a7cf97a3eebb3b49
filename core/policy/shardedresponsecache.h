#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/clock.h"
#include "policy/responsecache.h"

namespace sluice::policy {

// ResponseCache split into independent shards, each a ResponseCache behind
// its own mutex; (nameSpace, key) picks the shard, so threads touching
// different keys rarely wait on each other. Same semantics as ResponseCache
// within a shard; across shards LRU order is per shard, not global.
//
// Limits: the total maxEntries and maxBytes are divided among the shards
// (the remainder going one unit each to the first shards), so the sums equal
// the totals and a hot shard may evict while others have room. maxEntryBytes
// and defaultTtl apply to every shard unchanged; an entry larger than its
// shard's share of maxBytes is rejected. Keep maxEntries well above the
// shard count, or some shards cache nothing.
//
// Thread-safe: every member may be called from any thread. Whole-cache calls
// (flush, stats, setLimits, ...) lock one shard at a time, so they are not a
// single atomic snapshot while other threads keep writing.
class ShardedResponseCache {
public:
    static constexpr std::size_t kDefaultShardCount = 16;

    // `shardCount` is at least 1; `clock` must outlive the cache and be safe
    // to read from every calling thread.
    ShardedResponseCache(CacheLimits totalLimits, const Clock &clock,
                         std::size_t shardCount = kDefaultShardCount);
    ~ShardedResponseCache();
    ShardedResponseCache(const ShardedResponseCache &) = delete;
    ShardedResponseCache &operator=(const ShardedResponseCache &) = delete;

    bool put(std::string_view nameSpace, std::string key, CacheValue value,
             std::optional<Nanoseconds> ttl = {});
    CacheValue get(std::string_view nameSpace, std::string_view key);
    bool erase(std::string_view nameSpace, std::string_view key);
    std::size_t flush(std::string_view nameSpace);
    std::size_t flushAll();
    std::size_t purgeExpired();

    // Splits `totalLimits` as described above and applies each share live.
    void setLimits(CacheLimits totalLimits);
    CacheLimits limits() const;
    // The share shard `index` (< shardCount()) gets of `totalLimits`.
    static CacheLimits shardLimits(const CacheLimits &totalLimits, std::size_t shardCount, std::size_t index);

    std::size_t shardCount() const { return m_shards.size(); }
    // Sums over all shards.
    CacheStats stats() const;
    CacheNamespaceUsage namespaceUsage(std::string_view nameSpace) const;

private:
    struct Shard;
    Shard &shardFor(std::size_t hash) const;

    std::vector<std::unique_ptr<Shard>> m_shards;
    mutable std::mutex m_limitsMutex;
    CacheLimits m_totalLimits;
};

} // namespace sluice::policy
