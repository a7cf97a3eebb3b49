#include "gateway/simulatedquota.h"

#include <algorithm>
#include <cmath>

namespace sluice::gateway {

namespace {

constexpr double nanosecondsPerMinute = 60e9;
// Absorbs floating-point drift of the continuous refill.
constexpr double levelTolerance = 1e-6;

} // namespace

SimulatedQuota::SimulatedQuota(const SimulatorQuota &limits, policy::MonoTime start)
    : m_updated(start)
{
    const qint64 perMinute[] = {limits.requestsPerMinute, limits.tokensPerMinute, limits.inputTokensPerMinute,
                                limits.outputTokensPerMinute};
    for (std::size_t i = 0; i < m_buckets.size(); ++i) {
        m_buckets[i].limit = static_cast<double>(perMinute[i]);
        m_buckets[i].level = m_buckets[i].limit;
    }
}

qint64 SimulatedQuota::demandFor(Bucket bucket, const Demand &demand)
{
    switch (bucket) {
    case Bucket::Requests:
        return demand.requests;
    case Bucket::Tokens:
        return demand.tokens;
    case Bucket::InputTokens:
        return demand.inputTokens;
    case Bucket::OutputTokens:
        return demand.outputTokens;
    }
    return 0;
}

void SimulatedQuota::refill(policy::MonoTime now)
{
    if (now <= m_updated)
        return;
    const double elapsedNanoseconds = static_cast<double>((now - m_updated).count());
    for (TokenBucket &bucket : m_buckets)
        bucket.level = std::min(bucket.limit, bucket.level + bucket.limit * elapsedNanoseconds / nanosecondsPerMinute);
    m_updated = now;
}

policy::Nanoseconds SimulatedQuota::timeToReach(const TokenBucket &bucket, double level) const
{
    const double missing = level - bucket.level;
    if (missing <= levelTolerance || bucket.limit <= 0)
        return policy::Nanoseconds{0};
    const double milliseconds = missing * nanosecondsPerMinute / bucket.limit / 1e6;
    return std::chrono::milliseconds{static_cast<qint64>(std::ceil(milliseconds - levelTolerance))};
}

std::optional<SimulatedQuota::Refusal> SimulatedQuota::check(const Demand &demand, policy::MonoTime now)
{
    refill(now);
    std::optional<Refusal> worst;
    for (std::size_t i = 0; i < m_buckets.size(); ++i) {
        const TokenBucket &bucket = m_buckets[i];
        const auto kind = static_cast<Bucket>(i);
        const qint64 wanted = demandFor(kind, demand);
        if (bucket.limit <= 0 || bucket.level + levelTolerance >= static_cast<double>(wanted))
            continue;
        Refusal refusal;
        refusal.bucket = kind;
        refusal.limit = static_cast<qint64>(bucket.limit);
        refusal.requested = wanted;
        refusal.remaining = std::max<qint64>(0, static_cast<qint64>(std::floor(bucket.level + levelTolerance)));
        if (static_cast<double>(wanted) <= bucket.limit)
            refusal.retryAfter = timeToReach(bucket, static_cast<double>(wanted));
        const bool worse = !worst || (worst->retryAfter && (!refusal.retryAfter || *refusal.retryAfter > *worst->retryAfter));
        if (worse)
            worst = refusal;
    }
    return worst;
}

void SimulatedQuota::consume(const Demand &demand, policy::MonoTime now)
{
    refill(now);
    for (std::size_t i = 0; i < m_buckets.size(); ++i) {
        if (m_buckets[i].limit > 0)
            m_buckets[i].level -= static_cast<double>(demandFor(static_cast<Bucket>(i), demand));
    }
}

RateLimitState SimulatedQuota::state(policy::MonoTime now)
{
    refill(now);
    std::array<std::optional<RateLimitBucket>, 4> reported;
    for (std::size_t i = 0; i < m_buckets.size(); ++i) {
        const TokenBucket &bucket = m_buckets[i];
        if (bucket.limit <= 0)
            continue;
        reported[i] = RateLimitBucket{static_cast<qint64>(bucket.limit),
                                      std::max<qint64>(0, static_cast<qint64>(std::floor(bucket.level + levelTolerance))),
                                      timeToReach(bucket, bucket.limit)};
    }
    return RateLimitState{reported[0], reported[1], reported[2], reported[3]};
}

} // namespace sluice::gateway
