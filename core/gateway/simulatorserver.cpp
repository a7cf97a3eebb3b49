#include "gateway/simulatorserver.h"

#include "gateway/apierror.h"
#include "gateway/providerprotocol.h"
#include "gateway/simulatedprovider.h"
#include "http/httpresponder.h"
#include "http/httpserver.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMutex>
#include <QMutexLocker>
#include <QTimer>

#include <atomic>
#include <chrono>

namespace sluice::gateway {

namespace {

using http::HttpHeaders;
using http::HttpRequest;
using http::HttpResponder;
using policy::Nanoseconds;

using Counter = std::atomic<quint64>;

void bump(Counter &counter)
{
    counter.fetch_add(1, std::memory_order_relaxed);
}

void drop(Counter &counter)
{
    counter.fetch_sub(1, std::memory_order_relaxed);
}

QByteArray compactJson(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

HttpHeaders toHttpHeaders(const HeaderList &headers)
{
    HttpHeaders result;
    for (const auto &[name, value] : headers)
        result.add(name, value);
    return result;
}

HttpHeaders jsonHeaders()
{
    return HttpHeaders{{"Content-Type", jsonContentType}};
}

// Enough of a key to recognise it in a log, never the whole of it.
QString maskedKey(const QByteArray &key)
{
    if (key.size() <= 8)
        return QStringLiteral("***");
    return QString::fromLatin1(key.left(3) + "***" + key.right(4));
}

} // namespace

// Everything the HTTP threads share with the server object; outlives it while a
// connection thread still holds it.
struct SimulatorServerState {
    SimulatorServerState(const policy::Clock *externalClock, const SimulatorServerOptions &options)
        : ownClock(externalClock ? nullptr : std::make_unique<policy::SteadyClock>())
        , provider(externalClock ? *externalClock : *ownClock, options.simulator)
        , requiredApiKey(options.requiredApiKey)
        , models(options.simulator.models)
        , modelsCreatedUnixSeconds(options.simulator.unixMillisecondsAtClockZero >= 0
                                       ? options.simulator.unixMillisecondsAtClockZero / 1000
                                       : QDateTime::currentSecsSinceEpoch())
    {
    }

    // Declared before `provider`, which keeps a reference to it.
    const std::unique_ptr<policy::SteadyClock> ownClock;
    QMutex providerMutex;
    SimulatedProvider provider; // guarded by providerMutex
    const QByteArray requiredApiKey;
    const QStringList models;
    const qint64 modelsCreatedUnixSeconds;

    Counter requestsReceived{0};
    Counter chatRequests{0};
    std::array<Counter, simulatedFaultCount> byFault{};
    Counter answered{0};
    Counter cutOff{0};
    Counter cancelled{0};
    Counter inFlight{0};
};

namespace {

// Acts out one SimulatedReply on the thread of the request's connection. It is its own
// timer context and deletes itself (deleteLater) once the reply is over: answered, cut
// off, or cancelled by the client leaving; the HTTP layer cancels every responder when
// the server stops, so none outlives the server's threads.
class SimulatorReplay : public QObject {
public:
    using SharedState = std::shared_ptr<SimulatorServerState>;

    SimulatorReplay(SharedState shared, SimulatedReply reply, std::shared_ptr<HttpResponder> responder)
        : m_state(std::move(shared)), m_reply(std::move(reply)), m_responder(std::move(responder))
    {
        m_elapsed.start();
        m_timer.setSingleShot(true);
        m_timer.setTimerType(Qt::PreciseTimer);
        connect(&m_timer, &QTimer::timeout, this, [this] { advance(); });
    }

    void start()
    {
        bump(m_state->inFlight);
        m_responder->onCancelled([this] { finish(m_state->cancelled); }, this);
        m_responder->onDrained(
            [this] {
                if (!m_waitingForDrain)
                    return;
                m_waitingForDrain = false;
                advance();
            },
            this);
        if (m_reply.neverResponds)
            return; // held until the client goes away
        if (!m_reply.chunks.isEmpty())
            m_dueNanoseconds = m_reply.chunks.first().delay.count();
        advance();
    }

private:
    // Writes every chunk that is due, then sleeps on the timer until the next one.
    // Due times are cumulative from the request's arrival, so timer lateness does not
    // add up over a long stream.
    void advance()
    {
        while (!m_done && !m_waitingForDrain) {
            if (m_next >= m_reply.chunks.size()) {
                complete();
                return;
            }
            const qint64 waitNanoseconds = m_dueNanoseconds - m_elapsed.nsecsElapsed();
            if (waitNanoseconds > 0) {
                m_timer.start(std::chrono::ceil<std::chrono::milliseconds>(Nanoseconds{waitNanoseconds}));
                return;
            }
            if (!send(m_reply.chunks.at(m_next).bytes))
                return;
            if (++m_next < m_reply.chunks.size())
                m_dueNanoseconds += m_reply.chunks.at(m_next).delay.count();
        }
    }

