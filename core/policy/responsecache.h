#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "policy/clock.h"

namespace sluice::policy {

// A cached value. Opaque to the cache; shared so that a hit hands out the
// stored bytes without copying them.
using CacheValue = std::shared_ptr<const std::string>;

// Bounds of a ResponseCache. Every bound may be changed live (setLimits).
struct CacheLimits {
    // Most entries held at once. 0 caches nothing.
    std::size_t maxEntries = 10'000;
    // Most bytes held at once, counted with ResponseCache::entrySizeBytes().
    std::size_t maxBytes = std::size_t{64} << 20;
    // Largest single entry accepted, counted the same way.
    std::size_t maxEntryBytes = std::size_t{1} << 20;
    // Time to live of an entry put without an explicit ttl. <= 0 means such
    // puts are not cached (and count as rejected).
    Nanoseconds defaultTtl = std::chrono::minutes(5);

    friend bool operator==(const CacheLimits &, const CacheLimits &) = default;
};

// Counters since construction (they are never reset) and current occupancy.
// They always add up:
//   entries == insertions - replacements - evictions - expirations - removed
//   hits + misses == number of get() calls
struct CacheStats {
    std::uint64_t hits = 0;
    // Lookups that found nothing, or found an expired entry.
    std::uint64_t misses = 0;
    // Entries removed because their TTL had passed (by get() or purgeExpired()).
    std::uint64_t expirations = 0;
    // Entries removed to respect the limits (LRU order, or a lowered maxEntryBytes).
    std::uint64_t evictions = 0;
    // Accepted puts, replacements included.
    std::uint64_t insertions = 0;
    // Accepted puts that replaced an entry already held under the same key.
    std::uint64_t replacements = 0;
    // Refused puts: too large, null value, or a ttl <= 0.
    std::uint64_t rejected = 0;
    // Entries removed on request: erase(), flush(), flushAll().
    std::uint64_t removed = 0;
    std::size_t entries = 0;
    std::size_t sizeBytes = 0;

    CacheStats &operator+=(const CacheStats &other);
};

struct CacheNamespaceUsage {
    std::size_t entries = 0;
    std::size_t sizeBytes = 0;
};

// An LRU cache of complete responses, bounded by entry count and by bytes,
// with a time to live per entry and independent namespaces (one per tenant,
// route or model, as the gateway chooses). An entry is identified by
// (nameSpace, key); the same key in two namespaces is two entries.
//
// Expiry: an entry put at time t with ttl d is served while now < t + d and
// is gone from t + d on (expired entries are dropped lazily by get() and in
// bulk by purgeExpired()). Eviction always takes the least recently used
// entry, whether or not it has expired.
//
// Costs: get() and a replacing put() are O(1) and get() does not allocate;
// flush(nameSpace) is O(entries in that namespace); purgeExpired() and a
// setLimits() that lowers maxEntryBytes are O(entries).
//
// Not thread-safe: use it from one thread, or use ShardedResponseCache.
class ResponseCache {
public:
    // Fixed cost charged to every entry on top of its bytes: the bookkeeping
    // (node, links, hash slot, shared value control block), rounded up.
    static constexpr std::size_t kEntryOverheadBytes = 128;

    // The size an entry is charged with against maxBytes and maxEntryBytes:
    // nameSpace + key + value bytes + kEntryOverheadBytes.
    static constexpr std::size_t entrySizeBytes(std::string_view nameSpace, std::string_view key,
                                                std::size_t valueBytes)
    {
        return nameSpace.size() + key.size() + valueBytes + kEntryOverheadBytes;
    }

    // `clock` must outlive the cache.
    ResponseCache(CacheLimits limits, const Clock &clock);
    ~ResponseCache();
    ResponseCache(const ResponseCache &) = delete;
    ResponseCache &operator=(const ResponseCache &) = delete;

