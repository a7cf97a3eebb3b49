// The Redis half of ChatExchange: limits decided for the whole deployment and the
// shared response cache (see the class comment in chatexchange.h).

#include "gateway/chatexchange.h"

#include "gateway/gatewaymetrics.h"
#include "gateway/gatewaypolicies.h"
#include "gateway/pipelinecontext.h"
#include "gateway/redislanes.h"
#include "gateway/sharedlimits.h"
#include "store/rediskey.h"

namespace sluice::gateway {

namespace {

QByteArray sharedCacheKey(QByteArrayView keyNamespace, const std::string &key)
{
    return store::redisKey(keyNamespace, store::kCacheKeyKind, QByteArrayLiteral("chat:") + QByteArray::fromStdString(key));
}

// Unique across instances and requests: a lease of one never frees another's slot.
QByteArray leaseIdFor(const PipelineContext &context, const QString &requestId)
{
    return (context.instanceId + QLatin1Char('/') + requestId).toUtf8();
}

} // namespace

void ChatExchange::admitShared()
{
    if (m_finished)
        return; // the client went away while the lane was connecting
    if (!m_lane)
        m_lane = m_context.redisLanes->forThisThread();
    RedisLane *lane = m_lane;
    if (lane->isStarting()) {
        // The first request on a worker: wait for its connection instead of falling back.
        connect(lane, &RedisLane::firstAttemptDone, this, &ChatExchange::admitShared, Qt::SingleShotConnection);
        return;
    }
    if (!lane->isReady()) {
        fallBackFromRedis(lane->session().lastError().message);
        return;
    }
    RedisLanes *lanes = m_context.redisLanes;
    m_plan = m_context.policies->planLimits(m_identity);
    m_checks = admissionChecks(m_plan, lane->keyNamespace(), m_estimatedTokens);
    m_cacheInRedis = m_config->redis.sharedCache;
    m_cachePlan = planCache();
    const bool readCache = m_cacheInRedis && m_cachePlan == CachePlan::Lookup;
    // The cache entry is read by the admission script itself: one call, one round trip.
    const QByteArray cacheKey = readCache ? sharedCacheKey(lane->keyNamespace(), m_cacheKey) : QByteArray();
    if (!m_checks.empty() || readCache)
        lanes->countCommand(RedisOp::Admit);
    // Awaited before going on; with nothing to ask, admit() answers at once, inside it.
    m_sharedPending = 1;
    lane->admission().admit(lane->session(), m_checks, leaseIdFor(m_context, m_requestId), leaseLifetime(*m_config),
                            cacheKey, this, [this](Result<store::AdmissionVerdict, store::StoreError> verdict) {
                                m_sharedVerdict = std::move(verdict);
                                --m_sharedPending;
                                onSharedReplies();
                            });
}

void ChatExchange::onSharedReplies()
{
    const Result<store::AdmissionVerdict, store::StoreError> verdict = std::move(*m_sharedVerdict);
    if (m_finished) {
        // The client went away meanwhile: give back what was just taken, then go.
        if (verdict) {
            if (auto admitted = holdsFromVerdict(m_plan, m_checks, *verdict, leaseIdFor(m_context, m_requestId))) {
                m_holds = std::move(*admitted);
                settleLimits(std::nullopt);
            }
        }
        deleteLater();
        return;
    }
    if (!verdict) {
        m_context.redisLanes->countError(RedisOp::Admit);
        fallBackFromRedis(verdict.error().message);
        return;
    }
    auto admitted = holdsFromVerdict(m_plan, m_checks, *verdict, leaseIdFor(m_context, m_requestId));
    if (!admitted) {
        m_context.metrics->rateLimitDecision(admitted.error().rule, admitted.error().dimension, false);
        answerLimitRefusal(admitted.error());
        return;
    }
    m_holds = std::move(*admitted);
    for (const auto &[rule, dimension] : m_holds->decided)
        m_context.metrics->rateLimitDecision(rule, dimension, true);
    if (!m_cacheInRedis) {
        lookupCache();
        return;
    }
    if (m_cachePlan != CachePlan::Lookup) {
        m_context.metrics->cacheResult(CacheResult::Bypass);
        requestPermit();
        return;
    }
    m_cacheLabel = CacheLabel::Miss;
    if (verdict->cachedValue) {
        m_cacheLabel = CacheLabel::Hit;
        m_context.metrics->cacheResult(CacheResult::Hit);
        answerFromCache(std::make_shared<const std::string>(verdict->cachedValue->toStdString()));
        return;
    }
    m_context.metrics->cacheResult(CacheResult::Miss);
    joinSingleFlight();
}

void ChatExchange::fallBackFromRedis(const QString &reason)
{
    // The local cache serves while Redis cannot.
    m_cacheInRedis = false;
    const config::RedisFallback policy = m_config->redis.fallback;
    m_context.redisLanes->countFallback(policy);
    switch (policy) {
    case config::RedisFallback::Local:
        if (admitLocally())
            lookupCache();
        return;
    case config::RedisFallback::FailOpen:
        lookupCache();
        return;
    case config::RedisFallback::FailClosed:
        m_context.metrics->clientError(u"redis_unavailable");
        answerError(errorForStatus(m_kind, 503,
                                   QStringLiteral("Rate limits are shared through Redis, which cannot be used now (%1); "
                                                  "this gateway refuses requests until it can (redis.fallback is "
                                                  "fail_closed).")
                                       .arg(reason.isEmpty() ? QStringLiteral("not connected") : reason)),
                    {{QByteArrayLiteral("retry-after"), QByteArrayLiteral("1")}});
        return;
    }
}

bool ChatExchange::storeInRedis(const policy::CacheValue &value)
{
    RedisLane *lane = m_lane;
    const qint64 ttlMs = std::chrono::duration_cast<std::chrono::milliseconds>(cacheTtl()).count();
    if (!lane || !lane->isReady() || ttlMs <= 0 || qint64(value->size()) > m_config->cache.maxEntryBytes)
        return false;
    RedisLanes *lanes = m_context.redisLanes;
    lanes->countCommand(RedisOp::CacheSet);
    lane->session().command({QByteArrayLiteral("SET"), sharedCacheKey(lane->keyNamespace(), m_cacheKey),
                             QByteArray::fromStdString(*value), QByteArrayLiteral("PX"), QByteArray::number(ttlMs)},
                            lane, [lanes](Result<store::RedisReply, store::StoreError> reply) {
                                if (!reply)
                                    lanes->countError(RedisOp::CacheSet);
                            });
    return true;
}

void ChatExchange::settleLimits(std::optional<qint64> actualTokens)
{
    if (!m_holds || m_holds->settled)
        return;
    if (m_holds->redisLeaseId.isEmpty()) {
        m_context.policies->settle(*m_holds, actualTokens);
        return;
    }
    m_holds->settled = true;
    const auto settlements = settlementsFor(*m_holds, actualTokens);
    RedisLane *lane = m_lane;
    // Without a connection the lease expires by itself and the reservation stays charged.
    if (settlements.empty() || !lane || !lane->isReady())
        return;
    m_context.redisLanes->countCommand(RedisOp::Settle);
    lane->admission().settle(lane->session(), settlements, m_holds->redisLeaseId);
}

} // namespace sluice::gateway
