#pragma once

#include "gateway/providerprotocol.h"
#include "gateway/tokenusage.h"

#include <QJsonObject>
#include <QString>

namespace sluice::gateway {

// Why generation stopped, in neutral form.
enum class FinishReason {
    Stop,          // OpenAI "stop",           Anthropic "end_turn"
    Length,        // OpenAI "length",         Anthropic "max_tokens"
    StopSequence,  // OpenAI "stop",           Anthropic "stop_sequence"
    ToolCalls,     // OpenAI "tool_calls",     Anthropic "tool_use"
    ContentFilter, // OpenAI "content_filter", Anthropic "refusal"
};

QString finishReasonName(ProviderKind kind, FinishReason reason);

// A single-choice text answer, for building a provider's non-stream response body
// (the simulated provider; tests).
struct ChatResponse {
    QString id;      // "chatcmpl-…" / "msg_…"
    QString model;
    qint64 createdUnixSeconds = 0; // OpenAI "created"; not part of Anthropic's shape
    QString text;
    FinishReason finishReason = FinishReason::Stop;
    QString stopSequence;          // Anthropic "stop_sequence" when finishReason is StopSequence
    policy::TokenUsage usage;
    QString systemFingerprint;     // OpenAI "system_fingerprint"; omitted when empty
};

// The body exactly as the provider shapes it:
// OpenAI: {"id","object":"chat.completion","created","model","choices":[{"index":0,
//   "message":{"role":"assistant","content","refusal":null,"annotations":[]},
//   "logprobs":null,"finish_reason"}],"usage":{…}[,"system_fingerprint"]}
// Anthropic: {"id","type":"message","role":"assistant","model","content":[{"type":"text",
//   "text"}],"stop_reason","stop_sequence","usage":{…}}
QJsonObject chatResponseJson(ProviderKind kind, const ChatResponse &response);

} // namespace sluice::gateway
