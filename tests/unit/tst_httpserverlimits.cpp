#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>
#include <QTimer>

#include "http/httpserver.h"
#include "rawhttpclient.h"

#include <atomic>
#include <memory>

using namespace std::chrono_literals;
using sluice::http::HttpRequest;
using sluice::http::HttpResponder;
using sluice::http::HttpServer;
using sluice::http::HttpServerOptions;
using sluice::http::HttpServerStats;
using sluice::test::RawHttpClient;

namespace {

constexpr int kTimeoutMs = 10'000; // only guards against hangs

using StatsField = quint64 HttpServerStats::*;

} // namespace

Q_DECLARE_METATYPE(StatsField)

class TestHttpServerLimits : public QObject {
    Q_OBJECT

    std::atomic<int> m_handled{0};

    std::unique_ptr<HttpServer> start(HttpServerOptions options)
    {
        options.address = QHostAddress::LocalHost;
        options.port = 0;
        options.threads = 1;
        auto server = std::make_unique<HttpServer>(options, [this](HttpRequest request,
                                                                  std::shared_ptr<HttpResponder> responder) {
            ++m_handled;
            responder->respond(200, {}, request.body);
        });
        return server->listen() ? std::move(server) : nullptr;
    }

    static HttpServerOptions smallLimits()
    {
        HttpServerOptions options;
        options.maxHeaderBytes = 1024;
        options.maxBodyBytes = 1000;
        return options;
    }

private slots:
    void init() { m_handled = 0; }

