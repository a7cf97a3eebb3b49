#include "policy/slidingwindowlimiter.h"

#include <algorithm>

namespace sluice::policy {

namespace {

// limit * period overflows an int64 for large token limits over long periods.
__extension__ using Int128 = __int128;

std::int64_t floorDivide(std::int64_t numerator, std::int64_t denominator)
{
    const std::int64_t quotient = numerator / denominator;
    return (numerator % denominator != 0 && numerator < 0) ? quotient - 1 : quotient;
}

constexpr std::int64_t kFreshIndex = std::numeric_limits<std::int64_t>::min();

} // namespace

SlidingWindowLimiter::SlidingWindowLimiter(const RateRule &rule)
    : m_limit(std::max<std::int64_t>(rule.limit, 1))
    , m_periodNs(std::clamp<std::int64_t>(rule.period.count(), 1, std::int64_t{1} << 61))
{
}

RateLimitDecision SlidingWindowLimiter::peek(SlidingWindowState state, MonoTime now, std::int64_t cost) const
{
    return decide(state, now, cost); // state is a copy: nothing is counted
}

RateLimitDecision SlidingWindowLimiter::decide(SlidingWindowState &state, MonoTime now, std::int64_t cost) const
{
    std::int64_t index = floorDivide(now.count(), m_periodNs);
    if (state.windowIndex != index) {
        if (state.windowIndex != kFreshIndex && index < state.windowIndex) {
            index = state.windowIndex;
        } else {
            const bool adjacent = state.windowIndex != kFreshIndex && index - 1 == state.windowIndex;
            state.previousCount = adjacent ? state.currentCount : 0;
            state.currentCount = 0;
            state.windowIndex = index;
        }
    }
    const std::int64_t windowStartNs = index * m_periodNs;
    const std::int64_t elapsedNs = std::max<std::int64_t>(now.count() - windowStartNs, 0);
    const Int128 period = m_periodNs;
    const Int128 capacity = Int128(m_limit) * period;
    Int128 weighted = Int128(state.previousCount) * (period - elapsedNs) + Int128(state.currentCount) * period;

    cost = std::max<std::int64_t>(cost, 0);
    RateLimitDecision decision;
    decision.limit = m_limit;
    if (cost > m_limit) {
        decision.neverFits = true;
        decision.retryAfter = kRetryNever;
    } else if (weighted + Int128(cost) * period <= capacity) {
        decision.allowed = true;
        state.currentCount += cost;
        weighted += Int128(cost) * period;
    } else {
        // Earliest elapsed time e' at which prev * (P - e') <= (limit - cur - cost) * P,
        // in this window if possible, else in the next one (where cur becomes prev).
        const std::int64_t spareNow = m_limit - state.currentCount - cost;
        std::int64_t admitAtNs = 0;
        if (spareNow >= 0) {
            admitAtNs = windowStartNs + m_periodNs
                - static_cast<std::int64_t>(Int128(spareNow) * period / state.previousCount);
        } else {
            const std::int64_t spareNext = m_limit - cost;
            admitAtNs = windowStartNs + 2 * m_periodNs
                - static_cast<std::int64_t>(std::min<Int128>(Int128(spareNext) * period / state.currentCount, period));
        }
        decision.retryAfter = Nanoseconds(admitAtNs - now.count());
    }

    decision.remaining = weighted >= capacity ? 0 : static_cast<std::int64_t>((capacity - weighted) / period);
    std::int64_t resetAtNs = now.count();
    if (state.currentCount > 0)
        resetAtNs = windowStartNs + 2 * m_periodNs;
    else if (state.previousCount > 0)
        resetAtNs = windowStartNs + m_periodNs;
    decision.resetAfter = Nanoseconds(std::max<std::int64_t>(resetAtNs - now.count(), 0));
    return decision;
}

bool SlidingWindowLimiter::isBusy(const SlidingWindowState &state, MonoTime now) const
{
    if (state.windowIndex == kFreshIndex)
        return false;
    const std::int64_t index = floorDivide(now.count(), m_periodNs);
    if (index <= state.windowIndex)
        return state.currentCount > 0 || state.previousCount > 0;
    return index == state.windowIndex + 1 && state.currentCount > 0;
}

} // namespace sluice::policy
