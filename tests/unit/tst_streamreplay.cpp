#include <QTest>

#include "gateway/sseparser.h"
#include "gateway/streamassembler.h"
#include "gateway/streamreplay.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

using namespace sluice::gateway;

Q_DECLARE_METATYPE(ProviderKind)

namespace {

QJsonObject object(const QByteArray &json)
{
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(json, &error);
    if (error.error != QJsonParseError::NoError)
        qFatal("bad test JSON: %s", qPrintable(error.errorString()));
    return document.object();
}

QList<SseEvent> parseInPieces(const QByteArray &bytes, qsizetype pieceSize)
{
    SseParser parser;
    QList<SseEvent> events;
    for (qsizetype i = 0; i < bytes.size(); i += pieceSize)
        events += parser.feed(QByteArrayView(bytes).sliced(i, std::min(pieceSize, bytes.size() - i)));
    if (parser.hasPendingData())
        qFatal("stream ended mid-event");
    return events;
}

QJsonObject dataOf(const SseEvent &event)
{
    return QJsonDocument::fromJson(event.data).object();
}

const QByteArray openAIText = R"({
  "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG", "object": "chat.completion", "created": 1741570283,
  "model": "gpt-4o-2024-08-06", "service_tier": "default", "system_fingerprint": "fp_fc9f1d7035",
  "choices": [{"index": 0, "logprobs": null, "finish_reason": "stop",
    "message": {"role": "assistant", "refusal": null, "annotations": [],
      "content": "The image shows a wooden boardwalk extending through a lush green marshland. 🌾 Déjà vu!\nSecond line with a verylongwordthatexceedsthirtytwocharacterseasily."}}],
  "usage": {"prompt_tokens": 1117, "completion_tokens": 46, "total_tokens": 1163,
    "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0}}
})";

const QByteArray openAIToolCalls = R"({
  "id": "chatcmpl-tools", "object": "chat.completion", "created": 1741570300, "model": "gpt-4o",
  "choices": [{"index": 0, "logprobs": null, "finish_reason": "tool_calls",
    "message": {"role": "assistant", "content": null, "refusal": null, "annotations": [],
      "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\u0022location\u0022: \u0022Paris, France\u0022}"}},
        {"id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}]}}],
  "usage": {"prompt_tokens": 82, "completion_tokens": 17, "total_tokens": 99}
})";

const QByteArray openAITwoChoices = R"({
  "id": "chatcmpl-n2", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
  "choices": [
    {"index": 0, "logprobs": null, "finish_reason": "stop",
     "message": {"role": "assistant", "content": "Yes.", "refusal": null, "annotations": []}},
    {"index": 1, "logprobs": null, "finish_reason": "length",
     "message": {"role": "assistant", "content": "No, because", "refusal": null, "annotations": []}}],
  "usage": {"prompt_tokens": 9, "completion_tokens": 5, "total_tokens": 14}
})";

const QByteArray anthropicText = R"({
  "id": "msg_013Zva2CMHLNnXjNJJKqJ2EF", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
  "content": [{"type": "text", "text": "Hi! My name is Claude. I can help with 🌍 questions,\nin many languages."}],
  "stop_reason": "end_turn", "stop_sequence": null,
  "usage": {"input_tokens": 50, "cache_creation_input_tokens": 248, "cache_read_input_tokens": 1000,
            "output_tokens": 23, "service_tier": "standard"}
})";

const QByteArray anthropicBlocks = R"({
  "id": "msg_blocks", "type": "message", "role": "assistant", "model": "claude-opus-4",
  "content": [
    {"type": "thinking", "thinking": "The user wants the weather, so I should call the tool.", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3h"},
    {"type": "text", "text": "Let me check the weather."},
    {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"location": "San Francisco, CA", "unit": "celsius"}},
    {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix"}],
  "stop_reason": "tool_use", "stop_sequence": null,
  "usage": {"input_tokens": 472, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 89}
})";

const QByteArray anthropicEmpty = R"({
  "id": "msg_empty", "type": "message", "role": "assistant", "model": "claude-haiku",
  "content": [], "stop_reason": "stop_sequence", "stop_sequence": "END",
  "usage": {"input_tokens": 12, "output_tokens": 0}
})";

} // namespace

