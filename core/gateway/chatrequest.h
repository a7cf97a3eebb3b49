#pragma once

#include "gateway/providerprotocol.h"

#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace sluice::gateway {

// One conversation turn in neutral form.
struct ChatMessage {
    // As sent: OpenAI system, developer, user, assistant, tool, function;
    // Anthropic user, assistant.
    QString role;
    // The textual content, the parts joined with "\n": string content, text parts and
    // blocks, refusals, tool results' text, and tool calls / tool_use inputs as compact
    // JSON (name and arguments). What token estimation and the simulator read.
    QString text;
    // Non-text parts (image, audio, file, document); estimated at a flat token cost.
    int attachmentCount = 0;
};

// A chat request in neutral form, as parsed and validated from either wire shape.
// The gateway forwards `original` unchanged; the other fields are what its policies
// (token reservation, cache key, routing) and the simulated provider read.
struct ChatRequest {
    ProviderKind kind = ProviderKind::OpenAI;
    QString model;
    // Anthropic's top-level "system" (string or text blocks, joined with "\n").
    // OpenAI system/developer instructions stay in `messages`.
    QString system;
    QList<ChatMessage> messages;
    bool stream = false;
    // OpenAI stream_options.include_usage: the stream ends with a usage chunk.
    // Always false for Anthropic, whose streams always carry usage.
    bool includeUsage = false;
    // OpenAI max_completion_tokens (preferred) or max_tokens; Anthropic max_tokens
    // (required there). nullopt when absent.
    std::optional<qint64> maxOutputTokens;
    std::optional<double> temperature;
    std::optional<double> topP;
    std::optional<qint64> topK;          // Anthropic only
    std::optional<qint64> seed;          // OpenAI only
    QStringList stop;                    // OpenAI stop / Anthropic stop_sequences
    int choiceCount = 1;                 // OpenAI n
    // Compact JSON of the tool definitions (OpenAI tools/functions, Anthropic tools);
    // empty when none. They count towards the input tokens.
    QString toolsJson;
    QJsonObject original;
};

} // namespace sluice::gateway
