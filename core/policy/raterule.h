#pragma once

#include <chrono>
#include <cstdint>

#include "policy/clock.h"

namespace sluice::policy {

enum class RateAlgorithm {
    // Generic cell rate algorithm: a token bucket kept as one timestamp.
    // Smooth, honours burst, exact retry times, supports refunds.
    Gcra,
    // Two fixed windows weighted by overlap (Cloudflare style). Ignores burst:
    // at most `limit` units in any window of `period`, as estimated.
    SlidingWindow,
};

// `limit` units per `period`, of which up to `burst` may arrive at once.
// A unit is a request for request limits and a token for token limits.
struct RateRule {
    RateAlgorithm algorithm = RateAlgorithm::Gcra;
    // Units admitted per period on average. Must be >= 1.
    std::int64_t limit = 60;
    // Must be > 0.
    Nanoseconds period = std::chrono::minutes(1);
    // Units that may arrive at once (bucket capacity). 0 means `limit`.
    // Must be >= 0. Used by Gcra only.
    std::int64_t burst = 0;

    std::int64_t effectiveBurst() const { return burst > 0 ? burst : limit; }
    bool isValid() const { return limit >= 1 && period > Nanoseconds::zero() && burst >= 0; }

    friend bool operator==(const RateRule &, const RateRule &) = default;
};

} // namespace sluice::policy
