#include <QTest>

#include "gateway/simulatorserver.h"
#include "gateway/sseparser.h"
#include "gateway/streamassembler.h"
#include "policy/clock.h"
#include "rawhttpclient.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <memory>

using namespace sluice::gateway;
using sluice::test::RawHttpClient;
using sluice::test::RawHttpResponse;

namespace {

constexpr int kTimeoutMs = 20'000; // only guards against hangs
constexpr qint64 kFixedEpochMilliseconds = 1'714'564'800'000; // 2024-05-01T12:00:00Z

// Fast and fixed: 5 ms to the first token, 1 ms per token, 12 tokens.
SimulatorServerOptions quickOptions(quint64 seed = 3)
{
    SimulatorServerOptions options;
    options.simulator.seed = seed;
    options.simulator.unixMillisecondsAtClockZero = kFixedEpochMilliseconds;
    options.simulator.timeToFirstTokenMilliseconds = Distribution{Distribution::Shape::Fixed, 5, 0};
    options.simulator.tokensPerSecond = 1000;
    options.simulator.perTokenLatencyMilliseconds = Distribution{Distribution::Shape::Fixed, 1, 0};
    options.simulator.outputTokens = Distribution{Distribution::Shape::Fixed, 12, 0};
    return options;
}

std::unique_ptr<SimulatorServer> startServer(SimulatorServerOptions options)
{
    auto server = std::make_unique<SimulatorServer>(std::move(options));
    const auto port = server->listen();
    if (!port) {
        qWarning("listen failed: %s", qPrintable(port.error().message));
        return nullptr;
    }
    return server;
}

QByteArray openAIBody(bool stream = false, const QString &prompt = QStringLiteral("Say hello."))
{
    QJsonObject body{{"model", "gpt-4o-mini"},
                     {"max_tokens", 100},
                     {"messages", QJsonArray{QJsonObject{{"role", "user"}, {"content", prompt}}}}};
    if (stream) {
        body.insert("stream", true);
        body.insert("stream_options", QJsonObject{{"include_usage", true}});
    }
    return QJsonDocument(body).toJson(QJsonDocument::Compact);
}

QByteArray anthropicBody(bool stream = false)
{
    QJsonObject body{{"model", "claude-sonnet"},
                     {"max_tokens", 100},
                     {"messages", QJsonArray{QJsonObject{{"role", "user"}, {"content", "Say hello."}}}}};
    if (stream)
        body.insert("stream", true);
    return QJsonDocument(body).toJson(QJsonDocument::Compact);
}

QByteArray httpRequest(const QByteArray &method, const QByteArray &path, const QByteArray &body = {},
                       const QList<QByteArray> &headers = {})
{
    QByteArray request = method + " " + path + " HTTP/1.1\r\nHost: sim\r\n";
    for (const QByteArray &header : headers)
        request += header + "\r\n";
    if (!body.isEmpty() || method == "POST")
        request += "Content-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n";
    return request + "\r\n" + body;
}

QByteArray openAIRequest(const QByteArray &body, const QList<QByteArray> &headers = {})
{
    return httpRequest("POST", "/v1/chat/completions", body, headers);
}

QByteArray anthropicRequest(const QByteArray &body, QList<QByteArray> headers = {"anthropic-version: 2023-06-01"})
{
    return httpRequest("POST", "/v1/messages", body, headers);
}

QJsonObject jsonOf(const QByteArray &body)
{
    return QJsonDocument::fromJson(body).object();
}

QList<SseEvent> eventsOf(const QByteArray &body)
{
    SseParser parser;
    return parser.feed(body);
}

} // namespace

class TestSimulatorServer : public QObject {
    Q_OBJECT

