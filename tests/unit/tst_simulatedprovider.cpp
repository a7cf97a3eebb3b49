#include <QTest>

#include "gateway/chatrequestparser.h"
#include "gateway/simulatedprovider.h"
#include "gateway/sseparser.h"
#include "gateway/streamassembler.h"
#include "gateway/tokenestimate.h"
#include "policy/clock.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cmath>

using namespace sluice::gateway;
using namespace std::chrono_literals;
using sluice::policy::ManualClock;
using sluice::policy::Nanoseconds;

Q_DECLARE_METATYPE(ProviderKind)

namespace {

constexpr qint64 fixedEpochMilliseconds = 1'714'564'800'000; // 2024-05-01T12:00:00Z

ChatRequest request(ProviderKind kind, const QByteArray &body)
{
    auto parsed = parseChatRequest(kind, body);
    if (!parsed)
        qFatal("bad test request: %s", qPrintable(parsed.error().message));
    return *parsed;
}

QByteArray openAIBody(const QString &prompt, int maxTokens, bool stream = false, bool includeUsage = false)
{
    QJsonObject body{{"model", "gpt-4o-mini"},
                     {"max_tokens", maxTokens},
                     {"messages", QJsonArray{QJsonObject{{"role", "user"}, {"content", prompt}}}}};
    if (stream)
        body.insert("stream", true);
    if (includeUsage)
        body.insert("stream_options", QJsonObject{{"include_usage", true}});
    return QJsonDocument(body).toJson(QJsonDocument::Compact);
}

QByteArray anthropicBody(const QString &prompt, int maxTokens, bool stream = false)
{
    QJsonObject body{{"model", "claude-sonnet"},
                     {"max_tokens", maxTokens},
                     {"system", "Be helpful."},
                     {"messages", QJsonArray{QJsonObject{{"role", "user"}, {"content", prompt}}}}};
    if (stream)
        body.insert("stream", true);
    return QJsonDocument(body).toJson(QJsonDocument::Compact);
}

ChatRequest requestFor(ProviderKind kind, const QString &prompt, int maxTokens, bool stream = false)
{
    return kind == ProviderKind::OpenAI ? request(kind, openAIBody(prompt, maxTokens, stream, stream))
                                        : request(kind, anthropicBody(prompt, maxTokens, stream));
}

SimulatorOptions quietOptions(quint64 seed = 7)
{
    SimulatorOptions options;
    options.seed = seed;
    options.unixMillisecondsAtClockZero = fixedEpochMilliseconds;
    return options;
}

bool sameReply(const SimulatedReply &a, const SimulatedReply &b)
{
    if (a.chunks.size() != b.chunks.size())
        return false;
    for (qsizetype i = 0; i < a.chunks.size(); ++i) {
        if (a.chunks[i].delay != b.chunks[i].delay || a.chunks[i].bytes != b.chunks[i].bytes)
            return false;
    }
    return a.fault == b.fault && a.httpStatus == b.httpStatus && a.headers == b.headers && a.body == b.body
           && a.text == b.text && a.usage == b.usage && a.timeToFirstToken == b.timeToFirstToken
           && a.interTokenDelays == b.interTokenDelays && a.closesConnection == b.closesConnection
           && a.neverResponds == b.neverResponds;
}

QList<SseEvent> events(const QByteArray &bytes)
{
    SseParser parser;
    return parser.feed(bytes);
}

} // namespace

