#include "policy/backoff.h"

#include <algorithm>
#include <cmath>

namespace sluice::policy {

namespace {

BackoffPolicy normalized(BackoffPolicy policy)
{
    policy.base = std::max(policy.base, Nanoseconds{0});
    policy.cap = std::max(policy.cap, Nanoseconds{0});
    policy.maxRetryAfter = std::max(policy.maxRetryAfter, Nanoseconds{0});
    if (!(policy.multiplier >= 1.0))
        policy.multiplier = 1.0;
    policy.maxAttempts = std::max(policy.maxAttempts, 1);
    return policy;
}

} // namespace

Backoff::Backoff(BackoffPolicy policy) : m_policy(normalized(policy)) {}

Nanoseconds Backoff::ceiling(int attempt) const
{
    const double grown = static_cast<double>(m_policy.base.count()) * std::pow(m_policy.multiplier, std::max(attempt, 0));
    // Compared in double so that huge attempts (grown = inf) saturate instead of overflowing.
    if (!(grown < static_cast<double>(m_policy.cap.count())))
        return m_policy.cap;
    return Nanoseconds(static_cast<Nanoseconds::rep>(grown));
}

RetryDelay Backoff::nextDelay(int attempt, std::optional<Nanoseconds> serverRetryAfter, std::mt19937_64 &rng) const
{
    if (std::max(attempt, 0) >= m_policy.maxAttempts - 1)
        return {RetryDelay::Kind::AttemptsExhausted, Nanoseconds{0}};

    const Nanoseconds floor = std::max(serverRetryAfter.value_or(Nanoseconds{0}), Nanoseconds{0});
    if (floor > m_policy.maxRetryAfter)
        return {RetryDelay::Kind::RetryAfterTooLong, Nanoseconds{0}};

    std::uniform_int_distribution<Nanoseconds::rep> jitter(0, ceiling(attempt).count());
    return {RetryDelay::Kind::Retry, std::max(Nanoseconds(jitter(rng)), floor)};
}

} // namespace sluice::policy
