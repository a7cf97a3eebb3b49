#pragma once

#include "http/httpheaders.h"

#include <QByteArray>
#include <QObject>
#include <QPointer>

#include <functional>

namespace sluice::http {

class HttpConnection;

// Answers one request: either respond() once, or beginStream(), any number of
// write()s and end(). Answers leave in request order even when requests were
// pipelined and a later one is answered first; until earlier answers are out,
// this one is buffered (and counted by bufferedBytes()).
//
// Thread affinity: the thread of the connection the request came in on (the thread
// the handler was called on). Every call, and dropping the last reference, belongs
// there. Safe to use after the client went away or the server stopped: calls become
// no-ops (respond/beginStream/end return false, write returns Closed).
//
// The server manages framing: Content-Length, Transfer-Encoding, Connection,
// Keep-Alive, TE, Trailer, Upgrade and Proxy-Connection given in `headers` are
// dropped; Date is added unless given. Fields with invalid names or values holding
// CR/LF are dropped. HTTP/1.1 streams are chunked; an HTTP/1.0 stream is delimited by
// closing the connection. A HEAD request gets the headers without the body.
//
// Backpressure: write() refuses a chunk (BufferFull, nothing queued) while
// bufferedBytes() >= maxBufferedBytes() (HttpServerOptions::maxResponseBufferBytes),
// so one response holds at most that plus one chunk in memory, whatever the client's
// pace. The producer pauses and resumes when the drained callback runs: it runs each
// time bufferedBytes() falls from above lowWaterBytes() (a quarter of the maximum) to
// at or below it. respond() is never refused (its body is already in memory).
//
// Dropping the last reference before the answer is complete: an answer not begun
// becomes a 500; a begun stream is cut off (no terminating chunk, connection closed)
// so the client cannot take it for complete.
class HttpResponder {
public:
    enum class WriteResult {
        Accepted,   // queued for sending
        BufferFull, // refused, nothing queued: wait for the drained callback, then retry
        Closed,     // not streaming: the client went away, end() was called, or beginStream() was not
    };

    ~HttpResponder();
    HttpResponder(const HttpResponder &) = delete;
    HttpResponder &operator=(const HttpResponder &) = delete;

    // A complete answer. `status` must be 200..599. False if an answer was already
    // begun or the client is gone.
    bool respond(int status, HttpHeaders headers = {}, QByteArray body = {});
    // Starts a streamed answer (chunked). `status` must be 200..599 and allow a body.
    bool beginStream(int status, HttpHeaders headers = {});
    // beginStream(200) with Content-Type: text/event-stream, Cache-Control: no-cache and
    // X-Accel-Buffering: no (unless given), for server-sent events.
    bool beginEventStream(HttpHeaders headers = {});
    // Queues `chunk` (as one HTTP chunk). Empty chunks are accepted and send nothing.
    WriteResult write(const QByteArray &chunk);
    // Completes the streamed answer (the terminating chunk). False if not streaming.
    bool end();
    // Gives up on this answer and closes the connection without completing it, for
    // simulating (or passing on) a dropped upstream. What was already queued is still
    // sent: earlier pipelined answers, and of this one the status line, headers and
    // chunks written so far; then the connection closes (FIN, with the lingering close),
    // with no terminating chunk, so the client sees "closed without a response" or a
    // truncated chunked body. (An HTTP/1.0 stream is close-delimited, so there the cut
    // is indistinguishable from a complete answer.) Requests pipelined after this one
    // are not read or are cancelled. Afterwards isCancelled() is true and every call is
    // a no-op; the onCancelled callback does not run (the caller knows). Returns false,
    // doing nothing, after the answer was complete, after cancellation, or once the
    // connection is closed. Like every call, on the connection's thread.
    bool abort();

    // Bytes of this answer accepted but not yet taken by the kernel. While earlier
    // answers are still being sent, their unsent bytes are counted too.
    qint64 bufferedBytes() const;
    qint64 maxBufferedBytes() const { return m_maxBufferedBytes; }
    qint64 lowWaterBytes() const { return m_maxBufferedBytes / 4; }

    bool isStarted() const { return m_state != State::Fresh; }
    bool isStreaming() const { return m_state == State::Streaming; }
    bool isFinished() const { return m_state == State::Finished; }
    // The client went away (or the server aborted the connection, or abort() was
    // called) before the answer was complete.
    bool isCancelled() const { return m_state == State::Cancelled; }
    quint64 connectionId() const { return m_connectionId; }

    // Callbacks, at most one of each (a later call replaces the earlier one). With a
    // `context`, the callback runs on the context's thread (queued if that is not the
    // connection's thread) and is dropped once the context is destroyed; without one it
    // runs on the connection's thread. The responder may be released from inside.
    void onDrained(std::function<void()> callback, QObject *context = nullptr);
    // Runs at most once, when the client goes away or the connection is aborted (send
    // stall, shutdown deadline, server destroyed) before the answer was complete: the
    // moment to cancel the upstream call.
    void onCancelled(std::function<void()> callback, QObject *context = nullptr);

private:
    friend class HttpConnection;
    enum class State { Fresh, Streaming, Finished, Cancelled };
    struct Callback {
        std::function<void()> function;
        QPointer<QObject> context;
        bool bound = false;
    };

    HttpResponder(HttpConnection *connection, quint64 slotId, quint64 connectionId, qint64 maxBufferedBytes);
    HttpConnection *liveConnection() const;
    void notifyDrained();
    void notifyCancelled();
    static void invoke(const Callback &callback);

    QPointer<HttpConnection> m_connection;
    quint64 m_slotId = 0;
    quint64 m_connectionId = 0;
    qint64 m_maxBufferedBytes = 0;
    State m_state = State::Fresh;
    Callback m_drained;
    Callback m_cancelled;
};

} // namespace sluice::http
