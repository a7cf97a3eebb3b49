#pragma once

#include "config/gatewayconfig.h"
#include "gateway/clientidentity.h"
#include "gateway/gatewaymetrics.h"
#include "policy/keyedratelimiter.h"
#include "policy/parallellimiter.h"
#include "policy/ratelimitdecision.h"
#include "policy/ratescope.h"
#include "policy/result.h"
#include "policy/tokenlimiter.h"
#include "store/redisadmission.h"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sluice::gateway {

// One limit rule as it runs: the configured rate_limits entries, one implicit rule per
// client key with limits of its own ("key:<id>"), and one for anonymous clients per IP
// ("anonymous_ip"). Each counts up to three dimensions, one counter per distinct scope
// value. Not thread-safe: owned by RateLimitRules.
struct RuleLimiters {
    QString name;
    policy::RateScope scopes = policy::RateScope::ApiKey;
    config::RuleMatch match;
    bool anonymousOnly = false;
    std::unique_ptr<policy::KeyedRateLimiter> requests;
    std::unique_ptr<policy::TokenLimiter> tokens;
    std::unique_ptr<policy::ParallelLimiter> parallel;
    // The rules as configured, for limits decided in Redis (RateLimitRules::plan()).
    policy::RateRule requestRule;
    policy::RateRule tokenRule;
    int maxParallel = 0;

    bool applies(const ClientIdentity &identity) const;
    std::string keyFor(const ClientIdentity &identity) const;
};

// A refusal: which rule and dimension said no, and its decision (retry time, limits).
struct LimitRefusal {
    QString rule;
    LimitDimension dimension = LimitDimension::Requests;
    policy::RateLimitDecision decision;
};

// What an admitted request holds until it ends. The limiters are kept alive by the
// holds, so a request admitted before a config change settles against the rule it was
// admitted by. Move-only; settle it through RateLimitRules::settle().
struct AdmissionHolds {
    struct TokenHold {
        std::shared_ptr<RuleLimiters> rule;
        policy::TokenReservation reservation;
    };
    struct ParallelHold {
        std::shared_ptr<RuleLimiters> rule;
        std::string key;
    };
    std::vector<TokenHold> tokens;
    std::vector<ParallelHold> parallel;
    // The tightest request and token decisions among the rules that applied (lowest
    // remaining): what the x-ratelimit-* response headers report.
    std::optional<policy::RateLimitDecision> requests;
    std::optional<policy::RateLimitDecision> tokensDecision;
    // One entry per rule and dimension decided, for metrics.
    std::vector<std::pair<QString, LimitDimension>> decided;
    // Holds decided in Redis instead (see sharedlimits.h): what to settle there, and the
    // lease id of the parallel-lease sets. Empty for local holds.
    std::vector<store::AdmissionSettlement> redis;
    QByteArray redisLeaseId;
    bool settled = false;
};

// Keeps in `slot` the tighter of it and `decision` (lower remaining; the first on ties):
// what the x-ratelimit-* headers report when several rules apply.
void keepTightest(std::optional<policy::RateLimitDecision> &slot, const policy::RateLimitDecision &decision);

// One limit an identity must pass, as RateLimitRules::plan() describes it for a decision
// made elsewhere (Redis): which rule and dimension, the scope value it counts under and
// the rule's numbers.
struct PlannedCheck {
    QString rule;
    LimitDimension dimension = LimitDimension::Requests;
    std::string scopeKey;
    policy::RateRule rate;     // Requests, Tokens
    int maxParallel = 0;       // Parallel
};

// Every client-side rate limit of the gateway. All-or-nothing: admit() first checks
// every applicable rule without charging, and charges them all only when all allow, so a
// refusal by one rule never consumes another's quota.
//
// Not thread-safe: GatewayPolicies guards it.
class RateLimitRules {
public:
    explicit RateLimitRules(const policy::Clock &clock);

    // Builds the rules of `config`. A rule whose name and settings are unchanged keeps its
    // counters; a changed rate keeps the counters too (setRule), a changed scope or a new
    // dimension starts that rule fresh.
    void configure(const config::GatewayConfig &config);

    Result<AdmissionHolds, LimitRefusal> admit(const ClientIdentity &identity, qint64 estimatedTokens);
    // Reconciles token reservations with the true count (nullopt: refund, the request
    // never reached a provider or used nothing) and frees parallel leases. Idempotent.
    void settle(AdmissionHolds &holds, std::optional<qint64> actualTokens);

    // Every check admit() would make for `identity`, without deciding anything: rules in
    // name order, dimensions requests → tokens → parallel within a rule. Request rules
    // are described as GCRA whatever their algorithm.
    std::vector<PlannedCheck> plan(const ClientIdentity &identity) const;

    std::size_t ruleCount() const { return m_rules.size(); }
    // Drops idle keys of every limiter.
    void purgeIdle();

private:
    std::shared_ptr<RuleLimiters> buildRule(QString name, policy::RateScope scopes, config::RuleMatch match,
                                            std::int64_t requestsPerMinute, std::int64_t burst,
                                            config::LimitAlgorithm algorithm, std::int64_t tokensPerMinute,
                                            int parallelRequests, bool anonymousOnly);

    const policy::Clock &m_clock;
    std::map<QString, std::shared_ptr<RuleLimiters>> m_rules;
};

} // namespace sluice::gateway
