#include "store/redisleaselimiter.h"

#include "store/rediskey.h"
#include "store/redisratelimitscripts.h"

#include <QRandomGenerator>

#include <algorithm>
#include <array>

namespace sluice::store {

namespace {

StoreError malformed(const char *what, const RedisReply &reply)
{
    return {StoreErrorKind::Protocol, QStringLiteral("%1 answered a %2")
                                          .arg(QLatin1String(what), QLatin1String(RedisReply::typeName(reply.type())))};
}

QByteArray ttlArgument(std::chrono::milliseconds leaseTtl)
{
    return QByteArray::number(std::max<std::int64_t>(leaseTtl.count(), 1));
}

// 128 random bits: ids from instances that never talk to each other must not collide.
QByteArray newLeaseId()
{
    std::array<quint32, 4> words{};
    QRandomGenerator::system()->fillRange(words.data(), qsizetype(words.size()));
    return QByteArray(reinterpret_cast<const char *>(words.data()), qsizetype(sizeof(words))).toHex();
}

RedisSession::Callback integerReply(const char *what, std::function<void(Result<std::int64_t, StoreError>)> callback)
{
    return [what, callback = std::move(callback)](Result<RedisReply, StoreError> result) {
        if (!callback)
            return;
        if (!result)
            callback(unexpected(std::move(result).error()));
        else if (!result->isInteger())
            callback(unexpected(malformed(what, *result)));
        else
            callback(result->toInteger());
    };
}

RedisSession::Callback flagReply(const char *what, RedisLeaseLimiter::LeaseCallback callback)
{
    return integerReply(what, [callback = std::move(callback)](Result<std::int64_t, StoreError> result) {
        if (!callback)
            return;
        if (!result)
            callback(unexpected(std::move(result).error()));
        else
            callback(*result != 0);
    });
}

} // namespace

RedisLeaseLimiter::RedisLeaseLimiter(RedisSession &session, QByteArray keyNamespace,
                                     std::chrono::milliseconds retryAfterHint)
    : m_session(session)
    , m_keyNamespace(std::move(keyNamespace))
    , m_retryAfterHint(retryAfterHint)
    , m_acquireScript(leaseAcquireScript())
    , m_renewScript(leaseRenewScript())
    , m_countScript(leaseCountScript())
{
}

QByteArray RedisLeaseLimiter::keyFor(const QByteArray &id) const
{
    return redisKey(m_keyNamespace, kLeaseKeyKind, id);
}

void RedisLeaseLimiter::acquire(const QByteArray &id, std::int64_t maxParallel, std::chrono::milliseconds leaseTtl,
                                QObject *context, AcquireCallback callback)
{
    QByteArray leaseId = newLeaseId();
    m_acquireScript.run(m_session, {keyFor(id)}, {QByteArray::number(maxParallel), ttlArgument(leaseTtl), leaseId},
                        context,
                        [maxParallel, hint = m_retryAfterHint, leaseId, callback = std::move(callback)](
                            Result<RedisReply, StoreError> result) {
                            if (!callback)
                                return;
                            if (!result) {
                                callback(unexpected(std::move(result).error()));
                                return;
                            }
                            callback(leaseFromReply(*result, maxParallel, hint, leaseId));
                        });
}

void RedisLeaseLimiter::release(const QByteArray &id, const QByteArray &leaseId, QObject *context,
                                LeaseCallback callback)
{
    m_session.command({QByteArrayLiteral("ZREM"), keyFor(id), leaseId}, context,
                      flagReply("ZREM", std::move(callback)));
}

void RedisLeaseLimiter::renew(const QByteArray &id, const QByteArray &leaseId, std::chrono::milliseconds leaseTtl,
                              QObject *context, LeaseCallback callback)
{
    m_renewScript.run(m_session, {keyFor(id)}, {ttlArgument(leaseTtl), leaseId}, context,
                      flagReply("lease renew script", std::move(callback)));
}

void RedisLeaseLimiter::active(const QByteArray &id, QObject *context, CountCallback callback)
{
    m_countScript.run(m_session, {keyFor(id)}, {}, context, integerReply("lease count script", std::move(callback)));
}

Result<RedisLease, StoreError> RedisLeaseLimiter::leaseFromReply(const RedisReply &reply, std::int64_t maxParallel,
                                                                 std::chrono::milliseconds retryAfterHint,
                                                                 const QByteArray &leaseId)
{
    const auto isInteger = [](const RedisReply &element) { return element.isInteger(); };
    const std::vector<RedisReply> &elements = reply.elements();
    if (!reply.isArray() || elements.size() != 3 || !std::all_of(elements.begin(), elements.end(), isInteger))
        return unexpected(StoreError{StoreErrorKind::Protocol,
                                     QStringLiteral("lease acquire script answered a %1, expected 3 integers")
                                         .arg(QLatin1String(RedisReply::typeName(reply.type())))});
    const std::int64_t allowed = elements[0].toInteger();
    const std::int64_t held = elements[1].toInteger();
    const std::int64_t retryMs = elements[2].toInteger();
    RedisLease lease;
    lease.decision.allowed = allowed == 1;
    lease.decision.limit = maxParallel;
    lease.decision.remaining = std::max<std::int64_t>(maxParallel - held, 0);
    if (lease.decision.allowed) {
        lease.leaseId = leaseId;
    } else if (retryMs < 0) {
        lease.decision.neverFits = true;
        lease.decision.retryAfter = policy::kRetryNever;
    } else {
        lease.decision.retryAfter = std::min<policy::Nanoseconds>(retryAfterHint, std::chrono::milliseconds(retryMs));
    }
    return lease;
}

} // namespace sluice::store
