#include <QSignalSpy>
#include <QTest>
#include <QThread>
#include <QTimer>

#include "http/httpserver.h"
#include "rawhttpclient.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QMutex>

#include <atomic>
#include <memory>
#include <set>

#include <unistd.h>

using namespace std::chrono_literals;
using sluice::http::AcceptMode;
using sluice::http::HttpHeaders;
using sluice::http::HttpListenError;
using sluice::http::HttpRequest;
using sluice::http::HttpResponder;
using sluice::http::HttpServer;
using sluice::http::HttpServerOptions;
using sluice::test::RawHttpClient;

Q_DECLARE_METATYPE(AcceptMode)

namespace {

constexpr int kTimeoutMs = 10'000; // only guards against hangs

HttpServerOptions localOptions(int threads = 1)
{
    HttpServerOptions options;
    options.address = QHostAddress::LocalHost;
    options.port = 0;
    options.threads = threads;
    return options;
}

// Answers "<method> <path>?<query>|<body>", with the connection id and a copy of X-Echo.
void echo(HttpRequest request, std::shared_ptr<HttpResponder> responder)
{
    HttpHeaders headers{{"Content-Type", "text/plain"},
                        {"X-Connection-Id", QByteArray::number(request.connectionId)},
                        {"X-Echo", request.headers.value("x-echo")}};
    responder->respond(200, headers, request.method + ' ' + request.path + '?' + request.query + '|' + request.body);
}

std::unique_ptr<HttpServer> startServer(HttpServerOptions options, HttpServer::Handler handler)
{
    auto server = std::make_unique<HttpServer>(std::move(options), std::move(handler));
    const auto listening = server->listen();
    if (!listening) {
        qWarning("listen failed: %s", qPrintable(listening.error().message));
        return nullptr;
    }
    return server;
}

} // namespace

class TestHttpServer : public QObject {
    Q_OBJECT
private slots:
    void simpleRequests_data()
    {
        QTest::addColumn<QByteArray>("request");
        QTest::addColumn<QByteArray>("expectedBody");
        QTest::newRow("get") << QByteArray("GET /v1/models?limit=2 HTTP/1.1\r\nHost: x\r\nX-Echo: hi\r\n\r\n")
                             << QByteArray("GET /v1/models?limit=2|");
        QTest::newRow("post") << QByteArray("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Echo: hi\r\n"
                                            "Content-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"a\":\"b c\"}")
                              << QByteArray("POST /v1/chat/completions?|{\"a\":\"b c\"}");
        QTest::newRow("chunked post") << QByteArray("POST /c HTTP/1.1\r\nHost: x\r\nX-Echo: hi\r\n"
                                                    "Transfer-Encoding: chunked\r\n\r\n"
                                                    "5\r\nhello\r\n1;ext=x\r\n \r\n5\r\nworld\r\n0\r\n\r\n")
                                      << QByteArray("POST /c?|hello world");
    }

    void simpleRequests()
    {
        QFETCH(QByteArray, request);
        QFETCH(QByteArray, expectedBody);
        auto server = startServer(localOptions(), echo);
        QVERIFY(server);
        RawHttpClient client;
        QVERIFY(client.connectTo(server->serverPort()));
        client.send(request);
        QTRY_COMPARE_WITH_TIMEOUT(client.responseCount(), 1, kTimeoutMs);
        const auto response = client.response(0);
        QCOMPARE(response.status, 200);
        QCOMPARE(response.reason, QByteArray("OK"));
        QCOMPARE(response.body, expectedBody);
        QCOMPARE(response.header("content-length"), QByteArray::number(expectedBody.size()));
        QCOMPARE(response.header("x-echo"), QByteArray("hi"));
        QVERIFY(response.header("date").endsWith(" GMT"));
        QVERIFY(!response.hasHeader("connection"));
        QVERIFY(!client.isClosed());
        const auto stats = server->stats();
        QCOMPARE(stats.requests, 1u);
        QCOMPARE(stats.connectionsAccepted, 1u);
        QCOMPARE(stats.bytesIn, quint64(request.size()));
        QTRY_COMPARE_WITH_TIMEOUT(server->stats().bytesOut, quint64(client.received().size()), kTimeoutMs);
    }

