#pragma once

#include "gateway/chatrequest.h"

namespace sluice::gateway {

// Token estimates for admission (the tokens-per-minute reservation) before the provider
// has counted anything. A deliberately simple, documented heuristic, not a tokenizer:
// the gateway reconciles the reservation with the provider's usage block afterwards.
// Pure; thread-safe.
struct TokenEstimateRules {
    // English text averages ~4 characters per token with the GPT and Claude tokenizers.
    // Counted in UTF-8 bytes, so non-Latin scripts (2-4 bytes a character, and about a
    // token a character) are not badly underestimated.
    static constexpr qint64 bytesPerToken = 4;
    // Role and separators around every message (OpenAI's published count is 3-4).
    static constexpr qint64 tokensPerMessage = 4;
    // Priming of the reply, once per request.
    static constexpr qint64 tokensPerRequest = 3;
    // An image, audio clip, file or document part: a flat, deliberately generous cost.
    static constexpr qint64 tokensPerAttachment = 1000;
    // The output reservation when a request sets no max tokens (OpenAI makes it optional).
    static constexpr qint64 defaultMaxOutputTokens = 4096;
};

// tokensPerRequest + ceil(utf8 bytes of system / 4) (+ tokensPerMessage when there is a
// system) + per message tokensPerMessage + ceil(utf8 bytes of its text / 4) +
// tokensPerAttachment per attachment + ceil(utf8 bytes of the tool definitions / 4).
qint64 estimateInputTokens(const ChatRequest &request);

// The output tokens to reserve: maxOutputTokens, or defaultMaxOutputTokens when absent,
// times the number of choices (OpenAI n).
qint64 reservedOutputTokens(const ChatRequest &request);

// What admission reserves against a tokens-per-minute limit:
// estimateInputTokens() + reservedOutputTokens().
qint64 estimateReservationTokens(const ChatRequest &request);

} // namespace sluice::gateway
