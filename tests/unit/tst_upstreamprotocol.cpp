#include <QTest>

#include "http/upstreamerror.h"
#include "http/upstreamrequest.h"
#include "http/upstreamresponseparser.h"

using sluice::http::formatUpstreamRequest;
using sluice::http::HttpHeaders;
using sluice::http::UpstreamErrorKind;
using sluice::http::UpstreamRequest;
using sluice::http::UpstreamResponseParser;
using sluice::http::UpstreamTargetForm;
using Status = sluice::http::UpstreamResponseParser::Status;

namespace {

struct Parsed {
    Status status = Status::NeedMoreData;
    int headStatus = 0;
    int heads = 0;
    HttpHeaders headers;
    QByteArray body;
    qsizetype consumed = 0;
    QString error;
};

// Feeds `wire` in pieces of `pieceBytes` (all at once for 0), as a socket would.
Parsed parseAll(const QByteArray &wire, qsizetype pieceBytes = 0, bool headRequest = false, bool eof = false,
                qint64 maxHeaderBytes = 64 * 1024)
{
    UpstreamResponseParser parser(maxHeaderBytes, headRequest);
    Parsed parsed;
    qsizetype offset = 0;
    while (offset < wire.size()) {
        const qsizetype length = pieceBytes > 0 ? std::min(pieceBytes, wire.size() - offset) : wire.size() - offset;
        qsizetype pieceOffset = 0;
        while (pieceOffset < length) {
            const auto step = parser.feed(QByteArrayView(wire).sliced(offset + pieceOffset, length - pieceOffset));
            pieceOffset += step.consumedBytes;
            parsed.status = step.status;
            if (auto head = parser.takeHead()) {
                ++parsed.heads;
                parsed.headStatus = head->status;
                parsed.headers = head->headers;
            }
            parsed.body += parser.takeBody();
            if (step.status != Status::NeedMoreData || step.consumedBytes == 0)
                break;
        }
        offset += pieceOffset;
        if (parsed.status != Status::NeedMoreData)
            break;
    }
    parsed.consumed = offset;
    if (eof && parsed.status == Status::NeedMoreData) {
        parsed.status = parser.finish();
        parsed.body += parser.takeBody();
    }
    parsed.error = parser.errorMessage();
    return parsed;
}

} // namespace

class TestUpstreamProtocol : public QObject {
    Q_OBJECT
private slots:
    void errorKindNamesAreStable()
    {
        QCOMPARE(sluice::http::upstreamErrorKindName(UpstreamErrorKind::ConnectTimeout), QString("connect_timeout"));
        QCOMPARE(sluice::http::upstreamErrorKindName(UpstreamErrorKind::ConnectionReset), QString("connection_reset"));
        QCOMPARE(sluice::http::upstreamErrorKindName(UpstreamErrorKind::FirstByteTimeout),
                 QString("first_byte_timeout"));
        QCOMPARE(sluice::http::upstreamErrorKindName(UpstreamErrorKind::TlsFailure), QString("tls_failure"));
        QSet<QString> names;
        for (int kind = 0; kind <= int(UpstreamErrorKind::Cancelled); ++kind)
            names.insert(sluice::http::upstreamErrorKindName(UpstreamErrorKind(kind)));
        QCOMPARE(names.size(), int(UpstreamErrorKind::Cancelled) + 1);
        QVERIFY(!names.contains("unknown"));
    }

    void formatsOriginForm()
    {
        UpstreamRequest request;
        request.url = QUrl("http://api.example.com:8080/v1/chat/completions?x=1&y=%20z");
        request.headers = {{"Authorization", "Bearer k"},   {"Connection", "close"},  {"Keep-Alive", "timeout=5"},
                           {"Transfer-Encoding", "chunked"}, {"TE", "trailers"},      {"Upgrade", "h2c"},
                           {"Proxy-Connection", "close"},    {"Host", "evil.example"}, {"Content-Length", "999"},
                           {"Expect", "100-continue"},       {"X-Custom", "kept"}};
        request.body = "{\"a\":1}";
        const auto wire = formatUpstreamRequest(request);
        QVERIFY(wire);
        QCOMPARE(*wire, QByteArray("POST /v1/chat/completions?x=1&y=%20z HTTP/1.1\r\n"
                                   "Authorization: Bearer k\r\n"
                                   "X-Custom: kept\r\n"
                                   "Host: api.example.com:8080\r\n"
                                   "Content-Length: 7\r\n"
                                   "Connection: keep-alive\r\n"
                                   "\r\n"
                                   "{\"a\":1}"));
    }

