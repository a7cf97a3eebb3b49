#include "store/redistokenlimiter.h"

#include "store/rediskey.h"
#include "store/redisratelimiter.h"
#include "store/redisratelimitscripts.h"

#include <algorithm>

namespace sluice::store {

namespace {

struct ScriptRule {
    std::int64_t limit = 1;
    QList<QByteArray> arguments; // limit, period_ms, burst
};

// As RedisRateLimiter::decide(), so both classes mean the same bucket by the same rule.
ScriptRule scriptRule(const policy::RateRule &rule)
{
    const std::int64_t limit = std::max<std::int64_t>(rule.limit, 1);
    const std::int64_t periodNs = std::max<std::int64_t>(rule.period.count(), 1);
    const std::int64_t periodMs = periodNs / 1'000'000 + (periodNs % 1'000'000 != 0);
    const std::int64_t burst = std::max<std::int64_t>(rule.effectiveBurst(), 1);
    return {limit, {QByteArray::number(limit), QByteArray::number(periodMs), QByteArray::number(burst)}};
}

RedisSession::Callback decisionReply(std::int64_t limit, RedisTokenLimiter::DecisionCallback callback)
{
    return [limit, callback = std::move(callback)](Result<RedisReply, StoreError> result) {
        if (!callback)
            return;
        if (!result) {
            callback(unexpected(std::move(result).error()));
            return;
        }
        callback(RedisRateLimiter::decisionFromReply(*result, limit));
    };
}

} // namespace

RedisTokenLimiter::RedisTokenLimiter(RedisSession &session, QByteArray keyNamespace)
    : m_session(session)
    , m_keyNamespace(std::move(keyNamespace))
    , m_reserveScript(gcraRateLimitScript())
    , m_settleScript(tokenSettleScript())
{
}

QByteArray RedisTokenLimiter::keyFor(const QByteArray &id) const
{
    return redisKey(m_keyNamespace, kTokenLimitKeyKind, id);
}

void RedisTokenLimiter::reserve(const QByteArray &id, const policy::RateRule &rule, std::int64_t estimatedTokens,
                                QObject *context, AdmissionCallback callback)
{
    const ScriptRule script = scriptRule(rule);
    const std::int64_t tokens = std::max<std::int64_t>(estimatedTokens, 0);
    m_reserveScript.run(m_session, {keyFor(id)}, script.arguments + QList<QByteArray>{QByteArray::number(tokens)},
                        context,
                        decisionReply(script.limit, [tokens, callback = std::move(callback)](
                                                        Result<policy::RateLimitDecision, StoreError> decision) {
                            if (!callback)
                                return;
                            if (!decision) {
                                callback(unexpected(std::move(decision).error()));
                                return;
                            }
                            RedisTokenAdmission admission;
                            admission.decision = *decision;
                            admission.reservedTokens = decision->allowed ? tokens : 0;
                            callback(admission);
                        }));
}

void RedisTokenLimiter::reconcile(const QByteArray &id, const policy::RateRule &rule, std::int64_t reservedTokens,
                                  std::int64_t actualTokens, QObject *context, DecisionCallback callback)
{
    const ScriptRule script = scriptRule(rule);
    m_settleScript.run(m_session, {keyFor(id)},
                       script.arguments
                           + QList<QByteArray>{QByteArray::number(std::max<std::int64_t>(reservedTokens, 0)),
                                               QByteArray::number(std::max<std::int64_t>(actualTokens, 0))},
                       context, decisionReply(script.limit, std::move(callback)));
}

void RedisTokenLimiter::cancel(const QByteArray &id, const policy::RateRule &rule, std::int64_t reservedTokens,
                               QObject *context, DecisionCallback callback)
{
    reconcile(id, rule, reservedTokens, 0, context, std::move(callback));
}

void RedisTokenLimiter::peek(const QByteArray &id, const policy::RateRule &rule, QObject *context,
                             DecisionCallback callback)
{
    const ScriptRule script = scriptRule(rule);
    m_reserveScript.run(m_session, {keyFor(id)}, script.arguments + QList<QByteArray>{QByteArrayLiteral("0")}, context,
                        decisionReply(script.limit, std::move(callback)));
}

} // namespace sluice::store
