#include "http/upstreamerror.h"

namespace sluice::http {

QString upstreamErrorKindName(UpstreamErrorKind kind)
{
    switch (kind) {
    case UpstreamErrorKind::InvalidRequest: return QStringLiteral("invalid_request");
    case UpstreamErrorKind::HostNotFound: return QStringLiteral("host_not_found");
    case UpstreamErrorKind::ConnectionRefused: return QStringLiteral("connection_refused");
    case UpstreamErrorKind::ConnectTimeout: return QStringLiteral("connect_timeout");
    case UpstreamErrorKind::TlsFailure: return QStringLiteral("tls_failure");
    case UpstreamErrorKind::ProxyFailure: return QStringLiteral("proxy_failure");
    case UpstreamErrorKind::FirstByteTimeout: return QStringLiteral("first_byte_timeout");
    case UpstreamErrorKind::IdleTimeout: return QStringLiteral("idle_timeout");
    case UpstreamErrorKind::TotalTimeout: return QStringLiteral("total_timeout");
    case UpstreamErrorKind::ConnectionReset: return QStringLiteral("connection_reset");
    case UpstreamErrorKind::ProtocolError: return QStringLiteral("protocol_error");
    case UpstreamErrorKind::Cancelled: return QStringLiteral("cancelled");
    }
    return QStringLiteral("unknown");
}

} // namespace sluice::http
