#include "policy/tokenusage.h"

#include <algorithm>

namespace sluice::policy {

TokenUsage fromOpenAiUsage(const OpenAiUsageFields &usage)
{
    const std::int64_t prompt = std::max<std::int64_t>(usage.promptTokens, 0);
    const std::int64_t cached = std::clamp<std::int64_t>(usage.cachedTokens, 0, prompt);
    return TokenUsage{
        .inputTokens = prompt - cached,
        .outputTokens = std::max<std::int64_t>(usage.completionTokens, 0),
        .cachedInputTokens = cached,
        .cacheWriteTokens = 0,
    };
}

TokenUsage fromAnthropicUsage(const AnthropicUsageFields &usage)
{
    return TokenUsage{
        .inputTokens = std::max<std::int64_t>(usage.inputTokens, 0),
        .outputTokens = std::max<std::int64_t>(usage.outputTokens, 0),
        .cachedInputTokens = std::max<std::int64_t>(usage.cacheReadInputTokens, 0),
        .cacheWriteTokens = std::max<std::int64_t>(usage.cacheCreationInputTokens, 0),
    };
}

} // namespace sluice::policy
