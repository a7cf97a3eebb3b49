// The whole gateway over real sockets: a simulated provider on 127.0.0.1, the gateway in
// front of it, and raw HTTP clients. Each case checks what a client and an operator see.
#include "gatewayharness.h"

#include "config/configwriter.h"
#include "config/apikeyhash.h"
#include "gateway/sseparser.h"
#include "gateway/streamassembler.h"

#include <QJsonArray>
#include <QTcpServer>
#include <QTest>

using namespace sluice;
using namespace sluice::test;

class TestGatewayEndToEnd : public QObject {
    Q_OBJECT

private slots:
    void openAINonStreamThenCacheHit();
    void openAIStreamHidesUsageChunkAndReplaysFromCache();
    void anthropicStream();
    void noCacheAndNoStoreBypass();
    void authenticationErrors();
    void badRequestsAnsweredInShape();
    void oversizeBodyIs413();
    void keyRateLimitAnswers429WithHeaders();
    void queueFullAnswers503();
    void upstreamErrorsAreRetriedThenPassedThrough();
    void fallbackToNextUpstreamWhenOneIsDown();
    void providerRateLimitPausesUpstreamAndFallsBack();
    void upstreamTimeoutIs504();
    void modelsListAndHealth();
    void adminPatchAppliesLive();
    void clientGoingAwayReleasesEverything();
    void singleFlightSharesOneUpstreamCall();
    void unreadableAdminTokenRefusesToStart();
};

void TestGatewayEndToEnd::openAINonStreamThenCacheHit()
{
    GatewayHarness harness;
    QVERIFY2(harness.startError.isEmpty(), qPrintable(harness.startError));
    const QByteArray body = chatBody(QStringLiteral("gpt-4o-mini"), QStringLiteral("What is a sluice?"));
    const auto first = exchange(harness.port, "POST", "/v1/chat/completions", body, bearer());
    QCOMPARE(first.status, 200);
    QCOMPARE(first.header("x-sluice-cache"), QByteArray("MISS"));
    QCOMPARE(first.header("x-sluice-upstream"), QByteArray("simulated-openai"));
    QVERIFY(!first.header("x-sluice-request-id").isEmpty());
    QVERIFY(!first.header("x-ratelimit-remaining-requests").isEmpty());
    const QJsonObject answer = jsonOf(first);
    QCOMPARE(answer.value(QStringLiteral("object")).toString(), QStringLiteral("chat.completion"));
    QVERIFY(answer.value(QStringLiteral("usage")).toObject().value(QStringLiteral("completion_tokens")).toInt() > 0);

    const auto second = exchange(harness.port, "POST", "/v1/chat/completions", body, bearer());
    QCOMPARE(second.status, 200);
    QCOMPARE(second.header("x-sluice-cache"), QByteArray("HIT"));
    QCOMPARE(jsonOf(second), answer);
    QCOMPARE(harness.simulator->stats().chatRequests, quint64(1));

    auto &registry = harness.gw->registry();
    QCOMPARE(metricSum(registry, "sluice_cache_requests_total", {{"result", "hit"}}), 1.0);
    QCOMPARE(metricSum(registry, "sluice_cache_requests_total", {{"result", "miss"}}), 1.0);
    QTRY_COMPARE(metricSum(registry, "sluice_requests_total", {{"code", "2xx"}, {"model", "gpt-4o-mini"}}), 2.0);
    QVERIFY(metricSum(registry, "sluice_tokens_total", {{"type", "output"}}) > 0);
    QVERIFY(metricSum(registry, "sluice_cost_usd_total") > 0);
    QCOMPARE(metricSum(registry, "sluice_cache_saved_tokens_total", {{"model", "gpt-4o-mini"}}),
             answer.value(QStringLiteral("usage")).toObject().value(QStringLiteral("total_tokens")).toDouble());
    QVERIFY(metricSum(registry, "sluice_cache_saved_usd_total") > 0);
    // One usage record per answered request: the miss with its tokens, the hit without.
    QTRY_COMPARE(harness.usage().size(), 2);
    const auto usage = harness.usage();
    QCOMPARE(usage[0].apiKeyId, QStringLiteral("demo"));
    QCOMPARE(usage[0].upstream, QStringLiteral("simulated-openai"));
    QCOMPARE(usage[0].httpStatus, 200);
    QVERIFY(!usage[0].cacheHit && usage[0].tokens.outputTokens > 0 && usage[0].costUsd > 0);
    QVERIFY(usage[1].cacheHit && usage[1].tokens.totalTokens() == 0);
    QCOMPARE(usage[1].requestId, QString::fromLatin1(second.header("x-sluice-request-id")));
}

