#include <QTest>

#include "http/httprequestparser.h"

using sluice::http::HttpParseError;
using sluice::http::HttpParseLimits;
using sluice::http::HttpRequest;
using sluice::http::HttpRequestParser;
using Event = HttpRequestParser::Event;

namespace {

struct Outcome {
    QList<HttpRequest> requests;
    int headerEvents = 0;
    HttpParseError error = HttpParseError::None;
    QString errorMessage;
};

// Feeds `wire` in pieces of `pieceBytes` (0: all at once), re-feeding what the parser
// did not consume, exactly as a connection does.
Outcome parseAll(const QByteArray &wire, qsizetype pieceBytes = 0, HttpParseLimits limits = {})
{
    HttpRequestParser parser(limits);
    Outcome outcome;
    QByteArray pending;
    qsizetype offset = 0;
    const qsizetype step = pieceBytes > 0 ? pieceBytes : wire.size();
    while (offset < wire.size() || !pending.isEmpty()) {
        if (offset < wire.size()) {
            pending += wire.mid(offset, step);
            offset += step;
        }
        for (;;) {
            if (pending.isEmpty())
                break;
            const auto result = parser.feed(pending);
            pending.remove(0, result.consumedBytes);
            if (result.event == Event::Error) {
                outcome.error = parser.error();
                outcome.errorMessage = parser.errorMessage();
                return outcome;
            }
            if (result.event == Event::HeadersComplete)
                ++outcome.headerEvents;
            if (result.event == Event::RequestComplete)
                outcome.requests.append(parser.takeRequest());
            if (result.event == Event::NeedMoreData)
                break;
        }
        if (offset >= wire.size() && !pending.isEmpty()) {
            // Nothing more to add and the parser would not take what is left.
            break;
        }
    }
    return outcome;
}

} // namespace

class TestHttpRequestParser : public QObject {
    Q_OBJECT
private slots:
    void parsesPieces_data()
    {
        QTest::addColumn<qsizetype>("pieceBytes");
        QTest::newRow("whole") << qsizetype(0);
        QTest::newRow("byte by byte") << qsizetype(1);
        QTest::newRow("7 bytes") << qsizetype(7);
    }

    void parsesPieces()
    {
        QFETCH(qsizetype, pieceBytes);
        const QByteArray wire = "GET /v1/models?limit=2&x=%20 HTTP/1.1\r\nHost: a\r\nX-Twice: 1\r\nx-twice: 2\r\n\r\n"
                                "POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
                                "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                                "3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\nTrailer: x\r\n\r\n"
                                "GET /last HTTP/1.0\r\n\r\n";
        const Outcome outcome = parseAll(wire, pieceBytes);
        QCOMPARE(outcome.error, HttpParseError::None);
        QCOMPARE(outcome.headerEvents, 4);
        QCOMPARE(outcome.requests.size(), 4);
        const HttpRequest &get = outcome.requests[0];
        QCOMPARE(get.method, QByteArray("GET"));
        QCOMPARE(get.target, QByteArray("/v1/models?limit=2&x=%20"));
        QCOMPARE(get.path, QByteArray("/v1/models"));
        QCOMPARE(get.query, QByteArray("limit=2&x=%20"));
        QCOMPARE(get.headers.values("X-TWICE"), (QList<QByteArray>{"1", "2"}));
        QCOMPARE(get.headers.value("host"), QByteArray("a"));
        QCOMPARE(outcome.requests[1].body, QByteArray("hello"));
        QCOMPARE(outcome.requests[2].body, QByteArray("abcdefg"));
        QCOMPARE(outcome.requests[3].path, QByteArray("/last"));
        QVERIFY(outcome.requests[3].isHttp10());
    }

    void keepAliveAndExpect()
    {
        HttpRequestParser parser;
        QByteArray wire = "PUT /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\nExpect: 100-continue\r\n"
                          "Content-Length: 2\r\n\r\n";
        auto step = parser.feed(wire);
        QCOMPARE(step.event, Event::HeadersComplete);
        QVERIFY(parser.expectsContinue());
        QVERIFY(parser.expectsBody());
        QVERIFY(!parser.keepAlive());
        QVERIFY(parser.isReadingBody());
        wire.remove(0, step.consumedBytes);
        wire += "ok";
        step = parser.feed(wire);
        QCOMPARE(step.event, Event::RequestComplete);
        QCOMPARE(step.consumedBytes, wire.size());
        QVERIFY(!parser.isInProgress());
        QCOMPARE(parser.takeRequest().body, QByteArray("ok"));

        HttpRequestParser old;
        QCOMPARE(old.feed("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").event, Event::HeadersComplete);
        QVERIFY(old.keepAlive());
    }

