#include "policy/responsecache.h"

namespace sluice::policy {

struct ResponseCache::Entry {
    std::string key;
    std::string_view nameSpace; // views the key of its Namespace record, which outlives it
    Namespace *owner = nullptr;
    std::size_t hash = 0;
    CacheValue value;
    MonoTime expiresAt{};
    std::size_t sizeBytes = 0;
    Entry *lruPrev = nullptr;
    Entry *lruNext = nullptr;
    Entry *nsPrev = nullptr;
    Entry *nsNext = nullptr;
};

namespace {

MonoTime saturatingAdd(MonoTime time, Nanoseconds duration)
{
    if (duration > MonoTime::max() - time)
        return MonoTime::max();
    return time + duration;
}

} // namespace

CacheStats &CacheStats::operator+=(const CacheStats &other)
{
    hits += other.hits;
    misses += other.misses;
    expirations += other.expirations;
    evictions += other.evictions;
    insertions += other.insertions;
    replacements += other.replacements;
    rejected += other.rejected;
    removed += other.removed;
    entries += other.entries;
    sizeBytes += other.sizeBytes;
    return *this;
}

std::size_t ResponseCache::EntryHash::operator()(const std::unique_ptr<Entry> &entry) const
{
    return entry->hash;
}

bool ResponseCache::EntryEqual::operator()(const std::unique_ptr<Entry> &a, const std::unique_ptr<Entry> &b) const
{
    return a->nameSpace == b->nameSpace && a->key == b->key;
}

bool ResponseCache::EntryEqual::operator()(const LookupKey &a, const std::unique_ptr<Entry> &b) const
{
    return a.hash == b->hash && a.key == b->key && a.nameSpace == b->nameSpace;
}

ResponseCache::ResponseCache(CacheLimits limits, const Clock &clock) : m_limits(limits), m_clock(clock) {}

ResponseCache::~ResponseCache() = default;

std::size_t ResponseCache::keyHash(std::string_view nameSpace, std::string_view key)
{
    const std::size_t a = std::hash<std::string_view>{}(nameSpace);
    const std::size_t b = std::hash<std::string_view>{}(key);
    return a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));
}

ResponseCache::Entry *ResponseCache::find(std::size_t hash, std::string_view nameSpace, std::string_view key) const
{
    const auto it = m_entries.find(LookupKey{nameSpace, key, hash});
    return it == m_entries.end() ? nullptr : it->get();
}

void ResponseCache::unlinkLru(Entry *entry)
{
    (entry->lruPrev ? entry->lruPrev->lruNext : m_lruHead) = entry->lruNext;
    (entry->lruNext ? entry->lruNext->lruPrev : m_lruTail) = entry->lruPrev;
    entry->lruPrev = entry->lruNext = nullptr;
}

void ResponseCache::linkFront(Entry *entry)
{
    entry->lruPrev = nullptr;
    entry->lruNext = m_lruHead;
    (m_lruHead ? m_lruHead->lruPrev : m_lruTail) = entry;
    m_lruHead = entry;
}

void ResponseCache::moveToFront(Entry *entry)
{
    if (m_lruHead == entry)
        return;
    unlinkLru(entry);
    linkFront(entry);
}

void ResponseCache::remove(Entry *entry)
{
    unlinkLru(entry);
    Namespace *owner = entry->owner;
    (entry->nsPrev ? entry->nsPrev->nsNext : owner->head) = entry->nsNext;
    if (entry->nsNext)
        entry->nsNext->nsPrev = entry->nsPrev;
    owner->entries -= 1;
    owner->sizeBytes -= entry->sizeBytes;
    m_stats.sizeBytes -= entry->sizeBytes;

    // Find the node before touching the namespace record: the entry's
    // nameSpace view points into that record's key.
    const std::string_view nameSpace = entry->nameSpace;
    const auto it = m_entries.find(LookupKey{nameSpace, entry->key, entry->hash});
    m_entries.erase(it);
    if (owner->entries == 0)
        m_namespaces.erase(m_namespaces.find(nameSpace));
}

void ResponseCache::evictToFit()
{
    while (m_lruTail && (m_entries.size() > m_limits.maxEntries || m_stats.sizeBytes > m_limits.maxBytes)) {
        remove(m_lruTail);
        ++m_stats.evictions;
    }
}

