#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "policy/clock.h"

namespace sluice::policy {

// Memory bounds of a keyed limiter.
struct KeyedLimits {
    // Most keys held at once (values < 1 count as 1). Pinned keys are the
    // only way past it; see KeyedStore.
    std::size_t maxKeys = 100'000;
    // A key untouched for this long is dropped (unless busy). Must be > 0.
    Nanoseconds idleTimeout = std::chrono::minutes(10);

    friend bool operator==(const KeyedLimits &, const KeyedLimits &) = default;
};

// Counters since construction; never reset.
struct KeyedStoreCounters {
    // Keys removed to respect maxKeys (busy or not).
    std::uint64_t evictions = 0;
    // The subset of evictions whose state was busy (its debt or counts were
    // forgiven). Non-zero means maxKeys is too small for the traffic.
    std::uint64_t busyEvictions = 0;
    // Keys dropped (or reset on access) after idleTimeout.
    std::uint64_t expirations = 0;
    // Keys inserted beyond maxKeys because every held key was pinned.
    std::uint64_t overflows = 0;

    KeyedStoreCounters &operator+=(const KeyedStoreCounters &other)
    {
        evictions += other.evictions;
        busyEvictions += other.busyEvictions;
        expirations += other.expirations;
        overflows += other.overflows;
        return *this;
    }
};

// A predicate for stores whose states are never busy.
struct NeverBusy {
    template <typename State>
    bool operator()(const State &, MonoTime) const { return false; }
};

// std::string key -> State, bounded by KeyedLimits, in least-recently-used
// order. Lookups take a string_view and do not allocate; inserting a new key
// allocates its node.
//
// "Busy" is decided by the caller's predicate isBusy(state, now): a state
// that differs from a fresh State{} in a way that matters (a GCRA bucket in
// debt, a window with counts). The store handles it like this:
// - Idle expiry: a key untouched for idleTimeout is dropped lazily (an
//   access resets it to State{} and counts an expiration; inserts sweep up
//   to two idle keys; purgeIdle() sweeps all). A busy key is never dropped
//   by expiry: its idle timer restarts and it becomes most recently used.
// - maxKeys: inserting into a full store evicts the least recently used key
//   that is not busy among the kEvictionProbes oldest; if all of those are
//   busy, the oldest is evicted anyway and counted in busyEvictions, so
//   memory stays bounded even under a flood of new keys.
// - Pinned keys (pin()) are outside the LRU order: never expired, never
//   evicted. If every key is pinned, an insert grows the store past maxKeys
//   and counts an overflow; memory is then bounded by what holds the pins.
//
// Costs: obtain() on a held key is one hash lookup plus O(1) list moves;
// purgeIdle() is O(keys it visits). Entry references stay valid until the
// key is removed (evicted, expired, erased, cleared).
//
// Not thread-safe.
template <typename State>
class KeyedStore {
public:
    static constexpr int kEvictionProbes = 8;

    class Entry {
    public:
        State state{};

        bool isPinned() const { return m_pinned; }
        MonoTime lastUsed() const { return m_lastUsed; }

    private:
        friend class KeyedStore;
        Entry *m_newer = nullptr;
        Entry *m_older = nullptr;
        const std::string *m_key = nullptr;
        MonoTime m_lastUsed{};
        bool m_pinned = false;
    };

    explicit KeyedStore(KeyedLimits limits) : m_limits(limits) {}
    KeyedStore(const KeyedStore &) = delete;
    KeyedStore &operator=(const KeyedStore &) = delete;

    // The entry for `key`, created as State{} if absent; it becomes the most
    // recently used. Expires it first if idle (see above). May evict.
    template <typename IsBusy = NeverBusy>
    Entry &obtain(std::string_view key, MonoTime now, IsBusy &&isBusy = {})
    {
        const auto found = m_entries.find(key);
        if (found == m_entries.end())
            return insert(key, now, isBusy);
        Entry &entry = found->second;
        if (!entry.m_pinned) {
            if (now - entry.m_lastUsed >= m_limits.idleTimeout && !isBusy(std::as_const(entry.state), now)) {
                entry.state = State{};
                ++m_counters.expirations;
            }
            touch(entry, now);
        }
        return entry;
    }

    // The entry for `key`, or null. Neither creates, touches nor expires.
    Entry *find(std::string_view key)
    {
        const auto found = m_entries.find(key);
        return found == m_entries.end() ? nullptr : &found->second;
    }
    const Entry *find(std::string_view key) const
    {
        const auto found = m_entries.find(key);
        return found == m_entries.end() ? nullptr : &found->second;
    }

    // Takes the entry out of the LRU order until unpin().
    void pin(Entry &entry)
    {
        if (entry.m_pinned)
            return;
        unlink(entry);
        entry.m_pinned = true;
    }
    // Puts the entry back as the most recently used, its idle timer restarted.
    void unpin(Entry &entry, MonoTime now)
    {
        if (!entry.m_pinned)
            return;
        entry.m_pinned = false;
        linkNewest(entry);
        entry.m_lastUsed = now;
    }

