#pragma once

#include "gateway/providerprotocol.h"
#include "policy/clock.h"

#include <QByteArray>
#include <QList>

#include <optional>
#include <utility>

namespace sluice::gateway {

// Response headers in order, names in lower case.
using HeaderList = QList<std::pair<QByteArray, QByteArray>>;

// One limit as the providers report it.
struct RateLimitBucket {
    qint64 limit = 0;
    qint64 remaining = 0;
    // Until the bucket is back at `limit` (OpenAI: "time until the limit resets to its
    // initial state"; Anthropic: "when the limit will be fully replenished").
    policy::Nanoseconds untilFull{0};
};

// The limits to report; an absent bucket produces no headers.
struct RateLimitState {
    std::optional<RateLimitBucket> requests;
    std::optional<RateLimitBucket> tokens;
    std::optional<RateLimitBucket> inputTokens;  // Anthropic only
    std::optional<RateLimitBucket> outputTokens; // Anthropic only
};

// The provider's rate-limit headers. Pure; thread-safe.
// OpenAI: x-ratelimit-limit-requests, x-ratelimit-remaining-requests,
//   x-ratelimit-reset-requests (a Go duration: "1s", "6m0s", "120ms"), and the same
//   three for -tokens. Input/output buckets are not part of OpenAI's headers.
// Anthropic: anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-
//   {limit,remaining,reset}, the reset an RFC 3339 UTC time ("2024-05-01T12:00:07Z"):
//   nowUnixMilliseconds + untilFull, rounded up to the second.
HeaderList rateLimitHeaders(ProviderKind kind, const RateLimitState &state, qint64 nowUnixMilliseconds);

// Go's time.Duration text as OpenAI sends it: "0s", "999ms", "1.5ms", "12s", "1.25s",
// "6m0s", "1h2m3s". policy::parseResetDuration() reads it back.
QByteArray formatGoDuration(policy::Nanoseconds duration);

// Retry-After delta-seconds: the delay rounded up to whole seconds, at least 1.
QByteArray retryAfterSeconds(policy::Nanoseconds delay);

} // namespace sluice::gateway