    // False when the replay cannot go on now (paused by backpressure, or over).
    bool send(const QByteArray &bytes)
    {
        if (!m_responder->isStarted()) {
            if (m_reply.httpStatus == 0) { // ConnectionReset: nothing is ever sent
                m_responder->abort();
                finish(m_state->cutOff);
                return false;
            }
            if (!m_reply.stream && !m_reply.closesConnection) {
                if (!m_responder->respond(m_reply.httpStatus, toHttpHeaders(m_reply.headers), m_reply.body)) {
                    finish(m_state->cancelled);
                    return false;
                }
                m_next = m_reply.chunks.size() - 1; // the whole body went out at once
                return true;
            }
            if (!m_responder->beginStream(m_reply.httpStatus, toHttpHeaders(m_reply.headers))) {
                finish(m_state->cancelled);
                return false;
            }
        }
        switch (m_responder->write(bytes)) {
        case HttpResponder::WriteResult::Accepted:
            return true;
        case HttpResponder::WriteResult::BufferFull:
            m_waitingForDrain = true; // the same chunk again once drained
            return false;
        case HttpResponder::WriteResult::Closed:
            break;
        }
        finish(m_state->cancelled);
        return false;
    }

    void complete()
    {
        if (m_reply.closesConnection) {
            m_responder->abort();
            finish(m_state->cutOff);
            return;
        }
        bool sent = m_responder->isFinished();
        if (m_responder->isStreaming())
            sent = m_responder->end();
        else if (!m_responder->isStarted())
            sent = m_responder->respond(m_reply.httpStatus, toHttpHeaders(m_reply.headers), m_reply.body);
        finish(sent ? m_state->answered : m_state->cancelled);
    }

    void finish(Counter &outcome)
    {
        if (m_done)
            return;
        m_done = true;
        m_timer.stop();
        bump(outcome);
        drop(m_state->inFlight);
        m_responder.reset();
        deleteLater();
    }