    // Drops every unpinned key idle for idleTimeout (busy ones are re-armed).
    // Returns how many were dropped.
    template <typename IsBusy = NeverBusy>
    std::size_t purgeIdle(MonoTime now, IsBusy &&isBusy = {})
    {
        return expireOldest(now, isBusy, m_entries.size());
    }

    bool erase(std::string_view key)
    {
        const auto found = m_entries.find(key);
        if (found == m_entries.end())
            return false;
        unlink(found->second);
        m_entries.erase(found);
        return true;
    }

    void clear()
    {
        m_entries.clear();
        m_newest = m_oldest = nullptr;
    }

    // Calls f(std::string_view key, Entry &entry) for every key, in no order.
    // f must not insert or remove keys.
    template <typename F>
    void forEach(F &&f)
    {
        for (auto &[key, entry] : m_entries)
            f(std::string_view(key), entry);
    }

    // The keys from least to most recently used, pinned keys left out.
    template <typename F>
    void forEachOldestFirst(F &&f) const
    {
        for (const Entry *entry = m_oldest; entry; entry = entry->m_newer)
            f(std::string_view(*entry->m_key), *entry);
    }

    // A lowered maxKeys takes effect on the next insert of a new key.
    void setLimits(KeyedLimits limits) { m_limits = limits; }
    const KeyedLimits &limits() const { return m_limits; }
    std::size_t size() const { return m_entries.size(); }
    const KeyedStoreCounters &counters() const { return m_counters; }

private:
    struct KeyHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view key) const noexcept { return std::hash<std::string_view>{}(key); }
    };

    template <typename IsBusy>
    Entry &insert(std::string_view key, MonoTime now, IsBusy &isBusy)
    {
        expireOldest(now, isBusy, 2);
        const std::size_t maxKeys = m_limits.maxKeys < 1 ? 1 : m_limits.maxKeys;
        while (m_entries.size() >= maxKeys) {
            if (!m_oldest) {
                ++m_counters.overflows;
                break;
            }
            evictOne(now, isBusy);
        }
        const auto inserted = m_entries.try_emplace(std::string(key)).first;
        Entry &entry = inserted->second;
        entry.m_key = &inserted->first;
        entry.m_lastUsed = now;
        linkNewest(entry);
        return entry;
    }

    template <typename IsBusy>
    void evictOne(MonoTime now, IsBusy &isBusy)
    {
        Entry *victim = nullptr;
        Entry *candidate = m_oldest;
        for (int probe = 0; candidate && probe < kEvictionProbes; ++probe, candidate = candidate->m_newer) {
            if (!isBusy(std::as_const(candidate->state), now)) {
                victim = candidate;
                break;
            }
        }
        ++m_counters.evictions;
        if (!victim) {
            victim = m_oldest;
            ++m_counters.busyEvictions;
        }
        remove(*victim);
    }

    template <typename IsBusy>
    std::size_t expireOldest(MonoTime now, IsBusy &isBusy, std::size_t budget)
    {
        std::size_t dropped = 0;
        for (std::size_t visited = 0; visited < budget && m_oldest; ++visited) {
            Entry &entry = *m_oldest;
            if (now - entry.m_lastUsed < m_limits.idleTimeout)
                break;
            if (isBusy(std::as_const(entry.state), now)) {
                touch(entry, now);
                continue;
            }
            remove(entry);
            ++m_counters.expirations;
            ++dropped;
        }
        return dropped;
    }

    void touch(Entry &entry, MonoTime now)
    {
        entry.m_lastUsed = now;
        if (m_newest == &entry)
            return;
        unlink(entry);
        linkNewest(entry);
    }

    void linkNewest(Entry &entry)
    {
        entry.m_older = m_newest;
        entry.m_newer = nullptr;
        if (m_newest)
            m_newest->m_newer = &entry;
        m_newest = &entry;
        if (!m_oldest)
            m_oldest = &entry;
    }

    void unlink(Entry &entry)
    {
        if (entry.m_pinned)
            return;
        (entry.m_older ? entry.m_older->m_newer : m_oldest) = entry.m_newer;
        (entry.m_newer ? entry.m_newer->m_older : m_newest) = entry.m_older;
        entry.m_newer = entry.m_older = nullptr;
    }

    void remove(Entry &entry)
    {
        unlink(entry);
        m_entries.erase(m_entries.find(std::string_view(*entry.m_key)));
    }

    KeyedLimits m_limits;
    KeyedStoreCounters m_counters;
    std::unordered_map<std::string, Entry, KeyHash, std::equal_to<>> m_entries;
    Entry *m_newest = nullptr;
    Entry *m_oldest = nullptr;
};

} // namespace sluice::policy
