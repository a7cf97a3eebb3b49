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

std::unique_ptr<HttpServer> startServer(HttpServer::Handler handler)
{
    auto server = std::make_unique<HttpServer>(localOptions(), std::move(handler));
    return server->listen() ? std::move(server) : nullptr;
}

const QByteArray kPost = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}";

} // namespace

class TestHttpResponderAbort : public QObject {
    Q_OBJECT
private slots:
    void abortBeforeAnswerClosesWithoutResponse()
    {
        std::atomic<int> abortResult{-1};
        std::atomic<int> secondAbortResult{-1};
        std::atomic<int> respondAfterAbort{-1};
        std::atomic<int> writeAfterAbort{-1};
        std::atomic<bool> cancelledState{false};
        std::atomic<int> cancelledCallbacks{0};
        auto server = startServer([&](HttpRequest, std::shared_ptr<HttpResponder> responder) {
            responder->onCancelled([&cancelledCallbacks] { ++cancelledCallbacks; });
            abortResult = responder->abort() ? 1 : 0;
            cancelledState = responder->isCancelled();
            secondAbortResult = responder->abort() ? 1 : 0;
            respondAfterAbort = responder->respond(200, {}, "late") ? 1 : 0;
            writeAfterAbort = responder->write("late") == WriteResult::Closed ? 1 : 0;
        });
        QVERIFY(server);
        RawHttpClient client;
        QVERIFY(client.connectTo(server->serverPort()));
        client.send(kPost);
        QTRY_VERIFY_WITH_TIMEOUT(client.isClosed(), kTimeoutMs);
        QCOMPARE(client.received(), QByteArray());
        QCOMPARE(abortResult.load(), 1);
        QVERIFY(cancelledState.load());
        QCOMPARE(secondAbortResult.load(), 0);
        QCOMPARE(respondAfterAbort.load(), 0);
        QCOMPARE(writeAfterAbort.load(), 1);
        QCOMPARE(cancelledCallbacks.load(), 0);
        // No 500 stands in for the missing answer.
        QCOMPARE(server->stats().abandonedResponses, 0u);
        QTRY_COMPARE_WITH_TIMEOUT(server->stats().connectionsActive, 0u, kTimeoutMs);
    }

    void abortMidStreamLeavesChunkedBodyUnterminated()
    {
        std::atomic<int> abortResult{-1};
        std::atomic<int> endAfterAbort{-1};
        auto server = startServer([&](HttpRequest, std::shared_ptr<HttpResponder> responder) {
            responder->beginEventStream();
            responder->write("data: one\n\n");
            responder->write("data: two\n\n");
            // Written and aborted in one go: the queued chunks must still go out.
            abortResult = responder->abort() ? 1 : 0;
            endAfterAbort = responder->end() ? 1 : 0;
        });
        QVERIFY(server);
        RawHttpClient client;
        QVERIFY(client.connectTo(server->serverPort()));
        client.send(kPost);
        QTRY_VERIFY_WITH_TIMEOUT(client.isClosed(), kTimeoutMs);
        QCOMPARE(abortResult.load(), 1);
        QCOMPARE(endAfterAbort.load(), 0);
        const auto parsed = client.parse();
        QVERIFY(!parsed.malformed);
        QCOMPARE(parsed.responses.size(), 0);
        QVERIFY(parsed.partial.has_value());
        QCOMPARE(parsed.partial->status, 200);
        QVERIFY(parsed.partial->chunked);
        QCOMPARE(parsed.partial->chunks, (QList<QByteArray>{"data: one\n\n", "data: two\n\n"}));
        QVERIFY(!client.received().endsWith("0\r\n\r\n"));
    }

    void abortLaterInStreamAfterChunksWereSent()
    {
        std::atomic<bool> release{false};
        auto server = startServer([&release](HttpRequest, std::shared_ptr<HttpResponder> responder) {
            responder->beginEventStream();
            responder->write("data: first\n\n");
            auto poll = std::make_shared<std::function<void()>>();
            *poll = [responder, poll, &release] {
                if (!release) {
                    QTimer::singleShot(5ms, [poll] { (*poll)(); });
                    return;
                }
                responder->write("data: second\n\n");
                responder->abort();
                *poll = nullptr; // breaks the cycle
            };
            (*poll)();
        });
        QVERIFY(server);
        RawHttpClient client;
        QVERIFY(client.connectTo(server->serverPort()));
        client.send(kPost);
        QTRY_VERIFY_WITH_TIMEOUT(client.parse().partial && client.parse().partial->chunks.size() == 1, kTimeoutMs);
        QVERIFY(!client.isClosed());
        release = true;
        QTRY_VERIFY_WITH_TIMEOUT(client.isClosed(), kTimeoutMs);
        const auto parsed = client.parse();
        QCOMPARE(parsed.responses.size(), 0);
        QVERIFY(parsed.partial.has_value());
        QCOMPARE(parsed.partial->chunks, (QList<QByteArray>{"data: first\n\n", "data: second\n\n"}));
    }

    void abortAfterAnswerIsNoOp()
    {
        std::atomic<int> abortResult{-1};
        auto server = startServer([&abortResult](HttpRequest, std::shared_ptr<HttpResponder> responder) {
            responder->respond(200, {{"Content-Type", "text/plain"}}, "done");
            abortResult = responder->abort() ? 1 : 0;
        });
        QVERIFY(server);
        RawHttpClient client;
        QVERIFY(client.connectTo(server->serverPort()));
        client.send(kPost);
        QTRY_COMPARE_WITH_TIMEOUT(client.responseCount(), 1, kTimeoutMs);
        QCOMPARE(abortResult.load(), 0);
        QCOMPARE(client.response(0).body, QByteArray("done"));
        // The connection is still usable.
        client.send(kPost);
        QTRY_COMPARE_WITH_TIMEOUT(client.responseCount(), 2, kTimeoutMs);
        QVERIFY(!client.isClosed());
    }

    void abortKeepsEarlierPipelinedAnswers()
    {
        // The first request is answered late, the second aborted at once: the first
        // answer still arrives whole, then the connection closes where the second
        // answer would begin.
        std::atomic<int> seen{0};
        auto server = startServer([&seen](HttpRequest request, std::shared_ptr<HttpResponder> responder) {
            ++seen;
            if (request.path == "/first")
                QTimer::singleShot(50ms, [responder] { responder->respond(200, {}, "first answer"); });
            else
                responder->abort();
        });
        QVERIFY(server);
        RawHttpClient client;
        QVERIFY(client.connectTo(server->serverPort()));
        client.send("GET /first HTTP/1.1\r\nHost: x\r\n\r\n"
                    "GET /second HTTP/1.1\r\nHost: x\r\n\r\n");
        QTRY_VERIFY_WITH_TIMEOUT(client.isClosed(), kTimeoutMs);
        const auto parsed = client.parse();
        QVERIFY(!parsed.malformed);
        QCOMPARE(parsed.responses.size(), 1);
        QCOMPARE(parsed.responses.first().status, 200);
        QCOMPARE(parsed.responses.first().body, QByteArray("first answer"));
        QVERIFY(!parsed.partial.has_value());
        QCOMPARE(seen.load(), 2);
    }
};

QTEST_GUILESS_MAIN(TestHttpResponderAbort)
#include "tst_httpresponderabort.moc"