class TestStreamReplay : public QObject {
    Q_OBJECT
private slots:
    void roundTrips_data()
    {
        QTest::addColumn<ProviderKind>("kind");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<bool>("includeUsage");
        QTest::addColumn<qsizetype>("pieceSize");

        for (const qsizetype pieceSize : {qsizetype(1), qsizetype(13), qsizetype(1 << 20)}) {
            QTest::addRow("openai text with usage /%lld", qlonglong(pieceSize))
                << ProviderKind::OpenAI << openAIText << true << pieceSize;
            QTest::addRow("openai text without usage /%lld", qlonglong(pieceSize))
                << ProviderKind::OpenAI << openAIText << false << pieceSize;
            QTest::addRow("openai tool calls /%lld", qlonglong(pieceSize))
                << ProviderKind::OpenAI << openAIToolCalls << true << pieceSize;
            QTest::addRow("openai two choices /%lld", qlonglong(pieceSize))
                << ProviderKind::OpenAI << openAITwoChoices << true << pieceSize;
            QTest::addRow("anthropic text /%lld", qlonglong(pieceSize))
                << ProviderKind::Anthropic << anthropicText << false << pieceSize;
            QTest::addRow("anthropic thinking, text, tool_use, redacted /%lld", qlonglong(pieceSize))
                << ProviderKind::Anthropic << anthropicBlocks << false << pieceSize;
            QTest::addRow("anthropic empty content /%lld", qlonglong(pieceSize))
                << ProviderKind::Anthropic << anthropicEmpty << false << pieceSize;
        }
    }

    void roundTrips()
    {
        QFETCH(ProviderKind, kind);
        QFETCH(QByteArray, body);
        QFETCH(bool, includeUsage);
        QFETCH(qsizetype, pieceSize);

        const QJsonObject original = object(body);
        StreamReplayOptions options;
        options.includeUsage = includeUsage;
        const auto replay = replayAsStream(kind, original, options);
        QVERIFY(replay.ok());

        StreamAssembler assembler(kind);
        const QList<SseEvent> events = parseInPieces(replay->bytes(), pieceSize);
        QCOMPARE(events, replay->events);
        for (const SseEvent &event : events)
            assembler.addEvent(event);
        QVERIFY(assembler.isComplete());
        QVERIFY(!assembler.error());

        QJsonObject expected = original;
        const bool usageReplayed = kind == ProviderKind::Anthropic || includeUsage;
        if (!usageReplayed)
            expected.remove("usage");
        QCOMPARE(assembler.response(), expected);
        QCOMPARE(assembler.usage(), usageReplayed ? usageFromResponse(kind, original) : std::nullopt);
        if (kind == ProviderKind::OpenAI) {
            const QJsonObject message =
                original.value("choices").toArray().at(0).toObject().value("message").toObject();
            QCOMPARE(assembler.text(), message.value("content").toString());
        }
    }

    void openAIChunksHaveTheChunkShape()
    {
        StreamReplayOptions options;
        options.includeUsage = true;
        const auto replay = replayAsStream(ProviderKind::OpenAI, object(openAIText), options);
        QVERIFY(replay.ok());
        const QList<SseEvent> &events = replay->events;
        QCOMPARE(events.last(), openAIDoneEvent());
        QCOMPARE(events.last().data, QByteArray("[DONE]"));

        const QJsonObject first = dataOf(events.first());
        QCOMPARE(first.value("object").toString(), QStringLiteral("chat.completion.chunk"));
        QCOMPARE(first.value("id").toString(), QStringLiteral("chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG"));
        QCOMPARE(first.value("system_fingerprint").toString(), QStringLiteral("fp_fc9f1d7035"));
        const QJsonObject firstDelta = first.value("choices").toArray().at(0).toObject().value("delta").toObject();
        QCOMPARE(firstDelta, (QJsonObject{{"role", "assistant"}, {"content", ""}}));

        for (qsizetype i = 0; i + 2 < events.size(); ++i) {
            const QJsonObject chunk = dataOf(events.at(i));
            QVERIFY(chunk.value("usage").isNull());
            QCOMPARE(chunk.value("choices").toArray().size(), 1);
            QVERIFY(events.at(i).event.isEmpty());
        }
        const QJsonObject finish = dataOf(events.at(events.size() - 3)).value("choices").toArray().at(0).toObject();
        QCOMPARE(finish.value("finish_reason").toString(), QStringLiteral("stop"));
        QCOMPARE(finish.value("delta").toObject(), QJsonObject());

        const QJsonObject usageChunk = dataOf(events.at(events.size() - 2));
        QCOMPARE(usageChunk.value("choices").toArray(), QJsonArray());
        QCOMPARE(usageChunk.value("usage").toObject().value("prompt_tokens").toInteger(), 1117);

        for (const qsizetype index : replay->contentEventIndexes) {
            const QJsonObject delta =
                dataOf(events.at(index)).value("choices").toArray().at(0).toObject().value("delta").toObject();
            QVERIFY(delta.contains("content"));
        }
    }