    void refusals_data()
    {
        QTest::addColumn<QByteArray>("request");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("code");
        QTest::addColumn<StatsField>("counter");
        const StatsField bad = &HttpServerStats::badRequests;
        QTest::newRow("bad request line") << QByteArray("GET /a b c\r\n\r\n") << 400 << "malformed_request" << bad;
        QTest::newRow("garbage") << QByteArray("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) << 400
                                 << "malformed_request" << bad;
        QTest::newRow("bad header") << QByteArray("GET / HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n") << 400
                                    << "malformed_request" << bad;
        QTest::newRow("no host") << QByteArray("GET / HTTP/1.1\r\n\r\n") << 400 << "malformed_request" << bad;
        QTest::newRow("cl and te") << QByteArray("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
                                                 "Transfer-Encoding: chunked\r\n\r\n")
                                   << 400 << "malformed_request" << bad;
        QTest::newRow("bad chunk size") << QByteArray("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                                      "xyz\r\n")
                                        << 400 << "malformed_request" << bad;
        QTest::newRow("http/2.0") << QByteArray("GET / HTTP/2.0\r\nHost: x\r\n\r\n") << 505
                                        << "http_version_not_supported" << bad;
        QTest::newRow("expect other") << QByteArray("POST / HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\n"
                                                    "Content-Length: 1\r\n\r\n")
                                      << 417 << "expectation_failed" << bad;
        QTest::newRow("header too large") << QByteArray("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + QByteArray(2000, 'a') +
                                                        "\r\n\r\n")
                                          << 431 << "header_too_large" << StatsField(&HttpServerStats::headerTooLarge);
        QTest::newRow("header never ends") << QByteArray("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + QByteArray(5000, 'a'))
                                           << 431 << "header_too_large"
                                           << StatsField(&HttpServerStats::headerTooLarge);
        // Refused from the header alone: not one body byte is sent.
        QTest::newRow("body too large by length") << QByteArray("POST / HTTP/1.1\r\nHost: x\r\n"
                                                                "Content-Length: 1000000000\r\n\r\n")
                                                  << 413 << "request_too_large"
                                                  << StatsField(&HttpServerStats::bodyTooLarge);
        QTest::newRow("body too large chunked") << QByteArray("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                                              "258\r\n" + QByteArray(600, 'b') + "\r\n"
                                                              "258\r\n" + QByteArray(600, 'b') + "\r\n")
                                                << 413 << "request_too_large"
                                                << StatsField(&HttpServerStats::bodyTooLarge);
        QTest::newRow("gzip transfer coding") << QByteArray("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n")
                                              << 501 << "not_implemented" << StatsField(&HttpServerStats::unsupported);
    }

    void refusals()
    {
        QFETCH(QByteArray, request);
        QFETCH(int, status);
        QFETCH(QString, code);
        QFETCH(StatsField, counter);
        auto server = start(smallLimits());
        QVERIFY(server);
        RawHttpClient client;
        QVERIFY(client.connectTo(server->serverPort()));
        client.send(request);
        QTRY_COMPARE_WITH_TIMEOUT(client.responseCount(), 1, kTimeoutMs);
        const auto response = client.response(0);
        QCOMPARE(response.status, status);
        QCOMPARE(response.header("connection"), QByteArray("close"));
        QCOMPARE(response.header("content-type"), QByteArray("application/json"));
        const auto error = QJsonDocument::fromJson(response.body).object().value("error").toObject();
        QCOMPARE(error.value("type").toString(), QStringLiteral("invalid_request_error"));
        QCOMPARE(error.value("code").toString(), code);
        QVERIFY(!error.value("message").toString().isEmpty());
        QTRY_VERIFY_WITH_TIMEOUT(client.isClosed(), kTimeoutMs);
        QCOMPARE(m_handled.load(), 0);
        QCOMPARE(server->stats().*counter, 1u);
        QTRY_COMPARE_WITH_TIMEOUT(server->stats().connectionsActive, 0u, kTimeoutMs);
    }

    void errorAfterPipelinedRequestKeepsOrder()
    {
        auto server = start(smallLimits());
        QVERIFY(server);
        RawHttpClient client;
        QVERIFY(client.connectTo(server->serverPort()));
        client.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok"
                    "GET / HTTP/1.1\r\nBroken Header\r\n\r\n");
        QTRY_COMPARE_WITH_TIMEOUT(client.responseCount(), 2, kTimeoutMs);
        QCOMPARE(client.response(0).status, 200);
        QCOMPARE(client.response(0).body, QByteArray("ok"));
        QCOMPARE(client.response(1).status, 400);
        QTRY_VERIFY_WITH_TIMEOUT(client.isClosed(), kTimeoutMs);
    }

    void bodyAtTheLimitIsAccepted()
    {
        auto server = start(smallLimits());
        QVERIFY(server);
        RawHttpClient client;
        QVERIFY(client.connectTo(server->serverPort()));
        const QByteArray body(1000, 'z');
        client.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + body);
        QTRY_COMPARE_WITH_TIMEOUT(client.responseCount(), 1, kTimeoutMs);
        QCOMPARE(client.response(0).status, 200);
        QCOMPARE(client.response(0).body, body);
    }

    void slowlorisHeaderTimesOut()
    {
        auto options = smallLimits();
        options.headerTimeout = 300ms;
        auto server = start(options);
        QVERIFY(server);
        RawHttpClient client;
        QVERIFY(client.connectTo(server->serverPort()));
        // One header byte every 20 ms: each byte arrives long before the timeout, the
        // whole header never does.
        const QByteArray trickle = "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + QByteArray(1000, 's');
        qsizetype sent = 0;
        QTimer dripper;
        connect(&dripper, &QTimer::timeout, this, [&] {
            if (sent < trickle.size() && !client.isClosed())
                client.send(trickle.mid(sent++, 1));
        });
        dripper.start(20ms);
        QTRY_VERIFY_WITH_TIMEOUT(client.isClosed(), kTimeoutMs);
        dripper.stop();
        QVERIFY(sent < trickle.size());
        QCOMPARE(client.responseCount(), 1);
        QCOMPARE(client.response(0).status, 408);
        QCOMPARE(server->stats().headerTimeouts, 1u);
        QCOMPARE(m_handled.load(), 0);
    }

    void slowBodyTimesOut()
    {
        auto options = smallLimits();
        options.bodyTimeout = 300ms;
        auto server = start(options);
        QVERIFY(server);
        RawHttpClient client;
        QVERIFY(client.connectTo(server->serverPort()));
        client.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
        QTRY_VERIFY_WITH_TIMEOUT(client.isClosed(), kTimeoutMs);
        QCOMPARE(client.responseCount(), 1);
        QCOMPARE(client.response(0).status, 408);
        QCOMPARE(server->stats().bodyTimeouts, 1u);
    }

    void idleKeepAliveClosesSilently()
    {
        auto options = smallLimits();
        options.idleTimeout = 300ms;
        auto server = start(options);
        QVERIFY(server);
        RawHttpClient client;
        QVERIFY(client.connectTo(server->serverPort()));
        client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        QTRY_COMPARE_WITH_TIMEOUT(client.responseCount(), 1, kTimeoutMs);
        QCOMPARE(client.response(0).header("connection"), QByteArray());
        QTRY_VERIFY_WITH_TIMEOUT(client.isClosed(), kTimeoutMs);
        QCOMPARE(client.responseCount(), 1); // nothing but the one answer
        QCOMPARE(server->stats().idleTimeouts, 1u);
        QCOMPARE(server->stats().headerTimeouts, 0u);
    }

    void silentConnectionClosesAfterHeaderTimeout()
    {
        auto options = smallLimits();
        options.headerTimeout = 300ms;
        auto server = start(options);
        QVERIFY(server);
        RawHttpClient client;
        QVERIFY(client.connectTo(server->serverPort()));
        QTRY_VERIFY_WITH_TIMEOUT(client.isClosed(), kTimeoutMs);
        QCOMPARE(client.received(), QByteArray());
        QCOMPARE(server->stats().idleTimeouts, 1u);
    }
};

QTEST_GUILESS_MAIN(TestHttpServerLimits)
#include "tst_httpserverlimits.moc"
