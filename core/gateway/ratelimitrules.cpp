#include "gateway/ratelimitrules.h"

#include <algorithm>
#include <chrono>

namespace sluice::gateway {

namespace {

constexpr policy::KeyedLimits kKeyedLimits{100'000, std::chrono::minutes(10)};

policy::RateScope toScopes(const std::vector<config::LimitScope> &scopes)
{
    policy::RateScope result = policy::RateScope::None;
    for (const config::LimitScope scope : scopes) {
        switch (scope) {
        case config::LimitScope::ApiKey: result = result | policy::RateScope::ApiKey; break;
        case config::LimitScope::Ip: result = result | policy::RateScope::Ip; break;
        case config::LimitScope::Route: result = result | policy::RateScope::Route; break;
        case config::LimitScope::Model: result = result | policy::RateScope::Model; break;
        }
    }
    return result;
}

policy::RateRule perMinute(std::int64_t limit, std::int64_t burst, config::LimitAlgorithm algorithm)
{
    policy::RateRule rule;
    rule.algorithm = algorithm == config::LimitAlgorithm::SlidingWindow ? policy::RateAlgorithm::SlidingWindow
                                                                         : policy::RateAlgorithm::Gcra;
    rule.limit = limit;
    rule.period = std::chrono::minutes(1);
    rule.burst = burst;
    return rule;
}

} // namespace

void keepTightest(std::optional<policy::RateLimitDecision> &slot, const policy::RateLimitDecision &decision)
{
    if (!slot || decision.remaining < slot->remaining)
        slot = decision;
}

bool RuleLimiters::applies(const ClientIdentity &identity) const
{
    if (anonymousOnly && !identity.anonymous)
        return false;
    if (!match.apiKey.isEmpty() && match.apiKey != identity.keyId)
        return false;
    if (!match.route.isEmpty() && match.route != identity.route)
        return false;
    if (!match.model.isEmpty() && !config::globMatches(match.model, identity.model))
        return false;
    return true;
}

std::string RuleLimiters::keyFor(const ClientIdentity &identity) const
{
    const QByteArray key = identity.keyId.toUtf8();
    const QByteArray ip = identity.ip.toUtf8();
    const QByteArray route = identity.route.toUtf8();
    const QByteArray model = identity.model.toUtf8();
    const policy::RequestIdentity view{std::string_view(key.constData(), std::size_t(key.size())),
                                       std::string_view(ip.constData(), std::size_t(ip.size())),
                                       std::string_view(route.constData(), std::size_t(route.size())),
                                       std::string_view(model.constData(), std::size_t(model.size()))};
    return policy::composeRateKey(scopes, view);
}

RateLimitRules::RateLimitRules(const policy::Clock &clock)
    : m_clock(clock)
{
}

std::shared_ptr<RuleLimiters> RateLimitRules::buildRule(QString name, policy::RateScope scopes,
                                                        config::RuleMatch match, std::int64_t requestsPerMinute,
                                                        std::int64_t burst, config::LimitAlgorithm algorithm,
                                                        std::int64_t tokensPerMinute, int parallelRequests,
                                                        bool anonymousOnly)
{
    const auto existing = m_rules.find(name);
    std::shared_ptr<RuleLimiters> rule;
    const bool sameShape = existing != m_rules.end() && existing->second->scopes == scopes
                           && existing->second->match == match && existing->second->anonymousOnly == anonymousOnly
                           && bool(existing->second->requests) == (requestsPerMinute > 0)
                           && bool(existing->second->tokens) == (tokensPerMinute > 0)
                           && bool(existing->second->parallel) == (parallelRequests > 0);
    const auto describe = [&](RuleLimiters &target) {
        target.requestRule = perMinute(std::max<std::int64_t>(requestsPerMinute, 1), burst, config::LimitAlgorithm::Gcra);
        target.tokenRule = perMinute(std::max<std::int64_t>(tokensPerMinute, 1), 0, config::LimitAlgorithm::Gcra);
        target.maxParallel = parallelRequests;
    };
    if (sameShape) {
        rule = existing->second;
        describe(*rule);
        if (rule->requests)
            rule->requests->setRule(perMinute(requestsPerMinute, burst, algorithm));
        if (rule->tokens)
            rule->tokens->setRule(perMinute(tokensPerMinute, 0, config::LimitAlgorithm::Gcra));
        if (rule->parallel)
            rule->parallel->setMaxParallel(parallelRequests);
        return rule;
    }
    rule = std::make_shared<RuleLimiters>();
    rule->name = std::move(name);
    rule->scopes = scopes;
    rule->match = std::move(match);
    rule->anonymousOnly = anonymousOnly;
    describe(*rule);
    if (requestsPerMinute > 0)
        rule->requests = std::make_unique<policy::KeyedRateLimiter>(perMinute(requestsPerMinute, burst, algorithm),
                                                                    kKeyedLimits, m_clock);
    if (tokensPerMinute > 0)
        rule->tokens = std::make_unique<policy::TokenLimiter>(
            perMinute(tokensPerMinute, 0, config::LimitAlgorithm::Gcra), kKeyedLimits, m_clock);
    if (parallelRequests > 0)
        rule->parallel = std::make_unique<policy::ParallelLimiter>(parallelRequests, kKeyedLimits, m_clock);
    return rule;
}

void RateLimitRules::configure(const config::GatewayConfig &config)
{
    std::map<QString, std::shared_ptr<RuleLimiters>> rules;
    for (const config::RateLimitRule &rule : config.rateLimits) {
        rules[rule.name] = buildRule(rule.name, toScopes(rule.scope), rule.match, rule.requestsPerMinute, rule.burst,
                                     rule.algorithm, rule.tokensPerMinute, rule.parallelRequests, false);
    }
    for (const config::ClientKey &key : config.apiKeys) {
        if (key.requestsPerMinute <= 0 && key.tokensPerMinute <= 0 && key.parallelRequests <= 0)
            continue;
        config::RuleMatch match;
        match.apiKey = key.id;
        const QString name = QStringLiteral("key:") + key.id;
        rules[name] = buildRule(name, policy::RateScope::ApiKey, match, key.requestsPerMinute, 0,
                                config::LimitAlgorithm::Gcra, key.tokensPerMinute, key.parallelRequests, false);
    }
    if (config.anonymous.enabled
        && (config.anonymous.requestsPerMinutePerIp > 0 || config.anonymous.tokensPerMinutePerIp > 0)) {
        const QString name = QStringLiteral("anonymous_ip");
        rules[name] = buildRule(name, policy::RateScope::Ip, {}, config.anonymous.requestsPerMinutePerIp, 0,
                                config::LimitAlgorithm::Gcra, config.anonymous.tokensPerMinutePerIp, 0, true);
    }
    m_rules = std::move(rules);
}

Result<AdmissionHolds, LimitRefusal> RateLimitRules::admit(const ClientIdentity &identity, qint64 estimatedTokens)
{
    struct Applicable {
        std::shared_ptr<RuleLimiters> rule;
        std::string key;
    };
    std::vector<Applicable> applicable;
    for (const auto &[name, rule] : m_rules) {
        if (rule->applies(identity))
            applicable.push_back({rule, rule->keyFor(identity)});
    }
    // Check everything first, charge nothing.
    for (const Applicable &item : applicable) {
        if (item.rule->requests) {
            const auto decision = item.rule->requests->peek(item.key, 1);
            if (!decision.allowed)
                return unexpected(LimitRefusal{item.rule->name, LimitDimension::Requests, decision});
        }
        if (item.rule->tokens) {
            const auto decision = item.rule->tokens->peek(item.key, estimatedTokens);
            if (!decision.allowed)
                return unexpected(LimitRefusal{item.rule->name, LimitDimension::Tokens, decision});
        }
        if (item.rule->parallel) {
            const std::int64_t max = item.rule->parallel->maxParallel();
            if (item.rule->parallel->active(item.key) >= max) {
                policy::RateLimitDecision decision;
                decision.limit = max;
                decision.retryAfter = std::chrono::seconds(1);
                decision.neverFits = max < 1;
                return unexpected(LimitRefusal{item.rule->name, LimitDimension::Parallel, decision});
            }
        }
    }
    AdmissionHolds holds;
    for (const Applicable &item : applicable) {
        if (item.rule->requests) {
            const auto decision = item.rule->requests->decide(item.key, 1);
            keepTightest(holds.requests, decision);
            holds.decided.emplace_back(item.rule->name, LimitDimension::Requests);
        }
        if (item.rule->tokens) {
            auto admission = item.rule->tokens->reserve(item.key, estimatedTokens);
            keepTightest(holds.tokensDecision, admission.decision);
            holds.decided.emplace_back(item.rule->name, LimitDimension::Tokens);
            if (admission.reservation.open)
                holds.tokens.push_back({item.rule, std::move(admission.reservation)});
        }
        if (item.rule->parallel) {
            item.rule->parallel->acquire(item.key);
            holds.parallel.push_back({item.rule, item.key});
            holds.decided.emplace_back(item.rule->name, LimitDimension::Parallel);
        }
    }
    return holds;
}

std::vector<PlannedCheck> RateLimitRules::plan(const ClientIdentity &identity) const
{
    std::vector<PlannedCheck> checks;
    for (const auto &[name, rule] : m_rules) {
        if (!rule->applies(identity))
            continue;
        const std::string key = rule->keyFor(identity);
        if (rule->requests)
            checks.push_back({name, LimitDimension::Requests, key, rule->requestRule, 0});
        if (rule->tokens)
            checks.push_back({name, LimitDimension::Tokens, key, rule->tokenRule, 0});
        if (rule->parallel)
            checks.push_back({name, LimitDimension::Parallel, key, {}, rule->maxParallel});
    }
    return checks;
}

void RateLimitRules::settle(AdmissionHolds &holds, std::optional<qint64> actualTokens)
{
    if (holds.settled)
        return;
    holds.settled = true;
    for (AdmissionHolds::TokenHold &hold : holds.tokens) {
        if (actualTokens)
            hold.rule->tokens->reconcile(hold.reservation, *actualTokens);
        else
            hold.rule->tokens->cancel(hold.reservation);
    }
    for (const AdmissionHolds::ParallelHold &hold : holds.parallel)
        hold.rule->parallel->release(hold.key);
    holds.tokens.clear();
    holds.parallel.clear();
}

void RateLimitRules::purgeIdle()
{
    for (const auto &[name, rule] : m_rules) {
        if (rule->requests)
            rule->requests->purgeIdle();
        if (rule->tokens)
            rule->tokens->purgeIdle();
        if (rule->parallel)
            rule->parallel->purgeIdle();
    }
}

} // namespace sluice::gateway