class TestSimulatedProvider : public QObject {
    Q_OBJECT
private slots:
    void sameSeedSameReplies()
    {
        SimulatorOptions options = quietOptions(42);
        options.faults = FaultRates{0.1, 0.1, 0.1, 0.05, 0.05, 0.1, 3};
        options.quota.requestsPerMinute = 40;
        options.quota.tokensPerMinute = 20000;
        ManualClock clockA;
        ManualClock clockB;
        SimulatedProvider first(clockA, options);
        SimulatedProvider second(clockB, options);
        options.seed = 43;
        ManualClock clockC;
        SimulatedProvider other(clockC, options);

        bool anyDifferent = false;
        for (int i = 0; i < 200; ++i) {
            const ProviderKind kind = i % 2 ? ProviderKind::Anthropic : ProviderKind::OpenAI;
            const ChatRequest chat = requestFor(kind, QStringLiteral("question %1").arg(i % 7), 30 + i % 50, i % 3 == 0);
            const SimulatedReply a = first.plan(kind, chat);
            const SimulatedReply b = second.plan(kind, chat);
            QVERIFY2(sameReply(a, b), qPrintable(QStringLiteral("request %1 differs").arg(i)));
            anyDifferent = anyDifferent || !sameReply(a, other.plan(kind, chat));
            clockA.advance(700ms);
            clockB.advance(700ms);
            clockC.advance(700ms);
        }
        QVERIFY(anyDifferent);
        QCOMPARE(first.requestCount(), quint64(200));
    }

    void samePromptSameAnswer()
    {
        ManualClock clock;
        SimulatedProvider provider(clock, quietOptions());
        const ChatRequest question = requestFor(ProviderKind::OpenAI, "What is a token bucket?", 500);
        const SimulatedReply first = provider.plan(ProviderKind::OpenAI, question);
        provider.plan(ProviderKind::OpenAI, requestFor(ProviderKind::OpenAI, "Something else entirely", 500));
        const SimulatedReply again = provider.plan(ProviderKind::OpenAI, question);
        QCOMPARE(again.text, first.text);
        QCOMPARE(again.usage, first.usage);
        QVERIFY(again.body != first.body); // ids differ per request
        const SimulatedReply different =
            provider.plan(ProviderKind::OpenAI, requestFor(ProviderKind::OpenAI, "What is a leaky bucket?", 500));
        QVERIFY(different.text != first.text);
    }

    void faultRatesWithinTolerance_data()
    {
        QTest::addColumn<ProviderKind>("kind");
        QTest::newRow("openai") << ProviderKind::OpenAI;
        QTest::newRow("anthropic") << ProviderKind::Anthropic;
    }

    void faultRatesWithinTolerance()
    {
        QFETCH(ProviderKind, kind);
        SimulatorOptions options = quietOptions(2024);
        options.faults = FaultRates{0.05, 0.03, 0.04, 0.02, 0.01, 0.05, 7};
        options.outputTokens = Distribution{Distribution::Shape::Fixed, 4, 0};
        ManualClock clock;
        SimulatedProvider provider(clock, options);
        const ChatRequest chat = requestFor(kind, "hi", 8, true);

        constexpr int draws = 10000;
        QMap<SimulatedFault, int> counts;
        for (int i = 0; i < draws; ++i) {
            const SimulatedReply reply = provider.plan(kind, chat);
            ++counts[reply.fault];
            switch (reply.fault) {
            case SimulatedFault::RateLimited:
                QCOMPARE(reply.httpStatus, 429);
                QCOMPARE(reply.header("retry-after"), QByteArray("7"));
                QCOMPARE(reply.error->type, defaultErrorType(kind, 429));
                break;
            case SimulatedFault::ServerError:
                QCOMPARE(reply.httpStatus, 500);
                break;
            case SimulatedFault::Overloaded:
                QCOMPARE(reply.httpStatus, kind == ProviderKind::OpenAI ? 503 : 529);
                break;
            case SimulatedFault::Timeout:
                QVERIFY(reply.neverResponds);
                QVERIFY(reply.chunks.isEmpty());
                QCOMPARE(reply.httpStatus, 0);
                break;
            case SimulatedFault::ConnectionReset:
                QVERIFY(reply.closesConnection);
                QCOMPARE(reply.httpStatus, 0);
                QVERIFY(reply.chunks.size() == 1 && reply.chunks.first().bytes.isEmpty());
                break;
            case SimulatedFault::TruncatedStream: {
                QVERIFY(reply.closesConnection);
                QByteArray written;
                for (const TimedChunk &chunk : reply.chunks)
                    written += chunk.bytes;
                QVERIFY(!written.isEmpty() && written.size() < reply.body.size());
                QVERIFY(reply.body.startsWith(written));
                break;
            }
            case SimulatedFault::None:
                QCOMPARE(reply.httpStatus, 200);
                QVERIFY(!reply.closesConnection);
                break;
            default:
                QFAIL("unexpected fault");
            }
        }
        const std::pair<SimulatedFault, double> expected[] = {
            {SimulatedFault::RateLimited, 0.05},  {SimulatedFault::ServerError, 0.03},
            {SimulatedFault::Overloaded, 0.04},   {SimulatedFault::Timeout, 0.02},
            {SimulatedFault::ConnectionReset, 0.01}, {SimulatedFault::TruncatedStream, 0.05},
            {SimulatedFault::None, 0.80},
        };
        for (const auto &[fault, rate] : expected) {
            const double sigma = std::sqrt(draws * rate * (1 - rate));
            const double deviation = std::abs(counts.value(fault) - draws * rate);
            QVERIFY2(deviation < 4 * sigma, qPrintable(QStringLiteral("%1: %2 of %3, expected about %4")
                                                           .arg(simulatedFaultName(fault))
                                                           .arg(counts.value(fault))
                                                           .arg(draws)
                                                           .arg(draws * rate)));
        }
    }

