#include <QTest>
#include <QTimer>

#include "http/httpserver.h"
#include "rawhttpclient.h"

#include <atomic>
#include <functional>
#include <memory>

using namespace std::chrono_literals;
using sluice::http::HttpRequest;
using sluice::http::HttpResponder;
using sluice::http::HttpServer;
using sluice::http::HttpServerOptions;
using sluice::test::RawHttpClient;
using WriteResult = sluice::http::HttpResponder::WriteResult;

namespace {

constexpr int kTimeoutMs = 20'000; // only guards against hangs

HttpServerOptions localOptions()
{
    HttpServerOptions options;
    options.address = QHostAddress::LocalHost;
    options.port = 0;
    options.threads = 1;
    return options;
}

std::unique_ptr<HttpServer> startServer(HttpServerOptions options, HttpServer::Handler handler)
{
    auto server = std::make_unique<HttpServer>(std::move(options), std::move(handler));
    return server->listen() ? std::move(server) : nullptr;
}

// Writes `totalBytes` in chunks as fast as the responder accepts them, pausing on
// BufferFull until the drained callback. Runs on the connection's thread; the test
// reads its atomics.
struct Producer {
    qint64 totalBytes = 0;
    qint64 chunkBytes = 16 * 1024;
    std::shared_ptr<HttpResponder> responder;
    std::atomic<qint64> acceptedBytes{0};
    std::atomic<qint64> maxBufferedBytes{0};
    std::atomic<int> refusals{0};
    std::atomic<bool> waiting{false};
    std::atomic<bool> finished{false};
    std::atomic<bool> cancelled{false};

    void start(std::shared_ptr<HttpResponder> answer)
    {
        responder = std::move(answer);
        responder->onDrained([this] { pump(); });
        responder->onCancelled([this] {
            cancelled = true;
            responder.reset();
        });
        responder->beginStream(200, {{"Content-Type", "application/octet-stream"}});
        pump();
    }

    void pump()
    {
        if (!responder)
            return;
        waiting = false;
        const QByteArray chunk(chunkBytes, 'x');
        while (acceptedBytes < totalBytes) {
            const WriteResult result = responder->write(chunk);
            maxBufferedBytes = std::max(maxBufferedBytes.load(), responder->bufferedBytes());
            if (result == WriteResult::BufferFull) {
                ++refusals;
                waiting = true;
                return;
            }
            if (result == WriteResult::Closed)
                return;
            acceptedBytes += chunkBytes;
        }
        responder->end();
        finished = true;
        responder.reset();
    }
};

} // namespace

class TestHttpStreaming : public QObject {
    Q_OBJECT
private slots:
    void serverSentEventsArriveInOrder()
    {
        std::atomic<bool> release{false};
        auto server = startServer(localOptions(), [&release](HttpRequest, std::shared_ptr<HttpResponder> responder) {
            responder->beginEventStream();
            responder->write("data: event 0\n\n");
            // The rest only once the test saw the first event arrive on its own.
            auto step = std::make_shared<std::function<void(int)>>();
            *step = [responder, step, &release](int index) {
                if (!release) {
                    QTimer::singleShot(10ms, [step, index] { (*step)(index); });
                    return;
                }
                if (index == 5) {
                    responder->write("data: [DONE]\n\n");
                    responder->end();
                    *step = nullptr; // breaks the cycle
                    return;
                }
                responder->write("data: event " + QByteArray::number(index) + "\n\n");
                QTimer::singleShot(5ms, [step, index] { (*step)(index + 1); });
            };
            (*step)(1);
        });
        QVERIFY(server);
        RawHttpClient client;
        QVERIFY(client.connectTo(server->serverPort()));
        client.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
        QTRY_VERIFY_WITH_TIMEOUT(client.parse().partial && client.parse().partial->chunks.size() == 1, kTimeoutMs);
        const auto head = *client.parse().partial;
        QCOMPARE(head.status, 200);
        QCOMPARE(head.header("content-type"), QByteArray("text/event-stream"));
        QCOMPARE(head.header("cache-control"), QByteArray("no-cache"));
        QCOMPARE(head.header("transfer-encoding"), QByteArray("chunked"));
        QVERIFY(!head.hasHeader("content-length"));
        QCOMPARE(head.chunks.first(), QByteArray("data: event 0\n\n"));
        release = true;
        QTRY_COMPARE_WITH_TIMEOUT(client.responseCount(), 1, kTimeoutMs);
        const auto response = client.response(0);
        QCOMPARE(response.chunks.size(), 6);
        QByteArray expected;
        for (int index = 0; index < 5; ++index)
            expected += "data: event " + QByteArray::number(index) + "\n\n";
        expected += "data: [DONE]\n\n";
        QCOMPARE(response.body, expected);
        // The connection is kept alive after a chunked answer.
        client.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        release = true;
        QTRY_COMPARE_WITH_TIMEOUT(client.responseCount(), 2, kTimeoutMs);
    }