    void formatsAbsoluteFormWithProxyCredentials()
    {
        UpstreamRequest request;
        request.method = "GET";
        request.url = QUrl("http://origin.test/models");
        request.headers = {{"Proxy-Authorization", "caller's"}};
        const auto wire = formatUpstreamRequest(request, UpstreamTargetForm::Absolute, "Basic eDp5");
        QVERIFY(wire);
        QCOMPARE(*wire, QByteArray("GET http://origin.test/models HTTP/1.1\r\n"
                                   "Host: origin.test\r\n"
                                   "Content-Length: 0\r\n"
                                   "Connection: keep-alive\r\n"
                                   "Proxy-Authorization: Basic eDp5\r\n"
                                   "\r\n"));
    }

    void formatsHostVariants_data()
    {
        QTest::addColumn<QString>("url");
        QTest::addColumn<QByteArray>("requestLine");
        QTest::addColumn<QByteArray>("host");
        QTest::newRow("https default port") << "https://api.openai.com:443" << QByteArray("GET / HTTP/1.1")
                                            << QByteArray("api.openai.com");
        QTest::newRow("ipv6") << "http://[::1]:8080/a" << QByteArray("GET /a HTTP/1.1") << QByteArray("[::1]:8080");
        QTest::newRow("idn") << QString::fromUtf8("http://bücher.example/") << QByteArray("GET / HTTP/1.1")
                             << QByteArray("xn--bcher-kva.example");
        QTest::newRow("encoded path") << "http://h/a%2Fb/c d" << QByteArray("GET /a%2Fb/c%20d HTTP/1.1")
                                      << QByteArray("h");
    }

    void formatsHostVariants()
    {
        QFETCH(QString, url);
        QFETCH(QByteArray, requestLine);
        QFETCH(QByteArray, host);
        UpstreamRequest request;
        request.method = "GET";
        request.url = QUrl(url);
        const auto wire = formatUpstreamRequest(request);
        QVERIFY2(wire, wire ? "" : qPrintable(wire.error()));
        QCOMPARE(wire->left(wire->indexOf("\r\n")), requestLine);
        QVERIFY2(wire->contains("\r\nHost: " + host + "\r\n"), wire->constData());
    }

    void rejectsInvalidRequests_data()
    {
        QTest::addColumn<QString>("url");
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("headerName");
        QTest::addColumn<QByteArray>("headerValue");
        QTest::newRow("ftp") << "ftp://h/" << QByteArray("GET") << QByteArray() << QByteArray();
        QTest::newRow("relative") << "/v1/x" << QByteArray("GET") << QByteArray() << QByteArray();
        QTest::newRow("empty url") << QString() << QByteArray("GET") << QByteArray() << QByteArray();
        QTest::newRow("user info") << "http://u:p@h/" << QByteArray("GET") << QByteArray() << QByteArray();
        QTest::newRow("method with space") << "http://h/" << QByteArray("GET X") << QByteArray() << QByteArray();
        QTest::newRow("empty method") << "http://h/" << QByteArray() << QByteArray() << QByteArray();
        QTest::newRow("CONNECT") << "http://h/" << QByteArray("CONNECT") << QByteArray() << QByteArray();
        QTest::newRow("header injection") << "http://h/" << QByteArray("GET") << QByteArray("X-A")
                                          << QByteArray("v\r\nX-B: evil");
        QTest::newRow("bad header name") << "http://h/" << QByteArray("GET") << QByteArray("Bad Name")
                                         << QByteArray("v");
    }