    // Sends `request` on a fresh connection and waits for one complete response.
    RawHttpResponse exchange(quint16 port, const QByteArray &request)
    {
        RawHttpClient client;
        if (!client.connectTo(port))
            return {};
        client.send(request);
        if (!QTest::qWaitFor([&client] { return client.responseCount() >= 1; }, kTimeoutMs))
            return {};
        return client.response(0);
    }

private slots:
    void baseUrlNamesTheBoundPort()
    {
        SimulatorServer server(quickOptions());
        QCOMPARE(server.baseUrl(), QString());
        QVERIFY(!server.isListening());
        const auto port = server.listen();
        QVERIFY(port.ok());
        QVERIFY(*port != 0);
        QCOMPARE(server.serverPort(), *port);
        QCOMPARE(server.baseUrl(), QStringLiteral("http://127.0.0.1:%1").arg(*port));
        const auto again = server.listen();
        QVERIFY(!again.ok());
        QCOMPARE(again.error().kind, sluice::http::HttpListenError::Kind::AlreadyListening);
    }

    void invalidOptionsAreRefused()
    {
        SimulatorServerOptions options = quickOptions();
        options.simulator.faults.timeout = 0.7;
        options.simulator.faults.serverError = 0.7;
        SimulatorServer server(options);
        const auto port = server.listen();
        QVERIFY(!port.ok());
        QCOMPARE(port.error().kind, sluice::http::HttpListenError::Kind::Other);
        QVERIFY2(port.error().message.contains("faults: rates must sum to at most 1"),
                 qPrintable(port.error().message));
        QVERIFY(!server.isListening());
    }

    void openAIAnswerCarriesUsage()
    {
        auto server = startServer(quickOptions());
        QVERIFY(server);
        const RawHttpResponse response = exchange(server->serverPort(), openAIRequest(openAIBody()));
        QCOMPARE(response.status, 200);
        QCOMPARE(response.header("content-type"), QByteArray("application/json"));
        QVERIFY(response.header("x-request-id").startsWith("req_sim"));
        QVERIFY(response.hasHeader("openai-processing-ms"));
        const QJsonObject body = jsonOf(response.body);
        QCOMPARE(body.value("object").toString(), QStringLiteral("chat.completion"));
        QVERIFY(body.value("id").toString().startsWith("chatcmpl-sim"));
        QCOMPARE(body.value("model").toString(), QStringLiteral("gpt-4o-mini"));
        const QJsonObject message = body.value("choices").toArray().at(0).toObject().value("message").toObject();
        QCOMPARE(message.value("role").toString(), QStringLiteral("assistant"));
        QVERIFY(!message.value("content").toString().isEmpty());
        const QJsonObject usage = body.value("usage").toObject();
        QVERIFY(usage.value("prompt_tokens").toInt() > 0);
        QCOMPARE(usage.value("completion_tokens").toInt(), 12);
        QCOMPARE(usage.value("total_tokens").toInt(),
                 usage.value("prompt_tokens").toInt() + usage.value("completion_tokens").toInt());

        QTRY_COMPARE_WITH_TIMEOUT(server->stats().answered, 1u, kTimeoutMs);
        const SimulatorServerStats stats = server->stats();
        QCOMPARE(stats.requestsReceived, 1u);
        QCOMPARE(stats.chatRequests, 1u);
        QCOMPARE(stats.faultCount(SimulatedFault::None), 1u);
        QCOMPARE(stats.inFlight, 0u);
        QCOMPARE(stats.cutOff, 0u);
        QCOMPARE(stats.cancelled, 0u);
    }

    void anthropicAnswerCarriesUsage()
    {
        auto server = startServer(quickOptions());
        QVERIFY(server);
        const RawHttpResponse response = exchange(server->serverPort(), anthropicRequest(anthropicBody()));
        QCOMPARE(response.status, 200);
        QCOMPARE(response.header("content-type"), QByteArray("application/json"));
        QVERIFY(response.header("request-id").startsWith("req_sim"));
        const QJsonObject body = jsonOf(response.body);
        QCOMPARE(body.value("type").toString(), QStringLiteral("message"));
        QCOMPARE(body.value("role").toString(), QStringLiteral("assistant"));
        QVERIFY(body.value("id").toString().startsWith("msg_sim"));
        const QJsonObject block = body.value("content").toArray().at(0).toObject();
        QCOMPARE(block.value("type").toString(), QStringLiteral("text"));
        QVERIFY(!block.value("text").toString().isEmpty());
        QCOMPARE(body.value("stop_reason").toString(), QStringLiteral("end_turn"));
        const QJsonObject usage = body.value("usage").toObject();
        QVERIFY(usage.value("input_tokens").toInt() > 0);
        QCOMPARE(usage.value("output_tokens").toInt(), 12);
    }

