#pragma once

#include <cstdint>

namespace sluice::policy {

// The tokens of one upstream request, split by how they are billed. The four
// counts are disjoint: every prompt token is in exactly one of inputTokens,
// cachedInputTokens or cacheWriteTokens, so
//   prompt tokens = inputTokens + cachedInputTokens + cacheWriteTokens.
// Providers report usage in different shapes; build a TokenUsage only through
// fromOpenAiUsage() or fromAnthropicUsage() so a cached token is never billed
// twice (once as input, once as cache read).
struct TokenUsage {
    // Prompt tokens processed at the full input price: neither read from nor
    // written to a prompt cache.
    std::int64_t inputTokens = 0;
    // Generated tokens, including hidden reasoning / thinking tokens (all
    // providers bill those as output).
    std::int64_t outputTokens = 0;
    // Prompt tokens read from the provider's prompt cache (cache hits).
    std::int64_t cachedInputTokens = 0;
    // Prompt tokens written to the provider's prompt cache (Anthropic cache
    // creation). Zero for providers that do not charge for writes.
    std::int64_t cacheWriteTokens = 0;

    // Every prompt token the model read, however it was billed (OpenAI's
    // `prompt_tokens`).
    std::int64_t promptTokens() const { return inputTokens + cachedInputTokens + cacheWriteTokens; }
    // promptTokens() + outputTokens (OpenAI's `total_tokens`); what a
    // tokens-per-minute quota counts.
    std::int64_t totalTokens() const { return promptTokens() + outputTokens; }
    friend bool operator==(const TokenUsage &, const TokenUsage &) = default;
};

// The OpenAI `usage` block. `prompt_tokens` INCLUDES
// `prompt_tokens_details.cached_tokens`; `completion_tokens` includes
// `completion_tokens_details.reasoning_tokens`.
// Gemini's `usageMetadata` has the same shape: promptTokens =
// `promptTokenCount` (includes `cachedContentTokenCount`), cachedTokens =
// `cachedContentTokenCount`, completionTokens = `candidatesTokenCount` +
// `thoughtsTokenCount` (Gemini reports thoughts separately but bills them as
// output).
struct OpenAiUsageFields {
    std::int64_t promptTokens = 0;
    std::int64_t cachedTokens = 0;
    std::int64_t completionTokens = 0;
};

// The Anthropic `usage` block. `input_tokens` EXCLUDES
// `cache_read_input_tokens` and `cache_creation_input_tokens`; the three are
// disjoint. cacheCreationInputTokens is the total over all cache lifetimes
// (5-minute and 1-hour writes).
struct AnthropicUsageFields {
    std::int64_t inputTokens = 0;
    std::int64_t cacheReadInputTokens = 0;
    std::int64_t cacheCreationInputTokens = 0;
    std::int64_t outputTokens = 0;
};

// Pure. Negative counts are treated as 0, and cachedTokens is clamped to
// [0, promptTokens], so the result never has more prompt tokens than the
// provider reported and no field is negative.
TokenUsage fromOpenAiUsage(const OpenAiUsageFields &usage);

// Pure. Negative counts are treated as 0; the fields map one to one.
TokenUsage fromAnthropicUsage(const AnthropicUsageFields &usage);

} // namespace sluice::policy