bool ResponseCache::putHashed(std::size_t hash, std::string_view nameSpace, std::string key, CacheValue value,
                              std::optional<Nanoseconds> ttl)
{
    const Nanoseconds timeToLive = ttl.value_or(m_limits.defaultTtl);
    const std::size_t sizeBytes = value ? entrySizeBytes(nameSpace, key, value->size()) : 0;
    if (!value || timeToLive <= Nanoseconds::zero() || sizeBytes > m_limits.maxEntryBytes
        || sizeBytes > m_limits.maxBytes || m_limits.maxEntries == 0) {
        ++m_stats.rejected;
        return false;
    }
    const MonoTime expiresAt = saturatingAdd(m_clock.now(), timeToLive);

    if (const auto it = m_entries.find(LookupKey{nameSpace, key, hash}); it != m_entries.end()) {
        Entry *entry = it->get();
        entry->owner->sizeBytes = entry->owner->sizeBytes - entry->sizeBytes + sizeBytes;
        m_stats.sizeBytes = m_stats.sizeBytes - entry->sizeBytes + sizeBytes;
        entry->sizeBytes = sizeBytes;
        entry->value = std::move(value);
        entry->expiresAt = expiresAt;
        moveToFront(entry);
        ++m_stats.insertions;
        ++m_stats.replacements;
        evictToFit();
        return true;
    }

    auto owner = m_namespaces.find(nameSpace);
    if (owner == m_namespaces.end())
        owner = m_namespaces.emplace(std::string(nameSpace), Namespace{}).first;

    auto entry = std::make_unique<Entry>();
    entry->key = std::move(key);
    entry->nameSpace = owner->first;
    entry->owner = &owner->second;
    entry->hash = hash;
    entry->value = std::move(value);
    entry->expiresAt = expiresAt;
    entry->sizeBytes = sizeBytes;
    entry->nsNext = owner->second.head;
    if (entry->nsNext)
        entry->nsNext->nsPrev = entry.get();
    owner->second.head = entry.get();
    owner->second.entries += 1;
    owner->second.sizeBytes += sizeBytes;

    Entry *raw = entry.get();
    m_entries.insert(std::move(entry));
    linkFront(raw);
    m_stats.sizeBytes += sizeBytes;
    ++m_stats.insertions;
    evictToFit();
    return true;
}

CacheValue ResponseCache::getHashed(std::size_t hash, std::string_view nameSpace, std::string_view key)
{
    Entry *entry = find(hash, nameSpace, key);
    if (!entry) {
        ++m_stats.misses;
        return {};
    }
    if (m_clock.now() >= entry->expiresAt) {
        remove(entry);
        ++m_stats.expirations;
        ++m_stats.misses;
        return {};
    }
    moveToFront(entry);
    ++m_stats.hits;
    return entry->value;
}

bool ResponseCache::eraseHashed(std::size_t hash, std::string_view nameSpace, std::string_view key)
{
    Entry *entry = find(hash, nameSpace, key);
    if (!entry)
        return false;
    remove(entry);
    ++m_stats.removed;
    return true;
}

std::size_t ResponseCache::flush(std::string_view nameSpace)
{
    const auto owner = m_namespaces.find(nameSpace);
    if (owner == m_namespaces.end())
        return 0;
    const std::size_t count = owner->second.entries;
    // The last remove() erases the record itself: count down, never test the record after it.
    for (std::size_t left = count; left > 0; --left)
        remove(owner->second.head);
    m_stats.removed += count;
    return count;
}

std::size_t ResponseCache::flushAll()
{
    const std::size_t count = m_entries.size();
    m_entries.clear();
    m_namespaces.clear();
    m_lruHead = m_lruTail = nullptr;
    m_stats.sizeBytes = 0;
    m_stats.removed += count;
    return count;
}

std::size_t ResponseCache::removeWhere(const std::function<bool(const Entry &)> &predicate)
{
    std::size_t count = 0;
    for (Entry *entry = m_lruHead; entry;) {
        Entry *next = entry->lruNext;
        if (predicate(*entry)) {
            remove(entry);
            ++count;
        }
        entry = next;
    }
    return count;
}

std::size_t ResponseCache::purgeExpired()
{
    const MonoTime now = m_clock.now();
    const std::size_t count = removeWhere([now](const Entry &entry) { return now >= entry.expiresAt; });
    m_stats.expirations += count;
    return count;
}

void ResponseCache::setLimits(CacheLimits limits)
{
    const bool entryBoundLowered = limits.maxEntryBytes < m_limits.maxEntryBytes;
    m_limits = limits;
    if (entryBoundLowered) {
        const std::size_t maxEntryBytes = limits.maxEntryBytes;
        m_stats.evictions += removeWhere([maxEntryBytes](const Entry &entry) { return entry.sizeBytes > maxEntryBytes; });
    }
    evictToFit();
}

CacheStats ResponseCache::stats() const
{
    CacheStats result = m_stats;
    result.entries = m_entries.size();
    return result;
}

CacheNamespaceUsage ResponseCache::namespaceUsage(std::string_view nameSpace) const
{
    const auto owner = m_namespaces.find(nameSpace);
    if (owner == m_namespaces.end())
        return {};
    return {owner->second.entries, owner->second.sizeBytes};
}

std::vector<std::string> ResponseCache::namespaces() const
{
    std::vector<std::string> names;
    names.reserve(m_namespaces.size());
    for (const auto &[name, usage] : m_namespaces)
        names.push_back(name);
    return names;
}

} // namespace sluice::policy
