#include "gateway/chatresponse.h"

#include <QJsonArray>

namespace sluice::gateway {

QString finishReasonName(ProviderKind kind, FinishReason reason)
{
    const bool openAI = kind == ProviderKind::OpenAI;
    switch (reason) {
    case FinishReason::Stop:
        return openAI ? QStringLiteral("stop") : QStringLiteral("end_turn");
    case FinishReason::Length:
        return openAI ? QStringLiteral("length") : QStringLiteral("max_tokens");
    case FinishReason::StopSequence:
        return openAI ? QStringLiteral("stop") : QStringLiteral("stop_sequence");
    case FinishReason::ToolCalls:
        return openAI ? QStringLiteral("tool_calls") : QStringLiteral("tool_use");
    case FinishReason::ContentFilter:
        return openAI ? QStringLiteral("content_filter") : QStringLiteral("refusal");
    }
    return {};
}

QJsonObject chatResponseJson(ProviderKind kind, const ChatResponse &response)
{
    if (kind == ProviderKind::OpenAI) {
        const QJsonObject message{
            {QStringLiteral("role"), QStringLiteral("assistant")},
            {QStringLiteral("content"), response.text},
            {QStringLiteral("refusal"), QJsonValue::Null},
            {QStringLiteral("annotations"), QJsonArray()},
        };
        QJsonObject body{
            {QStringLiteral("id"), response.id},
            {QStringLiteral("object"), QStringLiteral("chat.completion")},
            {QStringLiteral("created"), response.createdUnixSeconds},
            {QStringLiteral("model"), response.model},
            {QStringLiteral("choices"),
             QJsonArray{QJsonObject{
                 {QStringLiteral("index"), 0},
                 {QStringLiteral("message"), message},
                 {QStringLiteral("logprobs"), QJsonValue::Null},
                 {QStringLiteral("finish_reason"), finishReasonName(kind, response.finishReason)},
             }}},
            {QStringLiteral("usage"), usageObject(kind, response.usage)},
        };
        if (!response.systemFingerprint.isEmpty())
            body.insert(QStringLiteral("system_fingerprint"), response.systemFingerprint);
        return body;
    }
    const bool stoppedBySequence = response.finishReason == FinishReason::StopSequence;
    return QJsonObject{
        {QStringLiteral("id"), response.id},
        {QStringLiteral("type"), QStringLiteral("message")},
        {QStringLiteral("role"), QStringLiteral("assistant")},
        {QStringLiteral("model"), response.model},
        {QStringLiteral("content"),
         QJsonArray{QJsonObject{{QStringLiteral("type"), QStringLiteral("text")},
                                {QStringLiteral("text"), response.text}}}},
        {QStringLiteral("stop_reason"), finishReasonName(kind, response.finishReason)},
        {QStringLiteral("stop_sequence"),
         stoppedBySequence ? QJsonValue(response.stopSequence) : QJsonValue(QJsonValue::Null)},
        {QStringLiteral("usage"), usageObject(kind, response.usage)},
    };
}

} // namespace sluice::gateway