    void openAIStreamEndsWithDone()
    {
        auto server = startServer(quickOptions());
        QVERIFY(server);
        const RawHttpResponse response = exchange(server->serverPort(), openAIRequest(openAIBody(true)));
        QCOMPARE(response.status, 200);
        QVERIFY(response.chunked);
        QVERIFY(response.header("content-type").startsWith("text/event-stream"));
        QVERIFY(response.header("x-request-id").startsWith("req_sim"));
        // One HTTP chunk per event, several events.
        QVERIFY(response.chunks.size() > 3);
        const QList<SseEvent> events = eventsOf(response.body);
        QCOMPARE(events.size(), response.chunks.size());
        QCOMPARE(events.last().data, QByteArray("[DONE]"));
        StreamAssembler assembler(ProviderKind::OpenAI);
        for (const SseEvent &event : events)
            assembler.addEvent(event);
        QVERIFY(assembler.isComplete());
        QVERIFY(!assembler.error());
        QVERIFY(!assembler.text().isEmpty());
        QVERIFY(assembler.usage().has_value());
        QCOMPARE(assembler.usage()->outputTokens, 12);
        QTRY_COMPARE_WITH_TIMEOUT(server->stats().answered, 1u, kTimeoutMs);
        QCOMPARE(server->stats().inFlight, 0u);
    }

    void anthropicStreamEndsWithMessageStop()
    {
        auto server = startServer(quickOptions());
        QVERIFY(server);
        const RawHttpResponse response = exchange(server->serverPort(), anthropicRequest(anthropicBody(true)));
        QCOMPARE(response.status, 200);
        QVERIFY(response.chunked);
        QVERIFY(response.header("content-type").startsWith("text/event-stream"));
        const QList<SseEvent> events = eventsOf(response.body);
        QVERIFY(events.size() > 3);
        QCOMPARE(events.first().event, QByteArray("message_start"));
        QCOMPARE(events.last().event, QByteArray("message_stop"));
        StreamAssembler assembler(ProviderKind::Anthropic);
        for (const SseEvent &event : events)
            assembler.addEvent(event);
        QVERIFY(assembler.isComplete());
        QVERIFY(!assembler.text().isEmpty());
        QVERIFY(assembler.usage().has_value());
        QCOMPARE(assembler.usage()->outputTokens, 12);
    }

    void quotaRefusalCarriesRateLimitHeaders()
    {
        SimulatorServerOptions options = quickOptions();
        options.simulator.quota.requestsPerMinute = 1;
        auto server = startServer(options);
        QVERIFY(server);
        RawHttpClient client;
        QVERIFY(client.connectTo(server->serverPort()));
        client.send(openAIRequest(openAIBody()));
        client.send(openAIRequest(openAIBody()));
        QTRY_COMPARE_WITH_TIMEOUT(client.responseCount(), 2, kTimeoutMs);
        const RawHttpResponse first = client.response(0);
        QCOMPARE(first.status, 200);
        QCOMPARE(first.header("x-ratelimit-limit-requests"), QByteArray("1"));
        QCOMPARE(first.header("x-ratelimit-remaining-requests"), QByteArray("0"));
        const RawHttpResponse refused = client.response(1);
        QCOMPARE(refused.status, 429);
        QVERIFY(refused.header("retry-after").toInt() >= 1);
        QCOMPARE(refused.header("x-ratelimit-limit-requests"), QByteArray("1"));
        QCOMPARE(refused.header("x-ratelimit-remaining-requests"), QByteArray("0"));
        QVERIFY(refused.hasHeader("x-ratelimit-reset-requests"));
        const QJsonObject error = jsonOf(refused.body).value("error").toObject();
        QCOMPARE(error.value("type").toString(), QStringLiteral("requests"));
        QCOMPARE(error.value("code").toString(), QStringLiteral("rate_limit_exceeded"));
        QTRY_COMPARE_WITH_TIMEOUT(server->stats().answered, 2u, kTimeoutMs);
        QCOMPARE(server->stats().faultCount(SimulatedFault::QuotaExceeded), 1u);
        QCOMPARE(server->stats().faultCount(SimulatedFault::None), 1u);
    }

