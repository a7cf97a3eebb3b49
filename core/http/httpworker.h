#pragma once

#include <QObject>

#include <atomic>
#include <memory>
#include <vector>

namespace sluice::http {

class HttpConnection;
class HttpListener;
struct HttpServerContext;

// Internal. One event-loop thread of an HttpServer: owns that thread's connections
// and, depending on the accept mode, a listening socket. Lives on its QThread; every
// method except load() runs there (other threads post to it); deleted when the
// thread finishes.
class HttpWorker : public QObject {
    Q_OBJECT
public:
    HttpWorker(std::shared_ptr<HttpServerContext> context, int index, QObject *parent = nullptr);
    ~HttpWorker() override;

    // Takes ownership of a listening descriptor. `distribute`: accepted connections go
    // to the least-loaded worker (AcceptMode::Distribute); otherwise they stay here.
    void startListening(qintptr descriptor, bool distribute);
    void stopListening();
    // Takes ownership of a connected descriptor (closes it when draining).
    void adopt(qintptr descriptor);
    void beginDrain();
    void abortAll();

    // Open connections; read from any thread to pick a worker.
    int load() const { return m_load.load(std::memory_order_relaxed); }

signals:
    // After beginDrain(), once this worker has no connection left. Emitted once.
    void drained();

private:
    void distribute(qintptr descriptor);
    void onConnectionClosed(HttpConnection *connection);
    void checkDrained();

    std::shared_ptr<HttpServerContext> m_context;
    int m_index = 0;
    HttpListener *m_listener = nullptr;
    std::vector<HttpConnection *> m_connections;
    std::atomic<int> m_load{0};
    bool m_draining = false;
    bool m_drainedEmitted = false;
};

} // namespace sluice::http
