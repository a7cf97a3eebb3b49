#include "http/upstreamconnection.h"

#include <QNetworkProxy>
#include <QSslSocket>
#include <QTcpSocket>

namespace sluice::http {

namespace {

QString bracketed(const QString &host)
{
    return host.contains(QLatin1Char(':')) ? QLatin1Char('[') + host + QLatin1Char(']') : host;
}

constexpr int kDefaultProxyPort = 1080;
constexpr qint64 kProxyReadBytes = 16 * 1024;

} // namespace

Result<UpstreamEndpoint, QString> UpstreamEndpoint::forUrl(const QUrl &url, const ProxySettings &proxies)
{
    if (!url.isValid())
        return unexpected(QStringLiteral("invalid URL: %1").arg(url.errorString()));
    const QString scheme = url.scheme().toLower();
    const bool tls = scheme == QLatin1String("https");
    if (!tls && scheme != QLatin1String("http"))
        return unexpected(QStringLiteral("unsupported URL scheme \"%1\" (http or https only)").arg(url.scheme()));
    UpstreamEndpoint endpoint;
    endpoint.host = url.host(QUrl::FullyEncoded).toLower();
    if (endpoint.host.isEmpty())
        return unexpected(QStringLiteral("URL has no host: %1").arg(url.toString(QUrl::RemoveUserInfo)));
    const int port = url.port(tls ? 443 : 80);
    if (port <= 0 || port > 65535)
        return unexpected(QStringLiteral("invalid port in URL"));
    endpoint.port = quint16(port);
    endpoint.tls = tls;
    endpoint.proxy = proxies.proxyFor(url);
    return endpoint;
}

QString UpstreamEndpoint::authority() const
{
    return bracketed(host) + QLatin1Char(':') + QString::number(port);
}

QString UpstreamEndpoint::poolKey() const
{
    QString key = (tls ? QStringLiteral("https://") : QStringLiteral("http://")) + authority();
    if (proxy)
        key += QStringLiteral(" via ") + proxy->toString(QUrl::FullyEncoded);
    return key;
}

UpstreamConnection::UpstreamConnection(UpstreamEndpoint endpoint, QSslConfiguration tlsConfiguration,
                                       qint64 maxProxyHeaderBytes, QObject *parent)
    : QObject(parent),
      m_endpoint(std::move(endpoint)),
      m_tlsConfiguration(std::move(tlsConfiguration)),
      m_maxProxyHeaderBytes(maxProxyHeaderBytes)
{
    m_idleTimer.setSingleShot(true);
    connect(&m_idleTimer, &QTimer::timeout, this, &UpstreamConnection::closeParked);
}

UpstreamConnection::~UpstreamConnection()
{
    // Before the socket (a child) is destroyed, so that its abort reaches no one.
    close();
}

void UpstreamConnection::open()
{
    if (m_stage != Stage::New)
        return;
    m_stage = Stage::Connecting;
    // Deferred: a connect to a literal address can fail synchronously, and failed()
    // must not reach the call from inside UpstreamClient::start().
    QMetaObject::invokeMethod(this, &UpstreamConnection::startConnecting, Qt::QueuedConnection);
}

void UpstreamConnection::startConnecting()
{
    if (m_stage != Stage::Connecting || m_socket)
        return;
    if (m_endpoint.tls) {
        if (!QSslSocket::supportsSsl()) {
            fail(UpstreamErrorKind::TlsFailure, QStringLiteral("TLS is not available (no TLS backend in Qt)"));
            return;
        }
        auto *ssl = new QSslSocket(this);
        ssl->setSslConfiguration(m_tlsConfiguration);
        ssl->setPeerVerifyName(m_endpoint.host);
        connect(ssl, &QSslSocket::encrypted, this, &UpstreamConnection::onEncrypted);
        connect(ssl, &QSslSocket::sslErrors, this, &UpstreamConnection::onSslErrors);
        m_socket = ssl;
    } else {
        m_socket = new QTcpSocket(this);
    }
    // Proxying is ours (ProxySettings); never Qt's application proxy on top of it.
    m_socket->setProxy(QNetworkProxy::NoProxy);
    connect(m_socket, &QAbstractSocket::connected, this, &UpstreamConnection::onConnected);
    connect(m_socket, &QAbstractSocket::readyRead, this, &UpstreamConnection::onReadyRead);
    connect(m_socket, &QAbstractSocket::errorOccurred, this, &UpstreamConnection::onSocketError);
    connect(m_socket, &QAbstractSocket::disconnected, this, &UpstreamConnection::onDisconnected);

    if (m_endpoint.proxy)
        m_socket->connectToHost(m_endpoint.proxy->host(), quint16(m_endpoint.proxy->port(kDefaultProxyPort)));
    else if (m_endpoint.tls)
        static_cast<QSslSocket *>(m_socket)->connectToHostEncrypted(m_endpoint.host, m_endpoint.port);
    else
        m_socket->connectToHost(m_endpoint.host, m_endpoint.port);
}

void UpstreamConnection::close()
{
    if (m_stage == Stage::Closed)
        return;
    m_stage = Stage::Closed;
    m_idleTimer.stop();
    if (m_socket) {
        m_socket->disconnect(); // every receiver: the call using it too
        m_socket->abort();
    }
}

bool UpstreamConnection::isUsable() const
{
    if ((m_stage != Stage::InUse && m_stage != Stage::Parked) || !m_socket)
        return false;
    if (m_socket->state() != QAbstractSocket::ConnectedState || m_socket->bytesAvailable() > 0)
        return false;
    if (m_endpoint.tls && !static_cast<QSslSocket *>(m_socket)->isEncrypted())
        return false;
    return true;
}

QString UpstreamConnection::proxyAuthority() const
{
    if (!m_endpoint.proxy)
        return {};
    return bracketed(m_endpoint.proxy->host()) + QLatin1Char(':') +
           QString::number(m_endpoint.proxy->port(kDefaultProxyPort));
}

QString UpstreamConnection::stageDescription() const
{
    switch (m_stage) {
    case Stage::New:
    case Stage::Connecting:
        return m_endpoint.proxy ? QStringLiteral("TCP connect to proxy %1").arg(proxyAuthority())
                                : QStringLiteral("TCP connect");
    case Stage::ProxyConnect:
        return QStringLiteral("CONNECT through proxy %1").arg(proxyAuthority());
    case Stage::TlsHandshake:
        return QStringLiteral("TLS handshake");
    case Stage::InUse:
    case Stage::Parked:
        return QStringLiteral("connected");
    case Stage::Failed:
        return QStringLiteral("failed");
    case Stage::Closed:
        return QStringLiteral("closed");
    }
    return {};
}

void UpstreamConnection::park(std::chrono::milliseconds idleTimeout)
{
    if (m_stage != Stage::InUse)
        return;
    m_stage = Stage::Parked;
    if (idleTimeout.count() > 0)
        m_idleTimer.start(idleTimeout);
}

void UpstreamConnection::unpark()
{
    if (m_stage != Stage::Parked)
        return;
    m_stage = Stage::InUse;
    m_idleTimer.stop();
}

void UpstreamConnection::onConnected()
{
    m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    m_socket->setSocketOption(QAbstractSocket::KeepAliveOption, 1);
    if (m_stage != Stage::Connecting)
        return;
    if (m_endpoint.proxy && m_endpoint.tls) {
        m_stage = Stage::ProxyConnect;
        m_proxyParser = std::make_unique<UpstreamResponseParser>(m_maxProxyHeaderBytes, /*headRequest*/ true);
        const QByteArray authority = m_endpoint.authority().toLatin1();
        QByteArray request = "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n";
        const QByteArray credentials = ProxySettings::proxyAuthorization(*m_endpoint.proxy);
        if (!credentials.isEmpty())
            request += "Proxy-Authorization: " + credentials + "\r\n";
        request += "\r\n";
        m_socket->write(request);
        return;
    }
    if (m_endpoint.tls) {
        m_stage = Stage::TlsHandshake; // connectToHostEncrypted goes on by itself
        return;
    }
    becomeReady();
}

void UpstreamConnection::onEncrypted()
{
    if (m_stage == Stage::TlsHandshake)
        becomeReady();
}

void UpstreamConnection::becomeReady()
{
    m_stage = Stage::InUse;
    emit ready();
}

void UpstreamConnection::onReadyRead()
{
    switch (m_stage) {
    case Stage::ProxyConnect:
        readProxyAnswer();
        break;
    case Stage::Parked:
        // Nothing was asked: a server announcing its close (a 408), or garbage.
        closeParked();
        break;
    default:
        break; // the call using the connection reads
    }
}

void UpstreamConnection::readProxyAnswer()
{
    while (m_stage == Stage::ProxyConnect) {
        const QByteArray data = m_socket->read(kProxyReadBytes);
        if (data.isEmpty())
            return;
        const auto step = m_proxyParser->feed(data);
        if (step.status == UpstreamResponseParser::Status::Error) {
            fail(UpstreamErrorKind::ProxyFailure, QStringLiteral("malformed answer from proxy %1 to CONNECT: %2")
                                                      .arg(proxyAuthority(), m_proxyParser->errorMessage()));
            return;
        }
        if (step.status != UpstreamResponseParser::Status::Complete)
            continue;
        const auto head = m_proxyParser->takeHead();
        const int status = head ? head->status : 0;
        if (status < 200 || status > 299) {
            fail(UpstreamErrorKind::ProxyFailure,
                 QStringLiteral("proxy %1 refused CONNECT to %2: %3 %4")
                     .arg(proxyAuthority(), m_endpoint.authority(), QString::number(status),
                          QString::fromLatin1(head ? head->reason : QByteArray())));
            return;
        }
        if (step.consumedBytes < data.size() || m_socket->bytesAvailable() > 0) {
            fail(UpstreamErrorKind::ProxyFailure,
                 QStringLiteral("proxy %1 sent data after its CONNECT answer").arg(proxyAuthority()));
            return;
        }
        m_proxyParser.reset();
        m_stage = Stage::TlsHandshake;
        static_cast<QSslSocket *>(m_socket)->startClientEncryption();
        return;
    }
}

void UpstreamConnection::onSslErrors(const QList<QSslError> &errors)
{
    for (const QSslError &error : errors)
        m_sslErrors.append(error.errorString());
}

void UpstreamConnection::onSocketError(QAbstractSocket::SocketError error)
{
    const QString reason = m_socket->errorString();
    switch (m_stage) {
    case Stage::Connecting:
        if (m_endpoint.proxy) {
            fail(UpstreamErrorKind::ProxyFailure,
                 QStringLiteral("proxy %1 unreachable: %2").arg(proxyAuthority(), reason));
        } else if (error == QAbstractSocket::HostNotFoundError) {
            fail(UpstreamErrorKind::HostNotFound, QStringLiteral("host %1 not found").arg(m_endpoint.host));
        } else if (error == QAbstractSocket::ConnectionRefusedError) {
            fail(UpstreamErrorKind::ConnectionRefused,
                 QStringLiteral("connect to %1 refused").arg(m_endpoint.authority()));
        } else if (error == QAbstractSocket::SocketTimeoutError) {
            fail(UpstreamErrorKind::ConnectTimeout,
                 QStringLiteral("connect to %1 timed out: %2").arg(m_endpoint.authority(), reason));
        } else {
            fail(UpstreamErrorKind::ConnectionRefused,
                 QStringLiteral("connect to %1 failed: %2").arg(m_endpoint.authority(), reason));
        }
        break;
    case Stage::ProxyConnect:
        fail(UpstreamErrorKind::ProxyFailure, QStringLiteral("proxy %1 failed during CONNECT to %2: %3")
                                                  .arg(proxyAuthority(), m_endpoint.authority(), reason));
        break;
    case Stage::TlsHandshake:
        if (!m_sslErrors.isEmpty()) {
            fail(UpstreamErrorKind::TlsFailure, QStringLiteral("TLS certificate of %1 rejected: %2")
                                                    .arg(m_endpoint.authority(), m_sslErrors.join(QStringLiteral("; "))));
        } else {
            fail(UpstreamErrorKind::TlsFailure,
                 QStringLiteral("TLS handshake with %1 failed: %2").arg(m_endpoint.authority(), reason));
        }
        break;
    case Stage::Parked:
        closeParked();
        break;
    default:
        break;
    }
}

void UpstreamConnection::onDisconnected()
{
    switch (m_stage) {
    case Stage::Connecting:
    case Stage::ProxyConnect:
    case Stage::TlsHandshake:
        onSocketError(QAbstractSocket::RemoteHostClosedError);
        break;
    case Stage::Parked:
        closeParked();
        break;
    default:
        break;
    }
}

void UpstreamConnection::fail(UpstreamErrorKind kind, QString message)
{
    if (m_stage == Stage::Failed || m_stage == Stage::Closed)
        return;
    m_stage = Stage::Failed;
    m_idleTimer.stop();
    emit failed(UpstreamError{kind, std::move(message), false});
}

void UpstreamConnection::closeParked()
{
    if (m_stage != Stage::Parked)
        return;
    close();
    emit parkedClosed();
}

} // namespace sluice::http
