#pragma once

#include "gateway/apierror.h"
#include "gateway/providerprotocol.h"
#include "gateway/sseevent.h"
#include "gateway/tokenusage.h"

#include <QJsonObject>
#include <QMap>
#include <QString>

#include <optional>

namespace sluice::gateway {

// Rebuilds the non-stream response body from a provider's SSE stream, event by event:
// the inverse of replayAsStream(). The gateway uses it to cache and account a streamed
// answer; tests use it to check a replay. Events it does not understand are ignored.
// Not thread-safe; one per stream.
//
// OpenAI: per choice index, role, content and refusal are concatenated (null until a
// delta carries a string), tool calls are merged by index (id, type, name, arguments
// concatenated), the legacy function_call likewise; the message always has "refusal"
// and "annotations": [] as the real API's does; logprobs are null. Complete at
// "data: [DONE]".
// Anthropic: the message of message_start, content blocks from content_block_start,
// text/thinking/signature/input_json deltas applied (a tool_use input is parsed from
// its concatenated partial_json at content_block_stop), stop_reason, stop_sequence and
// usage from message_delta. Complete at message_stop.
// Both: the body's "usage" is the provider's own usage object as streamed
// (StreamUsageAccumulator::providerUsage()), present once an event carried one.
// Both: an error event (Anthropic `event: error`, OpenAI `data: {"error":…}`) is kept in
// error(), with the HTTP status its type maps to (statusForErrorType()).
class StreamAssembler {
public:
    explicit StreamAssembler(ProviderKind kind);

    void addEvent(const SseEvent &event);

    bool isComplete() const { return m_complete; }
    std::optional<ApiError> error() const { return m_error; }
    // OpenAI: choice 0's content; Anthropic: the text blocks concatenated.
    QString text() const;
    std::optional<policy::TokenUsage> usage() const { return m_usage.usage(); }
    // The equivalent non-stream body, as far as the stream has got.
    QJsonObject response() const;

private:
    struct ToolCall {
        QJsonObject header; // id, type
        QString name;
        QString arguments;
    };
    struct Choice {
        QString role = QStringLiteral("assistant");
        QJsonValue content = QJsonValue::Null;
        QJsonValue refusal = QJsonValue::Null;
        QMap<qint64, ToolCall> toolCalls;
        std::optional<ToolCall> functionCall;
        QJsonValue finishReason = QJsonValue::Null;
    };

    void addOpenAIChunk(const QJsonObject &chunk);
    void addAnthropicEvent(const QString &type, const QJsonObject &data);
    void setError(const QJsonObject &error);
    QJsonObject openAIResponse() const;
    QJsonObject anthropicResponse() const;

    ProviderKind m_kind;
    StreamUsageAccumulator m_usage;
    bool m_complete = false;
    std::optional<ApiError> m_error;
    QJsonObject m_header;              // OpenAI id/created/model/…, Anthropic message
    QMap<qint64, Choice> m_choices;    // OpenAI
    QMap<qint64, QJsonObject> m_blocks; // Anthropic
    QMap<qint64, QString> m_partialJson;
};

} // namespace sluice::gateway
