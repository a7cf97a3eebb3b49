#include "store/redisratelimiter.h"

#include "store/rediskey.h"
#include "store/redisratelimitscripts.h"

#include <algorithm>

namespace sluice::store {

namespace {

StoreError malformed(const RedisReply &reply)
{
    return {StoreErrorKind::Protocol,
            QStringLiteral("rate-limit script answered a %1, expected 4 integers")
                .arg(QLatin1String(RedisReply::typeName(reply.type())))};
}

} // namespace

RedisRateLimiter::RedisRateLimiter(RedisSession &session, QByteArray keyNamespace)
    : m_session(session), m_keyNamespace(std::move(keyNamespace)), m_script(gcraRateLimitScript())
{
}

QByteArray RedisRateLimiter::keyFor(const QByteArray &id) const
{
    return redisKey(m_keyNamespace, kRateLimitKeyKind, id);
}

void RedisRateLimiter::decide(const QByteArray &id, const policy::RateRule &rule, std::int64_t cost, QObject *context,
                              Callback callback)
{
    const std::int64_t limit = std::max<std::int64_t>(rule.limit, 1);
    const std::int64_t periodNs = std::max<std::int64_t>(rule.period.count(), 1);
    const std::int64_t periodMs = periodNs / 1'000'000 + (periodNs % 1'000'000 != 0);
    const std::int64_t burst = std::max<std::int64_t>(rule.effectiveBurst(), 1);
    m_script.run(m_session, {keyFor(id)},
                 {QByteArray::number(limit), QByteArray::number(periodMs), QByteArray::number(burst),
                  QByteArray::number(std::max<std::int64_t>(cost, 0))},
                 context, [limit, callback = std::move(callback)](Result<RedisReply, StoreError> result) {
                     if (!callback)
                         return;
                     if (!result) {
                         callback(unexpected(std::move(result).error()));
                         return;
                     }
                     callback(decisionFromReply(*result, limit));
                 });
}

Result<policy::RateLimitDecision, StoreError> RedisRateLimiter::decisionFromReply(const RedisReply &reply,
                                                                                 std::int64_t limit)
{
    if (!reply.isArray() || reply.elements().size() != 4)
        return unexpected(malformed(reply));
    for (const RedisReply &element : reply.elements()) {
        if (!element.isInteger())
            return unexpected(malformed(reply));
    }
    const auto value = [&reply](size_t index) { return reply.elements().at(index).toInteger(); };
    using std::chrono::milliseconds;
    policy::RateLimitDecision decision;
    decision.allowed = value(0) == 1;
    decision.limit = limit;
    decision.remaining = value(1);
    decision.resetAfter = milliseconds(value(2));
    if (value(3) < 0) {
        decision.neverFits = true;
        decision.retryAfter = policy::kRetryNever;
    } else {
        decision.retryAfter = milliseconds(value(3));
    }
    return decision;
}

} // namespace sluice::store
