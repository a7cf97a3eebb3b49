#pragma once

#include <cstdint>
#include <limits>

#include "policy/clock.h"
#include "policy/ratelimitdecision.h"
#include "policy/raterule.h"

namespace sluice::policy {

// The generic cell rate algorithm for one rule, applied to per-key state that
// is a single int64: the theoretical arrival time (TAT, nanoseconds on the
// Clock's time line). The limiter itself holds only the rule's constants.
//
// With emission interval T = period / limit (rounded UP to a whole
// nanosecond, so the limiter never admits more than the rule) and tolerance
// tau = burst * T, a request of `cost` units at `now` is admitted iff
//   max(tat, now) + cost * T - now <= tau
// and then tat becomes max(tat, now) + cost * T. The bucket is full when
// tat <= now. Over any interval of length W at most burst + floor(W / T) units
// are admitted. T and tau are capped at 2^61 ns (~73 years), tau by lowering
// burst.
//
// A cost of 0 is a query that always succeeds; a negative cost counts as 0.
// Fresh per-key state is kFreshState (any value <= now means "full").
//
// Stateless apart from the rule; const methods are thread-safe, but the
// caller owns the per-key state and must serialise access to it.
class GcraLimiter {
public:
    static constexpr std::int64_t kFreshState = std::numeric_limits<std::int64_t>::min();

    // Precondition: rule.isValid(); an invalid rule is sanitised (limit and
    // burst raised to 1, period to 1 ns). rule.algorithm is ignored.
    explicit GcraLimiter(const RateRule &rule);

    // Decides and, when allowed, charges `cost` to `tat`.
    RateLimitDecision decide(std::int64_t &tat, MonoTime now, std::int64_t cost = 1) const;
    // The decision decide() would take, without charging. With cost 0 (the
    // default) it reports the current remaining and resetAfter.
    RateLimitDecision peek(std::int64_t tat, MonoTime now, std::int64_t cost = 0) const;

    // Charges `units` unconditionally: the key may go into debt beyond its
    // burst and is then refused until it has paid it off. Saturates.
    void charge(std::int64_t &tat, MonoTime now, std::int64_t units) const;
    // Gives `units` back, never beyond a full bucket (tat never below now).
    void refund(std::int64_t &tat, MonoTime now, std::int64_t units) const;
    // Re-expresses state built under `previous` in this limiter's rule: the
    // units still owed are kept, clamped to this burst (so lowering a limit
    // never locks a key out for longer than one full burst of the new rule).
    void rescale(std::int64_t &tat, MonoTime now, const GcraLimiter &previous) const;

    // State that differs from a full bucket (dropping it would forgive debt).
    static bool isBusy(std::int64_t tat, MonoTime now) { return tat > now.count(); }

    std::int64_t limit() const { return m_limit; }
    std::int64_t burst() const { return m_burst; }
    Nanoseconds emissionInterval() const { return Nanoseconds(m_intervalNs); }
    Nanoseconds tolerance() const { return Nanoseconds(m_toleranceNs); }

private:
    RateLimitDecision describe(std::int64_t tatAfter, std::int64_t nowNs) const;

    std::int64_t m_limit;
    std::int64_t m_burst;
    std::int64_t m_intervalNs;
    std::int64_t m_toleranceNs;
};

} // namespace sluice::policy