void TestGatewayEndToEnd::openAIStreamHidesUsageChunkAndReplaysFromCache()
{
    GatewayHarness harness;
    QVERIFY(harness.startError.isEmpty());
    const QByteArray body = chatBody(QStringLiteral("fast"), QStringLiteral("Stream me a story"), true);
    const auto first = exchange(harness.port, "POST", "/v1/chat/completions", body, bearer());
    QCOMPARE(first.status, 200);
    QVERIFY(first.header("content-type").startsWith("text/event-stream"));
    gateway::SseParser parser;
    const auto events = parser.feed(first.body);
    QVERIFY(events.size() > 3);
    QCOMPARE(events.last().data, QByteArray("[DONE]"));
    for (const auto &event : events) {
        if (event.data == "[DONE]")
            continue;
        const QJsonObject chunk = QJsonDocument::fromJson(event.data).object();
        // The gateway asked for usage upstream; the client did not, so it never sees it.
        QVERIFY2(!chunk.value(QStringLiteral("choices")).toArray().isEmpty(), event.data.constData());
    }
    // Usage was still accounted from the hidden chunk.
    QVERIFY(metricSum(harness.gw->registry(), "sluice_tokens_total", {{"type", "output"}, {"model", "fast"}}) > 0);

    const auto second = exchange(harness.port, "POST", "/v1/chat/completions", body, bearer());
    QCOMPARE(second.status, 200);
    QCOMPARE(second.header("x-sluice-cache"), QByteArray("HIT"));
    gateway::SseParser replayParser;
    const auto replayed = replayParser.feed(second.body);
    QCOMPARE(replayed.last().data, QByteArray("[DONE]"));
    gateway::StreamAssembler original(gateway::ProviderKind::OpenAI);
    gateway::StreamAssembler replay(gateway::ProviderKind::OpenAI);
    for (const auto &event : events)
        original.addEvent(event);
    for (const auto &event : replayed)
        replay.addEvent(event);
    QCOMPARE(replay.text(), original.text());
    QVERIFY(!original.text().isEmpty());
    QCOMPARE(harness.simulator->stats().chatRequests, quint64(1));
}

void TestGatewayEndToEnd::anthropicStream()
{
    GatewayHarness harness;
    QVERIFY(harness.startError.isEmpty());
    const auto response = exchange(harness.port, "POST", "/v1/messages",
                                   messagesBody(QStringLiteral("claude-haiku"), QStringLiteral("Hi"), true),
                                   {{"x-api-key", gateway::kDemoClientKey},
                                    {"anthropic-version", "2023-06-01"},
                                    {"content-type", "application/json"}});
    QCOMPARE(response.status, 200);
    QCOMPARE(response.header("x-sluice-upstream"), QByteArray("simulated-anthropic"));
    gateway::SseParser parser;
    const auto events = parser.feed(response.body);
    QVERIFY(!events.isEmpty());
    QCOMPARE(events.first().event, QByteArray("message_start"));
    QCOMPARE(events.last().event, QByteArray("message_stop"));
    QVERIFY(!response.header("anthropic-ratelimit-requests-remaining").isEmpty());
}

void TestGatewayEndToEnd::noCacheAndNoStoreBypass()
{
    GatewayHarness harness;
    QVERIFY(harness.startError.isEmpty());
    const QByteArray body = chatBody(QStringLiteral("gpt-4o"), QStringLiteral("fresh please"));
    auto headers = bearer();
    headers.append(qMakePair(QByteArray("Cache-Control"), QByteArray("no-store")));
    QCOMPARE(exchange(harness.port, "POST", "/v1/chat/completions", body, headers).header("x-sluice-cache"),
             QByteArray("BYPASS"));
    // no-store kept it out of the cache: a normal request still misses.
    QCOMPARE(exchange(harness.port, "POST", "/v1/chat/completions", body, bearer()).header("x-sluice-cache"),
             QByteArray("MISS"));
    auto noCache = bearer();
    noCache.append(qMakePair(QByteArray("Cache-Control"), QByteArray("no-cache")));
    QCOMPARE(exchange(harness.port, "POST", "/v1/chat/completions", body, noCache).header("x-sluice-cache"),
             QByteArray("BYPASS"));
    QCOMPARE(harness.simulator->stats().chatRequests, quint64(3));
}