    // Stores `value` under (nameSpace, key) for `ttl` (limits().defaultTtl
    // when unset), replacing any entry under that key, as the most recently
    // used entry; then evicts LRU entries until the limits hold.
    // Returns false, counts a rejection and leaves the cache unchanged (an
    // older entry under the key stays) when the value is null, the ttl is
    // <= 0, the entry alone exceeds maxEntryBytes or maxBytes, or maxEntries is 0.
    // The namespace is copied only when it is new; `key` is kept as given.
    bool put(std::string_view nameSpace, std::string key, CacheValue value,
             std::optional<Nanoseconds> ttl = {})
    {
        const std::size_t hash = keyHash(nameSpace, key);
        return putHashed(hash, nameSpace, std::move(key), std::move(value), ttl);
    }

    // The value under (nameSpace, key), which becomes the most recently used
    // entry; null when absent or expired (an expired entry is removed).
    CacheValue get(std::string_view nameSpace, std::string_view key)
    {
        return getHashed(keyHash(nameSpace, key), nameSpace, key);
    }

    // Removes one entry; returns whether there was one (expired or not).
    bool erase(std::string_view nameSpace, std::string_view key)
    {
        return eraseHashed(keyHash(nameSpace, key), nameSpace, key);
    }

    // The hash the cache files (nameSpace, key) under, and put/get/erase for
    // callers that already computed it (ShardedResponseCache picks its shard
    // with it). Precondition: hash == keyHash(nameSpace, key).
    static std::size_t keyHash(std::string_view nameSpace, std::string_view key);
    bool putHashed(std::size_t hash, std::string_view nameSpace, std::string key, CacheValue value,
                   std::optional<Nanoseconds> ttl = {});
    CacheValue getHashed(std::size_t hash, std::string_view nameSpace, std::string_view key);
    bool eraseHashed(std::size_t hash, std::string_view nameSpace, std::string_view key);

    // Removes every entry of one namespace / of all namespaces; returns how many.
    std::size_t flush(std::string_view nameSpace);
    std::size_t flushAll();
    // Removes every expired entry; returns how many.
    std::size_t purgeExpired();

    // Takes effect at once: entries beyond the new maxEntries / maxBytes are
    // evicted in LRU order, entries larger than a lowered maxEntryBytes are
    // evicted too. A new defaultTtl applies to entries put from now on; held
    // entries keep the expiry they were given.
    void setLimits(CacheLimits limits);
    const CacheLimits &limits() const { return m_limits; }

    CacheStats stats() const;
    // Zeroes when the namespace holds nothing.
    CacheNamespaceUsage namespaceUsage(std::string_view nameSpace) const;
    // The namespaces that hold at least one entry, in no particular order.
    std::vector<std::string> namespaces() const;

private:
    struct Entry;
    struct Namespace {
        std::size_t entries = 0;
        std::size_t sizeBytes = 0;
        Entry *head = nullptr; // the namespace's entries, linked in no particular order
    };
    struct LookupKey {
        std::string_view nameSpace;
        std::string_view key;
        std::size_t hash;
    };
    struct EntryHash {
        using is_transparent = void;
        std::size_t operator()(const std::unique_ptr<Entry> &entry) const;
        std::size_t operator()(const LookupKey &key) const { return key.hash; }
    };
    struct EntryEqual {
        using is_transparent = void;
        bool operator()(const std::unique_ptr<Entry> &a, const std::unique_ptr<Entry> &b) const;
        bool operator()(const LookupKey &a, const std::unique_ptr<Entry> &b) const;
        bool operator()(const std::unique_ptr<Entry> &a, const LookupKey &b) const { return (*this)(b, a); }
    };
    struct StringHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
    };
    using EntrySet = std::unordered_set<std::unique_ptr<Entry>, EntryHash, EntryEqual>;
    using NamespaceMap = std::unordered_map<std::string, Namespace, StringHash, std::equal_to<>>;

    Entry *find(std::size_t hash, std::string_view nameSpace, std::string_view key) const;
    void remove(Entry *entry);
    void linkFront(Entry *entry);
    void moveToFront(Entry *entry);
    void unlinkLru(Entry *entry);
    void evictToFit();
    std::size_t removeWhere(const std::function<bool(const Entry &)> &predicate);

    CacheLimits m_limits;
    const Clock &m_clock;
    EntrySet m_entries;
    NamespaceMap m_namespaces;
    Entry *m_lruHead = nullptr; // most recently used
    Entry *m_lruTail = nullptr; // least recently used
    CacheStats m_stats;
};

} // namespace sluice::policy
