#pragma once

#include <cstdint>

#include "policy/clock.h"

namespace sluice::policy {

// What one rate-limit decision tells the gateway, already in the units of the
// HTTP answer it builds (429 + Retry-After + x-ratelimit-*).
struct RateLimitDecision {
    // The request (with its cost) was admitted and has been charged.
    bool allowed = false;
    // The rule's headline limit: units per period for rate limiters, the most
    // concurrent leases for ParallelLimiter. Fills x-ratelimit-limit-*.
    std::int64_t limit = 0;
    // Whole units that could still be admitted at this instant, after this
    // decision (0 when the key is in debt). Fills x-ratelimit-remaining-*.
    std::int64_t remaining = 0;
    // Time from now until the key is fully replenished if nothing more
    // arrives (0 when it already is). Fills x-ratelimit-reset-*.
    Nanoseconds resetAfter{0};
    // 0 when allowed. Otherwise the time from now until this same request
    // (same key, same cost) would be admitted if nothing else arrives
    // meanwhile: retrying at exactly now + retryAfter is admitted, 1 ns
    // earlier is not. kRetryNever when neverFits. Fills Retry-After
    // (round up to whole seconds there).
    Nanoseconds retryAfter{0};
    // The cost exceeds what the rule could ever admit at once (e.g. a
    // 50 000-token estimate against a 40 000-token burst): retrying cannot
    // help, answer 400/429 with a precise message. Implies !allowed.
    bool neverFits = false;
};

// retryAfter of a decision that can never be admitted. Check neverFits before
// doing arithmetic with retryAfter.
inline constexpr Nanoseconds kRetryNever = Nanoseconds::max();

} // namespace sluice::policy