void TestGatewayEndToEnd::authenticationErrors()
{
    GatewayHarness harness;
    QVERIFY(harness.startError.isEmpty());
    const QByteArray body = chatBody(QStringLiteral("gpt-4o"), QStringLiteral("hi"));
    const auto none = exchange(harness.port, "POST", "/v1/chat/completions", body, {{"Content-Type", "application/json"}});
    QCOMPARE(none.status, 401);
    QCOMPARE(jsonOf(none).value(QStringLiteral("error")).toObject().value(QStringLiteral("code")).toString(),
             QStringLiteral("invalid_api_key"));
    const auto wrong = exchange(harness.port, "POST", "/v1/chat/completions", body, bearer("sk-wrong"));
    QCOMPARE(wrong.status, 401);
    const auto anthropic = exchange(harness.port, "POST", "/v1/messages", messagesBody(QStringLiteral("claude-haiku"), QStringLiteral("x")),
                                    {{"x-api-key", "sk-wrong"}, {"anthropic-version", "2023-06-01"}});
    QCOMPARE(anthropic.status, 401);
    QCOMPARE(jsonOf(anthropic).value(QStringLiteral("error")).toObject().value(QStringLiteral("type")).toString(),
             QStringLiteral("authentication_error"));
    QCOMPARE(harness.simulator->stats().chatRequests, quint64(0));
    QCOMPARE(metricSum(harness.gw->registry(), "sluice_client_errors_total"), 3.0);
}

void TestGatewayEndToEnd::badRequestsAnsweredInShape()
{
    GatewayHarness harness;
    QVERIFY(harness.startError.isEmpty());
    const auto badJson = exchange(harness.port, "POST", "/v1/chat/completions", "{\"model\": ", bearer());
    QCOMPARE(badJson.status, 400);
    QVERIFY(jsonOf(badJson).value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString().contains(
        QStringLiteral("JSON")));
    const auto badField = exchange(harness.port, "POST", "/v1/chat/completions",
                                   chatBody(QStringLiteral("gpt-4o"), QStringLiteral("x"), false,
                                            QJsonObject{{QStringLiteral("temperature"), 7}}),
                                   bearer());
    QCOMPARE(badField.status, 400);
    QCOMPARE(jsonOf(badField).value(QStringLiteral("error")).toObject().value(QStringLiteral("param")).toString(),
             QStringLiteral("temperature"));
    const auto unknownModel = exchange(harness.port, "POST", "/v1/chat/completions",
                                       chatBody(QStringLiteral("gpt-9"), QStringLiteral("x")), bearer());
    QCOMPARE(unknownModel.status, 404);
    QCOMPARE(jsonOf(unknownModel).value(QStringLiteral("error")).toObject().value(QStringLiteral("code")).toString(),
             QStringLiteral("model_not_found"));
    const auto wrongMethod = exchange(harness.port, "GET", "/v1/chat/completions", {}, bearer());
    QCOMPARE(wrongMethod.status, 405);
    const auto unknownPath = exchange(harness.port, "GET", "/v2/nothing", {}, bearer());
    QCOMPARE(unknownPath.status, 404);
    QCOMPARE(harness.simulator->stats().chatRequests, quint64(0));
}

void TestGatewayEndToEnd::oversizeBodyIs413()
{
    GatewayHarness harness([](config::GatewayConfig &config) { config.server.maxBodyBytes = 2048; });
    QVERIFY(harness.startError.isEmpty());
    const auto response = exchange(harness.port, "POST", "/v1/chat/completions",
                                   chatBody(QStringLiteral("gpt-4o"), QString(4096, QLatin1Char('a'))), bearer());
    QCOMPARE(response.status, 413);
    QVERIFY(jsonOf(response).contains(QStringLiteral("error")));
}

