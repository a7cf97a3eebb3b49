#include "http/upstreamcall.h"

#include "http/upstreamclient.h"

namespace sluice::http {

namespace {

// Qt's read buffer per socket: what may pile up in the process while a call is paused
// before the kernel's buffers fill and TCP pushes back.
constexpr qint64 kReadBufferBytes = 256 * 1024;
// Bytes taken from the socket per parse step.
constexpr qint64 kReadChunkBytes = 64 * 1024;

} // namespace

UpstreamCall::UpstreamCall(UpstreamClient *client, UpstreamRequest request, UpstreamCallbacks callbacks)
    : m_client(client), m_request(std::move(request)), m_callbacks(std::move(callbacks))
{
    m_phaseTimer.setSingleShot(true);
    m_totalTimer.setSingleShot(true);
    connect(&m_phaseTimer, &QTimer::timeout, this, &UpstreamCall::onPhaseTimeout);
    connect(&m_totalTimer, &QTimer::timeout, this, &UpstreamCall::onTotalTimeout);
}

UpstreamCall::~UpstreamCall()
{
    // Normally finished long before (the client holds every active call); this only
    // guards a call whose client went away in an unexpected order.
    if (!isFinished()) {
        m_phase = Phase::Finished;
        detach();
        abandonConnection();
    }
}

void UpstreamCall::begin()
{
    if (m_request.timeouts.total.count() > 0)
        m_totalTimer.start(m_request.timeouts.total);
    m_headRequest = m_request.method == "HEAD";

    const auto reportInvalid = [this](const QString &message) {
        // From the event loop: start() never calls back.
        QMetaObject::invokeMethod(
            this, [this, message] { fail(UpstreamErrorKind::InvalidRequest, message); }, Qt::QueuedConnection);
    };
    if (!m_client) {
        reportInvalid(QStringLiteral("the upstream client is gone"));
        return;
    }
    auto endpoint = UpstreamEndpoint::forUrl(m_request.url, m_client->options().proxy);
    if (!endpoint) {
        reportInvalid(endpoint.error());
        return;
    }
    m_endpoint = std::move(*endpoint);
    const bool absolute = m_endpoint.usesAbsoluteForm();
    auto wire = formatUpstreamRequest(m_request, absolute ? UpstreamTargetForm::Absolute : UpstreamTargetForm::Origin,
                                      absolute ? ProxySettings::proxyAuthorization(*m_endpoint.proxy) : QByteArray());
    if (!wire) {
        reportInvalid(wire.error());
        return;
    }
    m_wire = std::move(*wire);
    acquireConnection(/*allowPooled*/ true);
}

void UpstreamCall::acquireConnection(bool allowPooled)
{
    if (!m_client)
        return;
    if (allowPooled) {
        if (UpstreamConnection *pooled = m_client->takeIdleConnection(m_endpoint)) {
            m_reused = true;
            attach(pooled);
            sendRequest();
            return;
        }
    }
    m_reused = false;
    UpstreamConnection *connection = m_client->openConnection(m_endpoint);
    m_connection = connection;
    connect(connection, &UpstreamConnection::ready, this, &UpstreamCall::onConnectionReady);
    connect(connection, &UpstreamConnection::failed, this, &UpstreamCall::onConnectionFailed);
    m_phase = Phase::Connecting;
    armPhaseTimer();
}

void UpstreamCall::attach(UpstreamConnection *connection)
{
    m_connection = connection;
    QAbstractSocket *socket = connection->socket();
    socket->setReadBufferSize(kReadBufferBytes);
    connect(socket, &QAbstractSocket::readyRead, this, &UpstreamCall::onReadyRead);
    connect(socket, &QAbstractSocket::bytesWritten, this, &UpstreamCall::onBytesWritten);
    connect(socket, &QAbstractSocket::errorOccurred, this, &UpstreamCall::onSocketError);
    connect(socket, &QAbstractSocket::disconnected, this, &UpstreamCall::onSocketClosed);
}

void UpstreamCall::detach()
{
    if (!m_connection)
        return;
    QObject::disconnect(m_connection, nullptr, this, nullptr);
    if (QAbstractSocket *socket = m_connection->socket())
        QObject::disconnect(socket, nullptr, this, nullptr);
}

void UpstreamCall::sendRequest()
{
    m_connection->countRequest();
    m_parser = std::make_unique<UpstreamResponseParser>(m_client->options().maxResponseHeaderBytes, m_headRequest);
    m_bytesReceived = 0;
    m_endOfStream = false;
    m_trailingBytes = false;
    m_socketError.clear();
    m_phase = Phase::Sending;
    armPhaseTimer();
    m_connection->socket()->write(m_wire);
}

void UpstreamCall::onConnectionReady()
{
    const auto guard = weak_from_this().lock();
    if (m_phase != Phase::Connecting || !m_connection)
        return;
    QObject::disconnect(m_connection, nullptr, this, nullptr);
    attach(m_connection);
    sendRequest();
}

void UpstreamCall::onConnectionFailed(const UpstreamError &error)
{
    const auto guard = weak_from_this().lock();
    if (m_phase != Phase::Connecting)
        return;
    fail(error.kind, error.message);
}

void UpstreamCall::onBytesWritten()
{
    if (m_phase != Phase::Sending || !m_connection)
        return;
    if (m_connection->socket()->bytesToWrite() == 0)
        m_phase = Phase::AwaitingResponse;
    armPhaseTimer(); // progress: the first-byte clock restarts
}

void UpstreamCall::onReadyRead()
{
    if (!m_paused)
        process();
}

void UpstreamCall::onSocketError(QAbstractSocket::SocketError error)
{
    if (isFinished())
        return;
    if (error != QAbstractSocket::RemoteHostClosedError && m_socketError.isEmpty() && m_connection)
        m_socketError = m_connection->socket()->errorString();
    m_endOfStream = true;
    if (!m_paused)
        process();
}

void UpstreamCall::onSocketClosed()
{
    if (isFinished())
        return;
    m_endOfStream = true;
    if (!m_paused)
        process();
}

void UpstreamCall::process()
{
    if (m_processing || isFinished())
        return;
    const auto guard = weak_from_this().lock();
    if (!guard)
        return;
    m_processing = true;
    while (!isFinished() && !m_paused) {
        if (deliverParsed())
            continue;
        // What was parsed before a protocol error is delivered first: whether a valid
        // head reached the caller must not depend on how the bytes were split in reads.
        if (m_parser && m_parser->hasFailed()) {
            fail(UpstreamErrorKind::ProtocolError,
                 QStringLiteral("%1 (from %2)").arg(m_parser->errorMessage(), m_endpoint.authority()));
            break;
        }
        if (m_parser && m_parser->isComplete()) {
            complete();
            break;
        }
        QAbstractSocket *socket = (m_connection && m_phase != Phase::Connecting) ? m_connection->socket() : nullptr;
        const QByteArray data = socket ? socket->read(kReadChunkBytes) : QByteArray();
        if (!data.isEmpty()) {
            feed(data);
            continue;
        }
        if (m_endOfStream && m_phase != Phase::Connecting) {
            handleEndOfStream();
            continue;
        }
        break;
    }
    m_processing = false;
}

bool UpstreamCall::deliverParsed()
{
    if (!m_parser)
        return false;
    if (auto head = m_parser->takeHead()) {
        m_headDelivered = true;
        if (m_callbacks.onHead) {
            ++m_callbackDepth;
            m_callbacks.onHead(*head);
            --m_callbackDepth;
            dropCallbacksIfFinished();
        }
        return true;
    }
    const QByteArray body = m_parser->takeBody();
    if (body.isEmpty())
        return false;
    if (m_callbacks.onBody) {
        ++m_callbackDepth;
        m_callbacks.onBody(body);
        --m_callbackDepth;
        dropCallbacksIfFinished();
    }
    return true;
}

void UpstreamCall::feed(const QByteArray &data)
{
    m_bytesReceived += data.size();
    m_phase = Phase::Receiving;
    armPhaseTimer();
    const QByteArrayView view(data);
    qsizetype offset = 0;
    while (offset < view.size()) {
        const auto step = m_parser->feed(view.sliced(offset));
        offset += step.consumedBytes;
        if (step.status == UpstreamResponseParser::Status::Error)
            return; // reported by process() once what came before is delivered
        if (step.status == UpstreamResponseParser::Status::Complete) {
            if (offset < view.size())
                m_trailingBytes = true;
            return;
        }
        if (step.consumedBytes == 0)
            return;
    }
}

void UpstreamCall::handleEndOfStream()
{
    const QString how = m_socketError.isEmpty() ? QStringLiteral("closed the connection")
                                                : QStringLiteral("reset the connection (%1)").arg(m_socketError);
    if (!m_parser || (!m_parser->hasStarted() && m_bytesReceived == 0)) {
        if (mayRetry()) {
            retry();
            return;
        }
        fail(UpstreamErrorKind::ConnectionReset,
             QStringLiteral("%1 %2 before answering").arg(m_endpoint.authority(), how));
        return;
    }
    const auto status = m_parser->finish();
    if (status == UpstreamResponseParser::Status::Complete && m_socketError.isEmpty()) {
        m_trailingBytes = true; // delimited by the close: nothing left to reuse
        return;
    }
    const QString detail = m_parser->hasFailed() ? m_parser->errorMessage()
                                                 : QStringLiteral("the response was not complete");
    fail(UpstreamErrorKind::ConnectionReset,
         QStringLiteral("%1 %2 after %3 bytes: %4").arg(m_endpoint.authority(), how).arg(m_bytesReceived).arg(detail));
}

bool UpstreamCall::mayRetry() const
{
    return m_reused && !m_retried && m_bytesReceived == 0 && !m_cancelled;
}

void UpstreamCall::retry()
{
    m_retried = true;
    detach();
    abandonConnection();
    m_parser.reset();
    m_endOfStream = false;
    m_trailingBytes = false;
    m_socketError.clear();
    acquireConnection(/*allowPooled*/ false);
}

void UpstreamCall::armPhaseTimer()
{
    m_phaseTimer.stop();
    std::chrono::milliseconds timeout{0};
    switch (m_phase) {
    case Phase::Connecting:
        timeout = m_request.timeouts.connect;
        break;
    case Phase::Sending:
        timeout = m_request.timeouts.firstByte;
        break;
    case Phase::AwaitingResponse:
        if (m_paused)
            return;
        timeout = m_request.timeouts.firstByte;
        break;
    case Phase::Receiving:
        if (m_paused)
            return;
        timeout = m_request.timeouts.idle;
        break;
    case Phase::Created:
    case Phase::Finished:
        return;
    }
    if (timeout.count() > 0)
        m_phaseTimer.start(timeout);
}

void UpstreamCall::onPhaseTimeout()
{
    const auto guard = weak_from_this().lock();
    switch (m_phase) {
    case Phase::Connecting:
        fail(UpstreamErrorKind::ConnectTimeout,
             QStringLiteral("connect to %1 timed out after %2 ms (%3)")
                 .arg(m_endpoint.authority())
                 .arg(m_request.timeouts.connect.count())
                 .arg(m_connection ? m_connection->stageDescription() : QStringLiteral("TCP connect")));
        break;
    case Phase::Sending: {
        const qint64 unsent = (m_connection && m_connection->socket()) ? m_connection->socket()->bytesToWrite() : 0;
        fail(UpstreamErrorKind::FirstByteTimeout,
             QStringLiteral("%1 took no request bytes for %2 ms (%3 of %4 bytes sent)")
                 .arg(m_endpoint.authority())
                 .arg(m_request.timeouts.firstByte.count())
                 .arg(m_wire.size() - unsent)
                 .arg(m_wire.size()));
        break;
    }
    case Phase::AwaitingResponse:
        fail(UpstreamErrorKind::FirstByteTimeout, QStringLiteral("no response from %1 within %2 ms of the request")
                                                      .arg(m_endpoint.authority())
                                                      .arg(m_request.timeouts.firstByte.count()));
        break;
    case Phase::Receiving:
        fail(UpstreamErrorKind::IdleTimeout, QStringLiteral("response from %1 stalled for %2 ms after %3 bytes")
                                                 .arg(m_endpoint.authority())
                                                 .arg(m_request.timeouts.idle.count())
                                                 .arg(m_bytesReceived));
        break;
    case Phase::Created:
    case Phase::Finished:
        break;
    }
}

void UpstreamCall::onTotalTimeout()
{
    const auto guard = weak_from_this().lock();
    fail(UpstreamErrorKind::TotalTimeout, QStringLiteral("call to %1 not complete within %2 ms")
                                              .arg(m_endpoint.authority().isEmpty() ? m_request.url.toString()
                                                                                    : m_endpoint.authority())
                                              .arg(m_request.timeouts.total.count()));
}

void UpstreamCall::complete()
{
    if (isFinished())
        return;
    const auto guard = weak_from_this().lock();
    QAbstractSocket *socket = m_connection ? m_connection->socket() : nullptr;
    const bool reusable = m_parser && m_parser->keepAlive() && !m_trailingBytes && !m_endOfStream &&
                          m_socketError.isEmpty() && socket && socket->bytesToWrite() == 0 &&
                          socket->bytesAvailable() == 0;
    stop();
    releaseConnection(reusable);
    auto onComplete = std::move(m_callbacks.onComplete);
    dropCallbacksIfFinished();
    if (m_client)
        m_client->callFinished(this, false);
    if (onComplete)
        onComplete();
}

void UpstreamCall::fail(UpstreamErrorKind kind, QString message)
{
    if (isFinished())
        return;
    const auto guard = weak_from_this().lock();
    stop();
    abandonConnection();
    auto onError = std::move(m_callbacks.onError);
    dropCallbacksIfFinished();
    if (m_client)
        m_client->callFinished(this, true);
    if (onError)
        onError(UpstreamError{kind, std::move(message), m_headDelivered});
}

void UpstreamCall::cancel()
{
    if (isFinished())
        return;
    const auto guard = weak_from_this().lock();
    m_cancelled = true;
    stop();
    abandonConnection();
    dropCallbacksIfFinished();
    if (m_client)
        m_client->callFinished(this, false);
}

void UpstreamCall::stop()
{
    m_phase = Phase::Finished;
    m_phaseTimer.stop();
    m_totalTimer.stop();
    detach();
}

void UpstreamCall::dropCallbacksIfFinished()
{
    // Not while one of them runs (cancel() from inside onBody): destroying a
    // std::function during its own call would destroy the caller's captures under it.
    if (isFinished() && m_callbackDepth == 0)
        m_callbacks = {};
}

void UpstreamCall::pauseReading()
{
    if (isFinished() || m_paused)
        return;
    m_paused = true;
    if (m_phase == Phase::AwaitingResponse || m_phase == Phase::Receiving)
        m_phaseTimer.stop();
}

void UpstreamCall::resumeReading()
{
    if (!m_paused)
        return;
    m_paused = false;
    if (isFinished())
        return;
    if (m_phase == Phase::AwaitingResponse || m_phase == Phase::Receiving)
        armPhaseTimer();
    if (m_resumeScheduled)
        return;
    m_resumeScheduled = true;
    QMetaObject::invokeMethod(
        this,
        [this] {
            m_resumeScheduled = false;
            if (!m_paused)
                process();
        },
        Qt::QueuedConnection);
}

void UpstreamCall::releaseConnection(bool reusable)
{
    UpstreamConnection *connection = m_connection;
    m_connection = nullptr;
    if (!connection)
        return;
    if (m_client) {
        m_client->releaseConnection(connection, reusable);
    } else {
        connection->close();
        connection->deleteLater();
    }
}

void UpstreamCall::abandonConnection()
{
    releaseConnection(false);
}

} // namespace sluice::http