    void http10StreamIsCloseDelimited()
    {
        auto server = startServer(localOptions(), [](HttpRequest, std::shared_ptr<HttpResponder> responder) {
            responder->beginStream(200, {{"Content-Type", "text/plain"}});
            responder->write("a");
            responder->write("b");
            QTimer::singleShot(20ms, [responder] {
                responder->write("c");
                responder->end();
            });
        });
        QVERIFY(server);
        RawHttpClient client;
        QVERIFY(client.connectTo(server->serverPort()));
        client.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        QTRY_VERIFY_WITH_TIMEOUT(client.isClosed(), kTimeoutMs);
        QCOMPARE(client.responseCount(), 1);
        const auto response = client.response(0);
        QCOMPARE(response.body, QByteArray("abc"));
        QCOMPARE(response.header("connection"), QByteArray("close"));
        QVERIFY(!response.hasHeader("transfer-encoding"));
    }

    void streamWaitsBehindAnEarlierAnswer()
    {
        std::atomic<qint64> bufferedWhileWaiting{-1};
        auto server = startServer(localOptions(), [&](HttpRequest request, std::shared_ptr<HttpResponder> responder) {
            if (request.path == "/slow") {
                QTimer::singleShot(200ms, [responder] { responder->respond(200, {}, "slow"); });
                return;
            }
            responder->beginStream(200);
            responder->write("one");
            responder->write("two");
            bufferedWhileWaiting = responder->bufferedBytes();
            responder->end();
        });
        QVERIFY(server);
        RawHttpClient client;
        QVERIFY(client.connectTo(server->serverPort()));
        client.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
        QTRY_COMPARE_WITH_TIMEOUT(client.responseCount(), 2, kTimeoutMs);
        QCOMPARE(client.response(0).body, QByteArray("slow"));
        QCOMPARE(client.response(1).chunks, (QList<QByteArray>{"one", "two"}));
        QVERIFY(bufferedWhileWaiting.load() > 6); // head and framing included
    }

    void slowReaderIsHeldBackNotBuffered()
    {
        constexpr qint64 kMaxBuffered = 256 * 1024;
        auto options = localOptions();
        options.maxResponseBufferBytes = kMaxBuffered;
        auto producer = std::make_shared<Producer>();
        producer->totalBytes = 24 * 1024 * 1024;
        auto server = startServer(options, [producer](HttpRequest, std::shared_ptr<HttpResponder> responder) {
            producer->start(std::move(responder));
        });
        QVERIFY(server);
        RawHttpClient client;
        QVERIFY(client.connectTo(server->serverPort()));
        client.socket().setSocketOption(QAbstractSocket::ReceiveBufferSizeSocketOption, 64 * 1024);
        client.socket().setReadBufferSize(16 * 1024);
        client.setPaused(true);
        client.send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n");

        QTRY_VERIFY_WITH_TIMEOUT(producer->waiting && producer->refusals > 0, kTimeoutMs);
        QTest::qWait(500); // let the kernel buffers fill; no assertion on time
        const qint64 bound = kMaxBuffered + producer->chunkBytes + 32;
        QVERIFY2(producer->maxBufferedBytes <= bound, qPrintable(QString::number(producer->maxBufferedBytes)));
        QVERIFY(!producer->finished);
        QVERIFY(producer->acceptedBytes < producer->totalBytes);
        QVERIFY(server->stats().writesRefused > 0);

        client.socket().setReadBufferSize(0);
        client.setPaused(false);
        QTRY_VERIFY_WITH_TIMEOUT(client.received().endsWith("\r\n0\r\n\r\n"), kTimeoutMs);
        QVERIFY(producer->finished);
        const auto parsed = client.parse();
        QCOMPARE(parsed.responses.size(), 1);
        QCOMPARE(parsed.responses[0].body.size(), producer->totalBytes);
        QVERIFY2(producer->maxBufferedBytes <= bound, qPrintable(QString::number(producer->maxBufferedBytes)));
        QVERIFY(!producer->cancelled);
    }