void TestGatewayEndToEnd::keyRateLimitAnswers429WithHeaders()
{
    GatewayHarness harness([](config::GatewayConfig &config) { config.apiKeys[0].requestsPerMinute = 2; });
    QVERIFY(harness.startError.isEmpty());
    for (int i = 0; i < 2; ++i) {
        const auto ok = exchange(harness.port, "POST", "/v1/chat/completions",
                                 chatBody(QStringLiteral("gpt-4o"), QStringLiteral("n%1").arg(i)), bearer());
        QCOMPARE(ok.status, 200);
    }
    const auto limited = exchange(harness.port, "POST", "/v1/chat/completions",
                                  chatBody(QStringLiteral("gpt-4o"), QStringLiteral("n3")), bearer());
    QCOMPARE(limited.status, 429);
    QVERIFY(limited.header("retry-after").toInt() >= 1);
    QCOMPARE(limited.header("x-ratelimit-limit-requests"), QByteArray("2"));
    QCOMPARE(limited.header("x-ratelimit-remaining-requests"), QByteArray("0"));
    QVERIFY(!limited.header("x-ratelimit-reset-requests").isEmpty());
    QCOMPARE(jsonOf(limited).value(QStringLiteral("error")).toObject().value(QStringLiteral("code")).toString(),
             QStringLiteral("rate_limit_exceeded"));
    QCOMPARE(metricSum(harness.gw->registry(), "sluice_rate_limit_decisions_total",
                       {{"scope", "key:demo"}, {"result", "limited"}}),
             1.0);
    QCOMPARE(harness.simulator->stats().chatRequests, quint64(2));
}

void TestGatewayEndToEnd::queueFullAnswers503()
{
    auto simulator = GatewayHarness::defaultSimulator();
    simulator.timeToFirstTokenMilliseconds = {gateway::Distribution::Shape::Fixed, 1500, 0};
    GatewayHarness harness(
        [](config::GatewayConfig &config) {
            config.concurrency.maxInFlight = 1;
            config.concurrency.maxQueue = 0;
        },
        simulator);
    QVERIFY(harness.startError.isEmpty());
    RawHttpClient slow;
    QVERIFY(slow.connectTo(harness.port));
    const QByteArray body = chatBody(QStringLiteral("gpt-4o"), QStringLiteral("slow one"));
    slow.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-sluice-demo\r\n"
              "Content-Type: application/json\r\nContent-Length: "
              + QByteArray::number(body.size()) + "\r\n\r\n" + body);
    QTRY_COMPARE(harness.simulator->stats().inFlight, quint64(1));
    const auto refused = exchange(harness.port, "POST", "/v1/chat/completions",
                                  chatBody(QStringLiteral("gpt-4o"), QStringLiteral("second")), bearer());
    QCOMPARE(refused.status, 503);
    QCOMPARE(refused.header("retry-after"), QByteArray("1"));
    QCOMPARE(metricSum(harness.gw->registry(), "sluice_queue_rejections_total", {{"reason", "full"}}), 1.0);
    QTRY_COMPARE_WITH_TIMEOUT(slow.responseCount(), qsizetype(1), 10000);
    QCOMPARE(slow.response(0).status, 200);
}

void TestGatewayEndToEnd::upstreamErrorsAreRetriedThenPassedThrough()
{
    auto simulator = GatewayHarness::defaultSimulator();
    simulator.faults.serverError = 1.0;
    GatewayHarness harness(
        [](config::GatewayConfig &config) {
            config.retries.maxAttempts = 3;
            config.retries.baseDelay = std::chrono::milliseconds(5);
            config.retries.maxDelay = std::chrono::milliseconds(20);
            config.upstreams.resize(1);
        },
        simulator);
    QVERIFY(harness.startError.isEmpty());
    const auto response = exchange(harness.port, "POST", "/v1/chat/completions",
                                   chatBody(QStringLiteral("gpt-4o"), QStringLiteral("x")), bearer());
    QCOMPARE(response.status, 500);
    QCOMPARE(jsonOf(response).value(QStringLiteral("error")).toObject().value(QStringLiteral("type")).toString(),
             QStringLiteral("server_error"));
    QCOMPARE(harness.simulator->stats().chatRequests, quint64(3));
    QCOMPARE(metricSum(harness.gw->registry(), "sluice_retries_total", {{"upstream", "simulated-openai"}}), 2.0);
    QCOMPARE(metricSum(harness.gw->registry(), "sluice_upstream_errors_total", {{"kind", "status_5xx"}}), 3.0);
}