    void openAIQuotaHeadersAndRetryAfter()
    {
        SimulatorOptions options = quietOptions();
        options.quota.requestsPerMinute = 3;
        options.quota.tokensPerMinute = 100000;
        ManualClock clock(10s);
        SimulatedProvider provider(clock, options);
        const ChatRequest chat = requestFor(ProviderKind::OpenAI, "hello", 20);

        const QByteArray expectedRemaining[] = {"2", "1", "0"};
        const QByteArray expectedReset[] = {"20s", "40s", "1m0s"};
        qint64 previousTokens = 100000;
        for (int i = 0; i < 3; ++i) {
            const SimulatedReply reply = provider.plan(ProviderKind::OpenAI, chat);
            QCOMPARE(reply.fault, SimulatedFault::None);
            QCOMPARE(reply.header("x-ratelimit-limit-requests"), QByteArray("3"));
            QCOMPARE(reply.header("x-ratelimit-remaining-requests"), expectedRemaining[i]);
            QCOMPARE(reply.header("x-ratelimit-reset-requests"), expectedReset[i]);
            QCOMPARE(reply.header("x-ratelimit-limit-tokens"), QByteArray("100000"));
            const qint64 remainingTokens = reply.header("x-ratelimit-remaining-tokens").toLongLong();
            QCOMPARE(remainingTokens, previousTokens - reply.usage.totalTokens());
            previousTokens = remainingTokens;
        }

        const SimulatedReply refused = provider.plan(ProviderKind::OpenAI, chat);
        QCOMPARE(refused.fault, SimulatedFault::QuotaExceeded);
        QCOMPARE(refused.httpStatus, 429);
        QCOMPARE(refused.header("retry-after"), QByteArray("20"));
        QCOMPARE(refused.header("x-ratelimit-remaining-requests"), QByteArray("0"));
        const QJsonObject error = QJsonDocument::fromJson(refused.body).object().value("error").toObject();
        QCOMPARE(error.value("type").toString(), QStringLiteral("requests"));
        QCOMPARE(error.value("code").toString(), QStringLiteral("rate_limit_exceeded"));
        QVERIFY(error.value("message").toString().contains("Limit 3"));

        clock.advance(19s);
        QCOMPARE(provider.plan(ProviderKind::OpenAI, chat).fault, SimulatedFault::QuotaExceeded);
        clock.advance(1s);
        const SimulatedReply afterRetry = provider.plan(ProviderKind::OpenAI, chat);
        QCOMPARE(afterRetry.fault, SimulatedFault::None);
        QCOMPARE(afterRetry.header("x-ratelimit-remaining-requests"), QByteArray("0"));

        clock.advance(60s);
        const SimulatedReply afterWindow = provider.plan(ProviderKind::OpenAI, chat);
        QCOMPARE(afterWindow.fault, SimulatedFault::None);
        QCOMPARE(afterWindow.header("x-ratelimit-remaining-requests"), QByteArray("2"));
        QCOMPARE(afterWindow.header("x-ratelimit-reset-requests"), QByteArray("20s"));
    }

