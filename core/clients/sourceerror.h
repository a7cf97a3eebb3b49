#pragma once

#include "store/storeerror.h"

#include <QNetworkReply>
#include <QString>

namespace sluice::clients {

// Why the console could not read a data source (a gateway's /metrics or admin API,
// Prometheus, and later Redis and PostgreSQL): one vocabulary for every source, so a
// Connections panel can show and colour them alike.
enum class SourceErrorKind {
    NameNotFound,         // the host name does not resolve
    Refused,              // nothing listens there (connection refused, host unreachable)
    TimedOut,             // no complete answer within the request's timeout
    AuthenticationFailed, // the source refused the credentials (HTTP 401/403, Redis AUTH, ...)
    WrongProtocol,        // something answered, but not the protocol or service expected
    TlsError,             // the TLS handshake failed (certificate, or not TLS at all)
    HttpStatus,           // an HTTP answer with an unexpected status (httpStatus says which)
    Cancelled,            // the caller cancelled the request
    Other,                // anything else; the message carries the library's text
};

struct SourceError {
    SourceErrorKind kind = SourceErrorKind::Other;
    // One line for a human, naming the endpoint: "connection refused by 127.0.0.1:9090".
    QString message;
    // "host:port" of the source ("[::1]:9090" for IPv6); empty when unknown.
    QString endpoint;
    // The HTTP status received, 0 when none was (transport errors).
    int httpStatus = 0;
};

// "name_not_found", "refused", ...: stable names for logs and settings.
QString sourceErrorKindName(SourceErrorKind kind);

// "host:port" of a URL; the scheme's default port when the URL has none.
QString endpointOf(const QUrl &url);

// The error for a QNetworkReply that ended with `error` before any HTTP status was
// received (transport level). `qtMessage` is QNetworkReply::errorString(), kept in the
// message where it adds something. Callers with an HTTP status judge the status
// themselves (see HttpSource); this maps the transport errors precisely:
//   HostNotFoundError, ProxyNotFoundError                    → NameNotFound
//   ConnectionRefusedError, ProxyConnectionRefusedError      → Refused
//   TimeoutError, ProxyTimeoutError                          → TimedOut
//   SslHandshakeFailedError                                  → TlsError
//   AuthenticationRequiredError, ProxyAuthenticationRequiredError → AuthenticationFailed
//   RemoteHostClosedError (closed before any answer, or a status line that is not
//   HTTP: Qt reports both alike), ProtocolFailure,
//   ProtocolUnknownError, ProtocolInvalidOperationError      → WrongProtocol
//   OperationCanceledError                                   → Cancelled
//   everything else (network session, unknown errors)        → Other
SourceError sourceErrorFromNetworkError(QNetworkReply::NetworkError error, const QString &qtMessage,
                                        const QString &endpoint, const QString &serviceName);

// Where the Redis and PostgreSQL clients map their errors into this vocabulary:
// Timeout → TimedOut, Refused → Refused (the store folds "name not found" into it),
// Authentication → AuthenticationFailed, Protocol → WrongProtocol, Cancelled →
// Cancelled, NotConnected and Server → Other. The store's message is kept after the
// endpoint.
SourceError sourceErrorFromStore(const store::StoreError &error, const QString &endpoint);

} // namespace sluice::clients