void TestGatewayEndToEnd::fallbackToNextUpstreamWhenOneIsDown()
{
    // A port nothing listens on: bind, note the port, close.
    quint16 deadPort = 0;
    {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        deadPort = probe.serverPort();
    }
    GatewayHarness harness([deadPort](config::GatewayConfig &config) {
        config::Upstream dead = config.upstreams[0];
        dead.name = QStringLiteral("dead-openai");
        dead.baseUrl = QStringLiteral("http://127.0.0.1:%1/v1").arg(deadPort);
        dead.priority = 0;
        config.upstreams[0].priority = 5;
        config.upstreams.insert(config.upstreams.begin(), dead);
        config.retries.maxAttempts = 1;
    });
    QVERIFY2(harness.startError.isEmpty(), qPrintable(harness.startError));
    const auto response = exchange(harness.port, "POST", "/v1/chat/completions",
                                   chatBody(QStringLiteral("gpt-4o"), QStringLiteral("x")), bearer());
    QCOMPARE(response.status, 200);
    QCOMPARE(response.header("x-sluice-upstream"), QByteArray("simulated-openai"));
    auto &registry = harness.gw->registry();
    QCOMPARE(metricSum(registry, "sluice_upstream_errors_total", {{"upstream", "dead-openai"}, {"kind", "connection_refused"}}), 1.0);
    QCOMPARE(metricSum(registry, "sluice_fallbacks_total", {{"from_upstream", "dead-openai"}}), 1.0);
}

void TestGatewayEndToEnd::providerRateLimitPausesUpstreamAndFallsBack()
{
    auto limitedOptions = GatewayHarness::defaultSimulator();
    limitedOptions.faults.rateLimited = 1.0;
    limitedOptions.faults.retryAfterSeconds = 30;
    gateway::SimulatorServerOptions limitedServerOptions;
    limitedServerOptions.simulator = limitedOptions;
    gateway::SimulatorServer limited(limitedServerOptions);
    QVERIFY(bool(limited.listen()));
    const QString limitedUrl = limited.baseUrl();
    GatewayHarness harness([limitedUrl](config::GatewayConfig &config) {
        config::Upstream first = config.upstreams[0];
        first.name = QStringLiteral("limited-openai");
        first.baseUrl = limitedUrl + QStringLiteral("/v1");
        first.priority = 0;
        config.upstreams[0].priority = 5;
        config.upstreams.insert(config.upstreams.begin(), first);
    });
    QVERIFY(harness.startError.isEmpty());
    for (int i = 0; i < 3; ++i) {
        const auto response = exchange(harness.port, "POST", "/v1/chat/completions",
                                       chatBody(QStringLiteral("gpt-4o"), QStringLiteral("q%1").arg(i)), bearer());
        QCOMPARE(response.status, 200);
        QCOMPARE(response.header("x-sluice-upstream"), QByteArray("simulated-openai"));
    }
    // Paused for its Retry-After after the first 429: it saw one request only.
    QCOMPARE(limited.stats().chatRequests, quint64(1));
    QCOMPARE(metricSum(harness.gw->registry(), "sluice_upstream_paused_seconds_total", {{"upstream", "limited-openai"}}), 30.0);
}

void TestGatewayEndToEnd::upstreamTimeoutIs504()
{
    auto simulator = GatewayHarness::defaultSimulator();
    simulator.faults.timeout = 1.0;
    GatewayHarness harness(
        [](config::GatewayConfig &config) {
            config.timeouts.firstByte = std::chrono::milliseconds(300);
            config.retries.maxAttempts = 1;
            config.upstreams.resize(1);
        },
        simulator);
    QVERIFY(harness.startError.isEmpty());
    const auto response = exchange(harness.port, "POST", "/v1/chat/completions",
                                   chatBody(QStringLiteral("gpt-4o"), QStringLiteral("x")), bearer());
    QCOMPARE(response.status, 504);
    QVERIFY(jsonOf(response).value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString().contains(
        QStringLiteral("simulated-openai")));
    QCOMPARE(metricSum(harness.gw->registry(), "sluice_upstream_errors_total", {{"kind", "first_byte_timeout"}}), 1.0);
    // The simulator's held request is released once the gateway gave up on it.
    QTRY_COMPARE(harness.simulator->stats().inFlight, quint64(0));
}

