#pragma once

#include <cstdint>
#include <limits>

#include "policy/clock.h"
#include "policy/ratelimitdecision.h"
#include "policy/raterule.h"

namespace sluice::policy {

// Per-key state of a SlidingWindowLimiter: the counts of the current fixed
// window and of the one before it.
struct SlidingWindowState {
    // floor(now / period) of the current window; the minimum means "fresh".
    std::int64_t windowIndex = std::numeric_limits<std::int64_t>::min();
    std::int64_t previousCount = 0;
    std::int64_t currentCount = 0;
};

// The sliding-window counter (Cloudflare style) for one rule. Time is cut
// into fixed windows [i * period, (i + 1) * period) on the Clock's time line;
// at elapsed time e into the current window the estimated count is
//   previousCount * (period - e) / period + currentCount
// and a request of `cost` units is admitted iff estimate + cost <= limit
// (computed exactly in integers). The rule's burst is not used; period is
// capped at 2^61 ns (~73 years).
// resetAfter is the time until the estimate falls to 0 (the end of the next
// window if the current one has counts, else the end of this one).
//
// A cost of 0 is a query that always succeeds; a negative cost counts as 0.
// A `now` earlier than the state's window (a clock read out of order) counts
// as the start of that window.
//
// Stateless apart from the rule; const methods are thread-safe, but the
// caller owns the per-key state and must serialise access to it.
class SlidingWindowLimiter {
public:
    // Precondition: rule.isValid(); an invalid rule is sanitised (limit
    // raised to 1, period to 1 ns). rule.algorithm and rule.burst are ignored.
    explicit SlidingWindowLimiter(const RateRule &rule);

    // Decides and, when allowed, counts `cost` in the current window.
    RateLimitDecision decide(SlidingWindowState &state, MonoTime now, std::int64_t cost = 1) const;
    // The decision decide() would take, without counting. With cost 0 (the
    // default) it reports the current remaining and resetAfter.
    RateLimitDecision peek(SlidingWindowState state, MonoTime now, std::int64_t cost = 0) const;

    // State whose estimate is not yet 0 (dropping it would forget counts).
    bool isBusy(const SlidingWindowState &state, MonoTime now) const;

    std::int64_t limit() const { return m_limit; }
    Nanoseconds period() const { return Nanoseconds(m_periodNs); }

private:
    std::int64_t m_limit;
    std::int64_t m_periodNs;
};

} // namespace sluice::policy
