#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QString>

#include <chrono>
#include <functional>

namespace sluice::http {

// How accepted connections reach the event-loop threads.
enum class AcceptMode {
    // One listening socket, accepted on thread 0 and handed to the thread with the
    // fewest open connections (round-robin among equals). Even spread, also for the
    // few long-lived streaming connections an LLM gateway holds; stopAccepting()
    // closes one socket. The default: behind a load balancer's keep-alive pool both
    // modes measured the same (wrk, 2 threads, ~120k small answers/s on 2 cores).
    Distribute,
    // One listening socket per thread, all bound with SO_REUSEPORT; the kernel hashes
    // each connection to one of them and it stays on that thread. No cross-thread
    // hand-off (~15% more one-request connections/s), but the spread is only
    // statistically even (uneven with few, long-lived clients).
    ReusePort,
};

// Everything the server's behaviour depends on. Durations are wall-clock timeouts
// measured on the connection's thread; a zero or negative duration disables that timeout.
struct HttpServerOptions {
    QHostAddress address = QHostAddress(QHostAddress::LocalHost);
    quint16 port = 0; // 0: any free port; serverPort() tells which
    int threads = 0;  // event-loop threads; 0: QThread::idealThreadCount()
    AcceptMode acceptMode = AcceptMode::Distribute;
    int listenBacklog = 1024;

    qint64 maxHeaderBytes = 64 * 1024;      // request line + header fields; above: 431 and close
    qint64 maxBodyBytes = 8 * 1024 * 1024;  // decoded request body; above: 413 and close
    // Requests a client may pipeline ahead of the responses: parsed and handed to the
    // handler at once, answered strictly in order. Beyond it the connection stops
    // reading (TCP pushes back on the client) until an answer is complete.
    int maxPipelinedRequests = 16;

    // Slowloris guard: the whole header block must arrive within this, counted from
    // the request's first byte (from accept for a connection's first request).
    std::chrono::milliseconds headerTimeout{10'000};
    // The whole body must arrive within this, counted from the end of the header block.
    std::chrono::milliseconds bodyTimeout{60'000};
    // A kept-alive connection with nothing in flight is closed silently after this.
    // Above the idle timeout of a load balancer in front (60 s for most), so it is
    // the balancer that closes idle connections, never racing a reused one.
    std::chrono::milliseconds idleTimeout{75'000};
    // A connection whose pending output makes no progress for this long is aborted
    // (its responders see cancelled): a client that stopped reading.
    std::chrono::milliseconds sendTimeout{60'000};
    // After the last answer on a connection the server closes, it stops sending and
    // keeps reading (discarding) until the client closes, for at most this long, so a
    // request the client already sent cannot turn the close into a reset that destroys
    // the answer in flight (nginx's lingering close).
    std::chrono::milliseconds lingerTimeout{2'000};

    // Backpressure bound per response: HttpResponder::write() refuses a chunk while this
    // many bytes of that response are buffered in the process and not yet taken by the
    // kernel. Drained is reported at a quarter of it. See HttpResponder.
    qint64 maxResponseBufferBytes = 1024 * 1024;

    // Body of the errors the server answers by itself (400, 408, 413, 417, 431, 500,
    // 501, 505), sent as application/json. Empty: the OpenAI error shape, see
    // defaultErrorBody(). Called on connection threads, concurrently; must be thread-safe.
    std::function<QByteArray(int status, QString message)> errorBody;
};

} // namespace sluice::http
