#include "http/httpworker.h"

#include "http/httpconnection.h"
#include "http/httplistener.h"
#include "http/httpservercontext.h"

#include <unistd.h>

#include <algorithm>

namespace sluice::http {

namespace {

// Owns a descriptor in flight between threads: closed if the hand-off is dropped
// (the target worker died before the queued call ran).
class PendingDescriptor {
public:
    explicit PendingDescriptor(qintptr descriptor) : m_descriptor(descriptor) {}
    ~PendingDescriptor()
    {
        if (m_descriptor >= 0)
            ::close(int(m_descriptor));
    }
    PendingDescriptor(const PendingDescriptor &) = delete;
    PendingDescriptor &operator=(const PendingDescriptor &) = delete;
    qintptr release() { return std::exchange(m_descriptor, -1); }

private:
    qintptr m_descriptor;
};

} // namespace

HttpWorker::HttpWorker(std::shared_ptr<HttpServerContext> context, int index, QObject *parent)
    : QObject(parent), m_context(std::move(context)), m_index(index)
{
}

HttpWorker::~HttpWorker()
{
    HttpServerCounters::subtract(m_context->counters.connectionsActive, m_connections.size());
}

void HttpWorker::startListening(qintptr descriptor, bool distribute)
{
    m_listener = new HttpListener(
        [this, distribute](qintptr accepted) {
            if (distribute)
                this->distribute(accepted);
            else
                adopt(accepted);
        },
        this);
    if (!m_listener->setSocketDescriptor(descriptor)) {
        qWarning("sluice-http: thread %d cannot take listening socket: %s", m_index,
                 qPrintable(m_listener->errorString()));
        ::close(int(descriptor));
        delete m_listener;
        m_listener = nullptr;
    }
}

void HttpWorker::stopListening()
{
    delete m_listener;
    m_listener = nullptr;
}

void HttpWorker::distribute(qintptr descriptor)
{
    const auto &workers = m_context->workers;
    const std::size_t count = workers.size();
    const std::size_t start = m_context->nextWorker.fetch_add(1, std::memory_order_relaxed) % count;
    HttpWorker *target = workers[start];
    for (std::size_t step = 1; step < count; ++step) {
        HttpWorker *candidate = workers[(start + step) % count];
        if (candidate->load() < target->load())
            target = candidate;
    }
    if (target == this) {
        adopt(descriptor);
        return;
    }
    target->m_load.fetch_add(1, std::memory_order_relaxed); // counted now so a burst spreads out
    auto pending = std::make_shared<PendingDescriptor>(descriptor);
    QMetaObject::invokeMethod(
        target,
        [target, pending] {
            target->m_load.fetch_sub(1, std::memory_order_relaxed);
            target->adopt(pending->release());
        },
        Qt::QueuedConnection);
}

void HttpWorker::adopt(qintptr descriptor)
{
    if (m_draining) {
        ::close(int(descriptor));
        return;
    }
    const quint64 id = m_context->nextConnectionId.fetch_add(1, std::memory_order_relaxed);
    auto *connection = new HttpConnection(m_context, id, this);
    if (!connection->open(descriptor)) {
        ::close(int(descriptor));
        delete connection;
        return;
    }
    m_connections.push_back(connection);
    m_load.fetch_add(1, std::memory_order_relaxed);
    HttpServerCounters::add(m_context->counters.connectionsAccepted);
    HttpServerCounters::add(m_context->counters.connectionsActive);
    connect(connection, &HttpConnection::closed, this, [this, connection] { onConnectionClosed(connection); });
}

void HttpWorker::onConnectionClosed(HttpConnection *connection)
{
    const auto found = std::find(m_connections.begin(), m_connections.end(), connection);
    if (found == m_connections.end())
        return;
    m_connections.erase(found);
    m_load.fetch_sub(1, std::memory_order_relaxed);
    HttpServerCounters::subtract(m_context->counters.connectionsActive);
    connection->deleteLater();
    checkDrained();
}

void HttpWorker::beginDrain()
{
    m_draining = true;
    stopListening();
    const std::vector<HttpConnection *> connections = m_connections;
    for (HttpConnection *connection : connections) {
        if (std::find(m_connections.begin(), m_connections.end(), connection) != m_connections.end())
            connection->beginDrain();
    }
    checkDrained();
}

void HttpWorker::abortAll()
{
    stopListening();
    const std::vector<HttpConnection *> connections = m_connections;
    for (HttpConnection *connection : connections) {
        if (std::find(m_connections.begin(), m_connections.end(), connection) != m_connections.end())
            connection->abort();
    }
    checkDrained();
}

void HttpWorker::checkDrained()
{
    if (m_draining && m_connections.empty() && !m_drainedEmitted) {
        m_drainedEmitted = true;
        emit drained();
    }
}

} // namespace sluice::http
