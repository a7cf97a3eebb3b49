#include "gateway/streamassembler.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace sluice::gateway {

namespace {

void appendString(QJsonValue &target, const QJsonValue &piece)
{
    if (piece.isString())
        target = target.toString() + piece.toString();
}

} // namespace

StreamAssembler::StreamAssembler(ProviderKind kind)
    : m_kind(kind)
    , m_usage(kind)
{
}

void StreamAssembler::addEvent(const SseEvent &event)
{
    if (m_kind == ProviderKind::OpenAI && event.data == "[DONE]") {
        m_complete = true;
        return;
    }
    const QJsonDocument document = QJsonDocument::fromJson(event.data);
    if (!document.isObject())
        return;
    const QJsonObject data = document.object();
    m_usage.addEventObject(event.event, data);
    if (m_kind == ProviderKind::OpenAI)
        addOpenAIChunk(data);
    else
        addAnthropicEvent(data.value(QStringLiteral("type")).toString(QString::fromUtf8(event.event)), data);
}

void StreamAssembler::setError(const QJsonObject &error)
{
    ApiError apiError;
    apiError.type = error.value(QStringLiteral("type")).toString();
    apiError.message = error.value(QStringLiteral("message")).toString();
    apiError.code = error.value(QStringLiteral("code")).toString();
    apiError.param = error.value(QStringLiteral("param")).toString();
    apiError.httpStatus = statusForErrorType(m_kind, apiError.type);
    m_error = apiError;
}

void StreamAssembler::addOpenAIChunk(const QJsonObject &chunk)
{
    if (chunk.value(QStringLiteral("error")).isObject()) {
        setError(chunk.value(QStringLiteral("error")).toObject());
        return;
    }
    for (const char *key : {"id", "created", "model", "system_fingerprint", "service_tier"}) {
        const QJsonValue value = chunk.value(QLatin1String(key));
        if (!value.isUndefined() && !value.isNull())
            m_header.insert(QLatin1String(key), value);
    }
    for (const QJsonValue entry : chunk.value(QStringLiteral("choices")).toArray()) {
        const QJsonObject choiceChunk = entry.toObject();
        Choice &choice = m_choices[choiceChunk.value(QStringLiteral("index")).toInteger(0)];
        const QJsonObject delta = choiceChunk.value(QStringLiteral("delta")).toObject();
        if (delta.value(QStringLiteral("role")).isString())
            choice.role = delta.value(QStringLiteral("role")).toString();
        appendString(choice.content, delta.value(QStringLiteral("content")));
        appendString(choice.refusal, delta.value(QStringLiteral("refusal")));
        for (const QJsonValue callValue : delta.value(QStringLiteral("tool_calls")).toArray()) {
            const QJsonObject callDelta = callValue.toObject();
            ToolCall &call = choice.toolCalls[callDelta.value(QStringLiteral("index")).toInteger(0)];
            for (const char *key : {"id", "type"}) {
                if (callDelta.value(QLatin1String(key)).isString())
                    call.header.insert(QLatin1String(key), callDelta.value(QLatin1String(key)));
            }
            const QJsonObject function = callDelta.value(QStringLiteral("function")).toObject();
            call.name += function.value(QStringLiteral("name")).toString();
            call.arguments += function.value(QStringLiteral("arguments")).toString();
        }
        const QJsonValue functionCall = delta.value(QStringLiteral("function_call"));
        if (functionCall.isObject()) {
            if (!choice.functionCall)
                choice.functionCall = ToolCall{};
            choice.functionCall->name += functionCall.toObject().value(QStringLiteral("name")).toString();
            choice.functionCall->arguments += functionCall.toObject().value(QStringLiteral("arguments")).toString();
        }
        const QJsonValue finishReason = choiceChunk.value(QStringLiteral("finish_reason"));
        if (finishReason.isString())
            choice.finishReason = finishReason;
    }
}

