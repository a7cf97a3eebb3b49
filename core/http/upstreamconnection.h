#pragma once

#include "http/proxysettings.h"
#include "http/upstreamerror.h"
#include "http/upstreamresponseparser.h"
#include "policy/result.h"

#include <QAbstractSocket>
#include <QObject>
#include <QSslConfiguration>
#include <QSslError>
#include <QTimer>
#include <QUrl>

#include <chrono>
#include <memory>
#include <optional>

namespace sluice::http {

// Where an upstream connection goes: the origin, and the proxy in between if any.
struct UpstreamEndpoint {
    QString host;  // as in the URL: lower case, IPv6 without brackets
    quint16 port = 0;
    bool tls = false;
    std::optional<QUrl> proxy; // an http:// forward proxy (ProxySettings::proxyFor)

    // The origin of `url` and the proxy `proxies` choose for it; an error message for a
    // URL that is not absolute http(s) with a host.
    static Result<UpstreamEndpoint, QString> forUrl(const QUrl &url, const ProxySettings &proxies);

    // "host:port", "[::1]:port": for messages and the CONNECT target.
    QString authority() const;
    // Connections with equal keys are interchangeable (scheme, host, port, proxy with
    // its credentials).
    QString poolKey() const;
    // A plain-http request through a proxy goes in absolute form to the proxy.
    bool usesAbsoluteForm() const { return proxy.has_value() && !tls; }
};

// Internal to UpstreamClient. One TCP connection to an origin — directly, through an
// http proxy (absolute-form requests), or through a CONNECT tunnel — with TLS for https
// (peer and host name verified against the configuration's CAs). Reports ready() once
// requests can be written, or failed() once; the connect timeout is the caller's.
//
// Once ready, the socket belongs to the call that uses it: the connection ignores its
// signals until park() (the pool): while parked, data or a close from the peer, or the
// idle timeout, closes it and emits parkedClosed().
//
// Lives on its client's thread, a child of the client; deleted with deleteLater().
// Signals are emitted from the event loop, never from inside open().
class UpstreamConnection : public QObject {
    Q_OBJECT
public:
    enum class Stage { New, Connecting, ProxyConnect, TlsHandshake, InUse, Parked, Failed, Closed };

    // `tlsConfiguration` is used for https endpoints (peerVerifyName is set here).
    UpstreamConnection(UpstreamEndpoint endpoint, QSslConfiguration tlsConfiguration, qint64 maxProxyHeaderBytes,
                       QObject *parent = nullptr);
    ~UpstreamConnection() override;

    // Starts connecting on the next event-loop iteration.
    void open();
    // Closes the socket at once; no signal of this object follows.
    void close();

    const UpstreamEndpoint &endpoint() const { return m_endpoint; }
    Stage stage() const { return m_stage; }
    // Null until the connecting began.
    QAbstractSocket *socket() const { return m_socket; }
    // Ready for a request: connected, handshakes done, nothing unread.
    bool isUsable() const;
    // Where the connecting is, for timeout messages: "TCP connect", "TLS handshake", ...
    QString stageDescription() const;
    // Requests that were started on this connection (by the calls that used it).
    int requestCount() const { return m_requestCount; }
    void countRequest() { ++m_requestCount; }

    // Into the pool: watched until unpark(). A non-positive timeout keeps it indefinitely.
    void park(std::chrono::milliseconds idleTimeout);
    void unpark();

signals:
    void ready();
    void failed(const sluice::http::UpstreamError &error);
    void parkedClosed();

private:
    void startConnecting();
    void onConnected();
    void onEncrypted();
    void onReadyRead();
    void onSocketError(QAbstractSocket::SocketError error);
    void onDisconnected();
    void onSslErrors(const QList<QSslError> &errors);
    void readProxyAnswer();
    void becomeReady();
    void fail(UpstreamErrorKind kind, QString message);
    void closeParked();
    QString proxyAuthority() const;

    UpstreamEndpoint m_endpoint;
    QSslConfiguration m_tlsConfiguration;
    qint64 m_maxProxyHeaderBytes = 0;
    QAbstractSocket *m_socket = nullptr; // a child; QSslSocket for https
    Stage m_stage = Stage::New;
    std::unique_ptr<UpstreamResponseParser> m_proxyParser;
    QStringList m_sslErrors;
    QTimer m_idleTimer;
    int m_requestCount = 0;
};

} // namespace sluice::http
