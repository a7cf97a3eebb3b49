#include "gateway/upstreampool.h"

#include "config/secretsource.h"


#include <algorithm>

namespace sluice::gateway {

namespace {

constexpr policy::KeyedLimits kPacerLimits{16, std::chrono::minutes(10)};
constexpr std::string_view kPacerKey = "*";

policy::RateRule perMinute(std::int64_t limit)
{
    policy::RateRule rule;
    rule.limit = limit;
    rule.period = std::chrono::minutes(1);
    return rule;
}

policy::RetryBudgetPolicy retryBudgetPolicy(const config::RetryConfig &retries)
{
    policy::RetryBudgetPolicy policy;
    policy.retryRatio = retries.budgetRatio;
    policy.minRetriesPerSecond = retries.minRetriesPerSecond;
    return policy;
}

ProviderKind providerKind(config::UpstreamKind kind)
{
    return kind == config::UpstreamKind::Anthropic ? ProviderKind::Anthropic : ProviderKind::OpenAI;
}

void applyPacing(UpstreamRuntime &runtime, const policy::Clock &clock)
{
    const auto &upstream = runtime.config;
    if (upstream.requestsPerMinute > 0) {
        if (runtime.requestPacer)
            runtime.requestPacer->setRule(perMinute(upstream.requestsPerMinute));
        else
            runtime.requestPacer = std::make_unique<policy::KeyedRateLimiter>(perMinute(upstream.requestsPerMinute),
                                                                              kPacerLimits, clock);
    } else {
        runtime.requestPacer.reset();
    }
    if (upstream.tokensPerMinute > 0) {
        if (runtime.tokenPacer)
            runtime.tokenPacer->setRule(perMinute(upstream.tokensPerMinute));
        else
            runtime.tokenPacer = std::make_unique<policy::TokenLimiter>(perMinute(upstream.tokensPerMinute),
                                                                        kPacerLimits, clock);
    } else {
        runtime.tokenPacer.reset();
    }
}

} // namespace

policy::BreakerPolicy breakerPolicy(const config::BreakerConfig &breaker)
{
    policy::BreakerPolicy policy;
    policy.failureRateThreshold = breaker.failureRateThreshold;
    policy.minimumRequests = std::size_t(std::max(breaker.minimumRequests, 1));
    policy.consecutiveFailures = std::size_t(std::max(breaker.consecutiveFailures, 0));
    policy.window = breaker.window;
    policy.openDuration = breaker.open;
    policy.maxOpenDuration = std::max<policy::Nanoseconds>(breaker.open * 10, breaker.open);
    policy.halfOpenMaxProbes = std::size_t(std::max(breaker.halfOpenProbes, 1));
    policy.successesToClose = std::size_t(std::max(breaker.halfOpenProbes, 1));
    return policy;
}

Result<QByteArray, QString> readUpstreamSecret(const config::Upstream &upstream)
{
    return config::readSecret(
        {upstream.apiKeyEnv, QStringLiteral("api_key_env"), upstream.apiKeyFile, QStringLiteral("api_key_file")});
}

UpstreamRuntime::UpstreamRuntime(const config::Upstream &upstream, const config::GatewayConfig &gateway,
                                 const policy::Clock &clock)
    : config(upstream)
    , kind(providerKind(upstream.kind))
    , breaker(breakerPolicy(gateway.breaker), clock)
    , retryBudget(retryBudgetPolicy(gateway.retries), clock)
{
    applyPacing(*this, clock);
}

UpstreamPool::UpstreamPool(const policy::Clock &clock, SecretReader readSecret)
    : m_clock(clock)
    , m_readSecret(std::move(readSecret))
{
}

void UpstreamPool::configure(const config::GatewayConfig &config)
{
    std::map<QString, std::shared_ptr<UpstreamRuntime>> upstreams;
    for (const config::Upstream &upstream : config.upstreams) {
        std::shared_ptr<UpstreamRuntime> runtime;
        const auto existing = m_upstreams.find(upstream.name);
        if (existing != m_upstreams.end() && existing->second->config.kind == upstream.kind
            && existing->second->config.baseUrl == upstream.baseUrl) {
            runtime = existing->second;
            runtime->config = upstream;
            runtime->breaker.setPolicy(breakerPolicy(config.breaker));
            runtime->retryBudget.setPolicy(retryBudgetPolicy(config.retries));
            applyPacing(*runtime, m_clock);
        } else {
            runtime = std::make_shared<UpstreamRuntime>(upstream, config, m_clock);
            const QString name = upstream.name;
            runtime->breaker.setStateListener([this, name](auto from, auto to) {
                if (m_breakerListener)
                    m_breakerListener(name, from, to);
            });
        }
        if (m_readSecret) {
            auto secret = m_readSecret(upstream);
            runtime->apiKey = secret ? *secret : QByteArray();
            runtime->apiKeyProblem = secret ? QString() : secret.error();
        }
        upstreams[upstream.name] = std::move(runtime);
    }
    m_upstreams = std::move(upstreams);
    m_routing = config::GatewayConfig{};
    m_routing.upstreams = config.upstreams;
}

QStringList UpstreamPool::candidates(ProviderKind kind, const QString &model) const
{
    QStringList result;
    for (const QString &name : m_routing.routeFor(model)) {
        const auto runtime = find(name);
        if (runtime && runtime->kind == kind)
            result.append(name);
    }
    return result;
}

std::shared_ptr<UpstreamRuntime> UpstreamPool::find(const QString &name) const
{
    const auto it = m_upstreams.find(name);
    return it == m_upstreams.end() ? nullptr : it->second;
}

Result<UpstreamLease, NoUpstream> UpstreamPool::acquire(const QStringList &candidates, const QStringList &excluded,
                                                        qint64 estimatedTokens)
{
    const policy::MonoTime now = m_clock.now();
    std::optional<policy::Nanoseconds> openWait;
    std::optional<policy::Nanoseconds> pacedWait;
    auto earliest = [](std::optional<policy::Nanoseconds> &slot, policy::Nanoseconds wait) {
        if (!slot || wait < *slot)
            slot = wait;
    };
    for (const QString &name : candidates) {
        if (excluded.contains(name))
            continue;
        const auto runtime = find(name);
        if (!runtime)
            continue;
        if (runtime->pausedUntil > now) {
            earliest(pacedWait, runtime->pausedUntil - now);
            continue;
        }
        if (runtime->requestPacer) {
            const auto decision = runtime->requestPacer->peek(kPacerKey, 1);
            if (!decision.allowed) {
                earliest(pacedWait, decision.retryAfter);
                continue;
            }
        }
        if (runtime->tokenPacer) {
            const auto decision = runtime->tokenPacer->peek(kPacerKey, estimatedTokens);
            if (!decision.allowed && !decision.neverFits) {
                earliest(pacedWait, decision.retryAfter);
                continue;
            }
        }
        auto permit = runtime->breaker.tryAcquire();
        if (!permit) {
            earliest(openWait, runtime->breaker.retryAfter());
            continue;
        }
        UpstreamLease lease;
        lease.upstream = runtime;
        lease.permit = permit;
        if (runtime->requestPacer)
            runtime->requestPacer->decide(kPacerKey, 1);
        // A request larger than the whole token bucket still goes (the provider decides);
        // it simply reserves nothing.
        if (runtime->tokenPacer)
            lease.pacedTokens = runtime->tokenPacer->reserve(kPacerKey, estimatedTokens).reservation;
        ++runtime->requestsSent;
        return lease;
    }
    NoUpstream none;
    if (pacedWait) {
        none.reason = NoUpstream::Reason::AllPaced;
        none.retryAfter = *pacedWait;
    } else if (openWait) {
        none.reason = NoUpstream::Reason::AllOpen;
        none.retryAfter = *openWait;
    } else {
        none.reason = NoUpstream::Reason::NoRoute;
    }
    return unexpected(none);
}

void UpstreamPool::finish(UpstreamLease &lease, AttemptOutcome outcome, std::optional<qint64> actualTokens)
{
    if (lease.finished || !lease.upstream)
        return;
    lease.finished = true;
    UpstreamRuntime &runtime = *lease.upstream;
    switch (outcome) {
    case AttemptOutcome::Success: runtime.breaker.onSuccess(lease.permit); break;
    case AttemptOutcome::Failure: runtime.breaker.onFailure(lease.permit); break;
    case AttemptOutcome::Cancelled: runtime.breaker.onCancelled(lease.permit); break;
    }
    if (runtime.tokenPacer && lease.pacedTokens.open) {
        if (actualTokens)
            runtime.tokenPacer->reconcile(lease.pacedTokens, *actualTokens);
        else
            runtime.tokenPacer->cancel(lease.pacedTokens);
    }
}

void UpstreamPool::pause(const QString &upstream, policy::Nanoseconds duration)
{
    if (const auto runtime = find(upstream))
        runtime->pausedUntil = std::max(runtime->pausedUntil, m_clock.now() + duration);
}

void UpstreamPool::reportQuota(const QString &upstream, const RateLimitState &state)
{
    const auto runtime = find(upstream);
    if (!runtime || (!state.requests && !state.tokens && !state.inputTokens && !state.outputTokens))
        return;
    runtime->providerQuota = state;
    runtime->providerQuotaSeen = true;
}

void UpstreamPool::recordRequest(const QString &upstream)
{
    if (const auto runtime = find(upstream))
        runtime->retryBudget.recordRequest();
}

bool UpstreamPool::tryRetry(const QString &upstream)
{
    const auto runtime = find(upstream);
    return runtime && runtime->retryBudget.tryRetry();
}

} // namespace sluice::gateway