    void drawnRateLimitCarriesRetryAfter()
    {
        SimulatorServerOptions options = quickOptions();
        options.simulator.faults.rateLimited = 1;
        options.simulator.faults.retryAfterSeconds = 7;
        auto server = startServer(options);
        QVERIFY(server);
        const RawHttpResponse response = exchange(server->serverPort(), anthropicRequest(anthropicBody()));
        QCOMPARE(response.status, 429);
        QCOMPARE(response.header("retry-after"), QByteArray("7"));
        const QJsonObject body = jsonOf(response.body);
        QCOMPARE(body.value("type").toString(), QStringLiteral("error"));
        QCOMPARE(body.value("error").toObject().value("type").toString(), QStringLiteral("rate_limit_error"));
        QCOMPARE(server->stats().faultCount(SimulatedFault::RateLimited), 1u);
    }

    void connectionResetClosesWithoutResponse()
    {
        SimulatorServerOptions options = quickOptions();
        options.simulator.faults.connectionReset = 1;
        auto server = startServer(options);
        QVERIFY(server);
        RawHttpClient client;
        QVERIFY(client.connectTo(server->serverPort()));
        client.send(openAIRequest(openAIBody()));
        QTRY_VERIFY_WITH_TIMEOUT(client.isClosed(), kTimeoutMs);
        QCOMPARE(client.received(), QByteArray());
        QTRY_COMPARE_WITH_TIMEOUT(server->stats().cutOff, 1u, kTimeoutMs);
        const SimulatorServerStats stats = server->stats();
        QCOMPARE(stats.faultCount(SimulatedFault::ConnectionReset), 1u);
        QCOMPARE(stats.answered, 0u);
        QCOMPARE(stats.inFlight, 0u);
    }

    void truncatedStreamHasNoTerminatingChunk_data()
    {
        QTest::addColumn<bool>("stream");
        QTest::newRow("stream") << true;
        QTest::newRow("non-stream body") << false;
    }

    void truncatedStreamHasNoTerminatingChunk()
    {
        QFETCH(bool, stream);
        SimulatorServerOptions options = quickOptions();
        options.simulator.faults.truncatedStream = 1;
        auto server = startServer(options);
        QVERIFY(server);
        RawHttpClient client;
        QVERIFY(client.connectTo(server->serverPort()));
        client.send(openAIRequest(openAIBody(stream)));
        QTRY_VERIFY_WITH_TIMEOUT(client.isClosed(), kTimeoutMs);
        const auto parsed = client.parse();
        QVERIFY(!parsed.malformed);
        QCOMPARE(parsed.responses.size(), 0);
        QVERIFY(parsed.partial.has_value());
        QCOMPARE(parsed.partial->status, 200);
        QVERIFY(parsed.partial->chunked);
        QVERIFY(!parsed.partial->chunks.isEmpty());
        QVERIFY(!client.received().endsWith("0\r\n\r\n"));
        const QByteArray sent = parsed.partial->chunks.join();
        if (stream) {
            QVERIFY(sent.startsWith("data: {"));
            StreamAssembler assembler(ProviderKind::OpenAI);
            for (const SseEvent &event : eventsOf(sent))
                assembler.addEvent(event);
            QVERIFY(!assembler.isComplete()); // [DONE] never arrives whole
        } else {
            QVERIFY(sent.startsWith('{'));                   // the start of the JSON answer
            QVERIFY(QJsonDocument::fromJson(sent).isNull()); // but not all of it
        }
        QTRY_COMPARE_WITH_TIMEOUT(server->stats().cutOff, 1u, kTimeoutMs);
        QCOMPARE(server->stats().faultCount(SimulatedFault::TruncatedStream), 1u);
        QCOMPARE(server->stats().inFlight, 0u);
    }