void TestGatewayEndToEnd::modelsListAndHealth()
{
    GatewayHarness harness;
    QVERIFY(harness.startError.isEmpty());
    const auto models = exchange(harness.port, "GET", "/v1/models", {}, bearer());
    QCOMPARE(models.status, 200);
    QStringList ids;
    for (const auto &entry : jsonOf(models).value(QStringLiteral("data")).toArray())
        ids.append(entry.toObject().value(QStringLiteral("id")).toString());
    QVERIFY(ids.contains(QStringLiteral("gpt-4o-mini")));
    QVERIFY(ids.contains(QStringLiteral("fast")));
    QVERIFY(!ids.contains(QStringLiteral("claude-haiku")));
    QCOMPARE(exchange(harness.port, "GET", "/v1/models", {}, {}).status, 401);
    const auto one = exchange(harness.port, "GET", "/v1/models/smart", {}, bearer());
    QCOMPARE(one.status, 200);
    QCOMPARE(jsonOf(one).value(QStringLiteral("id")).toString(), QStringLiteral("smart"));
    QCOMPARE(exchange(harness.port, "GET", "/v1/models/gpt-9", {}, bearer()).status, 404);
    const auto claude = exchange(harness.port, "GET", "/v1/models", {},
                                 {{"x-api-key", gateway::kDemoClientKey}, {"anthropic-version", "2023-06-01"}});
    QCOMPARE(claude.status, 200);
    QCOMPARE(jsonOf(claude).value(QStringLiteral("data")).toArray().first().toObject().value(QStringLiteral("type")).toString(),
             QStringLiteral("model"));
    QCOMPARE(exchange(harness.port, "GET", "/healthz", {}).status, 200);
    const auto ready = exchange(harness.port, "GET", "/readyz", {});
    QCOMPARE(ready.status, 200);
    const auto metricsText = exchange(harness.port, "GET", "/metrics", {});
    QCOMPARE(metricsText.status, 200);
    QVERIFY(metricsText.body.contains("sluice_build_info"));
}

void TestGatewayEndToEnd::adminPatchAppliesLive()
{
    GatewayHarness harness;
    QVERIFY(harness.startError.isEmpty());
    const QList<QPair<QByteArray, QByteArray>> admin{{"Authorization", "Bearer " + harness.adminToken},
                                                     {"Content-Type", "application/merge-patch+json"}};
    QCOMPARE(exchange(harness.adminPort, "GET", "/admin/v1/stats", {}, {}).status, 401);
    const QByteArray patch = R"({"api_keys":[{"id":"demo","key_sha256":")"
                             + config::hashApiKey(QString::fromLatin1(gateway::kDemoClientKey)).toLatin1()
                             + R"(","requests_per_minute":1}]})";
    const auto patched = exchange(harness.adminPort, "PATCH", "/admin/v1/config", patch, admin);
    QCOMPARE(patched.status, 200);
    QCOMPARE(jsonOf(patched).value(QStringLiteral("version")).toInt(), 2);
    QCOMPARE(exchange(harness.port, "POST", "/v1/chat/completions", chatBody(QStringLiteral("gpt-4o"), QStringLiteral("a")),
                      bearer()).status,
             200);
    QCOMPARE(exchange(harness.port, "POST", "/v1/chat/completions", chatBody(QStringLiteral("gpt-4o"), QStringLiteral("b")),
                      bearer()).status,
             429);
    const auto stats = exchange(harness.adminPort, "GET", "/admin/v1/stats", {}, admin);
    QCOMPARE(stats.status, 200);
    QCOMPARE(jsonOf(stats).value(QStringLiteral("config_version")).toInt(), 2);
    const auto instance = exchange(harness.adminPort, "GET", "/admin/v1/instance", {}, admin);
    QCOMPARE(jsonOf(instance).value(QStringLiteral("id")).toString(), harness.gw->instanceId());
    QTRY_COMPARE(metricSum(harness.gw->registry(), "sluice_config_version"), 2.0);
}

