#include "gateway/chatexchange.h"

#include "gateway/cachekey.h"
#include "gateway/chatrequestparser.h"
#include "gateway/gatewaymetrics.h"
#include "gateway/gatewaypolicies.h"
#include "gateway/logger.h"
#include "gateway/pipelinecontext.h"
#include "gateway/providerquota.h"
#include "gateway/streamreplay.h"
#include "gateway/tokenestimate.h"
#include "gateway/tokenusage.h"
#include "http/httpresponder.h"
#include "policy/backoff.h"
#include "policy/costmodel.h"
#include "policy/retryafter.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPointer>
#include <QRandomGenerator>

namespace sluice::gateway {

namespace {

// A non-stream answer (or an upstream error body) larger than this is refused with 502
// rather than held in memory.
constexpr qsizetype kMaxBufferedUpstreamBytes = 64 * 1024 * 1024;

// Upstream response headers passed on to the client.
constexpr std::array<QByteArrayView, 5> kForwardedHeaders{"content-type", "x-request-id", "request-id",
                                                          "openai-processing-ms", "openai-version"};

bool cacheControlHas(const http::HttpHeaders &headers, QByteArrayView directive)
{
    return headers.hasToken("cache-control", directive) || headers.hasToken("pragma", directive);
}

qint64 nowUnixMilliseconds()
{
    return QDateTime::currentMSecsSinceEpoch();
}

bool isTimeout(http::UpstreamErrorKind kind)
{
    return kind == http::UpstreamErrorKind::ConnectTimeout || kind == http::UpstreamErrorKind::FirstByteTimeout
           || kind == http::UpstreamErrorKind::IdleTimeout || kind == http::UpstreamErrorKind::TotalTimeout;
}

bool isConnectionFailure(http::UpstreamErrorKind kind)
{
    return kind == http::UpstreamErrorKind::ConnectionReset || kind == http::UpstreamErrorKind::ConnectionRefused
           || kind == http::UpstreamErrorKind::HostNotFound || kind == http::UpstreamErrorKind::ProxyFailure
           || kind == http::UpstreamErrorKind::TlsFailure || kind == http::UpstreamErrorKind::ProtocolError;
}

QString dimensionName(LimitDimension dimension)
{
    switch (dimension) {
    case LimitDimension::Requests: return QStringLiteral("requests");
    case LimitDimension::Tokens: return QStringLiteral("tokens");
    case LimitDimension::Parallel: return QStringLiteral("parallel requests");
    }
    return {};
}

RateLimitState stateFrom(const AdmissionHolds &holds)
{
    RateLimitState state;
    if (holds.requests)
        state.requests = RateLimitBucket{holds.requests->limit, holds.requests->remaining, holds.requests->resetAfter};
    if (holds.tokensDecision)
        state.tokens = RateLimitBucket{holds.tokensDecision->limit, holds.tokensDecision->remaining,
                                       holds.tokensDecision->resetAfter};
    return state;
}

} // namespace

void ChatExchange::start(PipelineContext &context, ProviderKind kind, http::HttpRequest request,
                         std::shared_ptr<http::HttpResponder> responder)
{
    auto *exchange = new ChatExchange(context, kind, std::move(request), std::move(responder));
    exchange->run();
}

ChatExchange::ChatExchange(PipelineContext &context, ProviderKind kind, http::HttpRequest request,
                           std::shared_ptr<http::HttpResponder> responder)
    : m_context(context)
    , m_kind(kind)
    , m_request(std::move(request))
    , m_responder(std::move(responder))
    , m_random(QRandomGenerator::global()->generate64()) // std::random_device costs ~26 µs a call on VMs
{
    m_elapsed.start();
    m_retryTimer.setSingleShot(true);
    connect(&m_retryTimer, &QTimer::timeout, this, &ChatExchange::startAttempt);
    ++m_context.inFlight;
    m_context.metrics->addInFlight(1);
}

ChatExchange::~ChatExchange()
{
    releaseEverything(!m_finished);
    --m_context.inFlight;
    m_context.metrics->addInFlight(-1);
}

void ChatExchange::run()
{
    m_config = m_context.config();
    m_requestId = m_context.nextRequestId();
    m_request.requestId = m_requestId;
    m_responder->onCancelled([this] { onClientGone(); }, this);
    m_responder->onDrained([this] { onClientDrained(); }, this);
    if (!authenticate() || !parseAndRoute())
        return;
    admitLimits();
}

QString ChatExchange::routeName() const
{
    return QString::fromLatin1(chatEndpointPath(m_kind));
}

double ChatExchange::secondsSinceStart() const
{
    return double(m_elapsed.nsecsElapsed()) / 1e9;
}

bool ChatExchange::authenticate()
{
    m_identity.ip = m_request.peerAddress.toString();
    m_identity.route = routeName();
    const QByteArray key = presentedApiKey(m_request.headers);
    if (key.isEmpty()) {
        if (m_config->anonymous.enabled) {
            m_identity.keyId = QString::fromLatin1(kAnonymousKeyId);
            m_identity.anonymous = true;
            m_identity.priority = policy::Priority::Low;
            return true;
        }
        m_context.metrics->clientError(u"unauthenticated");
        answerError(errorForStatus(m_kind, 401,
                                   m_kind == ProviderKind::OpenAI
                                       ? QStringLiteral("You didn't provide an API key. Send it in the "
                                                        "Authorization header as 'Bearer YOUR_KEY'.")
                                       : QStringLiteral("x-api-key header is required")));
        return false;
    }
    if (const config::ClientKey *client = findClientKey(*m_config, key)) {
        m_identity.keyId = client->id;
        m_identity.priority = queuePriority(client->priority);
        return true;
    }
    m_context.metrics->clientError(u"invalid_api_key");
    answerError(errorForStatus(m_kind, 401,
                               m_kind == ProviderKind::OpenAI ? QStringLiteral("Incorrect API key provided.")
                                                              : QStringLiteral("invalid x-api-key")));
    return false;
}

bool ChatExchange::parseAndRoute()
{
    auto parsed = parseChatRequest(m_kind, m_request.body);
    if (!parsed) {
        m_context.metrics->clientError(u"invalid_request");
        answerError(parsed.error());
        return false;
    }
    m_chat = std::move(*parsed);
    m_identity.model = m_chat.model;
    m_candidates = m_context.policies->candidates(m_kind, m_chat.model);
    if (m_candidates.isEmpty()) {
        m_context.metrics->clientError(u"unknown_model");
        ApiError error = errorForStatus(
            m_kind, 404,
            m_kind == ProviderKind::OpenAI
                ? QStringLiteral("The model `%1` does not exist or you do not have access to it.").arg(m_chat.model)
                : QStringLiteral("model: %1").arg(m_chat.model));
        if (m_kind == ProviderKind::OpenAI)
            error.code = QStringLiteral("model_not_found");
        error.param = QStringLiteral("model");
        answerError(error);
        return false;
    }
    if (!m_identity.anonymous) {
        for (const config::ClientKey &client : m_config->apiKeys) {
            if (client.id != m_identity.keyId || client.allowedModels.isEmpty())
                continue;
            const bool allowed = std::any_of(client.allowedModels.begin(), client.allowedModels.end(),
                                             [this](const QString &glob) {
                                                 return config::globMatches(glob, m_chat.model);
                                             });
            if (!allowed) {
                m_context.metrics->clientError(u"forbidden_model");
                answerError(errorForStatus(m_kind, 403,
                                           QStringLiteral("This API key is not allowed to use the model `%1`.")
                                               .arg(m_chat.model)));
                return false;
            }
        }
    }
    return true;
}

void ChatExchange::admitLimits()
{
    m_estimatedTokens = estimateReservationTokens(m_chat);
    if (m_context.redisLanes && m_config->redis.enabled) {
        admitShared();
        return;
    }
    if (admitLocally())
        lookupCache();
}

bool ChatExchange::admitLocally()
{
    auto admitted = m_context.policies->admit(m_identity, m_estimatedTokens);
    if (!admitted) {
        m_context.metrics->rateLimitDecision(admitted.error().rule, admitted.error().dimension, false);
        answerLimitRefusal(admitted.error());
        return false;
    }
    m_holds = std::move(*admitted);
    for (const auto &[rule, dimension] : m_holds->decided)
        m_context.metrics->rateLimitDecision(rule, dimension, true);
    return true;
}

void ChatExchange::answerLimitRefusal(const LimitRefusal &refusal)
{
    const QString dimension = dimensionName(refusal.dimension);
    ApiError error = errorForStatus(m_kind, 429);
    if (refusal.decision.neverFits) {
        error.message = refusal.dimension == LimitDimension::Tokens
                            ? QStringLiteral("Request too large: it needs an estimated %1 tokens, more than the "
                                             "limit '%2' of %3 tokens per minute can ever admit.")
                                  .arg(m_estimatedTokens)
                                  .arg(refusal.rule)
                                  .arg(refusal.decision.limit)
                            : QStringLiteral("Rate limit '%1' admits no %2.").arg(refusal.rule, dimension);
    } else {
        error.message = QStringLiteral("Rate limit reached for %1 (%2): limit %3, remaining %4. Please try again "
                                       "in %5s.")
                            .arg(refusal.rule, dimension)
                            .arg(refusal.decision.limit)
                            .arg(refusal.decision.remaining)
                            .arg(QString::fromLatin1(retryAfterSeconds(refusal.decision.retryAfter)));
    }
    if (m_kind == ProviderKind::OpenAI)
        error.type = refusal.dimension == LimitDimension::Tokens ? QStringLiteral("tokens") : QStringLiteral("requests");
    HeaderList headers;
    if (!refusal.decision.neverFits)
        headers.append({"retry-after", retryAfterSeconds(refusal.decision.retryAfter)});
    RateLimitState state;
    const RateLimitBucket bucket{refusal.decision.limit, refusal.decision.remaining, refusal.decision.resetAfter};
    if (refusal.dimension == LimitDimension::Tokens)
        state.tokens = bucket;
    else
        state.requests = bucket;
    headers.append(rateLimitHeaders(m_kind, state, nowUnixMilliseconds()));
    m_context.metrics->clientError(u"rate_limited");
    answerError(error, headers);
}

bool ChatExchange::isCacheable() const
{
    const config::CacheConfig &cache = m_config->cache;
    if (!cache.enabled || cacheTtl().count() <= 0)
        return false;
    if (std::any_of(cache.bypass.models.begin(), cache.bypass.models.end(),
                    [this](const QString &glob) { return config::globMatches(glob, m_chat.model); }))
        return false;
    if (cache.bypass.routes.contains(routeName()))
        return false;
    if (m_chat.temperature.value_or(1.0) > cache.bypass.temperatureAbove)
        return false;
    return true;
}

std::chrono::seconds ChatExchange::cacheTtl() const
{
    const config::CacheConfig &cache = m_config->cache;
    if (const auto it = cache.modelTtl.find(m_chat.model); it != cache.modelTtl.end())
        return it->second;
    if (const auto it = cache.routeTtl.find(routeName()); it != cache.routeTtl.end())
        return it->second;
    return cache.ttl;
}

QString ChatExchange::cacheLabelText() const
{
    switch (m_cacheLabel) {
    case CacheLabel::Hit: return QStringLiteral("HIT");
    case CacheLabel::Miss: return QStringLiteral("MISS");
    case CacheLabel::Bypass: return QStringLiteral("BYPASS");
    }
    return {};
}

ChatExchange::CachePlan ChatExchange::planCache()
{
    if (!isCacheable() || cacheControlHas(m_request.headers, "no-store"))
        return CachePlan::Bypass;
    m_cacheKey = cacheKey(m_kind, m_chat.original).toStdString();
    m_storeInCache = true;
    // Revalidate: the client wants a fresh answer, which may still be stored.
    return cacheControlHas(m_request.headers, "no-cache") ? CachePlan::Revalidate : CachePlan::Lookup;
}

void ChatExchange::lookupCache()
{
    m_cachePlan = planCache();
    if (m_cachePlan != CachePlan::Lookup) {
        m_context.metrics->cacheResult(CacheResult::Bypass);
        requestPermit();
        return;
    }
    m_cacheLabel = CacheLabel::Miss;
    if (const policy::CacheValue hit = m_context.cache->get("chat", m_cacheKey)) {
        m_cacheLabel = CacheLabel::Hit;
        m_context.metrics->cacheResult(CacheResult::Hit);
        answerFromCache(hit);
        return;
    }
    m_context.metrics->cacheResult(CacheResult::Miss);
    joinSingleFlight();
}

void ChatExchange::joinSingleFlight()
{
    // Single-flight: identical requests in flight share one upstream call.
    auto ticket = std::make_shared<FlightTicket>();
    GatewayPolicies *policies = m_context.policies;
    ChatExchange *self = this;
    const auto membership = policies->joinFlight(m_cacheKey, [ticket, self](const GatewayPolicies::FlightResult &result) {
        if (ticket->abandoned)
            return;
        ticket->abandoned = true;
        policy::CacheValue value = result ? *result : policy::CacheValue();
        QMetaObject::invokeMethod(
            self,
            [self, value] {
                if (value) {
                    self->m_cacheLabel = CacheLabel::Hit;
                    self->m_context.metrics->singleFlightJoined();
                    self->answerFromCache(value);
                } else {
                    self->requestPermit(); // the leader failed: go on alone
                }
            },
            Qt::QueuedConnection);
    });
    switch (membership.role) {
    case GatewayPolicies::Flight::Role::Leader:
        m_flightLeader = true;
        requestPermit();
        return;
    case GatewayPolicies::Flight::Role::Follower:
        m_flightTicket = ticket;
        m_flightFollowerId = membership.followerId;
        return;
    case GatewayPolicies::Flight::Role::Rejected:
        requestPermit();
        return;
    }
}

void ChatExchange::requestPermit()
{
    auto ticket = std::make_shared<PermitTicket>();
    GatewayPolicies *policies = m_context.policies;
    ChatExchange *self = this;
    const policy::Admission admission = policies->acquirePermit(
        m_identity.priority, [ticket, self, policies](policy::WaitOutcome outcome) {
            if (ticket->abandoned) {
                if (outcome.result == policy::WaitResult::Granted)
                    policies->releasePermit();
                return;
            }
            if (outcome.result == policy::WaitResult::Granted)
                ticket->granted = true;
            QMetaObject::invokeMethod(
                self, [self, outcome] { self->onPermitOutcome(outcome.result, outcome.waited); },
                Qt::QueuedConnection);
        });
    m_permitTicket = ticket;
    switch (admission.kind) {
    case policy::AdmissionKind::Granted:
        ticket->granted = true;
        onPermitOutcome(policy::WaitResult::Granted, policy::Nanoseconds(0));
        return;
    case policy::AdmissionKind::Queued:
        ticket->id = admission.id;
        m_context.queueChanged();
        return;
    case policy::AdmissionKind::Rejected:
        m_permitTicket.reset();
        m_context.metrics->queueRejected(QueueRejection::Full);
        answerError(errorForStatus(m_kind, 503,
                                   QStringLiteral("The gateway is at its concurrency limit and its queue is full; "
                                                  "please retry shortly.")),
                    HeaderList{{"retry-after", "1"}});
        return;
    }
}

void ChatExchange::onPermitOutcome(policy::WaitResult result, policy::Nanoseconds waited)
{
    m_queueWaitSeconds = std::chrono::duration<double>(waited).count();
    if (result != policy::WaitResult::Granted) {
        {
            auto lock = m_context.policies->lock();
            m_permitTicket.reset();
        }
        if (result == policy::WaitResult::TimedOut) {
            m_context.metrics->queueRejected(QueueRejection::Timeout);
            answerError(errorForStatus(m_kind, 503,
                                       QStringLiteral("Timed out after %1 s waiting for a free upstream slot; "
                                                      "please retry shortly.")
                                           .arg(m_queueWaitSeconds, 0, 'f', 1)),
                        HeaderList{{"retry-after", "1"}});
        }
        return;
    }
    {
        auto lock = m_context.policies->lock();
        m_permitTicket->consumed = true;
    }
    m_holdsPermit = true;
    m_context.metrics->queueWait(m_queueWaitSeconds);
    m_context.metrics->addUpstreamInFlight(1);
    if (m_responder->isCancelled()) {
        onClientGone();
        return;
    }
    startAttempt();
}

http::UpstreamRequest ChatExchange::buildUpstreamRequest() const
{
    const UpstreamRuntime &upstream = *m_lease->upstream;
    http::UpstreamRequest request;
    QString base = upstream.config.baseUrl;
    while (base.endsWith(QLatin1Char('/')))
        base.chop(1);
    request.url = QUrl(base + (m_kind == ProviderKind::OpenAI ? QStringLiteral("/chat/completions")
                                                               : QStringLiteral("/messages")));
    request.method = "POST";
    QJsonObject body = m_chat.original;
    body.insert(QStringLiteral("model"), upstream.config.upstreamModel(m_chat.model));
    if (m_kind == ProviderKind::OpenAI && m_chat.stream) {
        QJsonObject options = body.value(QStringLiteral("stream_options")).toObject();
        options.insert(QStringLiteral("include_usage"), true);
        body.insert(QStringLiteral("stream_options"), options);
    }
    request.body = QJsonDocument(body).toJson(QJsonDocument::Compact);
    request.headers.set("content-type", "application/json");
    request.headers.set("accept", m_chat.stream ? "text/event-stream" : "application/json");
    request.headers.set("user-agent", "sluice-gateway/" + m_context.version.toLatin1());
    request.headers.set("x-sluice-request-id", m_requestId.toLatin1());
    if (m_kind == ProviderKind::OpenAI) {
        if (!upstream.apiKey.isEmpty())
            request.headers.set("authorization", "Bearer " + upstream.apiKey);
    } else {
        if (!upstream.apiKey.isEmpty())
            request.headers.set("x-api-key", upstream.apiKey);
        request.headers.set("anthropic-version", m_request.headers.value("anthropic-version", "2023-06-01"));
        if (m_request.headers.contains("anthropic-beta"))
            request.headers.set("anthropic-beta", m_request.headers.combinedValue("anthropic-beta"));
    }
    const config::UpstreamTimeouts &timeouts = m_config->timeouts;
    request.timeouts.connect = timeouts.connect;
    request.timeouts.firstByte = timeouts.firstByte;
    request.timeouts.idle = timeouts.streamIdle;
    request.timeouts.total = timeouts.total;
    return request;
}

void ChatExchange::startAttempt()
{
    if (m_finished)
        return;
    auto lease = m_context.policies->acquireUpstream(m_candidates, m_excludedUpstreams, m_estimatedTokens);
    if (!lease) {
        const NoUpstream &none = lease.error();
        if (m_lastFailure && none.reason != NoUpstream::Reason::AllPaced) {
            answerFailure(*m_lastFailure);
            return;
        }
        switch (none.reason) {
        case NoUpstream::Reason::AllOpen:
            m_context.metrics->clientError(u"upstreams_unavailable");
            answerError(errorForStatus(m_kind, 503,
                                       QStringLiteral("Every upstream for `%1` is unavailable (circuit open); "
                                                      "please retry later.")
                                           .arg(m_chat.model)),
                        HeaderList{{"retry-after", retryAfterSeconds(none.retryAfter)}});
            return;
        case NoUpstream::Reason::AllPaced: {
            m_context.metrics->rateLimitDecision(QStringLiteral("upstream_quota"), LimitDimension::Requests, false);
            m_context.metrics->clientError(u"provider_quota");
            ApiError error = errorForStatus(
                m_kind, 429,
                QStringLiteral("The provider quota for `%1` is used up for now; please try again in %2s.")
                    .arg(m_chat.model, QString::fromLatin1(retryAfterSeconds(none.retryAfter))));
            answerError(error, HeaderList{{"retry-after", retryAfterSeconds(none.retryAfter)}});
            return;
        }
        case NoUpstream::Reason::NoRoute:
            answerError(errorForStatus(m_kind, 404, QStringLiteral("No upstream serves `%1`.").arg(m_chat.model)));
            return;
        }
        return;
    }
    if (!m_lastUpstream.isEmpty() && m_lastUpstream != lease->upstream->config.name)
        m_context.metrics->fallback(m_lastUpstream);
    if (m_lastUpstream != lease->upstream->config.name)
        m_attemptsOnUpstream = 0;
    m_lease = std::move(*lease);
    m_lastUpstream = m_lease->upstream->config.name;
    if (m_attemptsTotal == 0)
        m_context.policies->recordUpstreamRequest(m_lastUpstream);
    ++m_attemptsOnUpstream;
    ++m_attemptsTotal;
    m_upstreamStatus = 0;
    m_upstreamHeaders = {};
    m_upstreamBody.clear();
    m_attemptElapsed.start();

    http::UpstreamCallbacks callbacks;
    callbacks.onHead = [this](const http::UpstreamResponseHead &head) { onUpstreamHead(head); };
    callbacks.onBody = [this](const QByteArray &bytes) { onUpstreamBody(bytes); };
    callbacks.onComplete = [this] { onUpstreamComplete(); };
    callbacks.onError = [this](const http::UpstreamError &error) { onUpstreamError(error); };
    m_call = m_context.upstreamClient()->start(buildUpstreamRequest(), std::move(callbacks));
}

void ChatExchange::onUpstreamHead(const http::UpstreamResponseHead &head)
{
    m_upstreamStatus = head.status;
    m_upstreamHeaders = head.headers;
    m_context.policies->reportProviderQuota(m_lastUpstream,
                                           parseProviderQuota(m_kind, head.headers, nowUnixMilliseconds()));
    if (head.status != 200 || !m_chat.stream)
        return;
    const QByteArray contentType = head.headers.value("content-type").toLower();
    if (!contentType.startsWith("text/event-stream"))
        return; // a JSON answer to a stream request: handled as a buffered answer
    m_streamingToClient = true;
    m_sseParser.emplace();
    m_assembler.emplace(m_kind);
    http::HttpHeaders headers = responseHeaders(&head.headers);
    headers.set("content-type", eventStreamContentType);
    m_answerStatus = 200;
    m_responder->beginEventStream(headers);
}

void ChatExchange::onUpstreamBody(const QByteArray &bytes)
{
    if (m_streamingToClient) {
        forwardStreamEvents(m_sseParser->feed(bytes));
        return;
    }
    if (m_upstreamBody.size() + bytes.size() > kMaxBufferedUpstreamBytes) {
        m_call->cancel();
        AttemptFailure failure;
        failure.transport = http::UpstreamErrorKind::ProtocolError;
        failure.message = QStringLiteral("the upstream answer is larger than %1 bytes").arg(kMaxBufferedUpstreamBytes);
        attemptFailed(std::move(failure));
        return;
    }
    m_upstreamBody.append(bytes);
}

void ChatExchange::forwardStreamEvents(const QList<SseEvent> &events)
{
    for (const SseEvent &event : events) {
        m_assembler->addEvent(event);
        if (m_kind == ProviderKind::OpenAI && !m_chat.includeUsage && event.data != "[DONE]") {
            // The gateway asked for usage on the client's behalf: drop the usage-only
            // chunk the client did not ask for.
            const QJsonObject chunk = QJsonDocument::fromJson(event.data).object();
            if (chunk.value(QStringLiteral("choices")).toArray().isEmpty() && chunk.contains(QStringLiteral("usage")))
                continue;
        }
        if (!m_firstTokenSeen) {
            m_firstTokenSeen = true;
            m_timeToFirstTokenSeconds = secondsSinceStart();
            m_context.metrics->timeToFirstToken(m_chat.model, *m_timeToFirstTokenSeconds);
        }
        writeToClient(formatSseEvent(event));
    }
}

void ChatExchange::writeToClient(const QByteArray &bytes)
{
    if (!m_pendingOut.isEmpty()) {
        m_pendingOut.append(bytes);
        return;
    }
    switch (m_responder->write(bytes)) {
    case http::HttpResponder::WriteResult::Accepted:
        return;
    case http::HttpResponder::WriteResult::BufferFull:
        m_pendingOut.append(bytes);
        if (m_call && !m_upstreamPaused) {
            m_upstreamPaused = true;
            m_call->pauseReading();
        }
        return;
    case http::HttpResponder::WriteResult::Closed:
        return; // onCancelled follows
    }
}

void ChatExchange::onClientDrained()
{
    while (!m_pendingOut.isEmpty()) {
        const auto result = m_responder->write(m_pendingOut.first());
        if (result != http::HttpResponder::WriteResult::Accepted)
            return;
        m_pendingOut.removeFirst();
    }
    if (m_upstreamPaused && m_call) {
        m_upstreamPaused = false;
        m_call->resumeReading();
    }
    if (m_upstreamDone && !m_finished) {
        m_responder->end();
        finish();
    }
}

void ChatExchange::onUpstreamComplete()
{
    m_upstreamSeconds += double(m_attemptElapsed.nsecsElapsed()) / 1e9;
    m_context.metrics->upstreamAttempt(m_lastUpstream, m_upstreamStatus,
                                       double(m_attemptElapsed.nsecsElapsed()) / 1e9);
    if (m_streamingToClient) {
        m_upstreamDone = true;
        if (m_sseParser->hasPendingData())
            forwardStreamEvents(m_sseParser->feed("\n\n"));
        const bool complete = m_assembler->isComplete() && !m_assembler->error();
        accountAnswer(complete ? QJsonDocument(m_assembler->response()).toJson(QJsonDocument::Compact) : QByteArray(),
                      complete);
        if (m_pendingOut.isEmpty()) {
            m_responder->end();
            finish();
        }
        return;
    }
    if (m_upstreamStatus == 200) {
        accountAnswer(m_upstreamBody, true);
        if (m_chat.stream) {
            // The upstream answered a stream request with JSON: replay it as a stream.
            answerFromCache(std::make_shared<const std::string>(m_upstreamBody.toStdString()));
            return;
        }
        m_answerStatus = 200;
        m_responder->respond(200, responseHeaders(&m_upstreamHeaders), m_upstreamBody);
        finish();
        return;
    }
    AttemptFailure failure;
    failure.status = m_upstreamStatus;
    failure.body = m_upstreamBody;
    failure.headers = m_upstreamHeaders;
    failure.message = QStringLiteral("upstream %1 answered %2").arg(m_lastUpstream).arg(m_upstreamStatus);
    attemptFailed(std::move(failure));
}

void ChatExchange::onUpstreamError(const http::UpstreamError &error)
{
    const double seconds = double(m_attemptElapsed.nsecsElapsed()) / 1e9;
    m_upstreamSeconds += seconds;
    m_context.metrics->upstreamAttempt(m_lastUpstream, 0, seconds);
    m_context.metrics->upstreamError(m_lastUpstream, http::upstreamErrorKindName(error.kind));
    if (m_streamingToClient) {
        // Mid-stream: the client has the status already. Tell it in the stream, account
        // what was used, and cut the stream so it cannot be taken for complete.
        m_context.policies->finishUpstream(*m_lease, AttemptOutcome::Failure, std::nullopt);
        ApiError apiError = errorForStatus(m_kind, isTimeout(error.kind) ? 504 : 502,
                                           QStringLiteral("The upstream stream broke off: %1").arg(error.message));
        writeToClient(formatSseEvent(streamErrorEvent(m_kind, apiError)));
        accountAnswer({}, false);
        m_upstreamDone = true;
        m_answerStatus = 200;
        if (m_pendingOut.isEmpty()) {
            m_responder->end();
            finish();
        }
        return;
    }
    AttemptFailure failure;
    failure.transport = error.kind;
    failure.message = error.message;
    attemptFailed(std::move(failure));
}

void ChatExchange::attemptFailed(AttemptFailure failure)
{
    m_call.reset();
    const config::RetryConfig &retries = m_config->retries;
    bool retryable = false;
    bool breakerFailure = false;
    std::optional<policy::Nanoseconds> retryAfter;
    if (failure.transport) {
        const bool timeout = isTimeout(*failure.transport);
        retryable = timeout ? retries.retryOnTimeout
                            : (isConnectionFailure(*failure.transport) && retries.retryOnConnectionReset);
        breakerFailure = true;
    } else {
        retryable = std::find(retries.retryOnStatuses.begin(), retries.retryOnStatuses.end(), failure.status)
                    != retries.retryOnStatuses.end();
        breakerFailure = failure.status >= 500;
        if (!failure.transport && failure.status != 429)
            m_context.metrics->upstreamError(m_lastUpstream, QStringLiteral("status_%1xx").arg(failure.status / 100));
        const QByteArray header = failure.headers.value("retry-after");
        if (!header.isEmpty())
            retryAfter = policy::parseRetryAfter(std::string_view(header.constData(), std::size_t(header.size())),
                                                 QDateTime::currentSecsSinceEpoch());
        if (failure.status == 429) {
            m_context.metrics->upstreamError(m_lastUpstream, u"status_429");
            const policy::Nanoseconds pause = retryAfter.value_or(std::chrono::seconds(1));
            m_context.policies->pauseUpstream(m_lastUpstream, pause);
            m_context.metrics->upstreamPaused(m_lastUpstream, std::chrono::duration<double>(pause).count());
        }
    }
    m_context.policies->finishUpstream(*m_lease,
                                       breakerFailure ? AttemptOutcome::Failure : AttemptOutcome::Success,
                                       std::nullopt);
    m_lastFailure = failure;
    if (!retryable) {
        answerFailure(failure);
        return;
    }
    // A provider 429 paused that upstream: try the next one at once.
    if (failure.status == 429) {
        m_excludedUpstreams.append(m_lastUpstream);
        startAttempt();
        return;
    }
    policy::BackoffPolicy backoffPolicy;
    backoffPolicy.base = retries.baseDelay;
    backoffPolicy.cap = retries.maxDelay;
    backoffPolicy.maxAttempts = retries.maxAttempts;
    backoffPolicy.maxRetryAfter = retries.maxRetryAfter;
    const policy::RetryDelay delay = policy::Backoff(backoffPolicy).nextDelay(m_attemptsOnUpstream - 1, retryAfter, m_random);
    if (!delay.shouldRetry() || !m_context.policies->tryRetry(m_lastUpstream)) {
        // This upstream is done for this request; fall back to the next, if any.
        m_excludedUpstreams.append(m_lastUpstream);
        startAttempt();
        return;
    }
    m_context.metrics->retry(m_lastUpstream);
    m_retryTimer.start(std::chrono::duration_cast<std::chrono::milliseconds>(delay.delay));
}

void ChatExchange::answerFailure(const AttemptFailure &failure)
{
    if (!failure.transport) {
        // The provider's own answer, in its own shape: pass it through.
        http::HttpHeaders headers = responseHeaders(&failure.headers);
        if (failure.headers.contains("retry-after"))
            headers.set("retry-after", failure.headers.value("retry-after"));
        m_answerStatus = failure.status;
        m_responder->respond(failure.status, headers, failure.body);
        finish();
        return;
    }
    const bool timeout = isTimeout(*failure.transport);
    answerError(errorForStatus(m_kind, timeout ? 504 : 502,
                               QStringLiteral("Upstream %1 failed: %2").arg(m_lastUpstream, failure.message)));
}

void ChatExchange::accountAnswer(const QByteArray &responseBody, bool complete)
{
    std::optional<policy::TokenUsage> usage;
    QJsonObject response;
    if (!responseBody.isEmpty()) {
        response = QJsonDocument::fromJson(responseBody).object();
        usage = usageFromResponse(m_kind, response);
    } else if (m_assembler) {
        usage = m_assembler->usage();
    }
    m_usage = usage;
    const std::optional<qint64> actualTokens = usage ? std::optional<qint64>(usage->totalTokens()) : std::nullopt;
    // Without a usage report the estimate stays charged: the provider counted something.
    const std::optional<qint64> charged = actualTokens ? actualTokens : std::optional<qint64>(m_estimatedTokens);
    if (m_lease)
        m_context.policies->finishUpstream(*m_lease, AttemptOutcome::Success, charged);
    settleLimits(charged);
    if (usage) {
        m_costUsd = costOf(*usage).value_or(0);
        m_context.metrics->tokens(m_chat.model, *usage, m_costUsd);
    }
    if (complete && m_storeInCache && !responseBody.isEmpty()) {
        auto value = std::make_shared<const std::string>(responseBody.toStdString());
        const bool stored = m_cacheInRedis ? storeInRedis(value) : m_context.cache->put("chat", m_cacheKey, value, cacheTtl());
        m_context.metrics->cacheResult(stored ? CacheResult::Stored : CacheResult::NotStored);
        if (m_flightLeader) {
            m_flightLeader = false;
            m_context.policies->completeFlight(m_cacheKey, value);
        }
    }
}

std::optional<double> ChatExchange::costOf(const policy::TokenUsage &usage) const
{
    const auto prices = m_context.prices();
    if (!prices)
        return std::nullopt;
    // Priced by the provider's model name; an alias is resolved by the first upstream.
    QString model = m_chat.model;
    if (m_lease)
        model = m_lease->upstream->config.upstreamModel(m_chat.model);
    else if (const config::Upstream *upstream = m_config->upstream(m_candidates.value(0)))
        model = upstream->upstreamModel(m_chat.model);
    const QByteArray name = model.toUtf8();
    const auto match = prices->find(std::string_view(name.constData(), std::size_t(name.size())));
    return match ? std::optional<double>(policy::costUsd(match->price, usage)) : std::nullopt;
}

void ChatExchange::answerFromCache(const policy::CacheValue &body)
{
    const QByteArray json = QByteArray::fromStdString(*body);
    settleLimits(std::optional<qint64>(0));
    const QJsonObject response = QJsonDocument::fromJson(json).object();
    if (m_cacheLabel == CacheLabel::Hit) {
        if (const auto usage = usageFromResponse(m_kind, response))
            m_context.metrics->cacheSaved(m_chat.model, *usage, costOf(*usage).value_or(0));
    }
    http::HttpHeaders headers = responseHeaders(nullptr);
    m_answerStatus = 200;
    if (!m_chat.stream) {
        headers.set("content-type", jsonContentType);
        m_responder->respond(200, headers, json);
        finish();
        return;
    }
    StreamReplayOptions options;
    options.includeUsage = m_chat.includeUsage;
    auto replay = replayAsStream(m_kind, response, options);
    if (!replay) {
        answerError(errorForStatus(m_kind, 500, QStringLiteral("cached answer could not be replayed: %1")
                                                    .arg(replay.error())));
        return;
    }
    headers.set("content-type", eventStreamContentType);
    m_responder->beginEventStream(headers);
    if (!m_firstTokenSeen) {
        m_firstTokenSeen = true;
        m_timeToFirstTokenSeconds = secondsSinceStart();
        m_context.metrics->timeToFirstToken(m_chat.model, *m_timeToFirstTokenSeconds);
    }
    writeToClient(replay->bytes());
    m_upstreamDone = true;
    if (m_pendingOut.isEmpty()) {
        m_responder->end();
        finish();
    }
}

http::HttpHeaders ChatExchange::responseHeaders(const http::HttpHeaders *upstreamHeaders) const
{
    http::HttpHeaders headers;
    if (upstreamHeaders) {
        for (const auto &[name, value] : *upstreamHeaders) {
            const QByteArray lower = name.toLower();
            if (std::find(kForwardedHeaders.begin(), kForwardedHeaders.end(), QByteArrayView(lower))
                != kForwardedHeaders.end())
                headers.add(lower, value);
        }
    }
    if (!headers.contains("content-type"))
        headers.set("content-type", jsonContentType);
    headers.set("x-sluice-request-id", m_requestId.toLatin1());
    headers.set("x-sluice-cache", cacheLabelText().toLatin1());
    if (!m_lastUpstream.isEmpty())
        headers.set("x-sluice-upstream", m_lastUpstream.toLatin1());
    if (m_holds) {
        for (const auto &[name, value] : rateLimitHeaders(m_kind, stateFrom(*m_holds), nowUnixMilliseconds()))
            headers.set(name, value);
    }
    return headers;
}

void ChatExchange::answerError(const ApiError &error, const HeaderList &extraHeaders)
{
    ApiError shaped = error;
    if (m_kind == ProviderKind::Anthropic && shaped.requestId.isEmpty())
        shaped.requestId = m_requestId;
    http::HttpHeaders headers = responseHeaders(nullptr);
    for (const auto &[name, value] : extraHeaders)
        headers.set(name, value);
    m_answerStatus = shaped.httpStatus;
    m_responder->respond(shaped.httpStatus, headers, errorBody(m_kind, shaped));
    finish();
}

void ChatExchange::onClientGone()
{
    if (m_finished)
        return;
    m_context.metrics->clientError(u"client_disconnected");
    m_answerStatus = m_answerStatus ? m_answerStatus : 499;
    releaseEverything(true);
    finish();
}

void ChatExchange::finish()
{
    if (m_finished)
        return;
    m_finished = true;
    releaseEverything(false);
    const double total = secondsSinceStart();
    const double overhead = std::max(0.0, total - m_upstreamSeconds - m_queueWaitSeconds);
    // Only configured model names become labels: an unknown model is recorded as none.
    const QString modelLabel = m_candidates.isEmpty() ? QString() : m_chat.model;
    m_context.metrics->requestFinished(routeName(), modelLabel, m_answerStatus, total, overhead);
    if (m_context.recordUsage && !m_candidates.isEmpty()) {
        store::UsageRecord record;
        record.timestamp = QDateTime::currentDateTimeUtc();
        record.instance = m_context.instanceId;
        record.apiKeyId = m_identity.keyId;
        record.model = m_chat.model;
        record.upstream = m_lastUpstream;
        // A cache hit used no provider tokens; its usage is what the cache saved.
        if (m_usage && m_cacheLabel != CacheLabel::Hit)
            record.tokens = *m_usage;
        record.costUsd = m_cacheLabel == CacheLabel::Hit ? 0.0 : m_costUsd;
        record.latencyMs = int(total * 1000.0);
        if (m_timeToFirstTokenSeconds)
            record.ttftMs = int(*m_timeToFirstTokenSeconds * 1000.0);
        record.httpStatus = m_answerStatus;
        record.cacheHit = m_cacheLabel == CacheLabel::Hit;
        record.requestId = m_requestId;
        m_context.recordUsage(std::move(record));
    }
    m_context.logger->info("request", {{"request_id", m_requestId},
                                       {"key", m_identity.keyId},
                                       {"route", routeName()},
                                       {"model", m_chat.model},
                                       {"status", m_answerStatus},
                                       {"cache", cacheLabelText()},
                                       {"upstream", m_lastUpstream},
                                       {"attempts", m_attemptsTotal},
                                       {"input_tokens", m_usage ? m_usage->promptTokens() : 0},
                                       {"output_tokens", m_usage ? m_usage->outputTokens : 0},
                                       {"cost_usd", m_costUsd},
                                       {"duration_ms", total * 1000.0},
                                       {"overhead_ms", overhead * 1000.0}});
    // Answers still due from Redis must reach this object: an admission it never saw
    // would hold a lease until its TTL. onSharedReplies() deletes it then.
    if (m_sharedPending == 0)
        deleteLater();
}

void ChatExchange::releaseEverything(bool clientGone)
{
    m_retryTimer.stop();
    if (m_call) {
        m_call->cancel();
        m_call.reset();
    }
    GatewayPolicies *policies = m_context.policies;
    if (m_lease && !m_lease->finished)
        policies->finishUpstream(*m_lease, AttemptOutcome::Cancelled,
                                 clientGone ? std::optional<qint64>(m_estimatedTokens) : std::nullopt);
    if (m_holds && !m_holds->settled) {
        // Refund only what never reached a provider.
        const bool reachedProvider = m_attemptsTotal > 0;
        settleLimits(reachedProvider ? std::optional<qint64>(m_estimatedTokens) : std::nullopt);
    }
    {
        auto lock = policies->lock();
        if (m_flightTicket) {
            m_flightTicket->abandoned = true;
            policies->leaveFlight(m_cacheKey, m_flightFollowerId);
            m_flightTicket.reset();
        }
        if (m_flightLeader) {
            m_flightLeader = false;
            policies->abandonFlight(m_cacheKey);
        }
        if (m_permitTicket) {
            if (m_permitTicket->granted && !m_permitTicket->consumed) {
                policies->releasePermit();
            } else if (!m_permitTicket->granted) {
                m_permitTicket->abandoned = true;
                policies->cancelWaiter(m_permitTicket->id);
            }
            m_permitTicket.reset();
        }
        if (m_holdsPermit) {
            m_holdsPermit = false;
            policies->releasePermit();
            m_context.metrics->addUpstreamInFlight(-1);
        }
    }
}

} // namespace sluice::gateway