    void stalledReaderIsAbortedAfterSendTimeout()
    {
        auto options = localOptions();
        options.maxResponseBufferBytes = 64 * 1024;
        options.sendTimeout = 300ms;
        auto producer = std::make_shared<Producer>();
        producer->totalBytes = 64 * 1024 * 1024;
        auto server = startServer(options, [producer](HttpRequest, std::shared_ptr<HttpResponder> responder) {
            producer->start(std::move(responder));
        });
        QVERIFY(server);
        RawHttpClient client;
        QVERIFY(client.connectTo(server->serverPort()));
        client.socket().setSocketOption(QAbstractSocket::ReceiveBufferSizeSocketOption, 64 * 1024);
        client.socket().setReadBufferSize(16 * 1024);
        client.setPaused(true);
        client.send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
        QTRY_VERIFY_WITH_TIMEOUT(producer->cancelled, kTimeoutMs);
        QVERIFY(!producer->finished);
        QCOMPARE(server->stats().sendTimeouts, 1u);
        QTRY_COMPARE_WITH_TIMEOUT(server->stats().connectionsActive, 0u, kTimeoutMs);
    }

    void clientGoneMidStreamCancels()
    {
        std::atomic<bool> cancelled{false};
        std::atomic<bool> sawClosed{false};
        auto server = startServer(localOptions(), [&](HttpRequest, std::shared_ptr<HttpResponder> responder) {
            responder->onCancelled([&cancelled] { cancelled = true; });
            responder->beginEventStream();
            auto tick = std::make_shared<std::function<void()>>();
            *tick = [responder, tick, &sawClosed] {
                if (responder->write("data: tick\n\n") == WriteResult::Closed) {
                    sawClosed = responder->isCancelled() && !responder->end() && !responder->respond(200);
                    *tick = nullptr;
                    return;
                }
                QTimer::singleShot(10ms, [tick] { (*tick)(); });
            };
            (*tick)();
        });
        QVERIFY(server);
        RawHttpClient client;
        QVERIFY(client.connectTo(server->serverPort()));
        client.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
        QTRY_VERIFY_WITH_TIMEOUT(client.parse().partial && !client.parse().partial->chunks.isEmpty(), kTimeoutMs);
        client.socket().abort();
        QTRY_VERIFY_WITH_TIMEOUT(cancelled, kTimeoutMs);
        QTRY_VERIFY_WITH_TIMEOUT(sawClosed, kTimeoutMs);
        QCOMPARE(server->stats().clientAborts, 1u);
        QTRY_COMPARE_WITH_TIMEOUT(server->stats().connectionsActive, 0u, kTimeoutMs);
    }

    void cancelledCallbackRunsOnItsContextThread()
    {
        std::atomic<QThread *> ranOn{nullptr};
        std::shared_ptr<HttpResponder> kept; // released after the server is gone
        auto server = startServer(localOptions(), [&](HttpRequest, std::shared_ptr<HttpResponder> responder) {
            responder->onCancelled([&ranOn] { ranOn = QThread::currentThread(); }, this);
            responder->beginStream(200);
            responder->write("x");
            kept = std::move(responder);
        });
        QVERIFY(server);
        RawHttpClient client;
        QVERIFY(client.connectTo(server->serverPort()));
        client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        QTRY_VERIFY_WITH_TIMEOUT(client.parse().partial.has_value(), kTimeoutMs);
        client.socket().abort();
        QTRY_VERIFY_WITH_TIMEOUT(ranOn.load() != nullptr, kTimeoutMs);
        QCOMPARE(ranOn.load(), QThread::currentThread());
        server.reset();
    }
};

QTEST_GUILESS_MAIN(TestHttpStreaming)
#include "tst_httpstreaming.moc"