void TestGatewayEndToEnd::clientGoingAwayReleasesEverything()
{
    auto simulator = GatewayHarness::defaultSimulator();
    simulator.timeToFirstTokenMilliseconds = {gateway::Distribution::Shape::Fixed, 50, 0};
    simulator.perTokenLatencyMilliseconds = {gateway::Distribution::Shape::Fixed, 50, 0};
    simulator.outputTokens = {gateway::Distribution::Shape::Fixed, 200, 0};
    GatewayHarness harness([](config::GatewayConfig &config) { config.apiKeys[0].parallelRequests = 1; }, simulator);
    QVERIFY(harness.startError.isEmpty());
    {
        RawHttpClient client;
        QVERIFY(client.connectTo(harness.port));
        const QByteArray body = chatBody(QStringLiteral("gpt-4o"), QStringLiteral("long stream"), true);
        client.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-sluice-demo\r\n"
                    "Content-Type: application/json\r\nContent-Length: "
                    + QByteArray::number(body.size()) + "\r\n\r\n" + body);
        QTRY_VERIFY(client.received().contains("data: "));
        client.socket().abort();
    }
    QTRY_COMPARE(harness.gw->context().inFlight.load(), 0);
    QTRY_COMPARE(harness.simulator->stats().inFlight, quint64(0));
    // The parallel lease came back: the next request of the same key is admitted.
    const auto next = exchange(harness.port, "POST", "/v1/chat/completions",
                               chatBody(QStringLiteral("gpt-4o-mini"), QStringLiteral("short")), bearer());
    QCOMPARE(next.status, 200);
}

void TestGatewayEndToEnd::singleFlightSharesOneUpstreamCall()
{
    auto simulator = GatewayHarness::defaultSimulator();
    simulator.timeToFirstTokenMilliseconds = {gateway::Distribution::Shape::Fixed, 400, 0};
    GatewayHarness harness({}, simulator);
    QVERIFY(harness.startError.isEmpty());
    const QByteArray body = chatBody(QStringLiteral("gpt-4o"), QStringLiteral("same question"));
    std::vector<std::unique_ptr<RawHttpClient>> clients;
    for (int i = 0; i < 4; ++i) {
        auto client = std::make_unique<RawHttpClient>();
        QVERIFY(client->connectTo(harness.port));
        client->send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-sluice-demo\r\n"
                     "Content-Type: application/json\r\nContent-Length: "
                     + QByteArray::number(body.size()) + "\r\n\r\n" + body);
        clients.push_back(std::move(client));
    }
    for (const auto &client : clients) {
        QTRY_COMPARE_WITH_TIMEOUT(client->responseCount(), qsizetype(1), 10000);
        QCOMPARE(client->response(0).status, 200);
    }
    QCOMPARE(harness.simulator->stats().chatRequests, quint64(1));
    QCOMPARE(metricSum(harness.gw->registry(), "sluice_singleflight_joined_total"), 3.0);
}

void TestGatewayEndToEnd::unreadableAdminTokenRefusesToStart()
{
    // A token source that gives nothing must not silently lock the admin API.
    qunsetenv("SLUICE_TEST_UNSET_ADMIN_TOKEN");
    gateway::GatewayOptions options;
    options.config = gateway::demoConfig(QStringLiteral("http://127.0.0.1:9"), 0, 0);
    options.config.admin.tokenEnv = QStringLiteral("SLUICE_TEST_UNSET_ADMIN_TOKEN");
    options.logger = std::make_shared<gateway::Logger>(static_cast<std::FILE *>(nullptr));
    gateway::Gateway gateway(std::move(options));
    const auto started = gateway.start();
    QVERIFY(!started);
    QVERIFY2(started.error().startsWith(QStringLiteral("admin.token_env: environment variable SLUICE_TEST_UNSET_ADMIN_TOKEN")),
             qPrintable(started.error()));
    QVERIFY(gateway.listenUrls().isEmpty());
}

QTEST_GUILESS_MAIN(TestGatewayEndToEnd)
#include "tst_gatewayendtoend.moc"
