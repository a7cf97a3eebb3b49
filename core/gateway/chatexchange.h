#pragma once

#include "config/gatewayconfig.h"
#include "gateway/apierror.h"
#include "gateway/chatrequest.h"
#include "gateway/clientidentity.h"
#include "gateway/providerprotocol.h"
#include "gateway/ratelimitheaders.h"
#include "gateway/ratelimitrules.h"
#include "gateway/sseparser.h"
#include "gateway/streamassembler.h"
#include "gateway/upstreampool.h"
#include "http/httprequest.h"
#include "http/upstreamclient.h"
#include "policy/responsecache.h"
#include "store/redisadmission.h"

#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <QTimer>

#include <memory>
#include <optional>
#include <random>

namespace sluice::http {
class HttpResponder;
}

namespace sluice::gateway {

struct PipelineContext;
class RedisLane;

// One chat request (POST /v1/chat/completions or /v1/messages) through the whole
// pipeline: authenticate → parse → route → rate limits → cache → single-flight →
// concurrency permit → upstream (breaker, retries with backoff, fallback, provider-quota
// pacing) → stream or buffer the answer → account → metrics. Every refusal is answered
// in the client's provider shape with the right status.
//
// With Redis (PipelineContext::redisLanes), the rate limits are decided for the whole
// deployment by one admission script that also reads the shared response cache (one
// call, one round trip on the thread's RedisLane); the settlement and the cache write
// go at the end, fire-and-forget (a cache hit has nothing to settle). When the lane cannot be
// used (not connected, an error, a timeout) redis.fallback decides: local limits and
// the local cache, no limits, or 503. The Redis half lives in chatexchangeredis.cpp.
//
// Thread affinity: created by start() on the connection's thread, lives and dies there;
// it deletes itself once the answer is complete or the client went away. Everything it
// holds (limit holds, queue place, permit, single-flight membership, upstream lease) is
// given back on every path, including destruction.
class ChatExchange : public QObject {
    Q_OBJECT
public:
    static void start(PipelineContext &context, ProviderKind kind, http::HttpRequest request,
                      std::shared_ptr<http::HttpResponder> responder);
    ~ChatExchange() override;

private:
    enum class CacheLabel { Hit, Miss, Bypass };
    // Shared with callbacks that run under GatewayPolicies' mutex on other threads; read
    // and written only under that mutex.
    struct PermitTicket {
        policy::WaiterId id = 0;
        bool granted = false;
        bool consumed = false;
        bool abandoned = false;
    };
    struct FlightTicket {
        bool abandoned = false;
    };
    // A failed upstream attempt, before anything reached the client.
    struct AttemptFailure {
        int status = 0;                 // upstream HTTP status; 0 for transport errors
        QByteArray body;                // the upstream's error body
        http::HttpHeaders headers;
        std::optional<http::UpstreamErrorKind> transport;
        QString message;
    };

    ChatExchange(PipelineContext &context, ProviderKind kind, http::HttpRequest request,
                 std::shared_ptr<http::HttpResponder> responder);

    void run();
    bool authenticate();
    bool parseAndRoute();
    enum class CachePlan { Bypass, Revalidate, Lookup };

    void admitLimits();
    // The local limits (GatewayPolicies); false when refused (and answered).
    bool admitLocally();
    // Redis (chatexchangeredis.cpp).
    void admitShared();
    void onSharedReplies();
    void fallBackFromRedis(const QString &reason);
    bool storeInRedis(const policy::CacheValue &value);
    // Gives back the limit holds, locally or in Redis (nullopt: refund).
    void settleLimits(std::optional<qint64> actualTokens);