    void errors_data()
    {
        QTest::addColumn<QByteArray>("wire");
        QTest::addColumn<HttpParseError>("error");
        QTest::newRow("bad method") << QByteArray("G@T / HTTP/1.1\r\nHost: a\r\n\r\n") << HttpParseError::Malformed;
        QTest::newRow("bad version") << QByteArray("GET / HTTP/x.1\r\nHost: a\r\n\r\n") << HttpParseError::Malformed;
        QTest::newRow("http 2") << QByteArray("GET / HTTP/2.0\r\nHost: a\r\n\r\n")
                                << HttpParseError::UnsupportedVersion;
        QTest::newRow("bad target") << QByteArray("GET http://[::1/ HTTP/1.1\r\nHost: a\r\n\r\n")
                                    << HttpParseError::Malformed;
        QTest::newRow("bad header") << QByteArray("GET / HTTP/1.1\r\nHo st: a\r\n\r\n") << HttpParseError::Malformed;
        QTest::newRow("no host") << QByteArray("GET / HTTP/1.1\r\n\r\n") << HttpParseError::Malformed;
        QTest::newRow("space in name") << QByteArray("GET / HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\n")
                                       << HttpParseError::Malformed;
        QTest::newRow("two hosts") << QByteArray("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
                                   << HttpParseError::Malformed;
        QTest::newRow("cl and te") << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
                                                 "Transfer-Encoding: chunked\r\n\r\n")
                                   << HttpParseError::Malformed;
        QTest::newRow("two lengths") << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
                                                   "Content-Length: 4\r\n\r\n")
                                     << HttpParseError::Malformed;
        QTest::newRow("gzip te") << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n")
                                 << HttpParseError::UnsupportedTransferEncoding;
        QTest::newRow("gzip chunked") << QByteArray("POST / HTTP/1.1\r\nHost: a\r\n"
                                                    "Transfer-Encoding: gzip, chunked\r\n\r\n")
                                      << HttpParseError::UnsupportedTransferEncoding;
        QTest::newRow("bad chunk") << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                                                 "zz\r\n")
                                   << HttpParseError::Malformed;
        QTest::newRow("expect other") << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nExpect: magic\r\n\r\n")
                                      << HttpParseError::ExpectationFailed;
        QTest::newRow("length too big") << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 101\r\n\r\n")
                                        << HttpParseError::BodyTooLarge;
        QTest::newRow("chunked too big") << QByteArray("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                                                       "40\r\n" + QByteArray(64, 'x') + "\r\n40\r\n" +
                                                       QByteArray(64, 'x') + "\r\n")
                                         << HttpParseError::BodyTooLarge;
        QTest::newRow("header too big") << QByteArray("GET / HTTP/1.1\r\nHost: a\r\nX: " + QByteArray(300, 'y') +
                                                      "\r\n\r\n")
                                        << HttpParseError::HeaderTooLarge;
        QTest::newRow("unterminated header") << QByteArray("GET / HTTP/1.1\r\nX: " + QByteArray(300, 'y'))
                                             << HttpParseError::HeaderTooLarge;
    }

    void errors()
    {
        QFETCH(QByteArray, wire);
        QFETCH(HttpParseError, error);
        const HttpParseLimits limits{256, 100};
        for (const qsizetype piece : {qsizetype(0), qsizetype(1), qsizetype(13)}) {
            const Outcome outcome = parseAll(wire, piece, limits);
            QCOMPARE(outcome.error, error);
            QVERIFY(!outcome.errorMessage.isEmpty());
        }
    }

    void emptyAndPaddedValues()
    {
        const QByteArray wire = "GET / HTTP/1.1\r\nHost: a\r\nX-Empty:\r\nY:   1  \r\nZ:\r\n\r\n";
        for (const qsizetype piece : {qsizetype(0), qsizetype(1)}) {
            const Outcome outcome = parseAll(wire, piece);
            QCOMPARE(outcome.requests.size(), 1);
            const auto &headers = outcome.requests[0].headers;
            QCOMPARE(headers.size(), 4);
            QVERIFY(headers.contains("x-empty"));
            QCOMPARE(headers.value("x-empty"), QByteArray());
            QCOMPARE(headers.value("y"), QByteArray("1"));
            QVERIFY(headers.contains("z"));
        }
    }

    void headerAtTheLimitPasses()
    {
        QByteArray wire = "GET / HTTP/1.1\r\nHost: a\r\nX: ";
        wire += QByteArray(200 - wire.size() - 4, 'y') + "\r\n\r\n";
        QCOMPARE(wire.size(), 200);
        QCOMPARE(parseAll(wire, 0, {200, 0}).requests.size(), 1);
        QCOMPARE(parseAll(wire, 3, {200, 0}).requests.size(), 1);
        QCOMPARE(parseAll(wire, 0, {150, 0}).error, HttpParseError::HeaderTooLarge);
    }

    void stopsAfterEachRequest()
    {
        HttpRequestParser parser;
        const QByteArray wire = "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n";
        qsizetype offset = 0;
        QList<QByteArray> paths;
        while (offset < wire.size()) {
            const auto step = parser.feed(QByteArrayView(wire).sliced(offset));
            offset += step.consumedBytes;
            if (step.event == Event::RequestComplete) {
                paths.append(parser.takeRequest().path);
                QVERIFY(!parser.isInProgress());
            }
            QVERIFY(step.event != Event::Error);
        }
        QCOMPARE(paths, (QList<QByteArray>{"/a", "/b"}));
    }

    void requestNeedNotBeTaken()
    {
        HttpRequestParser parser(HttpParseLimits{64, 100});
        const QByteArray one = "GET /a HTTP/1.1\r\nHost: a\r\nX: 1\r\n\r\n";
        QList<QByteArray> paths;
        for (int round = 0; round < 5; ++round) {
            QByteArray wire = one;
            while (!wire.isEmpty()) {
                const auto step = parser.feed(wire);
                QVERIFY(step.event != Event::Error);
                wire.remove(0, step.consumedBytes);
                if (step.event == Event::RequestComplete)
                    paths.append(parser.request().path + parser.request().headers.value("x"));
            }
        }
        QCOMPARE(paths, QList<QByteArray>(5, "/a1"));
    }
};

QTEST_APPLESS_MAIN(TestHttpRequestParser)
#include "tst_httprequestparser.moc"
