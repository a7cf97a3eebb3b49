#include "gateway/simulatedprovider.h"

#include "gateway/chatrequestparser.h"
#include "gateway/simulatedtext.h"
#include "gateway/streamreplay.h"
#include "gateway/tokenestimate.h"

#include <QDateTime>
#include <QJsonDocument>

#include <cmath>

namespace sluice::gateway {

namespace {

using policy::MonoTime;
using policy::Nanoseconds;

Nanoseconds fromMilliseconds(double milliseconds)
{
    return Nanoseconds{static_cast<qint64>(std::llround(milliseconds * 1e6))};
}

qint64 wholeMilliseconds(Nanoseconds duration)
{
    return duration.count() / 1'000'000;
}

// FNV-1a: a stable hash (qHash is seeded per process).
quint64 stableHash(const QByteArray &bytes, quint64 hash = 0xCBF29CE484222325ULL)
{
    for (const char byte : bytes) {
        hash ^= static_cast<unsigned char>(byte);
        hash *= 0x100000001B3ULL;
    }
    return hash;
}

quint64 promptHash(const ChatRequest &request)
{
    quint64 hash = stableHash(request.model.toUtf8());
    hash = stableHash(request.system.toUtf8(), stableHash("\x1Esystem\x1F", hash));
    for (const ChatMessage &message : request.messages)
        hash = stableHash(message.text.toUtf8(), stableHash("\x1E" + message.role.toUtf8() + "\x1F", hash));
    return hash;
}

QByteArray hexId(quint64 bits)
{
    return QByteArray::number(bits, 16).rightJustified(16, '0');
}

SimulatedFault drawFault(const FaultRates &rates, double draw)
{
    const std::pair<double, SimulatedFault> table[] = {
        {rates.rateLimited, SimulatedFault::RateLimited},
        {rates.serverError, SimulatedFault::ServerError},
        {rates.overloaded, SimulatedFault::Overloaded},
        {rates.timeout, SimulatedFault::Timeout},
        {rates.connectionReset, SimulatedFault::ConnectionReset},
        {rates.truncatedStream, SimulatedFault::TruncatedStream},
    };
    double threshold = 0;
    for (const auto &[rate, fault] : table) {
        threshold += std::max(0.0, rate);
        if (draw < threshold)
            return fault;
    }
    return SimulatedFault::None;
}

QString bucketLabel(SimulatedQuota::Bucket bucket)
{
    switch (bucket) {
    case SimulatedQuota::Bucket::Requests:
        return QStringLiteral("requests per min (RPM)");
    case SimulatedQuota::Bucket::Tokens:
        return QStringLiteral("tokens per min (TPM)");
    case SimulatedQuota::Bucket::InputTokens:
        return QStringLiteral("input tokens per min (ITPM)");
    case SimulatedQuota::Bucket::OutputTokens:
        return QStringLiteral("output tokens per min (OTPM)");
    }
    return {};
}

ApiError quotaError(ProviderKind kind, const QString &model, const SimulatedQuota::Refusal &refusal)
{
    ApiError error = errorForStatus(kind, 429);
    const QString label = bucketLabel(refusal.bucket);
    if (kind == ProviderKind::OpenAI)
        error.type = refusal.bucket == SimulatedQuota::Bucket::Requests ? QStringLiteral("requests")
                                                                        : QStringLiteral("tokens");
    if (!refusal.retryAfter) {
        error.message = QStringLiteral("Request too large for %1 on %2: Limit %3, Requested %4. "
                                       "The input or output tokens must be reduced in order to run successfully.")
                            .arg(model, label)
                            .arg(refusal.limit)
                            .arg(refusal.requested);
        return error;
    }
    const double waitSeconds = std::ceil(static_cast<double>(refusal.retryAfter->count()) / 1e6) / 1e3;
    error.message = QStringLiteral("Rate limit reached for %1 on %2: Limit %3, Remaining %4, Requested %5. "
                                   "Please try again in %6s.")
                        .arg(model, label)
                        .arg(refusal.limit)
                        .arg(refusal.remaining)
                        .arg(refusal.requested)
                        .arg(waitSeconds);
    return error;
}

void truncate(SimulatedReply &reply, double cutDraw)
{
    const qsizetype keep = 1 + static_cast<qsizetype>(cutDraw * static_cast<double>(std::max<qsizetype>(1, reply.body.size() - 1)));
    qsizetype written = 0;
    for (qsizetype i = 0; i < reply.chunks.size(); ++i) {
        TimedChunk &chunk = reply.chunks[i];
        if (written + chunk.bytes.size() >= keep) {
            chunk.bytes.truncate(keep - written);
            reply.chunks.resize(i + 1);
            break;
        }
        written += chunk.bytes.size();
    }
    reply.closesConnection = true;
}

} // namespace

SimulatedProvider::SimulatedProvider(const policy::Clock &clock, SimulatorOptions options)
    : m_clock(clock)
    , m_options(std::move(options))
    , m_quota(m_options.quota, clock.now())
    , m_unixMillisecondsAtClockZero(m_options.unixMillisecondsAtClockZero)
{
    if (m_options.tokensPerSecond > 0)
        m_options.perTokenLatencyMilliseconds.mean = 1000.0 / m_options.tokensPerSecond;
    if (m_unixMillisecondsAtClockZero < 0) {
        m_unixMillisecondsAtClockZero =
            QDateTime::currentMSecsSinceEpoch() - wholeMilliseconds(clock.now());
    }
}

RateLimitState SimulatedProvider::quotaState()
{
    return m_quota.state(m_clock.now());
}

qint64 SimulatedProvider::unixMilliseconds(MonoTime now) const
{
    return m_unixMillisecondsAtClockZero + wholeMilliseconds(now);
}

SimulatedReply SimulatedProvider::plan(ProviderKind kind, const QByteArray &body)
{
    Result<ChatRequest, ApiError> request = parseChatRequest(kind, body);
    if (request)
        return plan(kind, *request);
    const MonoTime now = m_clock.now();
    SimulatedReply reply;
    reply.requestIndex = m_requestCount++;
    SimulatorRandom random(SimulatorRandom::mix(m_options.seed, reply.requestIndex));
    finishErrorReply(reply, kind, std::move(request).error(), Nanoseconds{0}, now, requestId(random.next()));
    return reply;
}

SimulatedReply SimulatedProvider::plan(ProviderKind kind, const ChatRequest &request)
{
    const MonoTime now = m_clock.now();
    SimulatedReply reply;
    reply.requestIndex = m_requestCount++;
    SimulatorRandom random(SimulatorRandom::mix(m_options.seed, reply.requestIndex));
    const QByteArray requestIdValue = requestId(random.next());
    const double faultDraw = random.uniform();
    reply.timeToFirstToken = fromMilliseconds(random.sample(m_options.timeToFirstTokenMilliseconds));

    if (!m_options.models.isEmpty() && !m_options.models.contains(request.model)) {
        ApiError error = errorForStatus(kind, 404);
        if (kind == ProviderKind::OpenAI) {
            error.message = QStringLiteral("The model `%1` does not exist or you do not have access to it.")
                                .arg(request.model);
            error.code = QStringLiteral("model_not_found");
        } else {
            error.message = QStringLiteral("model: %1").arg(request.model);
        }
        reply.fault = SimulatedFault::ModelNotFound;
        finishErrorReply(reply, kind, error, Nanoseconds{0}, now, requestIdValue);
        return reply;
    }

    const qint64 inputTokens = estimateInputTokens(request);
    const qint64 outputReservation = reservedOutputTokens(request);
    const SimulatedQuota::Demand admission{1, inputTokens + outputReservation, inputTokens, outputReservation};
    if (const std::optional<SimulatedQuota::Refusal> refusal = m_quota.check(admission, now)) {
        reply.fault = SimulatedFault::QuotaExceeded;
        finishErrorReply(reply, kind, quotaError(kind, request.model, *refusal), Nanoseconds{0}, now, requestIdValue);
        if (refusal->retryAfter)
            reply.headers.append({QByteArrayLiteral("retry-after"), retryAfterSeconds(*refusal->retryAfter)});
        return reply;
    }
    m_quota.consume(SimulatedQuota::Demand{1, 0, 0, 0}, now);

    reply.fault = drawFault(m_options.faults, faultDraw);
    switch (reply.fault) {
    case SimulatedFault::RateLimited:
        finishErrorReply(reply, kind, errorForStatus(kind, 429), reply.timeToFirstToken, now, requestIdValue);
        if (m_options.faults.retryAfterSeconds > 0)
            reply.headers.append({QByteArrayLiteral("retry-after"),
                                  QByteArray::number(m_options.faults.retryAfterSeconds)});
        return reply;
    case SimulatedFault::ServerError:
        finishErrorReply(reply, kind, errorForStatus(kind, 500), reply.timeToFirstToken, now, requestIdValue);
        return reply;
    case SimulatedFault::Overloaded:
        finishErrorReply(reply, kind, errorForStatus(kind, overloadedStatus(kind)), reply.timeToFirstToken, now,
                         requestIdValue);
        return reply;
    case SimulatedFault::Timeout:
        reply.httpStatus = 0;
        reply.neverResponds = true;
        return reply;
    case SimulatedFault::ConnectionReset:
        reply.httpStatus = 0;
        reply.chunks.append(TimedChunk{reply.timeToFirstToken, {}});
        reply.closesConnection = true;
        return reply;
    case SimulatedFault::None:
    case SimulatedFault::TruncatedStream:
    case SimulatedFault::ModelNotFound:
    case SimulatedFault::QuotaExceeded:
        break;
    }
    const double cutDraw = random.uniform();
    planAnswer(reply, kind, request, random, now);
    addCommonHeaders(reply, kind, now, requestIdValue);
    if (reply.fault == SimulatedFault::TruncatedStream)
        truncate(reply, cutDraw);
    return reply;
}

void SimulatedProvider::planAnswer(SimulatedReply &reply, ProviderKind kind, const ChatRequest &request,
                                   SimulatorRandom &random, MonoTime now)
{
    SimulatorRandom content(SimulatorRandom::mix(m_options.seed, promptHash(request)));
    qint64 outputTokens = std::max<qint64>(1, std::llround(content.sample(m_options.outputTokens)));
    if (request.maxOutputTokens && outputTokens >= *request.maxOutputTokens) {
        outputTokens = *request.maxOutputTokens;
        reply.finishReason = FinishReason::Length;
    }
    reply.text = simulatedAnswerText(content, outputTokens);
    reply.usage.inputTokens = estimateInputTokens(request);
    reply.usage.outputTokens = outputTokens;
    m_quota.consume(SimulatedQuota::Demand{0, reply.usage.totalTokens(), reply.usage.inputTokens, outputTokens}, now);

    Nanoseconds generation = reply.timeToFirstToken;
    for (qint64 i = 1; i < outputTokens; ++i) {
        reply.interTokenDelays.append(fromMilliseconds(random.sample(m_options.perTokenLatencyMilliseconds)));
        generation += reply.interTokenDelays.last();
    }

    ChatResponse response;
    const QByteArray id = hexId(SimulatorRandom::mix(m_options.seed, ~reply.requestIndex));
    response.id = QString::fromLatin1(kind == ProviderKind::OpenAI ? "chatcmpl-sim" + id : "msg_sim" + id);
    response.model = request.model;
    response.createdUnixSeconds = unixMilliseconds(now) / 1000;
    response.text = reply.text;
    response.finishReason = reply.finishReason;
    response.usage = reply.usage;
    response.systemFingerprint = QStringLiteral("fp_sluicesim");
    const QJsonObject body = chatResponseJson(kind, response);

    if (!request.stream) {
        reply.body = QJsonDocument(body).toJson(QJsonDocument::Compact);
        reply.chunks.append(TimedChunk{generation, reply.body});
        return;
    }
    StreamReplayOptions replayOptions;
    replayOptions.includeUsage = request.includeUsage;
    const ReplayedStream stream = std::move(replayAsStream(kind, body, replayOptions)).value();
    reply.stream = true;
    for (qsizetype i = 0; i < stream.events.size(); ++i) {
        Nanoseconds delay{0};
        const qsizetype piece = stream.contentEventIndexes.indexOf(i);
        if (i == 0)
            delay = reply.timeToFirstToken;
        else if (piece > 0)
            delay = reply.interTokenDelays.value(piece - 1, Nanoseconds{0});
        TimedChunk chunk{delay, formatSseEvent(stream.events.at(i))};
        reply.body += chunk.bytes;
        reply.chunks.append(std::move(chunk));
    }
}

QByteArray SimulatedProvider::requestId(quint64 bits)
{
    return "req_sim" + hexId(bits);
}

void SimulatedProvider::addCommonHeaders(SimulatedReply &reply, ProviderKind kind, MonoTime now,
                                         const QByteArray &requestIdValue)
{
    reply.headers.append({QByteArrayLiteral("content-type"),
                          QByteArray(reply.stream ? eventStreamContentType : jsonContentType)});
    reply.headers.append({requestIdHeader(kind), requestIdValue});
    reply.headers.append(rateLimitHeaders(kind, m_quota.state(now), unixMilliseconds(now)));
    if (kind == ProviderKind::OpenAI && !reply.chunks.isEmpty()) {
        reply.headers.append({QByteArrayLiteral("openai-processing-ms"),
                              QByteArray::number(wholeMilliseconds(reply.chunks.first().delay))});
    }
}

void SimulatedProvider::finishErrorReply(SimulatedReply &reply, ProviderKind kind, ApiError error, Nanoseconds delay,
                                         MonoTime now, const QByteArray &requestIdValue)
{
    reply.httpStatus = error.httpStatus;
    if (kind == ProviderKind::Anthropic)
        error.requestId = QString::fromLatin1(requestIdValue);
    reply.body = errorBody(kind, error);
    reply.chunks.append(TimedChunk{delay, reply.body});
    reply.error = std::move(error);
    addCommonHeaders(reply, kind, now, requestIdValue);
}

} // namespace sluice::gateway