    void anthropicQuotaHeaders()
    {
        SimulatorOptions options = quietOptions();
        options.quota.requestsPerMinute = 2;
        options.quota.inputTokensPerMinute = 10000;
        options.quota.outputTokensPerMinute = 5000;
        ManualClock clock;
        SimulatedProvider provider(clock, options);
        const ChatRequest chat = requestFor(ProviderKind::Anthropic, "hello", 20);

        const SimulatedReply first = provider.plan(ProviderKind::Anthropic, chat);
        QCOMPARE(first.header("anthropic-ratelimit-requests-limit"), QByteArray("2"));
        QCOMPARE(first.header("anthropic-ratelimit-requests-remaining"), QByteArray("1"));
        QCOMPARE(first.header("anthropic-ratelimit-requests-reset"), QByteArray("2024-05-01T12:00:30Z"));
        QCOMPARE(first.header("anthropic-ratelimit-input-tokens-remaining").toLongLong(),
                 10000 - estimateInputTokens(chat));
        QCOMPARE(first.header("anthropic-ratelimit-output-tokens-remaining").toLongLong(),
                 5000 - first.usage.outputTokens);
        QVERIFY(first.header("anthropic-ratelimit-tokens-limit").isEmpty());
        QVERIFY(!first.header("request-id").isEmpty());
        QVERIFY(first.header("x-ratelimit-limit-requests").isEmpty());

        clock.advance(1s);
        provider.plan(ProviderKind::Anthropic, chat);
        const SimulatedReply refused = provider.plan(ProviderKind::Anthropic, chat);
        QCOMPARE(refused.httpStatus, 429);
        QCOMPARE(refused.header("retry-after"), QByteArray("29"));
        const QJsonObject body = QJsonDocument::fromJson(refused.body).object();
        QCOMPARE(body.value("type").toString(), QStringLiteral("error"));
        QCOMPARE(body.value("error").toObject().value("type").toString(), QStringLiteral("rate_limit_error"));
        QCOMPARE(body.value("request_id").toString().toLatin1(), refused.header("request-id"));
    }

    void tokenQuota()
    {
        SimulatorOptions options = quietOptions();
        options.quota.tokensPerMinute = 1000;
        ManualClock clock;
        SimulatedProvider provider(clock, options);

        const SimulatedReply tooLarge = provider.plan(ProviderKind::OpenAI, requestFor(ProviderKind::OpenAI, "hi", 2000));
        QCOMPARE(tooLarge.fault, SimulatedFault::QuotaExceeded);
        QVERIFY(tooLarge.header("retry-after").isEmpty());
        const QJsonObject error = QJsonDocument::fromJson(tooLarge.body).object().value("error").toObject();
        QCOMPARE(error.value("type").toString(), QStringLiteral("tokens"));
        QVERIFY(error.value("message").toString().startsWith("Request too large"));

        const ChatRequest chat = requestFor(ProviderKind::OpenAI, "hi", 600);
        const SimulatedReply accepted = provider.plan(ProviderKind::OpenAI, chat);
        QCOMPARE(accepted.fault, SimulatedFault::None);
        const qint64 remaining = 1000 - accepted.usage.totalTokens();
        QCOMPARE(accepted.header("x-ratelimit-remaining-tokens").toLongLong(), remaining);
        QVERIFY(accepted.header("x-ratelimit-limit-requests").isEmpty());
        if (remaining < estimateReservationTokens(chat)) {
            const SimulatedReply refused = provider.plan(ProviderKind::OpenAI, chat);
            QCOMPARE(refused.fault, SimulatedFault::QuotaExceeded);
            const qint64 missing = estimateReservationTokens(chat) - remaining;
            const qint64 seconds = (missing * 60 + 999) / 1000;
            QCOMPARE(refused.header("retry-after").toLongLong(), seconds);
        }
    }

