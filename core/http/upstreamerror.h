#pragma once

#include <QString>

namespace sluice::http {

// Why an upstream call failed. One kind per cause the gateway reacts to differently
// (retry, breaker, metrics label); the message carries the details.
enum class UpstreamErrorKind {
    InvalidRequest,    // bad URL, scheme, method or header field; nothing was sent
    HostNotFound,      // DNS failure for the origin
    ConnectionRefused, // the origin refused the connection (or another connect failure: unreachable network)
    ConnectTimeout,    // TCP connect, proxy CONNECT and TLS handshake not done within timeouts.connect
    TlsFailure,        // handshake or certificate error (the message says which)
    ProxyFailure,      // the proxy is unreachable, or refused or broke the CONNECT tunnel
    FirstByteTimeout,  // no response byte within timeouts.firstByte of the request being written
    IdleTimeout,       // the response stalled for timeouts.idle
    TotalTimeout,      // the response did not end within timeouts.total of start()
    ConnectionReset,   // closed or reset before the response was complete (truncated body included)
    ProtocolError,     // malformed response, header block too large, unexpected 101
    Cancelled,         // cancel() was called; never delivered through onError
};

// Stable snake_case name of `kind` ("connect_timeout", "connection_reset", ...), for
// metric labels and logs.
QString upstreamErrorKindName(UpstreamErrorKind kind);

struct UpstreamError {
    UpstreamErrorKind kind = UpstreamErrorKind::ConnectionReset;
    QString message;              // precise and human: "connect to 127.0.0.1:9 refused"
    bool responseStarted = false; // onHead had already been delivered
};

} // namespace sluice::http
