#include "http/httpconnection.h"

#include "http/httpdate.h"
#include "http/httperrorbody.h"
#include "http/httpservercontext.h"
#include "http/httpstatus.h"

#include <QTcpSocket>

#include <sys/socket.h>

#include <algorithm>

namespace sluice::http {

namespace {

// Qt stops reading from the kernel when this much is buffered and unread, so a
// connection that pauses (pipeline full) pushes back on the client through TCP.
constexpr qint64 kReadBufferBytes = 64 * 1024;
constexpr QByteArrayView kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr QByteArrayView kHopByHop[] = {"connection", "keep-alive", "transfer-encoding", "content-length",
                                        "te",         "trailer",    "upgrade",           "proxy-connection"};

QHostAddress plainAddress(const QHostAddress &address)
{
    bool isV4 = false;
    const quint32 v4 = address.toIPv4Address(&isV4);
    return isV4 ? QHostAddress(v4) : address;
}

} // namespace

HttpConnection::HttpConnection(std::shared_ptr<HttpServerContext> context, quint64 id, QObject *parent)
    : QObject(parent),
      m_context(std::move(context)),
      m_id(id),
      m_maxBufferedBytes(std::max<qint64>(1, m_context->options.maxResponseBufferBytes)),
      m_maxPipelined(std::max(1, m_context->options.maxPipelinedRequests)),
      m_parser(HttpParseLimits{m_context->options.maxHeaderBytes, m_context->options.maxBodyBytes})
{
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, &HttpConnection::onTimeout);
}

HttpConnection::~HttpConnection()
{
    if (m_state != State::Closed) {
        m_state = State::Closed;
        cancelResponders();
    }
}

bool HttpConnection::open(qintptr descriptor)
{
    m_socket = new QTcpSocket(this);
    if (!m_socket->setSocketDescriptor(descriptor)) {
        delete m_socket;
        m_socket = nullptr;
        m_state = State::Closed;
        return false;
    }
    m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    m_socket->setReadBufferSize(kReadBufferBytes);
    m_peerAddress = plainAddress(m_socket->peerAddress());
    m_peerPort = m_socket->peerPort();
    connect(m_socket, &QTcpSocket::readyRead, this, &HttpConnection::onReadyRead);
    connect(m_socket, &QTcpSocket::bytesWritten, this, &HttpConnection::onBytesWritten);
    connect(m_socket, &QTcpSocket::disconnected, this, [this] { finish(true); });
    connect(m_socket, &QTcpSocket::errorOccurred, this, [this] { finish(true); });
    updateTimer();
    if (m_socket->bytesAvailable() > 0)
        scheduleProcessInput();
    return true;
}

void HttpConnection::beginDrain()
{
    m_draining = true;
    if (m_state == State::Open && m_slots.empty())
        closeAfterFlush(false);
}

void HttpConnection::abort()
{
    finish(true);
}

void HttpConnection::onReadyRead()
{
    if (m_state == State::Open) {
        processInput();
        return;
    }
    if (m_state != State::Closed)
        discardInput();
}

void HttpConnection::discardInput()
{
    const QByteArray dropped = m_socket->readAll();
    HttpServerCounters::add(m_context->counters.bytesIn, quint64(dropped.size()));
}

bool HttpConnection::canStartRequest() const
{
    return !m_draining && !m_inputStopped && qsizetype(m_slots.size()) < m_maxPipelined;
}

void HttpConnection::scheduleProcessInput()
{
    if (m_processScheduled || m_state != State::Open)
        return;
    if (m_inputOffset >= m_input.size() && m_socket->bytesAvailable() <= 0)
        return;
    m_processScheduled = true;
    QMetaObject::invokeMethod(this, &HttpConnection::processInput, Qt::QueuedConnection);
}

