#include "gateway/streamreplay.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace sluice::gateway {

namespace {

QByteArray compact(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

class OpenAIReplay {
public:
    OpenAIReplay(const QJsonObject &response, const StreamReplayOptions &options)
        : m_options(options)
    {
        m_common.insert(QStringLiteral("object"), QStringLiteral("chat.completion.chunk"));
        for (const char *key : {"id", "created", "model", "system_fingerprint", "service_tier"}) {
            const QJsonValue value = response.value(QLatin1String(key));
            if (!value.isUndefined())
                m_common.insert(QLatin1String(key), value);
        }
        if (options.includeUsage)
            m_common.insert(QStringLiteral("usage"), QJsonValue::Null);
    }

    void replayChoice(const QJsonObject &choice)
    {
        const QJsonValue index = choice.value(QStringLiteral("index"));
        const QJsonObject message = choice.value(QStringLiteral("message")).toObject();
        const QJsonValue content = message.value(QStringLiteral("content"));
        addChunk(index, QJsonObject{{QStringLiteral("role"), message.value(QStringLiteral("role")).toString(
                                                                 QStringLiteral("assistant"))},
                                    {QStringLiteral("content"), content.isString() ? QJsonValue(QString())
                                                                                   : QJsonValue(QJsonValue::Null)}},
                 false);
        for (const QString &piece : splitForStreaming(content.toString(), m_options.maxPieceCharacters))
            addChunk(index, QJsonObject{{QStringLiteral("content"), piece}}, true);
        const QString refusal = message.value(QStringLiteral("refusal")).toString();
        for (const QString &piece : splitForStreaming(refusal, m_options.maxPieceCharacters))
            addChunk(index, QJsonObject{{QStringLiteral("refusal"), piece}}, true);

        const QJsonArray toolCalls = message.value(QStringLiteral("tool_calls")).toArray();
        for (qsizetype i = 0; i < toolCalls.size(); ++i) {
            const QJsonObject call = toolCalls.at(i).toObject();
            const QJsonObject function = call.value(QStringLiteral("function")).toObject();
            QJsonObject header{{QStringLiteral("index"), i},
                               {QStringLiteral("id"), call.value(QStringLiteral("id"))},
                               {QStringLiteral("type"), call.value(QStringLiteral("type"))},
                               {QStringLiteral("function"),
                                QJsonObject{{QStringLiteral("name"), function.value(QStringLiteral("name"))},
                                            {QStringLiteral("arguments"), QString()}}}};
            addChunk(index, QJsonObject{{QStringLiteral("tool_calls"), QJsonArray{header}}}, false);
            const QString arguments = function.value(QStringLiteral("arguments")).toString();
            for (const QString &piece : splitForStreaming(arguments, m_options.maxPieceCharacters)) {
                const QJsonObject part{{QStringLiteral("index"), i},
                                       {QStringLiteral("function"),
                                        QJsonObject{{QStringLiteral("arguments"), piece}}}};
                addChunk(index, QJsonObject{{QStringLiteral("tool_calls"), QJsonArray{part}}}, true);
            }
        }
        const QJsonObject functionCall = message.value(QStringLiteral("function_call")).toObject();
        if (!functionCall.isEmpty()) {
            addChunk(index,
                     QJsonObject{{QStringLiteral("function_call"),
                                  QJsonObject{{QStringLiteral("name"), functionCall.value(QStringLiteral("name"))},
                                              {QStringLiteral("arguments"), QString()}}}},
                     false);
            const QString arguments = functionCall.value(QStringLiteral("arguments")).toString();
            for (const QString &piece : splitForStreaming(arguments, m_options.maxPieceCharacters)) {
                addChunk(index,
                         QJsonObject{{QStringLiteral("function_call"),
                                      QJsonObject{{QStringLiteral("arguments"), piece}}}},
                         true);
            }
        }
        addChunk(index, QJsonObject(), false, choice.value(QStringLiteral("finish_reason")));
    }

    void finish(const QJsonObject &response)
    {
        const QJsonValue usage = response.value(QStringLiteral("usage"));
        if (m_options.includeUsage && usage.isObject()) {
            QJsonObject chunk = m_common;
            chunk.insert(QStringLiteral("choices"), QJsonArray());
            chunk.insert(QStringLiteral("usage"), usage);
            m_stream.events.append(SseEvent{{}, compact(chunk)});
        }
        m_stream.events.append(openAIDoneEvent());
    }

    ReplayedStream take() { return std::move(m_stream); }

private:
    void addChunk(const QJsonValue &index, const QJsonObject &delta, bool carriesContent,
                  const QJsonValue &finishReason = QJsonValue::Null)
    {
        QJsonObject chunk = m_common;
        chunk.insert(QStringLiteral("choices"), QJsonArray{QJsonObject{
                                                    {QStringLiteral("index"), index},
                                                    {QStringLiteral("delta"), delta},
                                                    {QStringLiteral("logprobs"), QJsonValue::Null},
                                                    {QStringLiteral("finish_reason"), finishReason},
                                                }});
        if (carriesContent)
            m_stream.contentEventIndexes.append(m_stream.events.size());
        m_stream.events.append(SseEvent{{}, compact(chunk)});
    }

    const StreamReplayOptions &m_options;
    QJsonObject m_common;
    ReplayedStream m_stream;
};

class AnthropicReplay {
public:
    explicit AnthropicReplay(const StreamReplayOptions &options) : m_options(options) {}

    void start(const QJsonObject &response)
    {
        QJsonObject message = response;
        message.insert(QStringLiteral("content"), QJsonArray());
        message.insert(QStringLiteral("stop_reason"), QJsonValue::Null);
        message.insert(QStringLiteral("stop_sequence"), QJsonValue::Null);
        QJsonObject usage = response.value(QStringLiteral("usage")).toObject();
        usage.insert(QStringLiteral("output_tokens"),
                     std::min<qint64>(1, usage.value(QStringLiteral("output_tokens")).toInteger(0)));
        message.insert(QStringLiteral("usage"), usage);
        add("message_start", QJsonObject{{QStringLiteral("message"), message}});
    }

    void replayBlock(qsizetype index, const QJsonObject &block)
    {
        const QString type = block.value(QStringLiteral("type")).toString();
        if (type == QStringLiteral("text")) {
            addStart(index, QJsonObject{{QStringLiteral("type"), type}, {QStringLiteral("text"), QString()}});
            addDeltas(index, QStringLiteral("text_delta"), QStringLiteral("text"),
                      block.value(QStringLiteral("text")).toString());
        } else if (type == QStringLiteral("tool_use") || type == QStringLiteral("server_tool_use")) {
            QJsonObject start = block;
            start.insert(QStringLiteral("input"), QJsonObject());
            addStart(index, start);
            addDeltas(index, QStringLiteral("input_json_delta"), QStringLiteral("partial_json"),
                      QString::fromUtf8(compact(block.value(QStringLiteral("input")).toObject())));
        } else if (type == QStringLiteral("thinking")) {
            addStart(index, QJsonObject{{QStringLiteral("type"), type}, {QStringLiteral("thinking"), QString()}});
            addDeltas(index, QStringLiteral("thinking_delta"), QStringLiteral("thinking"),
                      block.value(QStringLiteral("thinking")).toString());
            addDelta(index, QJsonObject{{QStringLiteral("type"), QStringLiteral("signature_delta")},
                                        {QStringLiteral("signature"), block.value(QStringLiteral("signature"))}},
                     false);
        } else {
            addStart(index, block);
        }
        add("content_block_stop", QJsonObject{{QStringLiteral("index"), index}});
    }

    void finish(const QJsonObject &response)
    {
        addPingOnce();
        const QJsonObject usage = response.value(QStringLiteral("usage")).toObject();
        add("message_delta",
            QJsonObject{{QStringLiteral("delta"),
                         QJsonObject{{QStringLiteral("stop_reason"), response.value(QStringLiteral("stop_reason"))},
                                     {QStringLiteral("stop_sequence"),
                                      response.value(QStringLiteral("stop_sequence"))}}},
                        {QStringLiteral("usage"),
                         QJsonObject{{QStringLiteral("output_tokens"),
                                      usage.value(QStringLiteral("output_tokens")).toInteger(0)}}}});
        add("message_stop", QJsonObject());
    }

    ReplayedStream take() { return std::move(m_stream); }

private:
    void add(const char *type, QJsonObject data, bool carriesContent = false)
    {
        data.insert(QStringLiteral("type"), QLatin1String(type));
        if (carriesContent)
            m_stream.contentEventIndexes.append(m_stream.events.size());
        m_stream.events.append(SseEvent{QByteArray(type), compact(data)});
    }

    void addPingOnce()
    {
        if (!std::exchange(m_pinged, true))
            add("ping", QJsonObject());
    }

    void addStart(qsizetype index, const QJsonObject &block)
    {
        add("content_block_start",
            QJsonObject{{QStringLiteral("index"), index}, {QStringLiteral("content_block"), block}});
        addPingOnce();
    }

    void addDelta(qsizetype index, const QJsonObject &delta, bool carriesContent)
    {
        add("content_block_delta", QJsonObject{{QStringLiteral("index"), index}, {QStringLiteral("delta"), delta}},
            carriesContent);
    }

    void addDeltas(qsizetype index, const QString &deltaType, const QString &field, const QString &text)
    {
        for (const QString &piece : splitForStreaming(text, m_options.maxPieceCharacters))
            addDelta(index, QJsonObject{{QStringLiteral("type"), deltaType}, {field, piece}}, true);
    }

    const StreamReplayOptions &m_options;
    ReplayedStream m_stream;
    bool m_pinged = false;
};

} // namespace

QStringList splitForStreaming(const QString &text, qsizetype maxPieceCharacters)
{
    const qsizetype limit = std::max<qsizetype>(1, maxPieceCharacters);
    QStringList pieces;
    qsizetype start = 0;
    for (qsizetype i = 1; i < text.size(); ++i) {
        const bool wordStarts = text.at(i).isSpace() && !text.at(i - 1).isSpace();
        const bool full = i - start >= limit && !text.at(i).isLowSurrogate();
        if (wordStarts || full) {
            pieces.append(text.mid(start, i - start));
            start = i;
        }
    }
    if (start < text.size())
        pieces.append(text.mid(start));
    return pieces;
}

SseEvent openAIDoneEvent()
{
    return SseEvent{{}, QByteArrayLiteral("[DONE]")};
}

SseEvent streamErrorEvent(ProviderKind kind, const ApiError &error)
{
    return SseEvent{kind == ProviderKind::Anthropic ? QByteArrayLiteral("error") : QByteArray(),
                    errorBody(kind, error)};
}

Result<ReplayedStream, QString> replayAsStream(ProviderKind kind, const QJsonObject &response,
                                               const StreamReplayOptions &options)
{
    if (kind == ProviderKind::OpenAI) {
        const QJsonValue choices = response.value(QStringLiteral("choices"));
        if (response.value(QStringLiteral("object")).toString() != QStringLiteral("chat.completion")
            || !choices.isArray()) {
            return unexpected(QStringLiteral("not a chat.completion object with choices"));
        }
        OpenAIReplay replay(response, options);
        for (const QJsonValue choice : choices.toArray())
            replay.replayChoice(choice.toObject());
        replay.finish(response);
        return replay.take();
    }
    const QJsonValue content = response.value(QStringLiteral("content"));
    if (response.value(QStringLiteral("type")).toString() != QStringLiteral("message") || !content.isArray())
        return unexpected(QStringLiteral("not a message object with content"));
    AnthropicReplay replay(options);
    replay.start(response);
    const QJsonArray blocks = content.toArray();
    for (qsizetype i = 0; i < blocks.size(); ++i)
        replay.replayBlock(i, blocks.at(i).toObject());
    replay.finish(response);
    return replay.take();
}

} // namespace sluice::gateway
