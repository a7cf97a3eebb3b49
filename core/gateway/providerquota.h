#pragma once

#include "gateway/providerprotocol.h"
#include "gateway/ratelimitheaders.h"
#include "http/httpheaders.h"

#include <optional>

namespace sluice::gateway {

// Reads the quota a provider reports in its response headers: OpenAI's
// x-ratelimit-{limit,remaining,reset}-{requests,tokens} (reset a Go duration) and
// Anthropic's anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-
// {limit,remaining,reset} (reset an RFC 3339 time, read against nowUnixMilliseconds).
// A bucket is present when its limit and remaining are both readable; an unreadable
// reset reads as 0. Empty state when the answer carried none. Pure; thread-safe.
RateLimitState parseProviderQuota(ProviderKind kind, const http::HttpHeaders &headers, qint64 nowUnixMilliseconds);

// An RFC 3339 UTC or offset time ("2024-05-01T12:00:07Z", "…+02:00", fractions allowed)
// as Unix milliseconds; nullopt for anything else.
std::optional<qint64> parseRfc3339Milliseconds(QByteArrayView text);

// True for the response headers that describe the provider account's own quota
// (x-ratelimit-*, anthropic-ratelimit-*): the gateway replaces them with the client's.
bool isProviderQuotaHeader(QByteArrayView name);

} // namespace sluice::gateway
