#include "http/upstreamresponseparser.h"
#include "http/httpfieldcollector.h"

#include <http_parser.h>

#include <algorithm>
#include <utility>

namespace sluice::http {

struct UpstreamResponseParser::Private {
    http_parser parser{};
    http_parser_settings settings{};
    qint64 maxHeaderBytes = 0;
    bool headRequest = false;

    UpstreamResponseHead head; // the block being parsed
    std::optional<UpstreamResponseHead> readyHead;
    QByteArray body;
    HttpFieldCollector fields;
    bool interim = false;
    bool headParsed = false;   // the final header block is complete
    bool pausedAtHead = false;
    bool started = false;
    bool complete = false;
    bool failed = false;
    bool keepAlive = false;
    qint64 headerBytes = 0;
    QString errorMessage;

    static Private *self(http_parser *parser) { return static_cast<Private *>(parser->data); }

    void fail(QString message)
    {
        if (failed)
            return;
        failed = true;
        errorMessage = std::move(message);
    }

    // A name that is not a token is refused: libhttp-parser, built non-strict, lets
    // "Content-Length : 5" through, which would desynchronize framing with a proxy.
    bool headerAccepted(bool accepted)
    {
        if (!accepted)
            fail(QStringLiteral("malformed response: invalid header name"));
        return accepted;
    }

    bool commitHeader() { return headerAccepted(fields.commit(head.headers)); }

    static int onMessageBegin(http_parser *parser)
    {
        Private *d = self(parser);
        d->head = UpstreamResponseHead{};
        d->fields.reset();
        d->interim = false;
        return 0;
    }

    static int onStatus(http_parser *parser, const char *at, size_t length)
    {
        self(parser)->head.reason.append(at, qsizetype(length));
        return 0;
    }

    static int onHeaderField(http_parser *parser, const char *at, size_t length)
    {
        Private *d = self(parser);
        return d->headerAccepted(d->fields.addNamePiece(QByteArrayView(at, qsizetype(length)), d->head.headers)) ? 0 : -1;
    }

    static int onHeaderValue(http_parser *parser, const char *at, size_t length)
    {
        self(parser)->fields.addValuePiece(QByteArrayView(at, qsizetype(length)));
        return 0;
    }

    static int onHeadersComplete(http_parser *parser)
    {
        Private *d = self(parser);
        if (!d->commitHeader())
            return -1;
        const int status = int(parser->status_code);
        if (parser->http_major != 1) {
            d->fail(QStringLiteral("malformed response: HTTP/%1.%2 is not supported")
                        .arg(parser->http_major)
                        .arg(parser->http_minor));
            return -1;
        }
        if (status < 100 || status > 599) {
            d->fail(QStringLiteral("malformed response: invalid status code %1").arg(status));
            return -1;
        }
        if (status == 101) {
            d->fail(QStringLiteral("unexpected 101 Switching Protocols (no upgrade was requested)"));
            return -1;
        }
        if (status < 200) {
            d->interim = true; // 100 Continue, 103 Early Hints: skipped
            return 0;
        }
        d->head.status = status;
        d->readyHead = std::move(d->head);
        d->head = UpstreamResponseHead{};
        d->headParsed = true;
        // Pausing here lets feed() count header bytes exactly, as the body follows.
        d->pausedAtHead = true;
        http_parser_pause(parser, 1);
        // 1: no body, whatever Content-Length says (libhttp-parser would wait for one
        // after a 204 or 304 that announces a length).
        return (d->headRequest || status == 204 || status == 304) ? 1 : 0;
    }

    static int onBody(http_parser *parser, const char *at, size_t length)
    {
        self(parser)->body.append(at, qsizetype(length));
        return 0;
    }

    static int onMessageComplete(http_parser *parser)
    {
        Private *d = self(parser);
        if (d->interim)
            return 0;
        d->complete = true;
        d->keepAlive = http_should_keep_alive(parser) != 0;
        http_parser_pause(parser, 1);
        return 0;
    }

    void unpause()
    {
        if (HTTP_PARSER_ERRNO(&parser) == HPE_PAUSED)
            http_parser_pause(&parser, 0);
    }

