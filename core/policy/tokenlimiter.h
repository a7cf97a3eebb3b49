#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "policy/clock.h"
#include "policy/gcralimiter.h"
#include "policy/keyedstore.h"
#include "policy/ratelimitdecision.h"
#include "policy/raterule.h"

namespace sluice::policy {

// Tokens held against a key between admission and the provider's usage
// report. Open only when the admission was allowed; reconcile() or cancel()
// closes it, after which both are no-ops (a reservation settles once).
struct TokenReservation {
    std::string key;
    std::int64_t amountTokens = 0;
    bool open = false;
};

struct TokenAdmission {
    RateLimitDecision decision;
    TokenReservation reservation;
};

// Tokens per period (TPM) per key, on GCRA. An estimate is RESERVED at
// admission, so concurrent requests and long streams cannot overshoot the
// limit between admission and the usage report, and later RECONCILED with the
// true count in both directions:
// - actual > reserved: the extra is charged unconditionally; the key may go
//   into debt past its burst and is refused until the debt is paid off.
// - actual < reserved, or cancel(): the surplus is refunded, but a refund
//   never makes the bucket hold more than its burst.
// An estimate above the burst is refused with neverFits and reserves nothing.
//
// Reconciling after the key was dropped (evicted by maxKeys or expired;
// a key with an open reservation is usually busy and so evicted last): an
// extra charge lands on a fresh, full bucket for that key (the tokens were
// really used, so the key pays for them); a refund is discarded, since a
// fresh bucket is already full. Either way nothing is lost beyond one burst.
//
// Not thread-safe.
class TokenLimiter {
public:
    // rule.limit tokens per rule.period, rule.effectiveBurst() at once.
    // rule.algorithm is ignored (always GCRA: refunds need it). `clock` must
    // outlive the limiter.
    TokenLimiter(RateRule rule, KeyedLimits limits, const Clock &clock);

    // Admits and reserves `estimatedTokens` (>= 0) on `key`, or refuses.
    TokenAdmission reserve(std::string_view key, std::int64_t estimatedTokens);
    // Settles `reservation` against the true usage (`actualTokens` >= 0) and
    // closes it.
    void reconcile(TokenReservation &reservation, std::int64_t actualTokens);
    // Refunds the whole reservation (the request never reached the upstream)
    // and closes it.
    void cancel(TokenReservation &reservation);

    // The decision reserve() would take now for `tokens`; changes nothing.
    // With 0 tokens (the default) it reports the key's current remaining and
    // resetAfter, e.g. for x-ratelimit-*-tokens headers.
    RateLimitDecision peek(std::string_view key, std::int64_t tokens = 0) const;

    // Live tuning: tokens owed are kept, clamped to the new burst (debt from
    // overcharges included). Open reservations stay valid.
    void setRule(RateRule rule);
    const RateRule &rule() const { return m_rule; }

    std::size_t purgeIdle();
    std::size_t keys() const { return m_store.size(); }
    const KeyedStoreCounters &counters() const { return m_store.counters(); }

private:
    struct Bucket {
        std::int64_t tat = GcraLimiter::kFreshState;
    };
    struct Busy {
        bool operator()(const Bucket &bucket, MonoTime now) const { return GcraLimiter::isBusy(bucket.tat, now); }
    };

    const Clock &m_clock;
    RateRule m_rule;
    GcraLimiter m_gcra;
    KeyedStore<Bucket> m_store;
};

} // namespace sluice::policy
