#include "http/httprequestparser.h"
#include "http/httpfieldcollector.h"

#include <http_parser.h>

#include <algorithm>

namespace sluice::http {

int statusForParseError(HttpParseError error)
{
    switch (error) {
    case HttpParseError::None: return 200;
    case HttpParseError::Malformed: return 400;
    case HttpParseError::HeaderTooLarge: return 431;
    case HttpParseError::BodyTooLarge: return 413;
    case HttpParseError::UnsupportedTransferEncoding: return 501;
    case HttpParseError::ExpectationFailed: return 417;
    case HttpParseError::UnsupportedVersion: return 505;
    }
    return 400;
}

QByteArray parseErrorCode(HttpParseError error)
{
    switch (error) {
    case HttpParseError::None: return {};
    case HttpParseError::Malformed: return "malformed_request";
    case HttpParseError::HeaderTooLarge: return "header_too_large";
    case HttpParseError::BodyTooLarge: return "request_too_large";
    case HttpParseError::UnsupportedTransferEncoding: return "unsupported_transfer_encoding";
    case HttpParseError::ExpectationFailed: return "expectation_failed";
    case HttpParseError::UnsupportedVersion: return "http_version_not_supported";
    }
    return "malformed_request";
}

struct HttpRequestParser::Private {
    enum class Pause { None, Headers, Message };

    http_parser parser{};
    http_parser_settings settings{};
    HttpParseLimits limits;
    HttpRequest request;
    HttpFieldCollector fields;
    Pause pause = Pause::None;
    bool inProgress = false;
    bool readingBody = false;
    bool failed = false;
    bool keepAlive = true;
    bool expectsContinue = false;
    bool expectsBody = false;
    bool upgrade = false;
    HttpParseError error = HttpParseError::None;
    QString errorMessage;
    qint64 headerBytes = 0;
    qint64 bodyBytes = 0;

    static Private *self(http_parser *parser) { return static_cast<Private *>(parser->data); }

    void fail(HttpParseError kind, QString message)
    {
        if (failed)
            return;
        failed = true;
        error = kind;
        errorMessage = std::move(message);
    }

    // False (and failed) for a name that is not a token: libhttp-parser, built
    // non-strict, lets "Content-Length : 5" through, a request-smuggling classic.
    bool headerAccepted(bool accepted)
    {
        if (!accepted)
            fail(HttpParseError::Malformed, QStringLiteral("invalid header name"));
        return accepted;
    }

    bool commitHeader() { return headerAccepted(fields.commit(request.headers)); }

    int headersComplete()
    {
        if (!commitHeader())
            return -1;
        request.method = http_method_str(http_method(parser.method));
        request.versionMajor = parser.http_major;
        request.versionMinor = parser.http_minor;
        keepAlive = http_should_keep_alive(&parser) != 0;
        upgrade = parser.upgrade != 0;

        if (request.versionMajor != 1 || request.versionMinor > 1) {
            fail(HttpParseError::UnsupportedVersion, QStringLiteral("only HTTP/1.0 and HTTP/1.1 are supported"));
            return -1;
        }
        if (!splitTarget()) {
            fail(HttpParseError::Malformed, QStringLiteral("invalid request target"));
            return -1;
        }
        const bool http11 = request.versionMajor == 1 && request.versionMinor >= 1;
        const qsizetype hostCount = request.headers.values("host").size();
        if (hostCount > 1 || (http11 && hostCount == 0)) {
            fail(HttpParseError::Malformed, hostCount > 1 ? QStringLiteral("more than one Host header")
                                                          : QStringLiteral("missing Host header"));
            return -1;
        }
        if (request.headers.contains("transfer-encoding")) {
            const QByteArray coding = request.headers.combinedValue("transfer-encoding").trimmed().toLower();
            if (coding != "chunked") {
                fail(HttpParseError::UnsupportedTransferEncoding,
                     QStringLiteral("unsupported Transfer-Encoding: %1").arg(QString::fromLatin1(coding.left(64))));
                return -1;
            }
        }
        if (http11 && request.headers.contains("expect")) {
            if (request.headers.combinedValue("expect").trimmed().toLower() != "100-continue") {
                fail(HttpParseError::ExpectationFailed, QStringLiteral("only Expect: 100-continue is supported"));
                return -1;
            }
            expectsContinue = true;
        }
        const bool chunked = (parser.flags & F_CHUNKED) != 0;
        const bool hasLength = (parser.flags & F_CONTENTLENGTH) != 0;
        if (hasLength && parser.content_length > quint64(limits.maxBodyBytes)) {
            fail(HttpParseError::BodyTooLarge, QStringLiteral("request body of %1 bytes exceeds the limit of %2 bytes")
                                                   .arg(parser.content_length)
                                                   .arg(limits.maxBodyBytes));
            return -1;
        }
        expectsBody = chunked || (hasLength && parser.content_length > 0);
        if (hasLength && parser.content_length > 0)
            request.body.reserve(qsizetype(parser.content_length));
        readingBody = true;
        pause = Pause::Headers;
        http_parser_pause(&parser, 1);
        return 0;
    }