    // False (and failed) for a parser error after an execute.
    bool checkErrno()
    {
        if (failed)
            return false;
        const auto status = HTTP_PARSER_ERRNO(&parser);
        if (status == HPE_OK || status == HPE_PAUSED)
            return true;
        if (status == HPE_HEADER_OVERFLOW)
            fail(QStringLiteral("response header too large"));
        else
            fail(QStringLiteral("malformed response: %1").arg(QString::fromLatin1(http_errno_description(status))));
        return false;
    }
};

UpstreamResponseParser::UpstreamResponseParser(qint64 maxHeaderBytes, bool headRequest)
    : d(std::make_unique<Private>())
{
    d->maxHeaderBytes = std::max<qint64>(maxHeaderBytes, 1);
    d->headRequest = headRequest;
    http_parser_init(&d->parser, HTTP_RESPONSE);
    d->parser.data = d.get();
    http_parser_settings_init(&d->settings);
    d->settings.on_message_begin = &Private::onMessageBegin;
    d->settings.on_status = &Private::onStatus;
    d->settings.on_header_field = &Private::onHeaderField;
    d->settings.on_header_value = &Private::onHeaderValue;
    d->settings.on_headers_complete = &Private::onHeadersComplete;
    d->settings.on_body = &Private::onBody;
    d->settings.on_message_complete = &Private::onMessageComplete;
}

UpstreamResponseParser::~UpstreamResponseParser() = default;

UpstreamResponseParser::Step UpstreamResponseParser::feed(QByteArrayView data)
{
    if (d->failed)
        return {Status::Error, 0};
    if (d->complete)
        return {Status::Complete, 0};

    qsizetype offset = 0;
    while (offset < data.size()) {
        const QByteArrayView rest = data.sliced(offset);
        const bool inHeader = !d->headParsed;
        qsizetype length = rest.size();
        if (inHeader)
            length = std::min<qsizetype>(length, std::max<qint64>(d->maxHeaderBytes - d->headerBytes + 1, 1));

        d->unpause();
        d->pausedAtHead = false;
        const auto consumed = qsizetype(http_parser_execute(&d->parser, &d->settings, rest.data(), size_t(length)));
        offset += consumed;
        if (consumed > 0)
            d->started = true;
        if (inHeader)
            d->headerBytes += consumed;

        if (!d->checkErrno())
            return {Status::Error, offset};
        if (inHeader && !d->headParsed && d->headerBytes > d->maxHeaderBytes) {
            d->fail(QStringLiteral("response header exceeds the limit of %1 bytes").arg(d->maxHeaderBytes));
            return {Status::Error, offset};
        }
        if (d->complete)
            return {Status::Complete, offset};
        if (consumed == 0 && !d->pausedAtHead)
            break; // cannot happen with a sane parser; never spin
    }
    return {Status::NeedMoreData, offset};
}

UpstreamResponseParser::Status UpstreamResponseParser::finish()
{
    if (d->failed)
        return Status::Error;
    if (d->complete)
        return Status::Complete;
    d->unpause();
    http_parser_execute(&d->parser, &d->settings, nullptr, 0);
    if (d->complete)
        return Status::Complete;
    const auto status = HTTP_PARSER_ERRNO(&d->parser);
    if (status == HPE_OK && !d->started)
        return Status::NeedMoreData;
    if (status == HPE_OK || status == HPE_INVALID_EOF_STATE || status == HPE_PAUSED) {
        d->fail(d->headParsed ? QStringLiteral("connection closed before the end of the response body")
                              : QStringLiteral("connection closed in the middle of the response header"));
        return Status::Error;
    }
    d->checkErrno();
    return Status::Error;
}

bool UpstreamResponseParser::hasStarted() const
{
    return d->started;
}

bool UpstreamResponseParser::isComplete() const
{
    return d->complete;
}

bool UpstreamResponseParser::hasFailed() const
{
    return d->failed;
}

std::optional<UpstreamResponseHead> UpstreamResponseParser::takeHead()
{
    std::optional<UpstreamResponseHead> taken = std::move(d->readyHead);
    d->readyHead.reset();
    return taken;
}

QByteArray UpstreamResponseParser::takeBody()
{
    return std::exchange(d->body, QByteArray());
}

bool UpstreamResponseParser::hasPendingOutput() const
{
    return d->readyHead.has_value() || !d->body.isEmpty();
}

bool UpstreamResponseParser::keepAlive() const
{
    return d->complete && d->keepAlive;
}

QString UpstreamResponseParser::errorMessage() const
{
    return d->errorMessage;
}

} // namespace sluice::http
