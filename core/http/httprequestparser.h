#pragma once

#include "http/httprequest.h"

#include <QByteArrayView>
#include <QString>

#include <memory>

namespace sluice::http {

struct HttpParseLimits {
    // Request line plus header fields, CRLFs included. libhttp-parser also stops at
    // its own compile-time cap (80 KiB in Debian's build), reported the same way.
    qint64 maxHeaderBytes = 64 * 1024;
    // Decoded body bytes. A Content-Length above it fails at the end of the header,
    // before any body byte is read; a chunked body fails as soon as it passes it.
    qint64 maxBodyBytes = 8 * 1024 * 1024;
};

enum class HttpParseError {
    None,
    Malformed,                   // 400: syntax, bad target, CL+TE, duplicate CL, no Host in 1.1
    HeaderTooLarge,              // 431
    BodyTooLarge,                // 413
    UnsupportedTransferEncoding, // 501: any Transfer-Encoding other than exactly "chunked"
    ExpectationFailed,           // 417: an Expect other than 100-continue
    UnsupportedVersion,          // 505: a version other than HTTP/1.0 or HTTP/1.1
};

// The status the server answers a parse error with (400, 431, 413, 501, 417, 505).
int statusForParseError(HttpParseError error);
// A short machine-readable name ("malformed_request", "header_too_large", ...).
QByteArray parseErrorCode(HttpParseError error);

// Incremental HTTP/1.x request parser over libhttp-parser 2.9, with the limits
// above. No sockets: feed it bytes, it reports one event per call and how many
// bytes it consumed; feed the rest again. It stops after each header block and
// after each complete request, so pipelined requests come out one at a time and
// the caller decides when to go on.
//
// Not thread-safe; one parser per connection. Movable only through a pointer.
class HttpRequestParser {
public:
    enum class Event {
        NeedMoreData,    // everything fed was consumed; feed more
        HeadersComplete, // request() has everything but the body; the body (if any) follows
        RequestComplete, // takeRequest() returns it; the parser is ready for the next one
        Error,           // error() says why; the parser accepts nothing more
    };
    struct Step {
        Event event = Event::NeedMoreData;
        qsizetype consumedBytes = 0;
    };

    explicit HttpRequestParser(HttpParseLimits limits = {});
    ~HttpRequestParser();
    HttpRequestParser(const HttpRequestParser &) = delete;
    HttpRequestParser &operator=(const HttpRequestParser &) = delete;

    // Parses from the start of `data` and stops at the first event. The bytes after
    // consumedBytes were not looked at: pass them again in the next call.
    // Passing an empty view does nothing and returns NeedMoreData.
    Step feed(QByteArrayView data);

    // Some byte of a request that has not completed yet has been consumed.
    bool isInProgress() const;
    // The current request's header block is complete and its body is being read.
    bool isReadingBody() const;
    bool hasFailed() const;

    // Valid from HeadersComplete until takeRequest().
    const HttpRequest &request() const;
    // After RequestComplete: moves the request out and resets for the next one.
    HttpRequest takeRequest();

    // Valid from HeadersComplete of the current request until the next one starts.
    bool keepAlive() const;       // HTTP/1.1 without "Connection: close", or 1.0 with keep-alive
    bool expectsContinue() const; // "Expect: 100-continue" on an HTTP/1.1 request
    bool expectsBody() const;     // chunked, or Content-Length > 0
    bool isUpgrade() const;       // CONNECT or an Upgrade request: the connection cannot be reused

    HttpParseError error() const;
    // Short, human-readable; names what was wrong ("invalid character in header").
    QString errorMessage() const;
    // Bytes of the current request's header block seen so far.
    qint64 headerBytes() const;

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace sluice::http