    void timeoutNeverAnswersAndLeavesNothingBehind()
    {
        SimulatorServerOptions options = quickOptions();
        options.simulator.faults.timeout = 1;
        auto server = startServer(options);
        QVERIFY(server);
        auto client = std::make_unique<RawHttpClient>();
        QVERIFY(client->connectTo(server->serverPort()));
        client->send(anthropicRequest(anthropicBody(true)));
        QTRY_COMPARE_WITH_TIMEOUT(server->stats().inFlight, 1u, kTimeoutMs);
        QTest::qWait(300); // far longer than any quickOptions() answer takes
        QCOMPARE(client->received(), QByteArray());
        QVERIFY(!client->isClosed());
        QCOMPARE(server->stats().inFlight, 1u);
        QCOMPARE(server->stats().faultCount(SimulatedFault::Timeout), 1u);

        client->socket().abort();
        client.reset();
        QTRY_COMPARE_WITH_TIMEOUT(server->stats().inFlight, 0u, kTimeoutMs);
        QCOMPARE(server->stats().cancelled, 1u);
        QCOMPARE(server->stats().answered, 0u);
        QTRY_COMPARE_WITH_TIMEOUT(server->httpStats().connectionsActive, 0u, kTimeoutMs);
    }

    void clientLeavingMidStreamStopsTheReplay()
    {
        SimulatorServerOptions options = quickOptions();
        // Slow enough that the stream is still running when the client leaves.
        options.simulator.tokensPerSecond = 10;
        options.simulator.perTokenLatencyMilliseconds = Distribution{Distribution::Shape::Fixed, 100, 0};
        options.simulator.outputTokens = Distribution{Distribution::Shape::Fixed, 200, 0};
        auto server = startServer(options);
        QVERIFY(server);
        auto client = std::make_unique<RawHttpClient>();
        QVERIFY(client->connectTo(server->serverPort()));
        client->send(openAIRequest(openAIBody(true)));
        QTRY_VERIFY_WITH_TIMEOUT(client->parse().partial && client->parse().partial->chunks.size() >= 2, kTimeoutMs);
        QCOMPARE(server->stats().inFlight, 1u);
        client->socket().abort();
        client.reset();
        QTRY_COMPARE_WITH_TIMEOUT(server->stats().inFlight, 0u, kTimeoutMs);
        QCOMPARE(server->stats().cancelled, 1u);
        QCOMPARE(server->stats().answered, 0u);
    }

    void destroyingTheServerWithRepliesInFlight()
    {
        SimulatorServerOptions options = quickOptions();
        options.simulator.faults.timeout = 1;
        options.threads = 2;
        auto server = startServer(options);
        QVERIFY(server);
        RawHttpClient first;
        RawHttpClient second;
        QVERIFY(first.connectTo(server->serverPort()));
        QVERIFY(second.connectTo(server->serverPort()));
        first.send(openAIRequest(openAIBody()));
        second.send(openAIRequest(openAIBody()));
        QTRY_COMPARE_WITH_TIMEOUT(server->stats().inFlight, 2u, kTimeoutMs);
        server.reset(); // aborts both connections; the replays are cancelled and deleted
        QTRY_VERIFY_WITH_TIMEOUT(first.isClosed() && second.isClosed(), kTimeoutMs);
        QCOMPARE(first.received(), QByteArray());
    }

