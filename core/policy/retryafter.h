#pragma once

#include "policy/clock.h"

#include <cstdint>
#include <optional>
#include <string_view>

namespace sluice::policy {

// Parsers for the headers with which an upstream says when to try again. Pure functions;
// thread-safe.

// The largest delay parseRetryAfter() returns: 2^31 seconds (~68 years), the bound RFC 9111
// sets for delta-seconds. Larger values clamp to it rather than being rejected, so a
// Backoff sees "far too long" and gives up instead of ignoring the server.
inline constexpr Nanoseconds maxParsedRetryAfter = std::chrono::seconds(std::int64_t{1} << 31);

// A Retry-After field value (RFC 9110 §10.2.3), surrounding spaces and tabs ignored:
// - delta-seconds: "120". Leniently, a decimal fraction as some APIs send ("1.5"; digits
//   past nanoseconds are dropped). No sign, exponent or unit.
// - an HTTP-date in any of the three formats a recipient must accept (§5.6.7):
//   IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", rfc850 "Sunday, 06-Nov-94 08:49:37 GMT"
//   (a two-digit year more than 50 years ahead of now is taken to be in the past) and
//   asctime "Sun Nov  6 08:49:37 1994". Case-sensitive; the day name must be a valid
//   name but is not checked against the date. The delay is date - nowUnixSeconds, and
//   0 for a date in the past.
// Returns nullopt for anything else. The result is clamped to maxParsedRetryAfter.
std::optional<Nanoseconds> parseRetryAfter(std::string_view headerValue, std::int64_t nowUnixSeconds);

// An OpenAI-style reset duration as in x-ratelimit-reset-requests / -tokens, which is Go's
// time.Duration text: one or more <decimal number><unit> with units h, m, s, ms, us, µs,
// ns ("6m0s", "1.5s", "120ms", "1h2m3.5s"), or a bare "0". Surrounding spaces and tabs
// ignored. Returns nullopt for garbage, a sign (a reset is never negative), a missing
// unit, or a total that does not fit in Nanoseconds (~292 years).
std::optional<Nanoseconds> parseResetDuration(std::string_view text);

} // namespace sluice::policy