void HttpConnection::processInput()
{
    m_processScheduled = false;
    if (m_state != State::Open)
        return;
    for (;;) {
        if (m_inputStopped) {
            m_input.clear();
            m_inputOffset = 0;
            discardInput();
            break;
        }
        if (!m_parser.isInProgress() && !canStartRequest())
            break;
        if (m_inputOffset >= m_input.size()) {
            m_input.clear();
            m_inputOffset = 0;
            if (m_socket->bytesAvailable() <= 0)
                break;
            m_input = m_socket->read(kReadBufferBytes);
            HttpServerCounters::add(m_context->counters.bytesIn, quint64(m_input.size()));
            if (m_input.isEmpty())
                break;
        }
        const auto step = m_parser.feed(QByteArrayView(m_input).sliced(m_inputOffset));
        m_inputOffset += step.consumedBytes;
        switch (step.event) {
        case HttpRequestParser::Event::NeedMoreData:
            if (step.consumedBytes == 0) {
                HttpServerCounters::add(m_context->counters.badRequests);
                failRequest(400, QStringLiteral("request could not be parsed"));
                return;
            }
            break;
        case HttpRequestParser::Event::HeadersComplete:
            onHeadersComplete();
            break;
        case HttpRequestParser::Event::RequestComplete:
            dispatch();
            if (m_state != State::Open)
                return;
            break;
        case HttpRequestParser::Event::Error: {
            const HttpParseError error = m_parser.error();
            auto &counters = m_context->counters;
            switch (error) {
            case HttpParseError::HeaderTooLarge:
                HttpServerCounters::add(counters.headerTooLarge);
                break;
            case HttpParseError::BodyTooLarge:
                HttpServerCounters::add(counters.bodyTooLarge);
                break;
            case HttpParseError::UnsupportedTransferEncoding:
                HttpServerCounters::add(counters.unsupported);
                break;
            default:
                HttpServerCounters::add(counters.badRequests);
                break;
            }
            failRequest(statusForParseError(error), m_parser.errorMessage());
            return;
        }
        }
    }
    updateTimer();
}

void HttpConnection::onHeadersComplete()
{
    const HttpRequest &request = m_parser.request();
    Slot slot;
    slot.id = ++m_lastSlotId;
    slot.headRequest = request.method == "HEAD";
    slot.keepAlive = m_parser.keepAlive() && !m_parser.isUpgrade();
    slot.http10 = request.isHttp10();
    m_slots.push_back(std::move(slot));
    if (m_parser.expectsContinue() && m_parser.expectsBody())
        append(m_slots.back(), kContinue.toByteArray());
}

void HttpConnection::dispatch()
{
    Slot &slot = m_slots.back();
    slot.dispatched = true;
    if (!slot.keepAlive)
        m_inputStopped = true;
    HttpRequest request = m_parser.takeRequest();
    request.peerAddress = m_peerAddress;
    request.peerPort = m_peerPort;
    request.connectionId = m_id;
    ++m_requestCount;
    HttpServerCounters::add(m_context->counters.requests);
    std::shared_ptr<HttpResponder> responder(
        new HttpResponder(this, slot.id, m_id, m_maxBufferedBytes));
    slot.responder = responder;
    m_context->handler(std::move(request), std::move(responder));
}

void HttpConnection::failRequest(int status, const QString &message)
{
    m_inputStopped = true;
    if (m_slots.empty() || m_slots.back().dispatched) {
        Slot slot;
        slot.id = ++m_lastSlotId;
        m_slots.push_back(std::move(slot));
    }
    Slot &slot = m_slots.back();
    slot.dispatched = true;
    slot.keepAlive = false;
    slot.headRequest = false;
    const auto &errorBody = m_context->options.errorBody;
    const QByteArray body = errorBody ? errorBody(status, message) : defaultErrorBody(status, message);
    sendComplete(slot, status, HttpHeaders{{"Content-Type", "application/json"}}, body);
    advanceQueue();
}