    void authentication_data()
    {
        QTest::addColumn<QByteArray>("path");
        QTest::addColumn<QList<QByteArray>>("headers");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("errorType"); // OpenAI: error.code; Anthropic: error.type

        const QByteArray openAI = "/v1/chat/completions";
        const QByteArray anthropic = "/v1/messages";
        const QByteArray version = "anthropic-version: 2023-06-01";
        QTest::newRow("openai no key") << openAI << QList<QByteArray>{} << 401 << "invalid_api_key";
        QTest::newRow("openai wrong key")
            << openAI << QList<QByteArray>{"Authorization: Bearer sk-wrong-key-0000"} << 401 << "invalid_api_key";
        QTest::newRow("openai key without bearer")
            << openAI << QList<QByteArray>{"Authorization: sk-right"} << 401 << "invalid_api_key";
        QTest::newRow("openai key as x-api-key")
            << openAI << QList<QByteArray>{"x-api-key: sk-right"} << 401 << "invalid_api_key";
        QTest::newRow("openai right key") << openAI << QList<QByteArray>{"Authorization: Bearer sk-right"} << 200 << "";
        QTest::newRow("openai bearer is case-insensitive")
            << openAI << QList<QByteArray>{"Authorization: bearer sk-right"} << 200 << "";
        QTest::newRow("anthropic no key") << anthropic << QList<QByteArray>{version} << 401 << "authentication_error";
        QTest::newRow("anthropic wrong key")
            << anthropic << QList<QByteArray>{version, "x-api-key: nope"} << 401 << "authentication_error";
        QTest::newRow("anthropic key as bearer")
            << anthropic << QList<QByteArray>{version, "Authorization: Bearer sk-right"} << 401
            << "authentication_error";
        QTest::newRow("anthropic right key without version")
            << anthropic << QList<QByteArray>{"x-api-key: sk-right"} << 400 << "invalid_request_error";
        QTest::newRow("anthropic right key") << anthropic << QList<QByteArray>{version, "x-api-key: sk-right"} << 200
                                             << "";
    }

    void authentication()
    {
        QFETCH(QByteArray, path);
        QFETCH(QList<QByteArray>, headers);
        QFETCH(int, status);
        QFETCH(QString, errorType);
        SimulatorServerOptions options = quickOptions();
        options.requiredApiKey = "sk-right";
        auto server = startServer(options);
        QVERIFY(server);
        const bool openAI = path == "/v1/chat/completions";
        const RawHttpResponse response =
            exchange(server->serverPort(), httpRequest("POST", path, openAI ? openAIBody() : anthropicBody(), headers));
        QCOMPARE(response.status, status);
        const QJsonObject body = jsonOf(response.body);
        if (status == 200) {
            QVERIFY(body.contains("usage"));
            QCOMPARE(server->stats().chatRequests, 1u);
            return;
        }
        if (openAI) {
            QCOMPARE(body.value("error").toObject().value("code").toString(), errorType);
            QCOMPARE(body.value("error").toObject().value("type").toString(), QStringLiteral("invalid_request_error"));
            QVERIFY(!response.body.contains("sk-right"));
        } else {
            QCOMPARE(body.value("type").toString(), QStringLiteral("error"));
            QCOMPARE(body.value("error").toObject().value("type").toString(), errorType);
        }
        // Refused before the provider saw it: no quota, no fault draw.
        QCOMPARE(server->stats().chatRequests, 0u);
        QCOMPARE(server->stats().requestsReceived, 1u);
    }

    void anyKeyWithoutRequiredKey()
    {
        auto server = startServer(quickOptions());
        QVERIFY(server);
        QCOMPARE(exchange(server->serverPort(), openAIRequest(openAIBody(), {"Authorization: Bearer whatever"})).status,
                 200);
        QCOMPARE(exchange(server->serverPort(), openAIRequest(openAIBody())).status, 200);
        QCOMPARE(exchange(server->serverPort(), anthropicRequest(anthropicBody(), {"anthropic-version: 2023-06-01",
                                                                                   "x-api-key: anything"}))
                     .status,
                 200);
        // The version header is required whatever the key.
        const RawHttpResponse noVersion = exchange(server->serverPort(), anthropicRequest(anthropicBody(), {}));
        QCOMPARE(noVersion.status, 400);
        QCOMPARE(jsonOf(noVersion.body).value("error").toObject().value("message").toString(),
                 QStringLiteral("anthropic-version: header is required"));
    }