    // Whether the cache applies to this request; sets m_cacheKey and m_storeInCache.
    CachePlan planCache();
    void lookupCache();
    void joinSingleFlight();
    void requestPermit();
    void onPermitOutcome(policy::WaitResult result, policy::Nanoseconds waited);
    void startAttempt();
    void onUpstreamHead(const http::UpstreamResponseHead &head);
    void onUpstreamBody(const QByteArray &bytes);
    void onUpstreamComplete();
    void onUpstreamError(const http::UpstreamError &error);
    void attemptFailed(AttemptFailure failure);
    void answerFailure(const AttemptFailure &failure);
    void forwardStreamEvents(const QList<SseEvent> &events);
    void writeToClient(const QByteArray &bytes);
    void onClientDrained();
    void accountAnswer(const QByteArray &responseBody, bool complete);
    void answerFromCache(const policy::CacheValue &body);
    // The cost of `usage` at the price of the provider model this request maps to;
    // nullopt when the price table does not know it.
    std::optional<double> costOf(const policy::TokenUsage &usage) const;
    void answerError(const ApiError &error, const HeaderList &extraHeaders = {});
    void answerLimitRefusal(const LimitRefusal &refusal);
    void onClientGone();
    void finish();
    void releaseEverything(bool clientGone);

    http::HttpHeaders responseHeaders(const http::HttpHeaders *upstreamHeaders) const;
    http::UpstreamRequest buildUpstreamRequest() const;
    bool isCacheable() const;
    std::chrono::seconds cacheTtl() const;
    QString routeName() const;
    QString cacheLabelText() const;
    double secondsSinceStart() const;

    PipelineContext &m_context;
    ProviderKind m_kind;
    http::HttpRequest m_request;
    std::shared_ptr<http::HttpResponder> m_responder;
    std::shared_ptr<const config::GatewayConfig> m_config;
    QString m_requestId;
    QElapsedTimer m_elapsed;

    ClientIdentity m_identity;
    ChatRequest m_chat;
    qint64 m_estimatedTokens = 0;
    QStringList m_candidates;
    std::optional<AdmissionHolds> m_holds;

    // Redis (see the class comment).
    QPointer<RedisLane> m_lane;
    bool m_cacheInRedis = false;
    CachePlan m_cachePlan = CachePlan::Bypass;
    int m_sharedPending = 0;
    std::vector<PlannedCheck> m_plan;
    std::vector<store::AdmissionCheck> m_checks;
    std::optional<Result<store::AdmissionVerdict, store::StoreError>> m_sharedVerdict;

    CacheLabel m_cacheLabel = CacheLabel::Bypass;
    bool m_storeInCache = false;
    std::string m_cacheKey;
    bool m_flightLeader = false;
    std::shared_ptr<FlightTicket> m_flightTicket;
    quint64 m_flightFollowerId = 0;

    std::shared_ptr<PermitTicket> m_permitTicket;
    bool m_holdsPermit = false;
    double m_queueWaitSeconds = 0;

    std::optional<UpstreamLease> m_lease;
    std::shared_ptr<http::UpstreamCall> m_call;
    QStringList m_excludedUpstreams;
    int m_attemptsOnUpstream = 0;
    int m_attemptsTotal = 0;
    QString m_lastUpstream;
    std::optional<AttemptFailure> m_lastFailure;
    QTimer m_retryTimer;
    std::mt19937_64 m_random;
    QElapsedTimer m_attemptElapsed;
    double m_upstreamSeconds = 0;

    int m_upstreamStatus = 0;
    http::HttpHeaders m_upstreamHeaders;
    QByteArray m_upstreamBody;
    bool m_streamingToClient = false;
    std::optional<SseParser> m_sseParser;
    std::optional<StreamAssembler> m_assembler;
    QList<QByteArray> m_pendingOut;
    bool m_upstreamPaused = false;
    bool m_upstreamDone = false;
    bool m_firstTokenSeen = false;
    std::optional<double> m_timeToFirstTokenSeconds;

    int m_answerStatus = 0;
    std::optional<policy::TokenUsage> m_usage;
    double m_costUsd = 0;
    bool m_finished = false;
};

} // namespace sluice::gateway