    bool splitTarget()
    {
        const QByteArray &target = request.target;
        if (target == "*") {
            request.path = target;
            return true;
        }
        http_parser_url url;
        http_parser_url_init(&url);
        if (http_parser_parse_url(target.constData(), size_t(target.size()), parser.method == HTTP_CONNECT, &url) != 0)
            return false;
        const auto field = [&](int which) {
            if (!(url.field_set & (1 << which)))
                return QByteArray();
            return target.mid(url.field_data[which].off, url.field_data[which].len);
        };
        request.path = field(UF_PATH);
        if (request.path.isEmpty() && parser.method != HTTP_CONNECT)
            request.path = "/";
        request.query = field(UF_QUERY);
        return true;
    }

    static int onMessageBegin(http_parser *parser)
    {
        Private *d = self(parser);
        d->request = HttpRequest{};
        d->fields.reset();
        d->bodyBytes = 0;
        d->inProgress = true;
        d->keepAlive = true;
        d->expectsContinue = false;
        d->expectsBody = false;
        d->upgrade = false;
        return 0;
    }

    static int onUrl(http_parser *parser, const char *at, size_t length)
    {
        self(parser)->request.target.append(at, qsizetype(length));
        return 0;
    }

    static int onHeaderField(http_parser *parser, const char *at, size_t length)
    {
        Private *d = self(parser);
        return d->headerAccepted(d->fields.addNamePiece(QByteArrayView(at, qsizetype(length)), d->request.headers)) ? 0 : -1;
    }

    static int onHeaderValue(http_parser *parser, const char *at, size_t length)
    {
        self(parser)->fields.addValuePiece(QByteArrayView(at, qsizetype(length)));
        return 0;
    }

    static int onHeadersComplete(http_parser *parser) { return self(parser)->headersComplete(); }

    static int onBody(http_parser *parser, const char *at, size_t length)
    {
        Private *d = self(parser);
        d->bodyBytes += qint64(length);
        if (d->bodyBytes > d->limits.maxBodyBytes) {
            d->fail(HttpParseError::BodyTooLarge,
                    QStringLiteral("request body exceeds the limit of %1 bytes").arg(d->limits.maxBodyBytes));
            return -1;
        }
        d->request.body.append(at, qsizetype(length));
        return 0;
    }

