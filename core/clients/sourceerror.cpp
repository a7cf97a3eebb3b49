#include "clients/sourceerror.h"

#include <QUrl>

namespace sluice::clients {

QString sourceErrorKindName(SourceErrorKind kind)
{
    switch (kind) {
    case SourceErrorKind::NameNotFound: return QStringLiteral("name_not_found");
    case SourceErrorKind::Refused: return QStringLiteral("refused");
    case SourceErrorKind::TimedOut: return QStringLiteral("timed_out");
    case SourceErrorKind::AuthenticationFailed: return QStringLiteral("authentication_failed");
    case SourceErrorKind::WrongProtocol: return QStringLiteral("wrong_protocol");
    case SourceErrorKind::TlsError: return QStringLiteral("tls_error");
    case SourceErrorKind::HttpStatus: return QStringLiteral("http_status");
    case SourceErrorKind::Cancelled: return QStringLiteral("cancelled");
    case SourceErrorKind::Other: return QStringLiteral("other");
    }
    return {};
}

QString endpointOf(const QUrl &url)
{
    const int defaultPort = url.scheme() == u"https" ? 443 : 80;
    const QString host = url.host();
    // An IPv6 literal needs brackets to keep its colons apart from the port's.
    const QString shownHost = host.contains(u':') ? QStringLiteral("[%1]").arg(host) : host;
    return QStringLiteral("%1:%2").arg(shownHost).arg(url.port(defaultPort));
}

SourceError sourceErrorFromNetworkError(QNetworkReply::NetworkError error, const QString &qtMessage,
                                        const QString &endpoint, const QString &serviceName)
{
    SourceError result;
    result.endpoint = endpoint;
    const QString host = endpoint.left(endpoint.lastIndexOf(u':'));
    switch (error) {
    case QNetworkReply::HostNotFoundError:
        result.kind = SourceErrorKind::NameNotFound;
        result.message = QStringLiteral("host name not found: %1").arg(host);
        break;
    case QNetworkReply::ProxyNotFoundError:
        result.kind = SourceErrorKind::NameNotFound;
        result.message = QStringLiteral("proxy host name not found (for %1): %2").arg(endpoint, qtMessage);
        break;
    case QNetworkReply::ConnectionRefusedError:
        result.kind = SourceErrorKind::Refused;
        result.message = QStringLiteral("connection refused by %1").arg(endpoint);
        break;
    case QNetworkReply::ProxyConnectionRefusedError:
        result.kind = SourceErrorKind::Refused;
        result.message = QStringLiteral("connection refused by the proxy for %1").arg(endpoint);
        break;
    case QNetworkReply::TimeoutError:
        result.kind = SourceErrorKind::TimedOut;
        result.message = QStringLiteral("timed out connecting to %1").arg(endpoint);
        break;
    case QNetworkReply::ProxyTimeoutError:
        result.kind = SourceErrorKind::TimedOut;
        result.message = QStringLiteral("timed out connecting to the proxy for %1").arg(endpoint);
        break;
    case QNetworkReply::SslHandshakeFailedError:
        result.kind = SourceErrorKind::TlsError;
        result.message = QStringLiteral("TLS handshake with %1 failed: %2").arg(endpoint, qtMessage);
        break;
    case QNetworkReply::AuthenticationRequiredError:
        result.kind = SourceErrorKind::AuthenticationFailed;
        result.message = QStringLiteral("authentication failed: %1 at %2 refused the credentials")
                             .arg(serviceName, endpoint);
        break;
    case QNetworkReply::ProxyAuthenticationRequiredError:
        result.kind = SourceErrorKind::AuthenticationFailed;
        result.message = QStringLiteral("authentication failed: the proxy for %1 requires credentials").arg(endpoint);
        break;
    case QNetworkReply::RemoteHostClosedError:
        // An HTTP server answers before it closes; a Redis or PostgreSQL server that
        // reads an HTTP request hangs up without a word, or after a line of its own
        // protocol (Qt reports a status line that is not HTTP as this error too).
        result.kind = SourceErrorKind::WrongProtocol;
        result.message =
            QStringLiteral("wrong protocol: %1 did not answer HTTP (it closed the connection without a valid "
                           "HTTP status line)")
                .arg(endpoint);
        break;
    case QNetworkReply::ProtocolFailure:
    case QNetworkReply::ProtocolUnknownError:
    case QNetworkReply::ProtocolInvalidOperationError:
        result.kind = SourceErrorKind::WrongProtocol;
        result.message = QStringLiteral("wrong protocol: %1 did not answer HTTP (%2)").arg(endpoint, qtMessage);
        break;
    case QNetworkReply::OperationCanceledError:
        result.kind = SourceErrorKind::Cancelled;
        result.message = QStringLiteral("cancelled: the request to %1").arg(endpoint);
        break;
    default:
        result.kind = SourceErrorKind::Other;
        result.message = QStringLiteral("network error with %1: %2").arg(endpoint, qtMessage);
        break;
    }
    return result;
}

SourceError sourceErrorFromStore(const store::StoreError &error, const QString &endpoint)
{
    SourceError result;
    result.endpoint = endpoint;
    switch (error.kind) {
    case store::StoreErrorKind::Timeout:
        result.kind = SourceErrorKind::TimedOut;
        result.message = QStringLiteral("timed out: %1: %2").arg(endpoint, error.message);
        break;
    case store::StoreErrorKind::Refused:
        result.kind = SourceErrorKind::Refused;
        result.message = QStringLiteral("connection refused by %1: %2").arg(endpoint, error.message);
        break;
    case store::StoreErrorKind::Authentication:
        result.kind = SourceErrorKind::AuthenticationFailed;
        result.message = QStringLiteral("authentication failed: %1: %2").arg(endpoint, error.message);
        break;
    case store::StoreErrorKind::Protocol:
        result.kind = SourceErrorKind::WrongProtocol;
        result.message = QStringLiteral("wrong protocol: %1: %2").arg(endpoint, error.message);
        break;
    case store::StoreErrorKind::Cancelled:
        result.kind = SourceErrorKind::Cancelled;
        result.message = QStringLiteral("cancelled: %1").arg(endpoint);
        break;
    case store::StoreErrorKind::NotConnected:
    case store::StoreErrorKind::Server:
        result.kind = SourceErrorKind::Other;
        result.message = QStringLiteral("%1: %2").arg(endpoint, error.message);
        break;
    }
    return result;
}

} // namespace sluice::clients