    void tokenCountsFollowPromptAndMaxTokens_data()
    {
        QTest::addColumn<ProviderKind>("kind");
        QTest::addColumn<int>("maxTokens");
        QTest::newRow("openai capped at 1") << ProviderKind::OpenAI << 1;
        QTest::newRow("openai capped at 5") << ProviderKind::OpenAI << 5;
        QTest::newRow("openai roomy") << ProviderKind::OpenAI << 4000;
        QTest::newRow("anthropic capped at 3") << ProviderKind::Anthropic << 3;
        QTest::newRow("anthropic roomy") << ProviderKind::Anthropic << 4000;
    }

    void tokenCountsFollowPromptAndMaxTokens()
    {
        QFETCH(ProviderKind, kind);
        QFETCH(int, maxTokens);
        ManualClock clock;
        SimulatedProvider provider(clock, quietOptions(5));
        for (const QString &prompt : {QStringLiteral("short"), QString(3000, QLatin1Char('x'))}) {
            const ChatRequest chat = requestFor(kind, prompt, maxTokens);
            const SimulatedReply reply = provider.plan(kind, chat);
            QCOMPARE(reply.fault, SimulatedFault::None);
            QCOMPARE(reply.usage.inputTokens, estimateInputTokens(chat));
            QVERIFY(reply.usage.outputTokens >= 1);
            QVERIFY(reply.usage.outputTokens <= maxTokens);
            QCOMPARE(reply.finishReason == FinishReason::Length, reply.usage.outputTokens == maxTokens);
            QCOMPARE(reply.text.split(QLatin1Char(' ')).size(), reply.usage.outputTokens);
            QCOMPARE(reply.interTokenDelays.size(), reply.usage.outputTokens - 1);
            QCOMPARE(usageFromResponse(kind, QJsonDocument::fromJson(reply.body).object()), reply.usage);
        }
    }

    void shapesAreValid_data()
    {
        QTest::addColumn<ProviderKind>("kind");
        QTest::addColumn<bool>("stream");
        QTest::newRow("openai json") << ProviderKind::OpenAI << false;
        QTest::newRow("openai stream") << ProviderKind::OpenAI << true;
        QTest::newRow("anthropic json") << ProviderKind::Anthropic << false;
        QTest::newRow("anthropic stream") << ProviderKind::Anthropic << true;
    }

    void shapesAreValid()
    {
        QFETCH(ProviderKind, kind);
        QFETCH(bool, stream);
        ManualClock clock(3s);
        SimulatedProvider provider(clock, quietOptions(11));
        const ChatRequest chat = requestFor(kind, "Explain rate limits.", 60, stream);
        const SimulatedReply reply = provider.plan(kind, chat);
        QCOMPARE(reply.httpStatus, 200);
        QCOMPARE(reply.stream, stream);
        QCOMPARE(reply.header("content-type"),
                 QByteArray(stream ? "text/event-stream; charset=utf-8" : "application/json"));
        QVERIFY(!reply.header(requestIdHeader(kind)).isEmpty());

        QByteArray written;
        for (const TimedChunk &chunk : reply.chunks)
            written += chunk.bytes;
        QCOMPARE(written, reply.body);

        QJsonObject response;
        if (stream) {
            StreamAssembler assembler(kind);
            const QList<SseEvent> parsed = events(reply.body);
            for (const SseEvent &event : parsed)
                assembler.addEvent(event);
            QVERIFY(assembler.isComplete());
            QCOMPARE(assembler.text(), reply.text);
            QCOMPARE(assembler.usage(), std::optional<sluice::policy::TokenUsage>(reply.usage));
            if (kind == ProviderKind::OpenAI)
                QCOMPARE(parsed.last().data, QByteArray("[DONE]"));
            else
                QCOMPARE(parsed.last().event, QByteArray("message_stop"));
            response = assembler.response();
        } else {
            response = QJsonDocument::fromJson(reply.body).object();
        }

        if (kind == ProviderKind::OpenAI) {
            QCOMPARE(response.value("object").toString(), QStringLiteral("chat.completion"));
            QVERIFY(response.value("id").toString().startsWith("chatcmpl-"));
            QCOMPARE(response.value("created").toInteger(), fixedEpochMilliseconds / 1000 + 3);
            QCOMPARE(response.value("model").toString(), QStringLiteral("gpt-4o-mini"));
            const QJsonObject choice = response.value("choices").toArray().at(0).toObject();
            QCOMPARE(choice.value("message").toObject().value("content").toString(), reply.text);
            QCOMPARE(choice.value("finish_reason").toString(), finishReasonName(kind, reply.finishReason));
        } else {
            QCOMPARE(response.value("type").toString(), QStringLiteral("message"));
            QCOMPARE(response.value("role").toString(), QStringLiteral("assistant"));
            QVERIFY(response.value("id").toString().startsWith("msg_"));
            const QJsonObject block = response.value("content").toArray().at(0).toObject();
            QCOMPARE(block.value("type").toString(), QStringLiteral("text"));
            QCOMPARE(block.value("text").toString(), reply.text);
            QCOMPARE(response.value("stop_reason").toString(), finishReasonName(kind, reply.finishReason));
        }
        QCOMPARE(usageFromResponse(kind, response), std::optional<sluice::policy::TokenUsage>(reply.usage));
    }

