#include "policy/tokenlimiter.h"

namespace sluice::policy {

TokenLimiter::TokenLimiter(RateRule rule, KeyedLimits limits, const Clock &clock)
    : m_clock(clock)
    , m_rule(rule)
    , m_gcra(rule)
    , m_store(limits)
{
}

TokenAdmission TokenLimiter::reserve(std::string_view key, std::int64_t estimatedTokens)
{
    const MonoTime now = m_clock.now();
    auto &entry = m_store.obtain(key, now, Busy{});
    TokenAdmission admission;
    admission.decision = m_gcra.decide(entry.state.tat, now, estimatedTokens);
    if (admission.decision.allowed) {
        admission.reservation.key = std::string(key);
        admission.reservation.amountTokens = estimatedTokens > 0 ? estimatedTokens : 0;
        admission.reservation.open = true;
    }
    return admission;
}

void TokenLimiter::reconcile(TokenReservation &reservation, std::int64_t actualTokens)
{
    if (!reservation.open)
        return;
    reservation.open = false;
    const MonoTime now = m_clock.now();
    const std::int64_t extraTokens = (actualTokens > 0 ? actualTokens : 0) - reservation.amountTokens;
    if (extraTokens > 0) {
        m_gcra.charge(m_store.obtain(reservation.key, now, Busy{}).state.tat, now, extraTokens);
    } else if (extraTokens < 0) {
        if (auto *entry = m_store.find(reservation.key))
            m_gcra.refund(entry->state.tat, now, -extraTokens);
    }
}

void TokenLimiter::cancel(TokenReservation &reservation)
{
    reconcile(reservation, 0);
}

RateLimitDecision TokenLimiter::peek(std::string_view key, std::int64_t tokens) const
{
    const auto *entry = m_store.find(key);
    return m_gcra.peek(entry ? entry->state.tat : GcraLimiter::kFreshState, m_clock.now(), tokens);
}

void TokenLimiter::setRule(RateRule rule)
{
    const GcraLimiter previous = m_gcra;
    m_rule = rule;
    m_gcra = GcraLimiter(rule);
    const MonoTime now = m_clock.now();
    m_store.forEach([&](std::string_view, auto &entry) { m_gcra.rescale(entry.state.tat, now, previous); });
}

std::size_t TokenLimiter::purgeIdle()
{
    return m_store.purgeIdle(m_clock.now(), Busy{});
}

} // namespace sluice::policy
