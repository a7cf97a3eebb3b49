#include "gateway/sharedlimits.h"

#include "store/rediskey.h"

namespace sluice::gateway {

namespace {

char dimensionCode(LimitDimension dimension)
{
    switch (dimension) {
    case LimitDimension::Requests: return 'r';
    case LimitDimension::Tokens: return 't';
    case LimitDimension::Parallel: return 'p';
    }
    return 'r';
}

} // namespace

std::vector<store::AdmissionCheck> admissionChecks(const std::vector<PlannedCheck> &plan, QByteArrayView keyNamespace,
                                                   qint64 estimatedTokens)
{
    std::vector<store::AdmissionCheck> checks;
    checks.reserve(plan.size());
    for (const PlannedCheck &planned : plan) {
        store::AdmissionCheck check;
        QByteArray id = planned.rule.toUtf8();
        id += '|';
        id += dimensionCode(planned.dimension);
        id += '|';
        id += QByteArray::fromStdString(planned.scopeKey);
        check.key = store::redisKey(keyNamespace, store::kRateLimitKeyKind, id);
        switch (planned.dimension) {
        case LimitDimension::Requests:
            check.kind = store::AdmissionCheck::Kind::Rate;
            check.rule = planned.rate;
            check.cost = 1;
            break;
        case LimitDimension::Tokens:
            check.kind = store::AdmissionCheck::Kind::Tokens;
            check.rule = planned.rate;
            check.cost = estimatedTokens;
            break;
        case LimitDimension::Parallel:
            check.kind = store::AdmissionCheck::Kind::Lease;
            check.maxParallel = planned.maxParallel;
            break;
        }
        checks.push_back(std::move(check));
    }
    return checks;
}

Result<AdmissionHolds, LimitRefusal> holdsFromVerdict(const std::vector<PlannedCheck> &plan,
                                                      const std::vector<store::AdmissionCheck> &checks,
                                                      const store::AdmissionVerdict &verdict, QByteArray leaseId)
{
    if (!verdict.allowed) {
        const auto index = std::size_t(verdict.refusedIndex);
        policy::RateLimitDecision decision = verdict.decisions[index];
        decision.allowed = false;
        return unexpected(LimitRefusal{plan[index].rule, plan[index].dimension, decision});
    }
    AdmissionHolds holds;
    holds.redisLeaseId = std::move(leaseId);
    for (std::size_t i = 0; i < plan.size(); ++i) {
        const policy::RateLimitDecision &decision = verdict.decisions[i];
        holds.decided.emplace_back(plan[i].rule, plan[i].dimension);
        switch (plan[i].dimension) {
        case LimitDimension::Requests:
            keepTightest(holds.requests, decision);
            break;
        case LimitDimension::Tokens: {
            keepTightest(holds.tokensDecision, decision);
            if (verdict.cachedValue)
                break; // answered from the shared cache: nothing was reserved
            store::AdmissionSettlement settlement;
            settlement.kind = store::AdmissionSettlement::Kind::Tokens;
            settlement.key = checks[i].key;
            settlement.rule = checks[i].rule;
            settlement.reserved = checks[i].cost;
            holds.redis.push_back(std::move(settlement));
            break;
        }
        case LimitDimension::Parallel: {
            if (verdict.cachedValue)
                break; // no lease was taken for a cache hit
            store::AdmissionSettlement settlement;
            settlement.kind = store::AdmissionSettlement::Kind::Lease;
            settlement.key = checks[i].key;
            holds.redis.push_back(std::move(settlement));
            break;
        }
        }
    }
    return holds;
}

std::vector<store::AdmissionSettlement> settlementsFor(const AdmissionHolds &holds, std::optional<qint64> actualTokens)
{
    std::vector<store::AdmissionSettlement> settlements = holds.redis;
    for (store::AdmissionSettlement &settlement : settlements) {
        if (settlement.kind == store::AdmissionSettlement::Kind::Tokens)
            settlement.actual = actualTokens.value_or(0);
    }
    return settlements;
}

std::chrono::milliseconds leaseLifetime(const config::GatewayConfig &config)
{
    using namespace std::chrono_literals;
    if (config.timeouts.total <= 0ms)
        return 1h;
    return config.concurrency.queueTimeout + config.timeouts.total + 1min;
}

} // namespace sluice::gateway
