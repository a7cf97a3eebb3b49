#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "policy/clock.h"
#include "policy/gcralimiter.h"
#include "policy/keyedstore.h"
#include "policy/ratelimitdecision.h"
#include "policy/raterule.h"
#include "policy/slidingwindowlimiter.h"

namespace sluice::policy {

// One RateRule applied per key (compose keys with composeRateKey), in memory
// bounded by KeyedLimits. Busy keys are those whose GCRA bucket is not full
// or whose sliding window still has counts; a key that is not busy behaves
// exactly like a fresh one, so idle expiry never changes a decision. See
// KeyedStore for how busy keys meet maxKeys (evicted last, counted).
//
// decide() on a key already held does not allocate.
// Not thread-safe; see ShardedRateLimiter.
class KeyedRateLimiter {
public:
    // `clock` must outlive the limiter. Precondition: rule.isValid() (an
    // invalid rule is sanitised, see GcraLimiter).
    KeyedRateLimiter(RateRule rule, KeyedLimits limits, const Clock &clock);

    // Decides for `cost` units (>= 0) on `key` at clock.now().
    RateLimitDecision decide(std::string_view key, std::int64_t cost = 1);
    // The same at a time the caller read from the clock (e.g. once per batch).
    // `now` must not go backwards across calls.
    RateLimitDecision decide(std::string_view key, std::int64_t cost, MonoTime now);
    // The decision decide() would take now for `cost`; changes nothing.
    // With cost 0 (the default) it reports the key's current remaining and
    // resetAfter, e.g. for response headers.
    RateLimitDecision peek(std::string_view key, std::int64_t cost = 0) const;

    // Live tuning. Keys keep their state: under GCRA the units a key owes are
    // kept and clamped to the new burst; under the sliding window the counts
    // are kept (a new period starts fresh windows). Switching the algorithm
    // starts every key fresh.
    void setRule(RateRule rule);
    const RateRule &rule() const { return m_rule; }

    void setLimits(KeyedLimits limits) { m_store.setLimits(limits); }
    const KeyedLimits &limits() const { return m_store.limits(); }

    // Drops keys idle for idleTimeout; returns how many.
    std::size_t purgeIdle();

    std::size_t keys() const { return m_store.size(); }
    const KeyedStoreCounters &counters() const { return m_store.counters(); }

private:
    struct KeyState {
        std::int64_t tat = GcraLimiter::kFreshState;
        SlidingWindowState window;
    };

    bool isBusy(const KeyState &state, MonoTime now) const;
    RateLimitDecision decideState(KeyState &state, std::int64_t cost, MonoTime now) const;

    const Clock &m_clock;
    RateRule m_rule;
    GcraLimiter m_gcra;
    SlidingWindowLimiter m_window;
    KeyedStore<KeyState> m_store;
};

} // namespace sluice::policy
