#include <QTest>

#include "gateway/sseparser.h"
#include "gateway/tokenusage.h"

#include <QJsonDocument>
#include <QJsonObject>

using sluice::gateway::ProviderKind;
using sluice::gateway::SseParser;
using sluice::gateway::StreamUsageAccumulator;
using sluice::gateway::usageFromResponse;
using sluice::gateway::usageObject;
using sluice::policy::TokenUsage;

Q_DECLARE_METATYPE(ProviderKind)
Q_DECLARE_METATYPE(TokenUsage)

namespace {

QJsonObject object(const QByteArray &json)
{
    return QJsonDocument::fromJson(json).object();
}

TokenUsage usage(qint64 input, qint64 output, qint64 cached, qint64 written)
{
    return TokenUsage{input, output, cached, written};
}

} // namespace

class TestUsage : public QObject {
    Q_OBJECT
private slots:
    void fromResponse_data()
    {
        QTest::addColumn<ProviderKind>("kind");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<TokenUsage>("expected");

        QTest::newRow("openai plain")
            << ProviderKind::OpenAI
            << QByteArray(R"({"object":"chat.completion","usage":{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29}})")
            << usage(19, 10, 0, 0);
        QTest::newRow("openai prompt_tokens include cached")
            << ProviderKind::OpenAI
            << QByteArray(R"({"usage":{"prompt_tokens":2006,"completion_tokens":300,"total_tokens":2306,
                "prompt_tokens_details":{"cached_tokens":1920,"audio_tokens":0},
                "completion_tokens_details":{"reasoning_tokens":128}}})")
            << usage(86, 300, 1920, 0);
        QTest::newRow("openai null details")
            << ProviderKind::OpenAI
            << QByteArray(R"({"usage":{"prompt_tokens":5,"completion_tokens":1,"prompt_tokens_details":null}})")
            << usage(5, 1, 0, 0);
        QTest::newRow("anthropic plain")
            << ProviderKind::Anthropic
            << QByteArray(R"({"type":"message","usage":{"input_tokens":25,"output_tokens":40}})")
            << usage(25, 40, 0, 0);
        QTest::newRow("anthropic input_tokens exclude cache reads and writes")
            << ProviderKind::Anthropic
            << QByteArray(R"({"usage":{"input_tokens":50,"cache_read_input_tokens":1000,
                "cache_creation_input_tokens":248,"output_tokens":503,"service_tier":"standard"}})")
            << usage(50, 503, 1000, 248);
    }

    void fromResponse()
    {
        QFETCH(ProviderKind, kind);
        QFETCH(QByteArray, body);
        QFETCH(TokenUsage, expected);
        const auto parsed = usageFromResponse(kind, object(body));
        QVERIFY(parsed.has_value());
        QCOMPARE(*parsed, expected);
        QCOMPARE(*usageFromResponse(kind, QJsonObject{{"usage", usageObject(kind, expected)}}), expected);
    }

    void derivedCounts()
    {
        const TokenUsage anthropic = usage(50, 503, 1000, 248);
        QCOMPARE(anthropic.promptTokens(), 1298);
        QCOMPARE(anthropic.totalTokens(), 1801);
        QCOMPARE(usageObject(ProviderKind::Anthropic, anthropic).value("input_tokens").toInteger(), 50);
        const QJsonObject openAI = usageObject(ProviderKind::OpenAI, usage(86, 300, 1920, 0));
        QCOMPARE(openAI.value("prompt_tokens").toInteger(), 2006);
        QCOMPARE(openAI.value("total_tokens").toInteger(), 2306);
    }

    void missingUsageIsNullopt()
    {
        QVERIFY(!usageFromResponse(ProviderKind::OpenAI, object(R"({"choices":[]})")));
        QVERIFY(!usageFromResponse(ProviderKind::Anthropic, object(R"({"usage":{}})")));
        QVERIFY(!usageFromResponse(ProviderKind::OpenAI, object(R"({"usage":null})")));
    }

    void fromStream_data()
    {
        QTest::addColumn<ProviderKind>("kind");
        QTest::addColumn<QByteArray>("stream");
        QTest::addColumn<bool>("hasUsage");
        QTest::addColumn<TokenUsage>("expected");

        QTest::newRow("openai final usage chunk")
            << ProviderKind::OpenAI
            << QByteArray("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}],\"usage\":null}\n\n"
                          "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3,"
                          "\"prompt_tokens_details\":{\"cached_tokens\":4}}}\n\n"
                          "data: [DONE]\n\n")
            << true << usage(8, 3, 4, 0);
        QTest::newRow("openai without include_usage")
            << ProviderKind::OpenAI
            << QByteArray("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: [DONE]\n\n")
            << false << TokenUsage{};
        QTest::newRow("openai-compatible usage on every chunk, last wins")
            << ProviderKind::OpenAI
            << QByteArray("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":1}}\n\n"
                          "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":2}}\n\n")
            << true << usage(12, 2, 0, 0);
        QTest::newRow("anthropic start and delta")
            << ProviderKind::Anthropic
            << QByteArray("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":"
                          "{\"input_tokens\":472,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":2000,"
                          "\"output_tokens\":1}}}\n\n"
                          "event: ping\ndata: {\"type\": \"ping\"}\n\n"
                          "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
                          "\"end_turn\"},\"usage\":{\"output_tokens\":15}}\n\n"
                          "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{},"
                          "\"usage\":{\"output_tokens\":89}}\n\n"
                          "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
            << true << usage(472, 89, 2000, 0);
        QTest::newRow("anthropic newer message_delta with input counts")
            << ProviderKind::Anthropic
            << QByteArray("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":"
                          "{\"input_tokens\":10,\"output_tokens\":1}}}\n\n"
                          "event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"input_tokens\":10,"
                          "\"cache_creation_input_tokens\":30,\"cache_read_input_tokens\":null,\"output_tokens\":7}}\n\n")
            << true << usage(10, 7, 0, 30);
        QTest::newRow("garbage events ignored")
            << ProviderKind::Anthropic
            << QByteArray("event: x\ndata: not json\n\ndata: [1,2]\n\n") << false << TokenUsage{};
    }

    void fromStream()
    {
        QFETCH(ProviderKind, kind);
        QFETCH(QByteArray, stream);
        QFETCH(bool, hasUsage);
        QFETCH(TokenUsage, expected);
        SseParser parser;
        StreamUsageAccumulator accumulator(kind);
        for (qsizetype i = 0; i < stream.size(); i += 5) {
            for (const auto &event : parser.feed(QByteArrayView(stream).sliced(i, std::min<qsizetype>(5, stream.size() - i))))
                accumulator.addEvent(event);
        }
        QCOMPARE(accumulator.usage().has_value(), hasUsage);
        if (hasUsage)
            QCOMPARE(*accumulator.usage(), expected);
    }
};

QTEST_APPLESS_MAIN(TestUsage)
#include "tst_usage.moc"