void HttpConnection::onTimeout()
{
    auto &counters = m_context->counters;
    switch (m_timerPhase) {
    case TimerPhase::None:
        break;
    case TimerPhase::Header:
        if (m_parser.isInProgress()) {
            HttpServerCounters::add(counters.headerTimeouts);
            failRequest(408, QStringLiteral("request header not received within %1 ms")
                                 .arg(m_context->options.headerTimeout.count()));
        } else {
            HttpServerCounters::add(counters.idleTimeouts);
            closeAfterFlush(false);
        }
        break;
    case TimerPhase::Body:
        HttpServerCounters::add(counters.bodyTimeouts);
        failRequest(408, QStringLiteral("request body not received within %1 ms")
                             .arg(m_context->options.bodyTimeout.count()));
        break;
    case TimerPhase::Idle:
        HttpServerCounters::add(counters.idleTimeouts);
        closeAfterFlush(false);
        break;
    case TimerPhase::Send:
        HttpServerCounters::add(counters.sendTimeouts);
        finish(true);
        break;
    case TimerPhase::Linger:
        finish(true);
        break;
    }
}

HttpConnection::Slot *HttpConnection::findSlot(quint64 slotId)
{
    const auto found = std::find_if(m_slots.begin(), m_slots.end(), [slotId](const Slot &slot) { return slot.id == slotId; });
    return found == m_slots.end() ? nullptr : &*found;
}

const HttpConnection::Slot *HttpConnection::findSlot(quint64 slotId) const
{
    return const_cast<HttpConnection *>(this)->findSlot(slotId);
}

bool HttpConnection::isHead(const Slot &slot) const
{
    return !m_slots.empty() && &m_slots.front() == &slot;
}

qint64 HttpConnection::bufferedBytes(const Slot &slot) const
{
    return slot.pending.size() + (isHead(slot) ? m_socket->bytesToWrite() : 0);
}

qint64 HttpConnection::bufferedBytes(quint64 slotId) const
{
    if (m_state != State::Open)
        return 0;
    const Slot *slot = findSlot(slotId);
    return slot ? bufferedBytes(*slot) : 0;
}

QByteArray HttpConnection::formatHead(Slot &slot, int status, HttpHeaders headers, Framing framing,
                                      qint64 contentLength)
{
    for (const QByteArrayView name : kHopByHop)
        headers.remove(name);
    slot.closeAfter = !slot.keepAlive || m_draining || framing == Framing::CloseDelimited;
    if (!headers.contains("date"))
        headers.add("Date", HttpDate::now());
    if (framing == Framing::Length)
        headers.add("Content-Length", QByteArray::number(contentLength));
    else if (framing == Framing::Chunked)
        headers.add("Transfer-Encoding", "chunked");
    if (slot.closeAfter)
        headers.add("Connection", "close");
    else if (slot.http10)
        headers.add("Connection", "keep-alive");
    QByteArray head = statusLine(status);
    headers.appendTo(head);
    head += "\r\n";
    return head;
}

void HttpConnection::append(Slot &slot, const QByteArray &bytes)
{
    if (bytes.isEmpty())
        return;
    if (isHead(slot))
        m_socket->write(bytes);
    else
        slot.pending += bytes;
}

void HttpConnection::sendComplete(Slot &slot, int status, HttpHeaders headers, const QByteArray &body)
{
    const bool bodyAllowed = !statusForbidsBody(status);
    append(slot, formatHead(slot, status, std::move(headers), bodyAllowed ? Framing::Length : Framing::None,
                            body.size()));
    if (bodyAllowed && !slot.headRequest)
        append(slot, body);
    slot.started = true;
    slot.done = true;
}

bool HttpConnection::respond(quint64 slotId, int status, HttpHeaders headers, const QByteArray &body)
{
    Slot *slot = findSlot(slotId);
    if (m_state != State::Open || !slot || slot->started || status < 200 || status > 599)
        return false;
    sendComplete(*slot, status, std::move(headers), body);
    advanceQueue();
    return true;
}