    static int onMessageComplete(http_parser *parser)
    {
        Private *d = self(parser);
        d->inProgress = false;
        d->readingBody = false;
        d->pause = Pause::Message;
        http_parser_pause(parser, 1);
        return 0;
    }
};

HttpRequestParser::HttpRequestParser(HttpParseLimits limits) : d(std::make_unique<Private>())
{
    d->limits = limits;
    http_parser_init(&d->parser, HTTP_REQUEST);
    d->parser.data = d.get();
    http_parser_settings_init(&d->settings);
    d->settings.on_message_begin = &Private::onMessageBegin;
    d->settings.on_url = &Private::onUrl;
    d->settings.on_header_field = &Private::onHeaderField;
    d->settings.on_header_value = &Private::onHeaderValue;
    d->settings.on_headers_complete = &Private::onHeadersComplete;
    d->settings.on_body = &Private::onBody;
    d->settings.on_message_complete = &Private::onMessageComplete;
}

HttpRequestParser::~HttpRequestParser() = default;

HttpRequestParser::Step HttpRequestParser::feed(QByteArrayView data)
{
    if (d->failed)
        return {Event::Error, 0};
    if (data.isEmpty())
        return {Event::NeedMoreData, 0};

    const bool inHeader = !d->readingBody;
    qsizetype length = data.size();
    if (inHeader)
        length = std::min<qsizetype>(length, std::max<qint64>(d->limits.maxHeaderBytes - d->headerBytes + 1, 1));

    d->pause = Private::Pause::None;
    if (HTTP_PARSER_ERRNO(&d->parser) == HPE_PAUSED)
        http_parser_pause(&d->parser, 0);
    const auto consumed = qsizetype(http_parser_execute(&d->parser, &d->settings, data.data(), size_t(length)));
    const auto status = HTTP_PARSER_ERRNO(&d->parser);
    if (inHeader)
        d->headerBytes += consumed;

    if (d->failed)
        return {Event::Error, consumed};
    if (status != HPE_OK && status != HPE_PAUSED) {
        const QString description = QString::fromLatin1(http_errno_description(status));
        switch (status) {
        case HPE_HEADER_OVERFLOW:
            d->fail(HttpParseError::HeaderTooLarge, QStringLiteral("request header too large"));
            break;
        case HPE_INVALID_TRANSFER_ENCODING:
            d->fail(HttpParseError::UnsupportedTransferEncoding, description);
            break;
        default:
            d->fail(HttpParseError::Malformed, description);
            break;
        }
        return {Event::Error, consumed};
    }
    if (inHeader && d->headerBytes > d->limits.maxHeaderBytes) {
        d->fail(HttpParseError::HeaderTooLarge,
                QStringLiteral("request header exceeds the limit of %1 bytes").arg(d->limits.maxHeaderBytes));
        return {Event::Error, consumed};
    }
    switch (d->pause) {
    case Private::Pause::Headers:
        return {Event::HeadersComplete, consumed};
    case Private::Pause::Message:
        d->headerBytes = 0;
        return {Event::RequestComplete, consumed};
    case Private::Pause::None:
        break;
    }
    return {Event::NeedMoreData, consumed};
}

bool HttpRequestParser::isInProgress() const
{
    return d->inProgress;
}

bool HttpRequestParser::isReadingBody() const
{
    return d->readingBody;
}

bool HttpRequestParser::hasFailed() const
{
    return d->failed;
}

const HttpRequest &HttpRequestParser::request() const
{
    return d->request;
}

HttpRequest HttpRequestParser::takeRequest()
{
    HttpRequest taken = std::move(d->request);
    d->request = HttpRequest{};
    return taken;
}

bool HttpRequestParser::keepAlive() const
{
    return d->keepAlive;
}

bool HttpRequestParser::expectsContinue() const
{
    return d->expectsContinue;
}

bool HttpRequestParser::expectsBody() const
{
    return d->expectsBody;
}

bool HttpRequestParser::isUpgrade() const
{
    return d->upgrade;
}

HttpParseError HttpRequestParser::error() const
{
    return d->error;
}

QString HttpRequestParser::errorMessage() const
{
    return d->errorMessage;
}

qint64 HttpRequestParser::headerBytes() const
{
    return d->headerBytes;
}

} // namespace sluice::http