    void modelList()
    {
        SimulatorServerOptions options = quickOptions();
        options.simulator.models = QStringList{"gpt-4o-mini", "claude-sonnet"};
        options.requiredApiKey = "sk-right";
        auto server = startServer(options);
        QVERIFY(server);

        const RawHttpResponse openAI =
            exchange(server->serverPort(), httpRequest("GET", "/v1/models", {}, {"Authorization: Bearer sk-right"}));
        QCOMPARE(openAI.status, 200);
        const QJsonObject openAIList = jsonOf(openAI.body);
        QCOMPARE(openAIList.value("object").toString(), QStringLiteral("list"));
        const QJsonArray openAIData = openAIList.value("data").toArray();
        QCOMPARE(openAIData.size(), 2);
        const QJsonObject firstModel = openAIData.at(0).toObject();
        QCOMPARE(firstModel.value("id").toString(), QStringLiteral("gpt-4o-mini"));
        QCOMPARE(firstModel.value("object").toString(), QStringLiteral("model"));
        QCOMPARE(firstModel.value("created").toInteger(), kFixedEpochMilliseconds / 1000);
        QCOMPARE(firstModel.value("owned_by").toString(), QStringLiteral("sluice-simulator"));
        QCOMPARE(openAIData.at(1).toObject().value("id").toString(), QStringLiteral("claude-sonnet"));

        const RawHttpResponse anthropic = exchange(
            server->serverPort(),
            httpRequest("GET", "/v1/models", {}, {"anthropic-version: 2023-06-01", "x-api-key: sk-right"}));
        QCOMPARE(anthropic.status, 200);
        const QJsonObject anthropicList = jsonOf(anthropic.body);
        QVERIFY(!anthropicList.contains("object"));
        QCOMPARE(anthropicList.value("has_more").toBool(true), false);
        QCOMPARE(anthropicList.value("first_id").toString(), QStringLiteral("gpt-4o-mini"));
        QCOMPARE(anthropicList.value("last_id").toString(), QStringLiteral("claude-sonnet"));
        const QJsonObject anthropicModel = anthropicList.value("data").toArray().at(1).toObject();
        QCOMPARE(anthropicModel.value("type").toString(), QStringLiteral("model"));
        QCOMPARE(anthropicModel.value("id").toString(), QStringLiteral("claude-sonnet"));
        QCOMPARE(anthropicModel.value("display_name").toString(), QStringLiteral("claude-sonnet"));
        QCOMPARE(anthropicModel.value("created_at").toString(), QStringLiteral("2024-05-01T12:00:00Z"));

        const RawHttpResponse one = exchange(
            server->serverPort(), httpRequest("GET", "/v1/models/claude-sonnet", {}, {"Authorization: Bearer sk-right"}));
        QCOMPARE(one.status, 200);
        QCOMPARE(jsonOf(one.body).value("id").toString(), QStringLiteral("claude-sonnet"));
        const RawHttpResponse missing = exchange(
            server->serverPort(), httpRequest("GET", "/v1/models/gpt-5", {}, {"Authorization: Bearer sk-right"}));
        QCOMPARE(missing.status, 404);
        QCOMPARE(jsonOf(missing.body).value("error").toObject().value("code").toString(),
                 QStringLiteral("model_not_found"));

        const RawHttpResponse unauthenticated = exchange(server->serverPort(), httpRequest("GET", "/v1/models"));
        QCOMPARE(unauthenticated.status, 401);
        // Serving a model not in the list: 404 from the provider.
        const RawHttpResponse unknownModel = exchange(
            server->serverPort(),
            openAIRequest(QByteArray(openAIBody()).replace("gpt-4o-mini", "gpt-5"), {"Authorization: Bearer sk-right"}));
        QCOMPARE(unknownModel.status, 404);
        QCOMPARE(server->stats().faultCount(SimulatedFault::ModelNotFound), 1u);
    }

