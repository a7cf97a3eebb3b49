#pragma once

#include "http/upstreamrequest.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

#include <memory>
#include <optional>

namespace sluice::http {

// Incremental HTTP/1.x response parser over libhttp-parser 2.9 (HTTP_RESPONSE mode), for
// one response on a connection the client does not pipeline on. No sockets: feed it
// bytes, then take what was parsed: the final header block once (interim 1xx responses
// are skipped), and the decoded body bytes (de-chunked) accumulated since the last
// take. Bodies: Content-Length, chunked, or until the peer closes (finish()); none for
// an answer to HEAD, 204, 304 and 1xx. A 101 is an error (the client never upgrades).
//
// maxHeaderBytes bounds the status lines and header fields of the interim and final
// responses together, CRLFs included (libhttp-parser also stops at its own 80 KiB).
//
// Not thread-safe; one parser per response. Not copyable.
class UpstreamResponseParser {
public:
    enum class Status {
        NeedMoreData, // everything fed was consumed; the response is not complete
        Complete,     // the response ended; bytes after consumedBytes are not part of it
        Error,        // errorMessage() says why; nothing more is accepted
    };
    struct Step {
        Status status = Status::NeedMoreData;
        qsizetype consumedBytes = 0;
    };

    explicit UpstreamResponseParser(qint64 maxHeaderBytes = 64 * 1024, bool headRequest = false);
    ~UpstreamResponseParser();
    UpstreamResponseParser(const UpstreamResponseParser &) = delete;
    UpstreamResponseParser &operator=(const UpstreamResponseParser &) = delete;

    // Parses from the start of `data`. Stops when the response completes: the bytes from
    // consumedBytes on were not looked at. Also returns early (NeedMoreData with fewer
    // bytes consumed) at the header limit's edge: feed the rest again.
    Step feed(QByteArrayView data);
    // The peer closed the connection. Complete for a body delimited by the close; Error
    // when a response had begun and is cut short; NeedMoreData when not a byte of a
    // response had arrived (hasStarted() is false).
    Status finish();

    bool hasStarted() const;
    bool isComplete() const;
    bool hasFailed() const;
    // The final header block, once, as soon as it is parsed; nullopt before and after.
    std::optional<UpstreamResponseHead> takeHead();
    // The body bytes parsed since the last call.
    QByteArray takeBody();
    bool hasPendingOutput() const;
    // Whether the connection may carry another request after this response (valid once
    // complete): HTTP/1.1 without Connection: close (or 1.0 with keep-alive), and the
    // body was not delimited by the close.
    bool keepAlive() const;
    QString errorMessage() const;

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace sluice::http