    SharedState m_state;
    SimulatedReply m_reply;
    std::shared_ptr<HttpResponder> m_responder;
    QElapsedTimer m_elapsed;
    QTimer m_timer;
    qsizetype m_next = 0;
    qint64 m_dueNanoseconds = 0;
    bool m_waitingForDrain = false;
    bool m_done = false;
};

using SharedState = SimulatorReplay::SharedState;

void answer(SimulatorServerState &shared, HttpResponder &responder, int status, HttpHeaders headers,
            QByteArray body)
{
    bump(responder.respond(status, std::move(headers), std::move(body)) ? shared.answered : shared.cancelled);
}

void answerError(SimulatorServerState &shared, HttpResponder &responder, ProviderKind kind, const ApiError &error,
                 HttpHeaders headers = jsonHeaders())
{
    answer(shared, responder, error.httpStatus, std::move(headers), errorBody(kind, error));
}

void answerMethodNotAllowed(SimulatorServerState &shared, HttpResponder &responder, const HttpRequest &request,
                            const QByteArray &allow)
{
    HttpHeaders headers = jsonHeaders();
    headers.add("Allow", allow);
    const QString message = QStringLiteral("Method %1 not allowed for %2; use %3")
                                .arg(QString::fromLatin1(request.method), QString::fromLatin1(request.path),
                                     QString::fromLatin1(allow));
    answerError(shared, responder, ProviderKind::OpenAI, errorForStatus(ProviderKind::OpenAI, 405, message),
                std::move(headers));
}

// The provider's own refusal when the key is missing or wrong; nullopt when accepted.
std::optional<ApiError> authenticationError(const SimulatorServerState &shared, ProviderKind kind,
                                            const HttpRequest &request)
{
    if (shared.requiredApiKey.isEmpty())
        return std::nullopt;
    if (kind == ProviderKind::Anthropic) {
        if (!request.headers.contains("x-api-key"))
            return errorForStatus(kind, 401, QStringLiteral("x-api-key header is required"));
        if (request.headers.value("x-api-key") != shared.requiredApiKey)
            return errorForStatus(kind, 401, QStringLiteral("invalid x-api-key"));
        return std::nullopt;
    }
    const QByteArray authorization = request.headers.value("authorization");
    if (authorization.isEmpty()) {
        return errorForStatus(kind, 401,
                              QStringLiteral("You didn't provide an API key. You need to provide your API key in an "
                                             "Authorization header using Bearer auth (i.e. Authorization: Bearer "
                                             "YOUR_KEY)."));
    }
    const qsizetype space = authorization.indexOf(' ');
    const bool bearer = space > 0 && authorization.left(space).compare("bearer", Qt::CaseInsensitive) == 0;
    const QByteArray key = bearer ? authorization.mid(space + 1).trimmed() : QByteArray();
    if (key != shared.requiredApiKey) {
        return errorForStatus(kind, 401,
                              QStringLiteral("Incorrect API key provided: %1.").arg(maskedKey(key)));
    }
    return std::nullopt;
}

QJsonObject modelObject(const SimulatorServerState &shared, ProviderKind kind, const QString &id)
{
    if (kind == ProviderKind::OpenAI) {
        return QJsonObject{{"id", id},
                           {"object", "model"},
                           {"created", shared.modelsCreatedUnixSeconds},
                           {"owned_by", "sluice-simulator"}};
    }
    const QString createdAt =
        QDateTime::fromSecsSinceEpoch(shared.modelsCreatedUnixSeconds, Qt::UTC).toString(Qt::ISODate);
    return QJsonObject{{"type", "model"}, {"id", id}, {"display_name", id}, {"created_at", createdAt}};
}

QJsonObject modelList(const SimulatorServerState &shared, ProviderKind kind)
{
    QJsonArray data;
    for (const QString &model : shared.models)
        data.append(modelObject(shared, kind, model));
    if (kind == ProviderKind::OpenAI)
        return QJsonObject{{"object", "list"}, {"data", data}};
    const QJsonValue none(QJsonValue::Null);
    return QJsonObject{{"data", data},
                       {"has_more", false},
                       {"first_id", shared.models.isEmpty() ? none : QJsonValue(shared.models.first())},
                       {"last_id", shared.models.isEmpty() ? none : QJsonValue(shared.models.last())}};
}

void serveModels(SimulatorServerState &shared, const HttpRequest &request, HttpResponder &responder,
                 const QByteArray &path)
{
    if (request.method != "GET" && request.method != "HEAD") {
        answerMethodNotAllowed(shared, responder, request, "GET, HEAD");
        return;
    }
    // Anthropic's clients always send anthropic-version; OpenAI's never do.
    const ProviderKind kind =
        request.headers.contains("anthropic-version") ? ProviderKind::Anthropic : ProviderKind::OpenAI;
    if (const std::optional<ApiError> refusal = authenticationError(shared, kind, request)) {
        answerError(shared, responder, kind, *refusal);
        return;
    }
    static constexpr QByteArrayView listPath = "/v1/models";
    if (path.size() == listPath.size()) {
        answer(shared, responder, 200, jsonHeaders(), compactJson(modelList(shared, kind)));
        return;
    }
    const QString id = QString::fromUtf8(QByteArray::fromPercentEncoding(path.mid(listPath.size() + 1)));
    if (!shared.models.isEmpty() && !shared.models.contains(id)) {
        const QString message = kind == ProviderKind::OpenAI
                                    ? QStringLiteral("The model '%1' does not exist").arg(id)
                                    : QStringLiteral("model: %1").arg(id);
        ApiError error = errorForStatus(kind, 404, message);
        if (kind == ProviderKind::OpenAI)
            error.code = QStringLiteral("model_not_found");
        answerError(shared, responder, kind, error);
        return;
    }
    answer(shared, responder, 200, jsonHeaders(), compactJson(modelObject(shared, kind, id)));
}

void serveChat(const SharedState &shared, ProviderKind kind, const HttpRequest &request,
               std::shared_ptr<HttpResponder> responder)
{
    if (request.method != "POST") {
        answerMethodNotAllowed(*shared, *responder, request, "POST");
        return;
    }
    if (const std::optional<ApiError> refusal = authenticationError(*shared, kind, request)) {
        answerError(*shared, *responder, kind, *refusal);
        return;
    }
    if (kind == ProviderKind::Anthropic && !request.headers.contains("anthropic-version")) {
        answerError(*shared, *responder, kind,
                    errorForStatus(kind, 400, QStringLiteral("anthropic-version: header is required")));
        return;
    }
    SimulatedReply reply;
    {
        QMutexLocker locker(&shared->providerMutex);
        reply = shared->provider.plan(kind, request.body);
    }
    bump(shared->chatRequests);
    bump(shared->byFault[std::size_t(reply.fault)]);
    (new SimulatorReplay(shared, std::move(reply), std::move(responder)))->start();
}

// Runs on the connection's thread; several at once with more than one thread.
void handle(const SharedState &shared, HttpRequest request, std::shared_ptr<HttpResponder> responder)
{
    bump(shared->requestsReceived);
    QByteArray path = request.path;
    if (path.size() > 1 && path.endsWith('/'))
        path.chop(1);

    if (const std::optional<ProviderKind> kind = providerForPath(path)) {
        serveChat(shared, *kind, request, std::move(responder));
        return;
    }
    if (path == "/v1/models" || (path.startsWith("/v1/models/") && path.indexOf('/', 11) < 0)) {
        serveModels(*shared, request, *responder, path);
        return;
    }
    if (path == "/healthz") {
        if (request.method != "GET" && request.method != "HEAD")
            answerMethodNotAllowed(*shared, *responder, request, "GET, HEAD");
        else
            answer(*shared, *responder, 200, jsonHeaders(), compactJson(QJsonObject{{"status", "ok"}}));
        return;
    }
    const QString message = QStringLiteral("Invalid URL (%1 %2)")
                                .arg(QString::fromLatin1(request.method), QString::fromLatin1(request.path));
    answerError(*shared, *responder, ProviderKind::OpenAI, errorForStatus(ProviderKind::OpenAI, 404, message));
}

} // namespace

SimulatorServer::SimulatorServer(SimulatorServerOptions options, QObject *parent)
    : QObject(parent), m_options(std::move(options)), m_state(std::make_shared<SimulatorServerState>(nullptr, m_options))
{
}

SimulatorServer::SimulatorServer(SimulatorServerOptions options, const policy::Clock &clock, QObject *parent)
    : QObject(parent), m_options(std::move(options)), m_state(std::make_shared<SimulatorServerState>(&clock, m_options))
{
}

SimulatorServer::~SimulatorServer()
{
    // Joins the HTTP threads; every replay still running is cancelled and deleted there.
    m_server.reset();
}

Result<quint16, http::HttpListenError> SimulatorServer::listen()
{
    if (m_server)
        return unexpected(http::HttpListenError{http::HttpListenError::Kind::AlreadyListening,
                                                QStringLiteral("the simulator was already started"), 0});
    if (const QString invalid = m_options.simulator.validationError(); !invalid.isEmpty())
        return unexpected(http::HttpListenError{http::HttpListenError::Kind::Other,
                                                QStringLiteral("invalid simulator options: %1").arg(invalid), 0});
    http::HttpServerOptions httpOptions;
    httpOptions.address = m_options.address;
    httpOptions.port = m_options.port;
    httpOptions.threads = m_options.threads;
    const SharedState shared = m_state;
    auto server = std::make_unique<http::HttpServer>(
        std::move(httpOptions),
        [shared](HttpRequest request, std::shared_ptr<HttpResponder> responder) {
            handle(shared, std::move(request), std::move(responder));
        });
    Result<quint16, http::HttpListenError> port = server->listen();
    if (!port)
        return port;
    m_server = std::move(server);
    m_port = *port;
    return port;
}

QString SimulatorServer::baseUrl() const
{
    if (m_port == 0)
        return {};
    QHostAddress host = m_options.address;
    if (host == QHostAddress::Any || host == QHostAddress::AnyIPv4)
        host = QHostAddress(QHostAddress::LocalHost);
    else if (host == QHostAddress::AnyIPv6)
        host = QHostAddress(QHostAddress::LocalHostIPv6);
    const QString text = host.protocol() == QAbstractSocket::IPv6Protocol
                             ? QLatin1Char('[') + host.toString() + QLatin1Char(']')
                             : host.toString();
    return QStringLiteral("http://%1:%2").arg(text).arg(m_port);
}

SimulatorServerStats SimulatorServer::stats() const
{
    const SimulatorServerState &shared = *m_state;
    SimulatorServerStats stats;
    const auto read = [](const Counter &counter) { return counter.load(std::memory_order_relaxed); };
    stats.requestsReceived = read(shared.requestsReceived);
    stats.chatRequests = read(shared.chatRequests);
    for (std::size_t index = 0; index < simulatedFaultCount; ++index)
        stats.byFault[index] = read(shared.byFault[index]);
    stats.answered = read(shared.answered);
    stats.cutOff = read(shared.cutOff);
    stats.cancelled = read(shared.cancelled);
    stats.inFlight = read(shared.inFlight);
    return stats;
}

http::HttpServerStats SimulatorServer::httpStats() const
{
    return m_server ? m_server->stats() : http::HttpServerStats{};
}

} // namespace sluice::gateway
