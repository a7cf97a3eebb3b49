#include "policy/gcralimiter.h"

#include <algorithm>

namespace sluice::policy {

namespace {

__extension__ using Int128 = __int128;

constexpr std::int64_t kMaxToleranceNs = std::int64_t{1} << 61;
// Debt is capped so that tat + a full tolerance still fits in an int64.
constexpr std::int64_t kMaxDebtNs = std::int64_t{1} << 61;

std::int64_t saturatingMultiply(std::int64_t a, std::int64_t b)
{
    std::int64_t product = 0;
    if (__builtin_mul_overflow(a, b, &product))
        return std::numeric_limits<std::int64_t>::max();
    return product;
}

} // namespace

GcraLimiter::GcraLimiter(const RateRule &rule)
    : m_limit(std::max<std::int64_t>(rule.limit, 1))
{
    const std::int64_t periodNs = std::max<std::int64_t>(rule.period.count(), 1);
    m_intervalNs = std::clamp<std::int64_t>(periodNs / m_limit + (periodNs % m_limit != 0), 1, kMaxToleranceNs);
    m_burst = std::clamp<std::int64_t>(rule.effectiveBurst(), 1, kMaxToleranceNs / m_intervalNs);
    m_toleranceNs = m_burst * m_intervalNs;
}

RateLimitDecision GcraLimiter::describe(std::int64_t tatAfter, std::int64_t nowNs) const
{
    RateLimitDecision decision;
    decision.limit = m_limit;
    const std::int64_t owedNs = tatAfter > nowNs ? tatAfter - nowNs : 0;
    decision.resetAfter = Nanoseconds(owedNs);
    decision.remaining = owedNs < m_toleranceNs ? (m_toleranceNs - owedNs) / m_intervalNs : 0;
    return decision;
}

RateLimitDecision GcraLimiter::peek(std::int64_t tat, MonoTime now, std::int64_t cost) const
{
    return decide(tat, now, cost); // tat is a copy: nothing is charged
}

RateLimitDecision GcraLimiter::decide(std::int64_t &tat, MonoTime now, std::int64_t cost) const
{
    const std::int64_t nowNs = now.count();
    const std::int64_t base = std::max(tat, nowNs);
    cost = std::max<std::int64_t>(cost, 0);
    if (cost > m_burst) {
        RateLimitDecision decision = describe(base, nowNs);
        decision.neverFits = true;
        decision.retryAfter = kRetryNever;
        return decision;
    }
    // cost <= burst, so the increment is at most tau and base is at most
    // now + kMaxDebtNs: no overflow.
    const std::int64_t newTat = base + cost * m_intervalNs;
    const std::int64_t admitAt = newTat - m_toleranceNs;
    if (admitAt <= nowNs) {
        tat = newTat;
        RateLimitDecision decision = describe(newTat, nowNs);
        decision.allowed = true;
        return decision;
    }
    RateLimitDecision decision = describe(base, nowNs);
    decision.retryAfter = Nanoseconds(admitAt - nowNs);
    return decision;
}

void GcraLimiter::charge(std::int64_t &tat, MonoTime now, std::int64_t units) const
{
    if (units <= 0)
        return;
    const std::int64_t nowNs = now.count();
    const std::int64_t owedNs = tat > nowNs ? tat - nowNs : 0;
    const std::int64_t addedNs = saturatingMultiply(units, m_intervalNs);
    tat = nowNs + (addedNs >= kMaxDebtNs - owedNs ? kMaxDebtNs : owedNs + addedNs);
}

void GcraLimiter::refund(std::int64_t &tat, MonoTime now, std::int64_t units) const
{
    const std::int64_t nowNs = now.count();
    if (units <= 0 || tat <= nowNs)
        return;
    const std::int64_t owedNs = tat - nowNs;
    const std::int64_t returnedNs = saturatingMultiply(units, m_intervalNs);
    tat = returnedNs >= owedNs ? nowNs : tat - returnedNs;
}

void GcraLimiter::rescale(std::int64_t &tat, MonoTime now, const GcraLimiter &previous) const
{
    const std::int64_t nowNs = now.count();
    if (tat <= nowNs)
        return;
    const Int128 owedNs = Int128(tat - nowNs) * m_intervalNs / previous.m_intervalNs;
    tat = nowNs + static_cast<std::int64_t>(std::min<Int128>(owedNs, m_toleranceNs));
}

} // namespace sluice::policy
