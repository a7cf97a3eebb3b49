#include "http/httpresponder.h"

#include "http/httpconnection.h"

#include <QThread>

namespace sluice::http {

HttpResponder::HttpResponder(HttpConnection *connection, quint64 slotId, quint64 connectionId,
                             qint64 maxBufferedBytes)
    : m_connection(connection), m_slotId(slotId), m_connectionId(connectionId), m_maxBufferedBytes(maxBufferedBytes)
{
}

HttpResponder::~HttpResponder()
{
    if (m_state == State::Fresh || m_state == State::Streaming) {
        if (HttpConnection *connection = liveConnection())
            connection->abandon(m_slotId);
    }
}

HttpConnection *HttpResponder::liveConnection() const
{
    HttpConnection *connection = m_connection.data();
    Q_ASSERT_X(!connection || connection->thread() == QThread::currentThread(), "HttpResponder",
               "used from a thread other than its connection's");
    return connection;
}

bool HttpResponder::respond(int status, HttpHeaders headers, QByteArray body)
{
    if (m_state != State::Fresh)
        return false;
    HttpConnection *connection = liveConnection();
    if (!connection || !connection->respond(m_slotId, status, std::move(headers), body))
        return false;
    m_state = State::Finished;
    return true;
}

bool HttpResponder::beginStream(int status, HttpHeaders headers)
{
    if (m_state != State::Fresh)
        return false;
    HttpConnection *connection = liveConnection();
    if (!connection || !connection->beginStream(m_slotId, status, std::move(headers)))
        return false;
    m_state = State::Streaming;
    return true;
}

bool HttpResponder::beginEventStream(HttpHeaders headers)
{
    if (!headers.contains("content-type"))
        headers.add("Content-Type", "text/event-stream");
    if (!headers.contains("cache-control"))
        headers.add("Cache-Control", "no-cache");
    if (!headers.contains("x-accel-buffering"))
        headers.add("X-Accel-Buffering", "no");
    return beginStream(200, std::move(headers));
}

HttpResponder::WriteResult HttpResponder::write(const QByteArray &chunk)
{
    if (m_state != State::Streaming)
        return WriteResult::Closed;
    HttpConnection *connection = liveConnection();
    if (!connection)
        return WriteResult::Closed;
    return connection->write(m_slotId, chunk);
}

bool HttpResponder::end()
{
    if (m_state != State::Streaming)
        return false;
    HttpConnection *connection = liveConnection();
    if (!connection || !connection->end(m_slotId))
        return false;
    m_state = State::Finished;
    return true;
}

bool HttpResponder::abort()
{
    if (m_state != State::Fresh && m_state != State::Streaming)
        return false;
    HttpConnection *connection = liveConnection();
    if (!connection || !connection->abortResponse(m_slotId))
        return false;
    m_state = State::Cancelled;
    m_drained = Callback{};
    m_cancelled = Callback{};
    return true;
}

qint64 HttpResponder::bufferedBytes() const
{
    if (m_state == State::Cancelled)
        return 0;
    const HttpConnection *connection = liveConnection();
    return connection ? connection->bufferedBytes(m_slotId) : 0;
}

void HttpResponder::onDrained(std::function<void()> callback, QObject *context)
{
    m_drained = Callback{std::move(callback), context, context != nullptr};
}

void HttpResponder::onCancelled(std::function<void()> callback, QObject *context)
{
    m_cancelled = Callback{std::move(callback), context, context != nullptr};
}

void HttpResponder::invoke(const Callback &callback)
{
    if (!callback.function)
        return;
    if (!callback.bound) {
        callback.function();
        return;
    }
    if (QObject *context = callback.context.data())
        QMetaObject::invokeMethod(context, callback.function);
}

void HttpResponder::notifyDrained()
{
    if (m_state != State::Streaming)
        return;
    const Callback callback = m_drained;
    invoke(callback);
}

void HttpResponder::notifyCancelled()
{
    if (m_state == State::Finished || m_state == State::Cancelled)
        return;
    m_state = State::Cancelled;
    const Callback callback = std::exchange(m_cancelled, Callback{});
    m_drained = Callback{};
    invoke(callback);
}

} // namespace sluice::http
