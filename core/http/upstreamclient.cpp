#include "http/upstreamclient.h"

#include <QSslSocket>

namespace sluice::http {

UpstreamClient::UpstreamClient(UpstreamClientOptions options, QObject *parent)
    : QObject(parent), m_options(std::move(options))
{
    m_releaseTimer.setSingleShot(true);
    m_releaseTimer.setInterval(0);
    connect(&m_releaseTimer, &QTimer::timeout, this, [this] {
        // Moved out first: a call's destructor must not find itself still listed.
        const auto released = std::move(m_finishedCalls);
        m_finishedCalls.clear();
    });
}

UpstreamClient::~UpstreamClient()
{
    m_destroying = true;
    std::vector<std::shared_ptr<UpstreamCall>> calls;
    calls.reserve(m_activeCalls.size());
    for (const auto &entry : m_activeCalls)
        calls.push_back(entry.second);
    for (const auto &call : calls)
        call->cancel();
    m_activeCalls.clear();
    closeIdleConnections();
    m_finishedCalls.clear();
}

std::shared_ptr<UpstreamCall> UpstreamClient::start(UpstreamRequest request, UpstreamCallbacks callbacks)
{
    std::shared_ptr<UpstreamCall> call(new UpstreamCall(this, std::move(request), std::move(callbacks)));
    ++m_stats.callsStarted;
    m_activeCalls.emplace(call.get(), call);
    call->begin();
    return call;
}

UpstreamClient::Stats UpstreamClient::stats() const
{
    Stats stats = m_stats;
    stats.idleConnections = 0;
    for (const auto &connections : m_idle)
        stats.idleConnections += int(connections.size());
    stats.activeCalls = int(m_activeCalls.size());
    return stats;
}

void UpstreamClient::closeIdleConnections()
{
    const auto idle = std::move(m_idle);
    m_idle.clear();
    for (const auto &connections : idle) {
        for (UpstreamConnection *connection : connections)
            discardConnection(connection);
    }
}

UpstreamConnection *UpstreamClient::takeIdleConnection(const UpstreamEndpoint &endpoint)
{
    const auto it = m_idle.find(endpoint.poolKey());
    if (it == m_idle.end())
        return nullptr;
    UpstreamConnection *taken = nullptr;
    auto &connections = it.value();
    while (!connections.empty() && !taken) {
        UpstreamConnection *connection = connections.back();
        connections.pop_back();
        if (connection->isUsable())
            taken = connection;
        else
            discardConnection(connection);
    }
    if (connections.empty())
        m_idle.erase(it);
    if (taken) {
        taken->unpark();
        ++m_stats.connectionsReused;
    }
    return taken;
}

UpstreamConnection *UpstreamClient::openConnection(const UpstreamEndpoint &endpoint)
{
    auto *connection = new UpstreamConnection(endpoint, endpoint.tls ? tlsConfiguration() : QSslConfiguration(),
                                              m_options.maxResponseHeaderBytes, this);
    connect(connection, &UpstreamConnection::parkedClosed, this,
            [this, connection] { onParkedClosed(connection); });
    ++m_stats.connectionsOpened;
    connection->open();
    return connection;
}

void UpstreamClient::releaseConnection(UpstreamConnection *connection, bool reusable)
{
    if (!connection)
        return;
    const int maxIdle = m_options.maxIdleConnectionsPerOrigin;
    if (!reusable || m_destroying || maxIdle <= 0 || !connection->isUsable()) {
        discardConnection(connection);
        return;
    }
    auto &connections = m_idle[connection->endpoint().poolKey()];
    while (int(connections.size()) >= maxIdle) {
        discardConnection(connections.front());
        connections.pop_front();
    }
    connection->park(m_options.idleConnectionTimeout);
    connections.push_back(connection);
}

void UpstreamClient::discardConnection(UpstreamConnection *connection)
{
    connection->close();
    connection->deleteLater();
}

void UpstreamClient::onParkedClosed(UpstreamConnection *connection)
{
    const QString key = connection->endpoint().poolKey();
    const auto it = m_idle.find(key);
    if (it != m_idle.end()) {
        std::erase(it.value(), connection);
        if (it.value().empty())
            m_idle.erase(it);
    }
    connection->deleteLater();
}

void UpstreamClient::callFinished(UpstreamCall *call, bool failed)
{
    if (failed)
        ++m_stats.callsFailed;
    const auto it = m_activeCalls.find(call);
    if (it == m_activeCalls.end())
        return;
    m_finishedCalls.push_back(std::move(it->second));
    m_activeCalls.erase(it);
    if (!m_destroying)
        m_releaseTimer.start();
}

const QSslConfiguration &UpstreamClient::tlsConfiguration()
{
    if (!m_tlsConfiguration) {
        QSslConfiguration configuration = QSslConfiguration::defaultConfiguration();
        if (!m_options.extraCaCertificates.isEmpty()) {
            // Setting CAs switches off Qt's on-demand loading of the system store, so
            // the system's are added explicitly (once per client).
            configuration.setCaCertificates(QSslConfiguration::systemCaCertificates() +
                                            m_options.extraCaCertificates);
        }
        configuration.setPeerVerifyMode(QSslSocket::VerifyPeer);
        configuration.setAllowedNextProtocols({QByteArrayLiteral("http/1.1")});
        m_tlsConfiguration = configuration;
    }
    return *m_tlsConfiguration;
}

} // namespace sluice::http
