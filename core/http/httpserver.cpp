#include "http/httpserver.h"

#include "http/httpservercontext.h"
#include "http/httpworker.h"

#include <QThread>

#include <sys/socket.h>
#include <unistd.h>

namespace sluice::http {

HttpServer::HttpServer(HttpServerOptions options, Handler handler, QObject *parent)
    : QObject(parent), m_options(std::move(options)), m_handler(std::move(handler))
{
    m_deadlineTimer.setSingleShot(true);
    connect(&m_deadlineTimer, &QTimer::timeout, this, &HttpServer::onDeadline);
}

HttpServer::~HttpServer()
{
    stopAccepting();
    for (HttpWorker *worker : m_context ? m_context->workers : std::vector<HttpWorker *>{}) {
        QMetaObject::invokeMethod(
            worker,
            [worker] {
                worker->abortAll();
                QThread::currentThread()->quit();
            },
            Qt::QueuedConnection);
    }
    for (const auto &thread : m_threads)
        thread->wait();
}

Result<quint16, HttpListenError> HttpServer::listen()
{
    if (m_context)
        return unexpected(HttpListenError{HttpListenError::Kind::AlreadyListening,
                                          QStringLiteral("the server was already started"), 0});
    const int threadCount = m_options.threads > 0 ? m_options.threads : std::max(1, QThread::idealThreadCount());
    const bool reusePort = m_options.acceptMode == AcceptMode::ReusePort;

    std::vector<int> descriptors;
    quint16 port = m_options.port;
    for (int index = 0; index < (reusePort ? threadCount : 1); ++index) {
        auto opened = openListeningSocket(m_options.address, port, reusePort, m_options.listenBacklog);
        if (!opened) {
            for (const int descriptor : descriptors)
                ::close(descriptor);
            return unexpected(std::move(opened).error());
        }
        descriptors.push_back(*opened);
        if (index == 0)
            port = boundPort(*opened);
    }

    m_context = std::make_shared<HttpServerContext>();
    m_context->options = m_options;
    m_context->handler = m_handler;
    for (int index = 0; index < threadCount; ++index) {
        auto thread = std::make_unique<QThread>();
        thread->setObjectName(QStringLiteral("sluice-http-%1").arg(index));
        auto *worker = new HttpWorker(m_context, index);
        worker->moveToThread(thread.get());
        connect(thread.get(), &QThread::finished, worker, &QObject::deleteLater);
        connect(worker, &HttpWorker::drained, this, &HttpServer::onWorkerDrained, Qt::QueuedConnection);
        m_context->workers.push_back(worker);
        m_threads.push_back(std::move(thread));
    }
    for (const auto &thread : m_threads)
        thread->start();
    for (std::size_t index = 0; index < descriptors.size(); ++index) {
        HttpWorker *worker = m_context->workers[index];
        const int descriptor = descriptors[index];
        QMetaObject::invokeMethod(
            worker, [worker, descriptor, reusePort] { worker->startListening(descriptor, !reusePort); },
            Qt::QueuedConnection);
    }
    m_listeningDescriptors = std::move(descriptors);
    m_port = port;
    return port;
}

void HttpServer::stopAccepting()
{
    if (m_acceptingStopped || !m_context)
        return;
    m_acceptingStopped = true;
    // shutdown(2) on a listening socket stops it at once (Linux): queued and new
    // connection attempts are refused without waiting for the worker thread.
    for (const int descriptor : m_listeningDescriptors)
        ::shutdown(descriptor, SHUT_RDWR);
    m_listeningDescriptors.clear();
    for (HttpWorker *worker : m_context->workers)
        QMetaObject::invokeMethod(worker, [worker] { worker->stopListening(); }, Qt::QueuedConnection);
}

void HttpServer::shutdown(std::chrono::milliseconds deadline)
{
    if (m_shuttingDown)
        return;
    m_shuttingDown = true;
    if (!m_context) {
        QMetaObject::invokeMethod(this, [this] { onWorkerDrained(); }, Qt::QueuedConnection);
        return;
    }
    stopAccepting();
    for (HttpWorker *worker : m_context->workers)
        QMetaObject::invokeMethod(worker, [worker] { worker->beginDrain(); }, Qt::QueuedConnection);
    m_deadlineTimer.start(std::max(deadline, std::chrono::milliseconds{0}));
}

void HttpServer::onDeadline()
{
    for (HttpWorker *worker : m_context->workers)
        QMetaObject::invokeMethod(worker, [worker] { worker->abortAll(); }, Qt::QueuedConnection);
}

void HttpServer::onWorkerDrained()
{
    ++m_workersDrained;
    const int expected = m_context ? int(m_context->workers.size()) : 1;
    if (m_workersDrained < expected || m_drainedEmitted)
        return;
    m_drainedEmitted = true;
    m_deadlineTimer.stop();
    emit drained();
}

HttpServerStats HttpServer::stats() const
{
    return m_context ? m_context->counters.snapshot() : HttpServerStats{};
}

} // namespace sluice::http