    void rejectsInvalidRequests()
    {
        QFETCH(QString, url);
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, headerName);
        QFETCH(QByteArray, headerValue);
        UpstreamRequest request;
        request.url = QUrl(url);
        request.method = method;
        if (!headerName.isEmpty())
            request.headers.add(headerName, headerValue);
        const auto wire = formatUpstreamRequest(request);
        QVERIFY(!wire);
        QVERIFY(!wire.error().isEmpty());
    }

    void parsesResponses_data()
    {
        QTest::addColumn<QByteArray>("wire");
        QTest::addColumn<bool>("headRequest");
        QTest::addColumn<bool>("eof");
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<bool>("keepAlive");

        QTest::newRow("content-length") << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello") << false
                                        << false << 200 << QByteArray("hello") << true;
        QTest::newRow("chunked") << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                               "3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nTrailer: x\r\n\r\n")
                                 << false << false << 200 << QByteArray("abcde") << true;
        QTest::newRow("until close") << QByteArray("HTTP/1.1 200 OK\r\n\r\nstreamed to the end") << false << true
                                     << 200 << QByteArray("streamed to the end") << false;
        QTest::newRow("connection close") << QByteArray("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx")
                                          << false << false << 200 << QByteArray("x") << false;
        QTest::newRow("http/1.0") << QByteArray("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx") << false << false
                                  << 200 << QByteArray("x") << false;
        QTest::newRow("http/1.0 keep-alive")
            << QByteArray("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx") << false
            << false << 200 << QByteArray("x") << true;
        QTest::newRow("head") << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n") << true << false << 200
                              << QByteArray() << true;
        QTest::newRow("204") << QByteArray("HTTP/1.1 204 No Content\r\n\r\n") << false << false << 204
                             << QByteArray() << true;
        QTest::newRow("304") << QByteArray("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n") << false
                             << false << 304 << QByteArray() << true;
        QTest::newRow("interim responses skipped")
            << QByteArray("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                          "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok")
            << false << false << 201 << QByteArray("ok") << true;
    }

    void parsesResponses()
    {
        QFETCH(QByteArray, wire);
        QFETCH(bool, headRequest);
        QFETCH(bool, eof);
        QFETCH(int, status);
        QFETCH(QByteArray, body);
        QFETCH(bool, keepAlive);
        for (const qsizetype piece : {qsizetype(0), qsizetype(1), qsizetype(7)}) {
            const Parsed parsed = parseAll(wire, piece, headRequest, eof);
            QCOMPARE(parsed.status, Status::Complete);
            QCOMPARE(parsed.heads, 1);
            QCOMPARE(parsed.headStatus, status);
            QCOMPARE(parsed.body, body);
            QCOMPARE(parsed.consumed, wire.size());
        }
        // keepAlive, from a whole feed.
        UpstreamResponseParser parser(64 * 1024, headRequest);
        const auto step = parser.feed(wire);
        if (eof)
            QCOMPARE(parser.finish(), Status::Complete);
        else
            QCOMPARE(step.status, Status::Complete);
        QCOMPARE(parser.keepAlive(), keepAlive);
    }

    void stopsAtTheEndOfTheResponse()
    {
        UpstreamResponseParser parser;
        const QByteArray wire = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA";
        const auto step = parser.feed(wire);
        QCOMPARE(step.status, Status::Complete);
        QCOMPARE(step.consumedBytes, wire.size() - 5);
        QCOMPARE(parser.takeBody(), QByteArray("ok"));
    }

    void keepsHeadersAsReceived()
    {
        UpstreamResponseParser parser;
        parser.feed("HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\nSet-Cookie: a\r\nset-cookie: b\r\n"
                    "x-ratelimit-remaining-requests:  0 \r\nContent-Length: 0\r\n\r\n");
        const auto head = parser.takeHead();
        QVERIFY(head);
        QCOMPARE(head->status, 429);
        QCOMPARE(head->reason, QByteArray("Too Many Requests"));
        QCOMPARE(head->headers.value("retry-after"), QByteArray("3"));
        QCOMPARE(head->headers.values("set-cookie"), (QList<QByteArray>{"a", "b"}));
        QCOMPARE(head->headers.value("x-ratelimit-remaining-requests"), QByteArray("0"));
        QVERIFY(!parser.takeHead()); // once
    }

    void reportsErrors_data()
    {
        QTest::addColumn<QByteArray>("wire");
        QTest::addColumn<bool>("eof");
        QTest::newRow("garbage status line") << QByteArray("garbage\r\n\r\n") << false;
        QTest::newRow("http/2 preface") << QByteArray("PRI * HTTP/2.0\r\n\r\n") << false;
        QTest::newRow("bad header name") << QByteArray("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n") << false;
        QTest::newRow("space before colon") << QByteArray("HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\n") << false;
        QTest::newRow("bad chunk size") << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
                                        << false;
        QTest::newRow("101") << QByteArray("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: upgrade\r\n\r\n")
                             << false;
        QTest::newRow("truncated content-length") << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
                                                  << true;
        QTest::newRow("truncated chunked")
            << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n") << true;
        QTest::newRow("truncated header") << QByteArray("HTTP/1.1 200 OK\r\nContent-") << true;
    }

    void reportsErrors()
    {
        QFETCH(QByteArray, wire);
        QFETCH(bool, eof);
        const Parsed parsed = parseAll(wire, 0, false, eof);
        QCOMPARE(parsed.status, Status::Error);
        QVERIFY(!parsed.error.isEmpty());
    }

    void nothingReceivedIsNotAnError()
    {
        UpstreamResponseParser parser;
        QVERIFY(!parser.hasStarted());
        QCOMPARE(parser.finish(), Status::NeedMoreData);
        QVERIFY(!parser.hasFailed());
    }

    void enforcesTheHeaderLimit()
    {
        QByteArray wire = "HTTP/1.1 200 OK\r\n";
        for (int index = 0; index < 100; ++index)
            wire += "X-Filler-" + QByteArray::number(index) + ": " + QByteArray(40, 'v') + "\r\n";
        wire += "Content-Length: 0\r\n\r\n";
        const Parsed limited = parseAll(wire, 100, false, false, 2048);
        QCOMPARE(limited.status, Status::Error);
        QVERIFY2(limited.error.contains("2048"), qPrintable(limited.error));
        QVERIFY(limited.consumed <= 2049);
        const Parsed fits = parseAll(wire, 100, false, false, wire.size());
        QCOMPARE(fits.status, Status::Complete);
    }
};

QTEST_GUILESS_MAIN(TestUpstreamProtocol)
#include "tst_upstreamprotocol.moc"
