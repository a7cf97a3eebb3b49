#pragma once

#include "http/httphandler.h"
#include "http/httplistensocket.h"
#include "http/httprequest.h"
#include "http/httpresponder.h"
#include "http/httpserveroptions.h"
#include "http/httpserverstats.h"
#include "policy/result.h"

#include <QObject>
#include <QTimer>

#include <chrono>
#include <memory>
#include <vector>

class QThread;

namespace sluice::http {

struct HttpServerContext;
class HttpWorker;

// An HTTP/1.1 server for a proxy: N event-loop threads, keep-alive, pipelining
// (answers strictly in request order), chunked request bodies, Expect: 100-continue,
// streamed (chunked / SSE) answers with per-response backpressure, header/body/idle/
// send timeouts, size limits, and a graceful shutdown. Errors it answers by itself
// carry a JSON body (HttpServerOptions::errorBody). See HttpResponder for answering.
//
// Threads: listen() starts options.threads QThreads ("sluice-http-<n>"), each running
// its own event loop. In AcceptMode::Distribute one listening socket is accepted on
// thread 0 and each connection is handed to the thread with the fewest open
// connections; in ReusePort each thread accepts from its own SO_REUSEPORT socket.
// A connection, its requests and its responders stay on one thread for life, and the
// handler is called there.
//
// Thread affinity: the HttpServer object lives on the thread that created it (the GUI
// thread in the console); call listen(), stopAccepting(), shutdown() and destroy it
// there. drained() is delivered there, so that thread needs a running event loop.
// Nothing here blocks that thread except the destructor, which aborts what is left and
// joins the threads. stats(), serverPort() and isListening() may be called from any thread
// once listen() returned.
class HttpServer : public QObject {
    Q_OBJECT
public:
    using Handler = HttpHandler;

    HttpServer(HttpServerOptions options, Handler handler, QObject *parent = nullptr);
    ~HttpServer() override;

    // Binds, listens and starts the threads. Connections are accepted (queued by the
    // kernel) from the moment this returns. Returns the bound port, or why it could not
    // listen (address in use, permission, not a local address, already listening).
    Result<quint16, HttpListenError> listen();
    bool isListening() const { return m_port != 0; }
    quint16 serverPort() const { return m_port; }
    QHostAddress serverAddress() const { return m_options.address; }
    int threadCount() const { return int(m_threads.size()); }
    const HttpServerOptions &options() const { return m_options; }

    // Stops accepting: from its return, new connections are refused by the kernel.
    // Open connections carry on. Idempotent.
    void stopAccepting();
    // Graceful shutdown: stops accepting; every request whose header block has arrived
    // is completed and answered with "Connection: close" (and so are requests already
    // pipelined and handed to the handler); idle connections and half-received headers
    // are closed now. drained() follows once every connection is closed, or when
    // `deadline` passes, after the remaining connections were aborted (their responders
    // see cancelled). Calling it again does nothing.
    void shutdown(std::chrono::milliseconds deadline);
    bool isShuttingDown() const { return m_shuttingDown; }

    // Counters summed over all threads. Thread-safe.
    HttpServerStats stats() const;

signals:
    // Emitted once after shutdown() (immediately, queued, if never listening).
    void drained();

private:
    void onWorkerDrained();
    void onDeadline();

    HttpServerOptions m_options;
    Handler m_handler;
    std::shared_ptr<HttpServerContext> m_context;
    std::vector<std::unique_ptr<QThread>> m_threads;
    std::vector<int> m_listeningDescriptors; // owned by the workers' listeners; used here only for shutdown(2)
    quint16 m_port = 0;
    bool m_acceptingStopped = false;
    bool m_shuttingDown = false;
    bool m_drainedEmitted = false;
    int m_workersDrained = 0;
    QTimer m_deadlineTimer;
};

} // namespace sluice::http