void StreamAssembler::addAnthropicEvent(const QString &type, const QJsonObject &data)
{
    const qint64 index = data.value(QStringLiteral("index")).toInteger(0);
    if (type == QStringLiteral("message_start")) {
        m_header = data.value(QStringLiteral("message")).toObject();
    } else if (type == QStringLiteral("content_block_start")) {
        m_blocks.insert(index, data.value(QStringLiteral("content_block")).toObject());
    } else if (type == QStringLiteral("content_block_delta")) {
        QJsonObject &block = m_blocks[index];
        const QJsonObject delta = data.value(QStringLiteral("delta")).toObject();
        const QString deltaType = delta.value(QStringLiteral("type")).toString();
        if (deltaType == QStringLiteral("text_delta")) {
            block.insert(QStringLiteral("text"), block.value(QStringLiteral("text")).toString()
                                                     + delta.value(QStringLiteral("text")).toString());
        } else if (deltaType == QStringLiteral("thinking_delta")) {
            block.insert(QStringLiteral("thinking"), block.value(QStringLiteral("thinking")).toString()
                                                         + delta.value(QStringLiteral("thinking")).toString());
        } else if (deltaType == QStringLiteral("signature_delta")) {
            block.insert(QStringLiteral("signature"), delta.value(QStringLiteral("signature")));
        } else if (deltaType == QStringLiteral("input_json_delta")) {
            m_partialJson[index] += delta.value(QStringLiteral("partial_json")).toString();
        } else if (deltaType == QStringLiteral("citations_delta")) {
            QJsonArray citations = block.value(QStringLiteral("citations")).toArray();
            citations.append(delta.value(QStringLiteral("citation")));
            block.insert(QStringLiteral("citations"), citations);
        }
    } else if (type == QStringLiteral("content_block_stop")) {
        const QString partial = m_partialJson.take(index);
        const QJsonDocument input = QJsonDocument::fromJson(partial.toUtf8());
        if (input.isObject() && m_blocks.contains(index))
            m_blocks[index].insert(QStringLiteral("input"), input.object());
    } else if (type == QStringLiteral("message_delta")) {
        const QJsonObject delta = data.value(QStringLiteral("delta")).toObject();
        for (auto it = delta.begin(); it != delta.end(); ++it)
            m_header.insert(it.key(), it.value());
    } else if (type == QStringLiteral("message_stop")) {
        m_complete = true;
    } else if (type == QStringLiteral("error")) {
        setError(data.value(QStringLiteral("error")).toObject());
    }
}

QString StreamAssembler::text() const
{
    if (m_kind == ProviderKind::OpenAI)
        return m_choices.value(0).content.toString();
    QString text;
    for (const QJsonObject &block : m_blocks) {
        if (block.value(QStringLiteral("type")).toString() == QStringLiteral("text"))
            text += block.value(QStringLiteral("text")).toString();
    }
    return text;
}

QJsonObject StreamAssembler::response() const
{
    return m_kind == ProviderKind::OpenAI ? openAIResponse() : anthropicResponse();
}

QJsonObject StreamAssembler::openAIResponse() const
{
    QJsonObject body = m_header;
    body.insert(QStringLiteral("object"), QStringLiteral("chat.completion"));
    QJsonArray choices;
    for (auto it = m_choices.begin(); it != m_choices.end(); ++it) {
        const Choice &choice = it.value();
        QJsonObject message{{QStringLiteral("role"), choice.role},
                            {QStringLiteral("content"), choice.content},
                            {QStringLiteral("refusal"), choice.refusal},
                            {QStringLiteral("annotations"), QJsonArray()}};
        if (!choice.toolCalls.isEmpty()) {
            QJsonArray calls;
            for (const ToolCall &call : choice.toolCalls) {
                QJsonObject entry = call.header;
                entry.insert(QStringLiteral("function"),
                             QJsonObject{{QStringLiteral("name"), call.name},
                                         {QStringLiteral("arguments"), call.arguments}});
                calls.append(entry);
            }
            message.insert(QStringLiteral("tool_calls"), calls);
        }
        if (choice.functionCall) {
            message.insert(QStringLiteral("function_call"),
                           QJsonObject{{QStringLiteral("name"), choice.functionCall->name},
                                       {QStringLiteral("arguments"), choice.functionCall->arguments}});
        }
        choices.append(QJsonObject{{QStringLiteral("index"), it.key()},
                                   {QStringLiteral("message"), message},
                                   {QStringLiteral("logprobs"), QJsonValue::Null},
                                   {QStringLiteral("finish_reason"), choice.finishReason}});
    }
    body.insert(QStringLiteral("choices"), choices);
    if (m_usage.usage())
        body.insert(QStringLiteral("usage"), m_usage.providerUsage());
    return body;
}

QJsonObject StreamAssembler::anthropicResponse() const
{
    QJsonObject body = m_header;
    QJsonArray content;
    for (const QJsonObject &block : m_blocks)
        content.append(block);
    body.insert(QStringLiteral("content"), content);
    if (m_usage.usage())
        body.insert(QStringLiteral("usage"), m_usage.providerUsage());
    return body;
}

} // namespace sluice::gateway
