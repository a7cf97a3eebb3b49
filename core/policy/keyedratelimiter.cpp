#include "policy/keyedratelimiter.h"

namespace sluice::policy {

KeyedRateLimiter::KeyedRateLimiter(RateRule rule, KeyedLimits limits, const Clock &clock)
    : m_clock(clock)
    , m_rule(rule)
    , m_gcra(rule)
    , m_window(rule)
    , m_store(limits)
{
}

bool KeyedRateLimiter::isBusy(const KeyState &state, MonoTime now) const
{
    return m_rule.algorithm == RateAlgorithm::Gcra ? GcraLimiter::isBusy(state.tat, now)
                                                   : m_window.isBusy(state.window, now);
}

RateLimitDecision KeyedRateLimiter::decideState(KeyState &state, std::int64_t cost, MonoTime now) const
{
    return m_rule.algorithm == RateAlgorithm::Gcra ? m_gcra.decide(state.tat, now, cost)
                                                   : m_window.decide(state.window, now, cost);
}

RateLimitDecision KeyedRateLimiter::decide(std::string_view key, std::int64_t cost)
{
    return decide(key, cost, m_clock.now());
}

RateLimitDecision KeyedRateLimiter::decide(std::string_view key, std::int64_t cost, MonoTime now)
{
    auto busy = [this](const KeyState &state, MonoTime at) { return isBusy(state, at); };
    return decideState(m_store.obtain(key, now, busy).state, cost, now);
}

RateLimitDecision KeyedRateLimiter::peek(std::string_view key, std::int64_t cost) const
{
    const MonoTime now = m_clock.now();
    KeyState state;
    if (const auto *entry = m_store.find(key))
        state = entry->state;
    return decideState(state, cost, now);
}

void KeyedRateLimiter::setRule(RateRule rule)
{
    const RateRule previous = m_rule;
    const GcraLimiter previousGcra = m_gcra;
    m_rule = rule;
    m_gcra = GcraLimiter(rule);
    m_window = SlidingWindowLimiter(rule);
    if (previous.algorithm != rule.algorithm) {
        m_store.forEach([](std::string_view, auto &entry) { entry.state = KeyState{}; });
        return;
    }
    const MonoTime now = m_clock.now();
    if (rule.algorithm == RateAlgorithm::Gcra) {
        m_store.forEach([&](std::string_view, auto &entry) { m_gcra.rescale(entry.state.tat, now, previousGcra); });
    } else if (previous.period != rule.period) {
        m_store.forEach([](std::string_view, auto &entry) { entry.state.window = SlidingWindowState{}; });
    }
}

std::size_t KeyedRateLimiter::purgeIdle()
{
    return m_store.purgeIdle(m_clock.now(), [this](const KeyState &state, MonoTime at) { return isBusy(state, at); });
}

} // namespace sluice::policy