    void otherRoutes_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("path");
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("allow");

        QTest::newRow("unknown path") << QByteArray("GET") << QByteArray("/v1/embeddings") << 404 << QByteArray();
        QTest::newRow("root") << QByteArray("GET") << QByteArray("/") << 404 << QByteArray();
        QTest::newRow("chat with GET") << QByteArray("GET") << QByteArray("/v1/chat/completions") << 405
                                       << QByteArray("POST");
        QTest::newRow("messages with PUT") << QByteArray("PUT") << QByteArray("/v1/messages") << 405
                                           << QByteArray("POST");
        QTest::newRow("models with POST") << QByteArray("POST") << QByteArray("/v1/models") << 405
                                          << QByteArray("GET, HEAD");
        QTest::newRow("healthz with POST") << QByteArray("POST") << QByteArray("/healthz") << 405
                                           << QByteArray("GET, HEAD");
    }

    void otherRoutes()
    {
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, path);
        QFETCH(int, status);
        QFETCH(QByteArray, allow);
        auto server = startServer(quickOptions());
        QVERIFY(server);
        const RawHttpResponse response = exchange(server->serverPort(), httpRequest(method, path));
        QCOMPARE(response.status, status);
        QCOMPARE(response.header("allow"), allow);
        QCOMPARE(response.header("content-type"), QByteArray("application/json"));
        const QJsonObject error = jsonOf(response.body).value("error").toObject();
        QVERIFY(!error.value("message").toString().isEmpty());
        QCOMPARE(error.value("type").toString(), QStringLiteral("invalid_request_error"));
        QCOMPARE(server->stats().chatRequests, 0u);
    }

    void healthz()
    {
        SimulatorServerOptions options = quickOptions();
        options.requiredApiKey = "sk-right"; // health checks need no key
        auto server = startServer(options);
        QVERIFY(server);
        const RawHttpResponse response = exchange(server->serverPort(), httpRequest("GET", "/healthz"));
        QCOMPARE(response.status, 200);
        QCOMPARE(response.body, QByteArray("{\"status\":\"ok\"}"));
    }

    void invalidBodyGetsProviderError()
    {
        auto server = startServer(quickOptions());
        QVERIFY(server);
        const RawHttpResponse response = exchange(server->serverPort(), openAIRequest("{\"model\":"));
        QCOMPARE(response.status, 400);
        QCOMPARE(jsonOf(response.body).value("error").toObject().value("type").toString(),
                 QStringLiteral("invalid_request_error"));
        QCOMPARE(server->stats().chatRequests, 1u);
    }

    void sameSeedSameBody()
    {
        const sluice::policy::ManualClock clock; // never advanced: identical timestamps
        SimulatorServer one(quickOptions(42), clock);
        SimulatorServer two(quickOptions(42), clock);
        SimulatorServer other(quickOptions(43), clock);
        QVERIFY(one.listen().ok());
        QVERIFY(two.listen().ok());
        QVERIFY(other.listen().ok());
        for (const bool stream : {false, true}) {
            const QByteArray request = openAIRequest(openAIBody(stream, QStringLiteral("Tell me a story.")));
            const RawHttpResponse first = exchange(one.serverPort(), request);
            const RawHttpResponse second = exchange(two.serverPort(), request);
            const RawHttpResponse third = exchange(other.serverPort(), request);
            QCOMPARE(first.status, 200);
            QVERIFY(!first.body.isEmpty());
            QCOMPARE(second.body, first.body);
            QCOMPARE(second.header("x-request-id"), first.header("x-request-id"));
            QCOMPARE(third.status, 200);
            QVERIFY(third.body != first.body);
        }
    }
};

QTEST_GUILESS_MAIN(TestSimulatorServer)
#include "tst_simulatorserver.moc"
