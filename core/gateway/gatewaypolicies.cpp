#include "gateway/gatewaypolicies.h"

#include <QJsonArray>

namespace sluice::gateway {

namespace {

policy::ConcurrencyLimits bulkheadLimits(const config::ConcurrencyConfig &concurrency)
{
    policy::ConcurrencyLimits limits;
    limits.maxInFlight = concurrency.maxInFlight;
    limits.maxQueue = concurrency.maxQueue;
    limits.queueTimeout = concurrency.queueTimeout;
    return limits;
}

double seconds(policy::Nanoseconds duration)
{
    return std::chrono::duration<double>(duration).count();
}

QJsonObject bucketJson(const RateLimitBucket &bucket)
{
    return QJsonObject{{QStringLiteral("limit"), double(bucket.limit)},
                       {QStringLiteral("remaining"), double(bucket.remaining)},
                       {QStringLiteral("reset_seconds"), seconds(bucket.untilFull)}};
}

} // namespace

int breakerStateValue(policy::CircuitBreaker::State state)
{
    switch (state) {
    case policy::CircuitBreaker::State::Closed: return 0;
    case policy::CircuitBreaker::State::HalfOpen: return 1;
    case policy::CircuitBreaker::State::Open: return 2;
    }
    return 0;
}

GatewayPolicies::GatewayPolicies(const policy::Clock &clock, UpstreamPool::SecretReader readSecret)
    : m_clock(clock)
    , m_rules(clock)
    , m_bulkhead(policy::ConcurrencyLimits{}, clock)
    , m_upstreams(clock, std::move(readSecret))
{
}

void GatewayPolicies::configure(const config::GatewayConfig &config)
{
    std::lock_guard lock(m_mutex);
    m_rules.configure(config);
    m_bulkhead.resize(bulkheadLimits(config.concurrency));
    m_upstreams.configure(config);
}

void GatewayPolicies::setBreakerListener(UpstreamPool::BreakerListener listener)
{
    std::lock_guard lock(m_mutex);
    m_upstreams.setBreakerListener(std::move(listener));
}

Result<AdmissionHolds, LimitRefusal> GatewayPolicies::admit(const ClientIdentity &identity, qint64 estimatedTokens)
{
    std::lock_guard lock(m_mutex);
    return m_rules.admit(identity, estimatedTokens);
}

void GatewayPolicies::settle(AdmissionHolds &holds, std::optional<qint64> actualTokens)
{
    std::lock_guard lock(m_mutex);
    m_rules.settle(holds, actualTokens);
}

std::vector<PlannedCheck> GatewayPolicies::planLimits(const ClientIdentity &identity) const
{
    std::lock_guard lock(m_mutex);
    return m_rules.plan(identity);
}

policy::Admission GatewayPolicies::acquirePermit(policy::Priority priority,
                                                 policy::ConcurrencyLimiter::OutcomeCallback onOutcome)
{
    std::lock_guard lock(m_mutex);
    return m_bulkhead.acquire(priority, std::move(onOutcome));
}

void GatewayPolicies::releasePermit()
{
    std::lock_guard lock(m_mutex);
    m_bulkhead.release();
}

bool GatewayPolicies::cancelWaiter(policy::WaiterId id)
{
    std::lock_guard lock(m_mutex);
    return m_bulkhead.cancel(id);
}

std::optional<policy::MonoTime> GatewayPolicies::expireQueue()
{
    std::lock_guard lock(m_mutex);
    return m_bulkhead.expire();
}

policy::ConcurrencyLimiter::Stats GatewayPolicies::queueStats() const
{
    std::lock_guard lock(m_mutex);
    return m_bulkhead.stats();
}

GatewayPolicies::Flight::Membership GatewayPolicies::joinFlight(std::string_view key, Flight::ResultCallback onResult)
{
    std::lock_guard lock(m_mutex);
    return m_flights.join(key, std::move(onResult));
}

void GatewayPolicies::completeFlight(std::string_view key, policy::CacheValue value)
{
    std::lock_guard lock(m_mutex);
    m_flights.complete(key, FlightResult(std::move(value)));
}

void GatewayPolicies::abandonFlight(std::string_view key)
{
    std::lock_guard lock(m_mutex);
    m_flights.abandon(key);
}

void GatewayPolicies::leaveFlight(std::string_view key, Flight::FollowerId id)
{
    std::lock_guard lock(m_mutex);
    m_flights.leave(key, id);
}

QStringList GatewayPolicies::candidates(ProviderKind kind, const QString &model) const
{
    std::lock_guard lock(m_mutex);
    return m_upstreams.candidates(kind, model);
}

Result<UpstreamLease, NoUpstream> GatewayPolicies::acquireUpstream(const QStringList &candidates,
                                                                   const QStringList &excluded, qint64 estimatedTokens)
{
    std::lock_guard lock(m_mutex);
    return m_upstreams.acquire(candidates, excluded, estimatedTokens);
}

void GatewayPolicies::finishUpstream(UpstreamLease &lease, AttemptOutcome outcome, std::optional<qint64> actualTokens)
{
    std::lock_guard lock(m_mutex);
    m_upstreams.finish(lease, outcome, actualTokens);
}

void GatewayPolicies::pauseUpstream(const QString &upstream, policy::Nanoseconds duration)
{
    std::lock_guard lock(m_mutex);
    m_upstreams.pause(upstream, duration);
}

void GatewayPolicies::reportProviderQuota(const QString &upstream, const RateLimitState &state)
{
    std::lock_guard lock(m_mutex);
    m_upstreams.reportQuota(upstream, state);
}

void GatewayPolicies::recordUpstreamRequest(const QString &upstream)
{
    std::lock_guard lock(m_mutex);
    m_upstreams.recordRequest(upstream);
}

bool GatewayPolicies::tryRetry(const QString &upstream)
{
    std::lock_guard lock(m_mutex);
    return m_upstreams.tryRetry(upstream);
}

QStringList GatewayPolicies::upstreamProblems() const
{
    std::lock_guard lock(m_mutex);
    QStringList problems;
    for (const auto &[name, runtime] : m_upstreams.upstreams()) {
        if (!runtime->apiKeyProblem.isEmpty())
            problems.append(name + QStringLiteral(": ") + runtime->apiKeyProblem);
    }
    return problems;
}

QJsonObject GatewayPolicies::upstreamSnapshot() const
{
    std::lock_guard lock(m_mutex);
    const policy::MonoTime now = m_clock.now();
    QJsonObject result;
    for (const auto &[name, runtime] : m_upstreams.upstreams()) {
        const auto stats = runtime->breaker.stats();
        QJsonObject upstream{
            {QStringLiteral("kind"), providerName(runtime->kind)},
            {QStringLiteral("base_url"), runtime->config.baseUrl},
            {QStringLiteral("breaker"), QString::fromLatin1(policy::breakerStateName(stats.state).data())},
            {QStringLiteral("failure_rate"), stats.failureRate},
            {QStringLiteral("requests_sent"), double(runtime->requestsSent)},
            {QStringLiteral("paused_seconds"), runtime->pausedUntil > now ? seconds(runtime->pausedUntil - now) : 0.0},
            {QStringLiteral("key_problem"), runtime->apiKeyProblem},
        };
        if (runtime->providerQuotaSeen) {
            QJsonObject quota;
            const RateLimitState &state = runtime->providerQuota;
            if (state.requests)
                quota.insert(QStringLiteral("requests"), bucketJson(*state.requests));
            if (state.tokens)
                quota.insert(QStringLiteral("tokens"), bucketJson(*state.tokens));
            if (state.inputTokens)
                quota.insert(QStringLiteral("input_tokens"), bucketJson(*state.inputTokens));
            if (state.outputTokens)
                quota.insert(QStringLiteral("output_tokens"), bucketJson(*state.outputTokens));
            upstream.insert(QStringLiteral("provider_quota"), quota);
        }
        result.insert(name, upstream);
    }
    return result;
}

std::vector<GatewayPolicies::UpstreamGauge> GatewayPolicies::upstreamGauges() const
{
    std::lock_guard lock(m_mutex);
    std::vector<UpstreamGauge> gauges;
    for (const auto &[name, runtime] : m_upstreams.upstreams()) {
        UpstreamGauge gauge;
        gauge.name = name;
        gauge.breakerState = breakerStateValue(runtime->breaker.state());
        if (runtime->providerQuotaSeen)
            gauge.providerQuota = runtime->providerQuota;
        gauges.push_back(std::move(gauge));
    }
    return gauges;
}

void GatewayPolicies::purgeIdle()
{
    std::lock_guard lock(m_mutex);
    m_rules.purgeIdle();
}

} // namespace sluice::gateway
