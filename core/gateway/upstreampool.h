#pragma once

#include "config/gatewayconfig.h"
#include "gateway/providerprotocol.h"
#include "gateway/ratelimitheaders.h"
#include "policy/circuitbreaker.h"
#include "policy/keyedratelimiter.h"
#include "policy/result.h"
#include "policy/retrybudget.h"
#include "policy/tokenlimiter.h"

#include <QByteArray>
#include <QString>

#include <functional>
#include <map>
#include <memory>
#include <optional>

namespace sluice::gateway {

// One configured upstream as it runs: its breaker, retry budget, the pacing that keeps
// the gateway under the provider's own quota (its tier), a pause after a provider 429,
// and the quota the provider last reported. Not thread-safe: UpstreamPool's owner
// guards it.
struct UpstreamRuntime {
    UpstreamRuntime(const config::Upstream &upstream, const config::GatewayConfig &config, const policy::Clock &clock);

    config::Upstream config;
    ProviderKind kind = ProviderKind::OpenAI;
    // The provider key, read from api_key_env / api_key_file when the config was applied;
    // empty for a keyless server. Never logged.
    QByteArray apiKey;
    // Why the key could not be read ("environment variable OPENAI_API_KEY is not set");
    // empty when fine. Shown by /readyz.
    QString apiKeyProblem;
    policy::CircuitBreaker breaker;
    policy::RetryBudget retryBudget;
    std::unique_ptr<policy::KeyedRateLimiter> requestPacer; // requests_per_minute > 0
    std::unique_ptr<policy::TokenLimiter> tokenPacer;       // tokens_per_minute > 0
    policy::MonoTime pausedUntil{0};
    RateLimitState providerQuota;
    bool providerQuotaSeen = false;
    quint64 requestsSent = 0;
};

// Holds an upstream for one attempt: the breaker permit and the tokens paced against the
// provider's quota. Give it back with UpstreamPool::finish().
struct UpstreamLease {
    std::shared_ptr<UpstreamRuntime> upstream;
    policy::CircuitBreaker::Permit permit;
    policy::TokenReservation pacedTokens;
    bool finished = false;
};

// Why no upstream could take a request.
struct NoUpstream {
    enum class Reason {
        NoRoute,     // no upstream of the client's protocol serves the model
        AllOpen,     // every candidate's breaker is open → 503
        AllPaced,    // every candidate is at its provider quota or paused by a 429 → 429
    };
    Reason reason = Reason::NoRoute;
    // When the earliest candidate can take it again (AllOpen, AllPaced).
    policy::Nanoseconds retryAfter{0};
};

enum class AttemptOutcome { Success, Failure, Cancelled };

// The upstreams of the running config. Not thread-safe: GatewayPolicies guards it.
class UpstreamPool {
public:
    using BreakerListener = std::function<void(const QString &upstream, policy::CircuitBreaker::State from,
                                               policy::CircuitBreaker::State to)>;
    using SecretReader = std::function<Result<QByteArray, QString>(const config::Upstream &)>;

    UpstreamPool(const policy::Clock &clock, SecretReader readSecret);

    // Keeps the runtime (breaker, pacing, pause) of upstreams whose name, kind and base
    // URL are unchanged, applying new quotas and breaker settings to them.
    void configure(const config::GatewayConfig &config);
    void setBreakerListener(BreakerListener listener) { m_breakerListener = std::move(listener); }

    // The candidates for `model` speaking `kind`, in the order to try them.
    QStringList candidates(ProviderKind kind, const QString &model) const;
    // Takes the first of `candidates`, skipping `excluded`, whose breaker admits, which is
    // not paused, and whose provider quota has room for one request and `estimatedTokens`.
    Result<UpstreamLease, NoUpstream> acquire(const QStringList &candidates, const QStringList &excluded,
                                             qint64 estimatedTokens);
    // Ends an attempt: the breaker outcome, and the paced tokens reconciled with the
    // provider's count (nullopt: refunded). Idempotent.
    void finish(UpstreamLease &lease, AttemptOutcome outcome, std::optional<qint64> actualTokens);
    // A provider 429: no request goes to that upstream for `duration`.
    void pause(const QString &upstream, policy::Nanoseconds duration);
    void reportQuota(const QString &upstream, const RateLimitState &state);
    void recordRequest(const QString &upstream);
    bool tryRetry(const QString &upstream);

    const std::map<QString, std::shared_ptr<UpstreamRuntime>> &upstreams() const { return m_upstreams; }
    std::shared_ptr<UpstreamRuntime> find(const QString &name) const;

private:
    const policy::Clock &m_clock;
    SecretReader m_readSecret;
    BreakerListener m_breakerListener;
    std::map<QString, std::shared_ptr<UpstreamRuntime>> m_upstreams;
    config::GatewayConfig m_routing; // the upstreams of the running config, for routeFor()
};

// Reads an upstream's key from its environment variable or file (trailing whitespace
// trimmed). A keyless upstream gives an empty key.
Result<QByteArray, QString> readUpstreamSecret(const config::Upstream &upstream);

policy::BreakerPolicy breakerPolicy(const config::BreakerConfig &breaker);

} // namespace sluice::gateway
