#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::policy {

// What a limit is counted per. Combine with |: a limit per (API key, model)
// is RateScope::ApiKey | RateScope::Model. None means one global key.
enum class RateScope : std::uint8_t {
    None = 0,
    ApiKey = 1 << 0,
    Ip = 1 << 1,
    Route = 1 << 2,
    Model = 1 << 3,
};

constexpr RateScope operator|(RateScope a, RateScope b)
{
    return static_cast<RateScope>(static_cast<std::uint8_t>(a) | static_cast<std::uint8_t>(b));
}
constexpr RateScope operator&(RateScope a, RateScope b)
{
    return static_cast<RateScope>(static_cast<std::uint8_t>(a) & static_cast<std::uint8_t>(b));
}
constexpr bool hasScope(RateScope scopes, RateScope scope)
{
    return (scopes & scope) != RateScope::None;
}

// Who is asking for what. Views: the caller keeps the strings alive for the
// duration of the call.
struct RequestIdentity {
    std::string_view apiKey;
    std::string_view ip;
    std::string_view route;
    std::string_view model;
};

// Thread-safe (pure functions).
//
// The limiter key of `identity` under `scopes`: the selected fields in the
// fixed order apiKey, ip, route, model, as "k=<apiKey>|i=<ip>|r=<route>|m=<model>"
// (e.g. ApiKey|Model -> "k=abc|m=gpt-4o"); "*" for RateScope::None.
// '%', '|' and '=' in values are percent-encoded, so distinct identities
// never share a key. The key holds the raw API key: keep it in memory only,
// never in metric labels or logs.
std::string composeRateKey(RateScope scopes, const RequestIdentity &identity);
// The same, appended to `out` (reuse one buffer to avoid allocating).
void appendRateKey(std::string &out, RateScope scopes, const RequestIdentity &identity);

} // namespace sluice::policy