bool HttpConnection::beginStream(quint64 slotId, int status, HttpHeaders headers)
{
    Slot *slot = findSlot(slotId);
    if (m_state != State::Open || !slot || slot->started || status < 200 || status > 599
        || statusForbidsBody(status))
        return false;
    const Framing framing = slot->http10 ? Framing::CloseDelimited : Framing::Chunked;
    slot->chunked = framing == Framing::Chunked;
    slot->started = true;
    append(*slot, formatHead(*slot, status, std::move(headers), framing, 0));
    if (isHead(*slot))
        updateTimer();
    return true;
}

HttpResponder::WriteResult HttpConnection::write(quint64 slotId, const QByteArray &chunk)
{
    Slot *slot = findSlot(slotId);
    if (m_state != State::Open || !slot || !slot->started || slot->done)
        return HttpResponder::WriteResult::Closed;
    if (chunk.isEmpty() || slot->headRequest)
        return HttpResponder::WriteResult::Accepted;
    if (bufferedBytes(*slot) >= m_maxBufferedBytes) {
        slot->aboveLowWater = true;
        HttpServerCounters::add(m_context->counters.writesRefused);
        return HttpResponder::WriteResult::BufferFull;
    }
    if (slot->chunked) {
        QByteArray framed;
        framed.reserve(chunk.size() + 12);
        framed += QByteArray::number(chunk.size(), 16);
        framed += "\r\n";
        framed += chunk;
        framed += "\r\n";
        append(*slot, framed);
    } else {
        append(*slot, chunk);
    }
    if (bufferedBytes(*slot) > m_maxBufferedBytes / 4)
        slot->aboveLowWater = true;
    if (isHead(*slot))
        updateTimer();
    return HttpResponder::WriteResult::Accepted;
}

bool HttpConnection::end(quint64 slotId)
{
    Slot *slot = findSlot(slotId);
    if (m_state != State::Open || !slot || !slot->started || slot->done)
        return false;
    if (slot->chunked && !slot->headRequest)
        append(*slot, QByteArrayLiteral("0\r\n\r\n"));
    slot->done = true;
    advanceQueue();
    return true;
}

void HttpConnection::abandon(quint64 slotId)
{
    Slot *slot = findSlot(slotId);
    if (m_state != State::Open || !slot || slot->done)
        return;
    HttpServerCounters::add(m_context->counters.abandonedResponses);
    if (!slot->started) {
        sendComplete(*slot, 500, HttpHeaders{{"Content-Type", "application/json"}},
                     m_context->options.errorBody
                         ? m_context->options.errorBody(500, QStringLiteral("the request was dropped without an answer"))
                         : defaultErrorBody(500, QStringLiteral("the request was dropped without an answer")));
    } else {
        // Cut off: without the terminating chunk the client sees a truncated answer.
        slot->done = true;
        slot->closeAfter = true;
    }
    advanceQueue();
}

bool HttpConnection::abortResponse(quint64 slotId)
{
    Slot *slot = findSlot(slotId);
    if (m_state != State::Open || !slot || slot->done)
        return false;
    // Neither a 500 (as abandon() sends) nor a terminating chunk: the answer stops where
    // it is. Whatever is queued ahead of the cut still goes out, in order, so the client
    // sees exactly the bytes written before abort(); then the connection closes.
    slot->done = true;
    slot->closeAfter = true;
    m_inputStopped = true;
    advanceQueue();
    return true;
}

void HttpConnection::advanceQueue()
{
    while (m_state == State::Open && !m_slots.empty()) {
        Slot &head = m_slots.front();
        if (!head.pending.isEmpty()) {
            m_socket->write(head.pending);
            head.pending.clear();
        }
        if (!head.done)
            break;
        const bool close = head.closeAfter;
        m_slots.pop_front();
        if (close) {
            closeAfterFlush(true);
            return;
        }
    }
    if (m_state != State::Open)
        return;
    if (m_draining && m_slots.empty()) {
        closeAfterFlush(false);
        return;
    }
    scheduleProcessInput();
    updateTimer();
}

