#pragma once

#include "gateway/providerprotocol.h"
#include "gateway/sseevent.h"
#include "policy/tokenusage.h"

#include <QJsonObject>

#include <optional>

namespace sluice::gateway {

// Reading and writing the providers' "usage" objects as policy::TokenUsage, whose four
// counts are disjoint (inputTokens EXCLUDES cached reads and cache writes; see
// policy/tokenusage.h):
//   OpenAI:    inputTokens = prompt_tokens - prompt_tokens_details.cached_tokens,
//              cachedInputTokens = cached_tokens, cacheWriteTokens = 0 (OpenAI does not
//              bill writes), outputTokens = completion_tokens (reasoning included);
//   Anthropic: input_tokens, cache_read_input_tokens, cache_creation_input_tokens and
//              output_tokens map one to one.
// Parsing goes through policy::fromOpenAiUsage() / fromAnthropicUsage(), so negative
// counts read as 0 and cached_tokens is clamped to [0, prompt_tokens].

// From a provider's "usage" object; nullopt when `usage` has no token counts.
std::optional<policy::TokenUsage> usageFromUsageObject(ProviderKind kind, const QJsonObject &usage);
// From a complete non-stream response body (its top-level "usage").
std::optional<policy::TokenUsage> usageFromResponse(ProviderKind kind, const QJsonObject &response);

// The provider's own "usage" object for `usage` (the inverse of usageFromUsageObject):
// OpenAI {prompt_tokens = promptTokens() (cached tokens included again), completion_tokens,
// total_tokens = totalTokens(), prompt_tokens_details: {cached_tokens}}, Anthropic
// {input_tokens = inputTokens, output_tokens, cache_read_input_tokens,
// cache_creation_input_tokens}.
QJsonObject usageObject(ProviderKind kind, const policy::TokenUsage &usage);

// Usage over a stream, one event at a time. OpenAI reports usage in a chunk's "usage"
// (the final chunk with stream_options.include_usage; some compatible servers send it
// on every chunk), and the last report wins. Anthropic reports input and cache counts
// in message_start and the cumulative output count in each message_delta; a field a
// later event carries replaces the earlier value. Not thread-safe; one per stream.
class StreamUsageAccumulator {
public:
    explicit StreamUsageAccumulator(ProviderKind kind) : m_kind(kind) {}

    void addEvent(const SseEvent &event);
    // The same, for an event whose data the caller has already parsed.
    void addEventObject(const QByteArray &eventName, const QJsonObject &data);

    // nullopt until an event carried usage.
    std::optional<policy::TokenUsage> usage() const;
    // The provider's own usage object as reported so far (Anthropic: message_start's and
    // message_delta's merged, later non-null members winning), extra members included.
    QJsonObject providerUsage() const { return m_usage; }

private:
    ProviderKind m_kind;
    QJsonObject m_usage;
};

} // namespace sluice::gateway