    void latencyModel_data()
    {
        QTest::addColumn<ProviderKind>("kind");
        QTest::addColumn<bool>("stream");
        QTest::newRow("openai stream") << ProviderKind::OpenAI << true;
        QTest::newRow("anthropic stream") << ProviderKind::Anthropic << true;
        QTest::newRow("openai json") << ProviderKind::OpenAI << false;
    }

    void latencyModel()
    {
        QFETCH(ProviderKind, kind);
        QFETCH(bool, stream);
        SimulatorOptions options = quietOptions();
        options.timeToFirstTokenMilliseconds = Distribution{Distribution::Shape::Fixed, 250, 0};
        options.tokensPerSecond = 50;
        options.perTokenLatencyMilliseconds = Distribution{Distribution::Shape::Fixed, 0, 0};
        ManualClock clock;
        SimulatedProvider provider(clock, options);
        const SimulatedReply reply = provider.plan(kind, requestFor(kind, "timing", 40, stream));
        QCOMPARE(reply.timeToFirstToken, Nanoseconds(250ms));
        for (const Nanoseconds delay : reply.interTokenDelays)
            QCOMPARE(delay, Nanoseconds(20ms));
        const Nanoseconds generation = 250ms + 20ms * (reply.usage.outputTokens - 1);
        QCOMPARE(reply.totalDuration(), generation);
        QCOMPARE(reply.chunks.first().delay, stream ? Nanoseconds(250ms) : generation);
        if (stream)
            QCOMPARE(reply.chunks.size(), events(reply.body).size());
        if (kind == ProviderKind::OpenAI)
            QCOMPARE(reply.header("openai-processing-ms").toLongLong(),
                     std::chrono::duration_cast<std::chrono::milliseconds>(reply.chunks.first().delay).count());
    }

    void distributionsAreHonoured_data()
    {
        QTest::addColumn<int>("shape");
        QTest::addColumn<double>("mean");
        QTest::addColumn<double>("spread");
        QTest::newRow("uniform") << int(Distribution::Shape::Uniform) << 300.0 << 100.0;
        QTest::newRow("normal") << int(Distribution::Shape::Normal) << 300.0 << 50.0;
        QTest::newRow("lognormal") << int(Distribution::Shape::LogNormal) << 300.0 << 150.0;
    }