    void anthropicEventSequence()
    {
        const auto replay = replayAsStream(ProviderKind::Anthropic, object(anthropicText));
        QVERIFY(replay.ok());
        QByteArrayList names;
        for (const SseEvent &event : replay->events) {
            names << event.event;
            QCOMPARE(dataOf(event).value("type").toString().toUtf8(), event.event);
        }
        const qsizetype deltas = names.count("content_block_delta");
        QVERIFY(deltas > 3);
        QCOMPARE(replay->contentEventIndexes.size(), deltas);
        QByteArrayList expected{"message_start", "content_block_start", "ping"};
        for (qsizetype i = 0; i < deltas; ++i)
            expected << "content_block_delta";
        expected << "content_block_stop" << "message_delta" << "message_stop";
        QCOMPARE(names, expected);

        const QJsonObject start = dataOf(replay->events.first()).value("message").toObject();
        QCOMPARE(start.value("content").toArray(), QJsonArray());
        QVERIFY(start.value("stop_reason").isNull());
        QCOMPARE(start.value("usage").toObject().value("input_tokens").toInteger(), 50);
        QCOMPARE(start.value("usage").toObject().value("cache_read_input_tokens").toInteger(), 1000);
        QCOMPARE(start.value("usage").toObject().value("output_tokens").toInteger(), 1);
        const QJsonObject messageDelta = dataOf(replay->events.at(replay->events.size() - 2));
        QCOMPARE(messageDelta.value("delta").toObject().value("stop_reason").toString(), QStringLiteral("end_turn"));
        QCOMPARE(messageDelta.value("usage").toObject(), (QJsonObject{{"output_tokens", 23}}));
        const QJsonObject firstDelta = dataOf(replay->events.at(3)).value("delta").toObject();
        QCOMPARE(firstDelta.value("type").toString(), QStringLiteral("text_delta"));
    }

    void rejectsOtherShapes_data()
    {
        QTest::addColumn<ProviderKind>("kind");
        QTest::addColumn<QByteArray>("body");
        QTest::newRow("anthropic body as openai") << ProviderKind::OpenAI << anthropicText;
        QTest::newRow("openai body as anthropic") << ProviderKind::Anthropic << openAIText;
        QTest::newRow("error body") << ProviderKind::Anthropic
                                    << QByteArray(R"({"type":"error","error":{"type":"api_error","message":"x"}})");
    }

    void rejectsOtherShapes()
    {
        QFETCH(ProviderKind, kind);
        QFETCH(QByteArray, body);
        QVERIFY(!replayAsStream(kind, object(body)).ok());
    }

    void streamErrorsAreRecognised_data()
    {
        QTest::addColumn<ProviderKind>("kind");
        QTest::addColumn<int>("status");
        QTest::newRow("anthropic overloaded") << ProviderKind::Anthropic << 529;
        QTest::newRow("openai server error") << ProviderKind::OpenAI << 500;
    }

    void streamErrorsAreRecognised()
    {
        QFETCH(ProviderKind, kind);
        QFETCH(int, status);
        const ApiError error = errorForStatus(kind, status);
        const SseEvent event = streamErrorEvent(kind, error);
        QCOMPARE(event.event, kind == ProviderKind::Anthropic ? QByteArray("error") : QByteArray());
        StreamAssembler assembler(kind);
        for (const SseEvent &parsed : parseInPieces(formatSseEvent(event), 3))
            assembler.addEvent(parsed);
        QVERIFY(assembler.error().has_value());
        QCOMPARE(assembler.error()->httpStatus, status);
        QCOMPARE(assembler.error()->type, error.type);
        QCOMPARE(assembler.error()->message, error.message);
        QVERIFY(!assembler.isComplete());
    }

    void splitForStreaming_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<qsizetype>("limit");
        QTest::addColumn<QStringList>("pieces");
        QTest::newRow("empty") << QString() << qsizetype(32) << QStringList();
        QTest::newRow("words keep leading space") << QStringLiteral("Hello big world.") << qsizetype(32)
                                                  << QStringList{"Hello", " big", " world."};
        QTest::newRow("whitespace runs") << QStringLiteral("  a\n\nb ") << qsizetype(32)
                                         << QStringList{"  a", "\n\nb", " "};
        QTest::newRow("long word cut") << QStringLiteral("abcdefghij") << qsizetype(4)
                                       << QStringList{"abcd", "efgh", "ij"};
        QTest::newRow("surrogate pair kept whole") << QStringLiteral("ab🌍cd") << qsizetype(3)
                                                   << QStringList{"ab🌍", "cd"};
    }

    void splitForStreaming()
    {
        QFETCH(QString, text);
        QFETCH(qsizetype, limit);
        QFETCH(QStringList, pieces);
        const QStringList split = sluice::gateway::splitForStreaming(text, limit);
        QCOMPARE(split, pieces);
        QCOMPARE(split.join(QString()), text);
    }
};

QTEST_APPLESS_MAIN(TestStreamReplay)
#include "tst_streamreplay.moc"
