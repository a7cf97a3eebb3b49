#pragma once

#include "http/httpheaders.h"
#include "http/upstreamerror.h"
#include "policy/result.h"

#include <QByteArray>
#include <QString>
#include <QUrl>

#include <chrono>
#include <functional>

namespace sluice::http {

// Per-call timeouts, measured on the client's thread; a zero or negative value
// disables that one.
struct UpstreamTimeouts {
    // From the start of connecting (TCP, proxy CONNECT, TLS handshake) until ready to send.
    std::chrono::milliseconds connect{5'000};
    // From the request fully written to the response's first byte. While the request is
    // being written it also bounds each stall of the writing (a provider not reading).
    std::chrono::milliseconds firstByte{60'000};
    // Longest gap between two reads of the response once it started; suspended while
    // the call is paused (UpstreamCall::pauseReading()).
    std::chrono::milliseconds idle{30'000};
    // From start() to the response's end.
    std::chrono::milliseconds total{600'000};
};

struct UpstreamRequest {
    QUrl url;                   // http:// or https://, with path and query; no user info
    QByteArray method = "POST"; // an RFC 9110 token, case-sensitive; CONNECT is refused
    // The client sets Host, Content-Length (always, 0 too) and Connection: keep-alive;
    // Connection, Keep-Alive, Transfer-Encoding, TE, Upgrade, Proxy-Connection, Host,
    // Content-Length and Expect given here are dropped. A field with an invalid name or
    // a value holding CR, LF or NUL fails the call with InvalidRequest.
    HttpHeaders headers;
    QByteArray body;
    UpstreamTimeouts timeouts;
};

struct UpstreamResponseHead {
    int status = 0;
    QByteArray reason;   // the reason phrase as sent ("OK"), possibly empty
    HttpHeaders headers; // as received (Transfer-Encoding, Connection etc. included)
};

// What the caller hears about a call, all on the client's thread, from its event loop.
// Order: onHead once, onBody any number of times, then exactly one of onComplete or
// onError (neither after cancel()). Any of them may be empty. Callbacks may call
// cancel(), pauseReading() and resumeReading() on the call, and start new calls.
struct UpstreamCallbacks {
    std::function<void(const UpstreamResponseHead &)> onHead; // once, when the final header block is parsed
    std::function<void(const QByteArray &bytes)> onBody;      // decoded body bytes (de-chunked), as they arrive
    std::function<void()> onComplete;                         // the response ended properly
    std::function<void(const UpstreamError &)> onError;       // instead of onComplete; at most once
};

enum class UpstreamTargetForm {
    Origin,   // "/path?query", to the origin or through a CONNECT tunnel
    Absolute, // "http://host:port/path?query", to a plain-http forward proxy
};

// The bytes of `request` as HTTP/1.1: the request line, the caller's header fields in
// order minus the ones the client manages, Host, Content-Length, Connection:
// keep-alive, `proxyAuthorization` as Proxy-Authorization when not empty, then the
// body. An error message when the URL, method or a header field cannot be sent.
Result<QByteArray, QString> formatUpstreamRequest(const UpstreamRequest &request,
                                                  UpstreamTargetForm form = UpstreamTargetForm::Origin,
                                                  const QByteArray &proxyAuthorization = {});

// The header fields the client sets or refuses to forward (lower case).
bool isManagedUpstreamRequestHeader(QByteArrayView name);

} // namespace sluice::http