    void distributionsAreHonoured()
    {
        QFETCH(int, shape);
        QFETCH(double, mean);
        QFETCH(double, spread);
        const Distribution distribution{static_cast<Distribution::Shape>(shape), mean, spread};
        SimulatorRandom random(99);
        constexpr int samples = 20000;
        double sum = 0;
        double squares = 0;
        double low = 1e300;
        double high = 0;
        for (int i = 0; i < samples; ++i) {
            const double value = random.sample(distribution);
            sum += value;
            squares += value * value;
            low = std::min(low, value);
            high = std::max(high, value);
        }
        const double sampleMean = sum / samples;
        const double sampleSpread = std::sqrt(squares / samples - sampleMean * sampleMean);
        const double expectedSpread = shape == int(Distribution::Shape::Uniform) ? spread / std::sqrt(3.0) : spread;
        QVERIFY2(std::abs(sampleMean - mean) < 0.03 * mean, qPrintable(QString::number(sampleMean)));
        QVERIFY2(std::abs(sampleSpread - expectedSpread) < 0.08 * expectedSpread, qPrintable(QString::number(sampleSpread)));
        QVERIFY(low >= 0);
        if (shape == int(Distribution::Shape::Uniform))
            QVERIFY(low >= mean - spread && high <= mean + spread);
    }

    void unknownModelIs404()
    {
        SimulatorOptions options = quietOptions();
        options.models = {"gpt-4o-mini", "claude-sonnet"};
        ManualClock clock;
        SimulatedProvider provider(clock, options);
        QCOMPARE(provider.plan(ProviderKind::OpenAI, requestFor(ProviderKind::OpenAI, "x", 5)).httpStatus, 200);
        const SimulatedReply openAI =
            provider.plan(ProviderKind::OpenAI, request(ProviderKind::OpenAI, R"({"model":"gpt-9","messages":[{"role":"user","content":"x"}]})"));
        QCOMPARE(openAI.fault, SimulatedFault::ModelNotFound);
        QCOMPARE(openAI.httpStatus, 404);
        QCOMPARE(QJsonDocument::fromJson(openAI.body).object().value("error").toObject().value("code").toString(),
                 QStringLiteral("model_not_found"));
        const SimulatedReply anthropic = provider.plan(
            ProviderKind::Anthropic,
            request(ProviderKind::Anthropic, R"({"model":"claude-9","max_tokens":5,"messages":[{"role":"user","content":"x"}]})"));
        QCOMPARE(anthropic.httpStatus, 404);
        QCOMPARE(QJsonDocument::fromJson(anthropic.body).object().value("error").toObject().value("type").toString(),
                 QStringLiteral("not_found_error"));
    }

    void invalidBodyIs400()
    {
        ManualClock clock;
        SimulatorOptions options = quietOptions();
        options.quota.requestsPerMinute = 1;
        SimulatedProvider provider(clock, options);
        const SimulatedReply reply = provider.plan(ProviderKind::Anthropic, QByteArray(R"({"model":"c","messages":[]})"));
        QCOMPARE(reply.httpStatus, 400);
        QCOMPARE(reply.error->message, QStringLiteral("max_tokens: required"));
        QCOMPARE(QJsonDocument::fromJson(reply.body).object().value("error").toObject().value("type").toString(),
                 QStringLiteral("invalid_request_error"));
        QCOMPARE(provider.requestCount(), quint64(1));
        QCOMPARE(provider.plan(ProviderKind::Anthropic, anthropicBody("ok", 5)).httpStatus, 200); // quota untouched
    }

    void optionsValidation_data()
    {
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("error");
        QTest::newRow("valid") << "" << "";
        QTest::newRow("rates above 1") << "rates" << "faults: rates must sum to at most 1";
        QTest::newRow("negative rate") << "negative" << "faults: every rate must be between 0 and 1";
        QTest::newRow("negative quota") << "quota" << "quota: limits must be >= 0";
        QTest::newRow("negative latency") << "latency" << "timeToFirstTokenMilliseconds: mean and spread must be finite and >= 0";
    }

    void optionsValidation()
    {
        QFETCH(QString, field);
        QFETCH(QString, error);
        SimulatorOptions options;
        if (field == "rates")
            options.faults = FaultRates{0.5, 0.5, 0.1, 0, 0, 0, 1};
        else if (field == "negative")
            options.faults.timeout = -0.1;
        else if (field == "quota")
            options.quota.tokensPerMinute = -1;
        else if (field == "latency")
            options.timeToFirstTokenMilliseconds.mean = -5;
        QCOMPARE(options.validationError(), error);
    }
};

QTEST_APPLESS_MAIN(TestSimulatedProvider)
#include "tst_simulatedprovider.moc"