void HttpConnection::onBytesWritten(qint64 bytes)
{
    HttpServerCounters::add(m_context->counters.bytesOut, quint64(bytes));
    if (m_state == State::Closing) {
        updateTimer(true);
        continueClosing();
        return;
    }
    if (m_state != State::Open)
        return;
    if (!m_slots.empty()) {
        Slot &head = m_slots.front();
        const qint64 lowWater = m_maxBufferedBytes / 4;
        if (head.aboveLowWater && bufferedBytes(head) <= lowWater) {
            head.aboveLowWater = false;
            if (const auto responder = head.responder.lock())
                responder->notifyDrained();
            if (m_state != State::Open)
                return;
        }
    }
    updateTimer(true);
}

void HttpConnection::closeAfterFlush(bool linger)
{
    if (m_state != State::Open)
        return;
    m_state = State::Closing;
    m_lingerOnClose = linger;
    m_input.clear();
    m_inputOffset = 0;
    cancelResponders();
    continueClosing();
}

void HttpConnection::continueClosing()
{
    if (m_state != State::Closing)
        return;
    if (m_socket->bytesToWrite() > 0) {
        updateTimer();
        return;
    }
    if (!m_lingerOnClose || m_context->options.lingerTimeout.count() <= 0) {
        finish(false);
        return;
    }
    // Stop sending (FIN after the answer) but keep reading until the client closes.
    ::shutdown(int(m_socket->socketDescriptor()), SHUT_WR);
    m_state = State::Lingering;
    discardInput();
    updateTimer();
}

void HttpConnection::finish(bool hard)
{
    if (m_state == State::Closed)
        return;
    m_state = State::Closed;
    m_timer.stop();
    m_timerPhase = TimerPhase::None;
    if (m_socket) {
        disconnect(m_socket, nullptr, this, nullptr);
        if (hard)
            m_socket->abort();
        else
            m_socket->close();
    }
    cancelResponders();
    emit closed();
}

void HttpConnection::cancelResponders()
{
    std::deque<Slot> remaining;
    remaining.swap(m_slots);
    for (Slot &slot : remaining) {
        if (slot.done)
            continue;
        if (const auto responder = slot.responder.lock()) {
            if (!responder->isFinished() && !responder->isCancelled()) {
                HttpServerCounters::add(m_context->counters.clientAborts);
                responder->notifyCancelled();
            }
        }
    }
}

HttpConnection::TimerPhase HttpConnection::desiredPhase() const
{
    switch (m_state) {
    case State::Closing:
        return TimerPhase::Send;
    case State::Lingering:
        return TimerPhase::Linger;
    case State::Closed:
        return TimerPhase::None;
    case State::Open:
        break;
    }
    if (!m_inputStopped && m_parser.isInProgress())
        return m_parser.isReadingBody() ? TimerPhase::Body : TimerPhase::Header;
    if (m_socket->bytesToWrite() > 0)
        return TimerPhase::Send;
    if (m_slots.empty())
        return m_requestCount == 0 ? TimerPhase::Header : TimerPhase::Idle;
    return TimerPhase::None;
}

void HttpConnection::updateTimer(bool progress)
{
    const TimerPhase phase = desiredPhase();
    if (phase == m_timerPhase && !(progress && phase == TimerPhase::Send))
        return;
    m_timerPhase = phase;
    const auto &options = m_context->options;
    std::chrono::milliseconds timeout{0};
    switch (phase) {
    case TimerPhase::None: break;
    case TimerPhase::Header: timeout = options.headerTimeout; break;
    case TimerPhase::Body: timeout = options.bodyTimeout; break;
    case TimerPhase::Idle: timeout = options.idleTimeout; break;
    case TimerPhase::Send: timeout = options.sendTimeout; break;
    case TimerPhase::Linger: timeout = options.lingerTimeout; break;
    }
    if (timeout.count() > 0)
        m_timer.start(timeout);
    else
        m_timer.stop();
}

} // namespace sluice::http
