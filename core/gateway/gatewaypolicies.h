#pragma once

#include "config/gatewayconfig.h"
#include "gateway/ratelimitrules.h"
#include "gateway/upstreampool.h"
#include "policy/concurrencylimiter.h"
#include "policy/responsecache.h"
#include "policy/singleflight.h"

#include <QJsonObject>

#include <memory>
#include <mutex>

namespace sluice::gateway {

// The shared decision state of one gateway: client rate limits, the concurrency
// bulkhead and its queue, single-flight de-duplication of identical cacheable requests,
// and the upstreams (breakers, retry budgets, provider-quota pacing).
//
// Thread-safe: every method takes one (recursive) mutex for a few microseconds; nothing
// waits or does I/O under it. Callbacks handed in (queue outcomes, single-flight results)
// are invoked WITH the mutex held, on whichever thread caused them: they must only
// record the outcome and post work to their own thread (QMetaObject::invokeMethod), and
// may call back into this object (the mutex is recursive).
class GatewayPolicies {
public:
    using FlightResult = Result<policy::CacheValue>;
    using Flight = policy::SingleFlight<policy::CacheValue>;

    GatewayPolicies(const policy::Clock &clock, UpstreamPool::SecretReader readSecret);

    void configure(const config::GatewayConfig &config);
    // Holds the mutex: for callers that must make several calls, or read a ticket shared
    // with the callbacks, atomically.
    std::unique_lock<std::recursive_mutex> lock() const { return std::unique_lock(m_mutex); }
    void setBreakerListener(UpstreamPool::BreakerListener listener);

    // Client rate limits (see RateLimitRules).
    Result<AdmissionHolds, LimitRefusal> admit(const ClientIdentity &identity, qint64 estimatedTokens);
    void settle(AdmissionHolds &holds, std::optional<qint64> actualTokens);
    std::vector<PlannedCheck> planLimits(const ClientIdentity &identity) const;

    // The bulkhead (see policy::ConcurrencyLimiter). After a Queued answer the owner must
    // make sure expireQueue() runs at nextQueueDeadline().
    policy::Admission acquirePermit(policy::Priority priority, policy::ConcurrencyLimiter::OutcomeCallback onOutcome);
    void releasePermit();
    bool cancelWaiter(policy::WaiterId id);
    std::optional<policy::MonoTime> expireQueue();
    policy::ConcurrencyLimiter::Stats queueStats() const;

    // Single-flight over cache keys (see policy::SingleFlight).
    Flight::Membership joinFlight(std::string_view key, Flight::ResultCallback onResult);
    void completeFlight(std::string_view key, policy::CacheValue value);
    void abandonFlight(std::string_view key);
    void leaveFlight(std::string_view key, Flight::FollowerId id);

    // Upstreams (see UpstreamPool).
    QStringList candidates(ProviderKind kind, const QString &model) const;
    Result<UpstreamLease, NoUpstream> acquireUpstream(const QStringList &candidates, const QStringList &excluded,
                                                      qint64 estimatedTokens);
    void finishUpstream(UpstreamLease &lease, AttemptOutcome outcome, std::optional<qint64> actualTokens);
    void pauseUpstream(const QString &upstream, policy::Nanoseconds duration);
    void reportProviderQuota(const QString &upstream, const RateLimitState &state);
    void recordUpstreamRequest(const QString &upstream);
    bool tryRetry(const QString &upstream);

    // Upstream names with a problem that makes the gateway not ready (a key that could
    // not be read), as "name: reason".
    QStringList upstreamProblems() const;
    // For the admin API: per upstream its breaker, pause and reported quota.
    QJsonObject upstreamSnapshot() const;

    struct UpstreamGauge {
        QString name;
        int breakerState = 0; // 0 closed, 1 half-open, 2 open
        std::optional<RateLimitState> providerQuota;
    };
    std::vector<UpstreamGauge> upstreamGauges() const;

    void purgeIdle();

private:
    const policy::Clock &m_clock;
    mutable std::recursive_mutex m_mutex;
    RateLimitRules m_rules;
    policy::ConcurrencyLimiter m_bulkhead;
    Flight m_flights;
    UpstreamPool m_upstreams;
};

int breakerStateValue(policy::CircuitBreaker::State state);

} // namespace sluice::gateway