    void keepAliveReusesTheConnection()
    {
        auto server = startServer(localOptions(), echo);
        QVERIFY(server);
        RawHttpClient client;
        QVERIFY(client.connectTo(server->serverPort()));
        for (int round = 0; round < 3; ++round) {
            client.send("GET /r" + QByteArray::number(round) + " HTTP/1.1\r\nHost: x\r\n\r\n");
            QTRY_COMPARE_WITH_TIMEOUT(client.responseCount(), round + 1, kTimeoutMs);
        }
        const auto parsed = client.parse();
        QCOMPARE(parsed.responses[2].body, QByteArray("GET /r2?|"));
        QCOMPARE(parsed.responses[0].header("x-connection-id"), parsed.responses[2].header("x-connection-id"));
        QVERIFY(!client.isClosed());
        QCOMPARE(server->stats().connectionsAccepted, 1u);
        QCOMPARE(server->stats().requests, 3u);
        QCOMPARE(server->stats().connectionsActive, 1u);
    }

    void connectionPersistence_data()
    {
        QTest::addColumn<QByteArray>("request");
        QTest::addColumn<QByteArray>("connectionHeader");
        QTest::addColumn<bool>("staysOpen");
        QTest::newRow("1.1 default") << QByteArray("GET / HTTP/1.1\r\nHost: x\r\n\r\n") << QByteArray() << true;
        QTest::newRow("1.1 close") << QByteArray("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                                   << QByteArray("close") << false;
        QTest::newRow("1.0 default") << QByteArray("GET / HTTP/1.0\r\n\r\n") << QByteArray("close") << false;
        QTest::newRow("1.0 keep-alive") << QByteArray("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
                                        << QByteArray("keep-alive") << true;
    }

    void connectionPersistence()
    {
        QFETCH(QByteArray, request);
        QFETCH(QByteArray, connectionHeader);
        QFETCH(bool, staysOpen);
        auto server = startServer(localOptions(), echo);
        QVERIFY(server);
        RawHttpClient client;
        QVERIFY(client.connectTo(server->serverPort()));
        client.send(request);
        QTRY_COMPARE_WITH_TIMEOUT(client.responseCount(), 1, kTimeoutMs);
        QCOMPARE(client.response(0).header("connection"), connectionHeader);
        if (staysOpen) {
            client.send(request);
            QTRY_COMPARE_WITH_TIMEOUT(client.responseCount(), 2, kTimeoutMs);
            QVERIFY(!client.isClosed());
        } else {
            QTRY_VERIFY_WITH_TIMEOUT(client.isClosed(), kTimeoutMs);
            QTRY_COMPARE_WITH_TIMEOUT(server->stats().connectionsActive, 0u, kTimeoutMs);
        }
    }

    void pipelinedAnswersKeepRequestOrder()
    {
        // /slow is answered 300 ms late, /fast at once: the answers still leave in order.
        QMutex mutex;
        QList<QByteArray> events;
        const auto record = [&](const QByteArray &event) {
            QMutexLocker lock(&mutex);
            events.append(event);
        };
        auto server = startServer(localOptions(), [&](HttpRequest request, std::shared_ptr<HttpResponder> responder) {
            record("handle " + request.path);
            if (request.path == "/slow") {
                QTimer::singleShot(300ms, [responder, record] {
                    record("answer /slow");
                    responder->respond(200, {}, "slow");
                });
                return;
            }
            record("answer " + request.path);
            responder->respond(200, {}, request.path.mid(1));
        });
        QVERIFY(server);
        RawHttpClient client;
        QVERIFY(client.connectTo(server->serverPort()));
        client.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"
                    "GET /fast HTTP/1.1\r\nHost: x\r\n\r\n"
                    "POST /post HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
        QTRY_COMPARE_WITH_TIMEOUT(client.responseCount(), 3, kTimeoutMs);
        const auto parsed = client.parse();
        QCOMPARE(parsed.responses[0].body, QByteArray("slow"));
        QCOMPARE(parsed.responses[1].body, QByteArray("fast"));
        QCOMPARE(parsed.responses[2].body, QByteArray("post"));
        QMutexLocker lock(&mutex);
        // The later requests were handled (and answered) before the first was answered.
        QVERIFY(events.indexOf("answer /fast") < events.indexOf("answer /slow"));
        QVERIFY(events.indexOf("answer /post") < events.indexOf("answer /slow"));
    }

    void pipelineDepthIsBounded()
    {
        auto options = localOptions();
        options.maxPipelinedRequests = 2;
        std::atomic<int> handled{0};
        std::atomic<int> maxOutstanding{0};
        std::atomic<int> outstanding{0};
        auto server = startServer(options, [&](HttpRequest request, std::shared_ptr<HttpResponder> responder) {
            ++handled;
            const int now = ++outstanding;
            maxOutstanding = std::max(maxOutstanding.load(), now);
            QTimer::singleShot(30ms, [responder, request, &outstanding] {
                --outstanding;
                responder->respond(200, {}, request.path);
            });
        });
        QVERIFY(server);
        RawHttpClient client;
        QVERIFY(client.connectTo(server->serverPort()));
        QByteArray wire;
        for (int index = 0; index < 8; ++index)
            wire += "GET /" + QByteArray::number(index) + " HTTP/1.1\r\nHost: x\r\n\r\n";
        client.send(wire);
        QTRY_COMPARE_WITH_TIMEOUT(client.responseCount(), 8, kTimeoutMs);
        for (int index = 0; index < 8; ++index)
            QCOMPARE(client.response(index).body, "/" + QByteArray::number(index));
        QCOMPARE(handled.load(), 8);
        QVERIFY(maxOutstanding.load() <= 2);
    }

    void expectContinue()
    {
        auto server = startServer(localOptions(), echo);
        QVERIFY(server);
        RawHttpClient client;
        QVERIFY(client.connectTo(server->serverPort()));
        client.send("PUT /up HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
        QTRY_COMPARE_WITH_TIMEOUT(client.responseCount(), 1, kTimeoutMs);
        QCOMPARE(client.response(0).status, 100);
        client.send("12345");
        QTRY_COMPARE_WITH_TIMEOUT(client.responseCount(), 2, kTimeoutMs);
        QCOMPARE(client.response(1).status, 200);
        QCOMPARE(client.response(1).body, QByteArray("PUT /up?|12345"));
    }

    void headAnswerHasNoBody()
    {
        auto server = startServer(localOptions(), echo);
        QVERIFY(server);
        RawHttpClient client;
        QVERIFY(client.connectTo(server->serverPort()));
        client.send("HEAD /h HTTP/1.1\r\nHost: x\r\n\r\nGET /g HTTP/1.1\r\nHost: x\r\n\r\n");
        QTRY_COMPARE_WITH_TIMEOUT(client.parse({0}).responses.size(), 2, kTimeoutMs);
        const auto parsed = client.parse({0});
        QCOMPARE(parsed.responses[0].header("content-length"), QByteArray::number(QByteArray("HEAD /h?|").size()));
        QCOMPARE(parsed.responses[0].body, QByteArray());
        QCOMPARE(parsed.responses[1].body, QByteArray("GET /g?|"));
    }

    void framingHeadersAreTheServers()
    {
        auto server = startServer(localOptions(), [](HttpRequest, std::shared_ptr<HttpResponder> responder) {
            responder->respond(201,
                               {{"Content-Length", "999"},
                                {"Connection", "close"},
                                {"Transfer-Encoding", "gzip"},
                                {"X-Evil", "a\r\nInjected: yes"},
                                {"Set-Cookie", "a=1"},
                                {"Set-Cookie", "b=2"}},
                               "ok");
        });
        QVERIFY(server);
        RawHttpClient client;
        QVERIFY(client.connectTo(server->serverPort()));
        client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        QTRY_COMPARE_WITH_TIMEOUT(client.responseCount(), 1, kTimeoutMs);
        const auto response = client.response(0);
        QCOMPARE(response.status, 201);
        QCOMPARE(response.header("content-length"), QByteArray("2"));
        QVERIFY(!response.hasHeader("connection"));
        QVERIFY(!response.hasHeader("transfer-encoding"));
        QVERIFY(!response.hasHeader("x-evil"));
        QVERIFY(!response.hasHeader("injected"));
        int cookies = 0;
        for (const auto &field : response.headers)
            cookies += field.first == "Set-Cookie";
        QCOMPARE(cookies, 2);
        QVERIFY(!client.isClosed());
    }

    void droppedResponderBecomes500()
    {
        auto server = startServer(localOptions(), [](HttpRequest request, std::shared_ptr<HttpResponder> responder) {
            if (request.path == "/ok")
                responder->respond(200, {}, "fine");
        });
        QVERIFY(server);
        RawHttpClient client;
        QVERIFY(client.connectTo(server->serverPort()));
        client.send("GET /drop HTTP/1.1\r\nHost: x\r\n\r\nGET /ok HTTP/1.1\r\nHost: x\r\n\r\n");
        QTRY_COMPARE_WITH_TIMEOUT(client.responseCount(), 2, kTimeoutMs);
        QCOMPARE(client.response(0).status, 500);
        const auto error = QJsonDocument::fromJson(client.response(0).body).object().value("error").toObject();
        QCOMPARE(error.value("type").toString(), QStringLiteral("server_error"));
        QCOMPARE(client.response(1).body, QByteArray("fine"));
        QCOMPARE(server->stats().abandonedResponses, 1u);
    }

    void manyConcurrentConnections_data()
    {
        QTest::addColumn<AcceptMode>("mode");
        QTest::newRow("distribute") << AcceptMode::Distribute;
        QTest::newRow("reuseport") << AcceptMode::ReusePort;
    }

    void manyConcurrentConnections()
    {
        QFETCH(AcceptMode, mode);
        auto options = localOptions(2);
        options.acceptMode = mode;
        QMutex mutex;
        std::set<QThread *> threads;
        auto server = startServer(options, [&](HttpRequest request, std::shared_ptr<HttpResponder> responder) {
            {
                QMutexLocker lock(&mutex);
                threads.insert(QThread::currentThread());
            }
            // Answer a little later, so connections overlap.
            QTimer::singleShot(5ms, [request, responder] { echo(request, responder); });
        });
        QVERIFY(server);
        QCOMPARE(server->threadCount(), 2);
        constexpr int kClients = 40;
        constexpr int kRounds = 3;
        std::vector<std::unique_ptr<RawHttpClient>> clients;
        for (int index = 0; index < kClients; ++index) {
            clients.push_back(std::make_unique<RawHttpClient>());
            QVERIFY(clients.back()->connectTo(server->serverPort()));
        }
        for (int round = 0; round < kRounds; ++round) {
            for (int index = 0; index < kClients; ++index)
                clients[index]->send("POST /c HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n" +
                                     QByteArray::number(1000 + index));
            for (int index = 0; index < kClients; ++index)
                QTRY_COMPARE_WITH_TIMEOUT(clients[index]->responseCount(), round + 1, kTimeoutMs);
        }
        for (int index = 0; index < kClients; ++index)
            QCOMPARE(clients[index]->response(kRounds - 1).body, "POST /c?|" + QByteArray::number(1000 + index));
        QCOMPARE(server->stats().requests, quint64(kClients * kRounds));
        QCOMPARE(server->stats().connectionsActive, quint64(kClients));
        QMutexLocker lock(&mutex);
        QCOMPARE(threads.size(), std::size_t(2));
        QVERIFY(!threads.count(QThread::currentThread()));
    }

    void listenErrors()
    {
        auto first = startServer(localOptions(), echo);
        QVERIFY(first);
        auto options = localOptions();
        options.port = first->serverPort();
        HttpServer second(options, echo);
        const auto taken = second.listen();
        QVERIFY(!taken);
        QCOMPARE(taken.error().kind, HttpListenError::Kind::AddressInUse);
        QVERIFY(taken.error().message.contains(QString::number(options.port)));
        QVERIFY(!second.isListening());

        options.port = 0;
        options.address = QHostAddress("192.0.2.1"); // TEST-NET-1, not on this host
        HttpServer foreign(options, echo);
        QCOMPARE(foreign.listen().error().kind, HttpListenError::Kind::AddressNotAvailable);

        QCOMPARE(first->listen().error().kind, HttpListenError::Kind::AlreadyListening);

        if (::geteuid() != 0) {
            options.address = QHostAddress::LocalHost;
            options.port = 1;
            HttpServer privileged(options, echo);
            QCOMPARE(privileged.listen().error().kind, HttpListenError::Kind::PermissionDenied);
        }
    }

    void errorBodyHook()
    {
        auto options = localOptions();
        options.errorBody = [](int status, const QString &message) {
            return QByteArray::number(status) + ':' + message.toUtf8();
        };
        auto server = startServer(options, echo);
        QVERIFY(server);
        RawHttpClient client;
        QVERIFY(client.connectTo(server->serverPort()));
        client.send("GET / HTTP/1.1\r\n\r\n");
        QTRY_COMPARE_WITH_TIMEOUT(client.responseCount(), 1, kTimeoutMs);
        QCOMPARE(client.response(0).status, 400);
        QCOMPARE(client.response(0).body, QByteArray("400:missing Host header"));
        QCOMPARE(client.response(0).header("content-type"), QByteArray("application/json"));
    }

    void gracefulShutdownDrainsInFlight()
    {
        std::atomic<int> slowStarted{0};
        auto server = startServer(localOptions(2), [&](HttpRequest request, std::shared_ptr<HttpResponder> responder) {
            if (request.path == "/slow") {
                ++slowStarted;
                QTimer::singleShot(300ms, [responder] { responder->respond(200, {}, "done"); });
                return;
            }
            echo(request, responder);
        });
        QVERIFY(server);
        const quint16 port = server->serverPort();
        RawHttpClient busy;
        RawHttpClient idle;
        QVERIFY(busy.connectTo(port));
        QVERIFY(idle.connectTo(port));
        idle.send("GET /i HTTP/1.1\r\nHost: x\r\n\r\n");
        QTRY_COMPARE_WITH_TIMEOUT(idle.responseCount(), 1, kTimeoutMs);
        busy.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
        QTRY_COMPARE_WITH_TIMEOUT(slowStarted.load(), 1, kTimeoutMs);

        QSignalSpy drained(server.get(), &HttpServer::drained);
        server->shutdown(std::chrono::milliseconds(kTimeoutMs));

        // No new connections from the moment shutdown() returned.
        QTcpSocket late;
        late.connectToHost(QHostAddress::LocalHost, port);
        QVERIFY(!late.waitForConnected(kTimeoutMs) || late.waitForDisconnected(kTimeoutMs));

        QTRY_VERIFY_WITH_TIMEOUT(idle.isClosed(), kTimeoutMs);
        QTRY_COMPARE_WITH_TIMEOUT(busy.responseCount(), 1, kTimeoutMs);
        QCOMPARE(busy.response(0).body, QByteArray("done"));
        QCOMPARE(busy.response(0).header("connection"), QByteArray("close"));
        QTRY_VERIFY_WITH_TIMEOUT(busy.isClosed(), kTimeoutMs);
        QTRY_COMPARE_WITH_TIMEOUT(drained.count(), 1, kTimeoutMs);
        QCOMPARE(server->stats().connectionsActive, 0u);
        QCOMPARE(server->stats().clientAborts, 0u);
    }

    void shutdownDeadlineAbortsAndCancels()
    {
        std::atomic<int> cancelled{0};
        std::atomic<int> started{0};
        auto server = startServer(localOptions(), [&](HttpRequest, std::shared_ptr<HttpResponder> responder) {
            responder->onCancelled([&cancelled, responder] { ++cancelled; });
            ++started;
        });
        QVERIFY(server);
        RawHttpClient client;
        QVERIFY(client.connectTo(server->serverPort()));
        client.send("GET /never HTTP/1.1\r\nHost: x\r\n\r\n");
        QTRY_COMPARE_WITH_TIMEOUT(started.load(), 1, kTimeoutMs);
        QSignalSpy drained(server.get(), &HttpServer::drained);
        server->shutdown(200ms);
        QVERIFY(drained.wait(kTimeoutMs));
        QTRY_COMPARE_WITH_TIMEOUT(cancelled.load(), 1, kTimeoutMs);
        QTRY_VERIFY_WITH_TIMEOUT(client.isClosed(), kTimeoutMs);
        QCOMPARE(client.responseCount(), 0);
        QCOMPARE(server->stats().clientAborts, 1u);
    }

    void shutdownWithoutListening()
    {
        HttpServer server(localOptions(), echo);
        QSignalSpy drained(&server, &HttpServer::drained);
        server.shutdown(1s);
        QVERIFY(drained.wait(kTimeoutMs));
    }

    void destructorAbortsOpenConnections()
    {
        std::atomic<int> cancelled{0};
        std::atomic<int> started{0};
        auto server = startServer(localOptions(2), [&](HttpRequest, std::shared_ptr<HttpResponder> responder) {
            responder->onCancelled([&cancelled, responder] { ++cancelled; });
            ++started;
        });
        QVERIFY(server);
        RawHttpClient client;
        QVERIFY(client.connectTo(server->serverPort()));
        client.send("GET /never HTTP/1.1\r\nHost: x\r\n\r\n");
        QTRY_COMPARE_WITH_TIMEOUT(started.load(), 1, kTimeoutMs);
        server.reset();
        QCOMPARE(cancelled.load(), 1);
        QTRY_VERIFY_WITH_TIMEOUT(client.isClosed(), kTimeoutMs);
    }
};

QTEST_GUILESS_MAIN(TestHttpServer)
#include "tst_httpserver.moc"
