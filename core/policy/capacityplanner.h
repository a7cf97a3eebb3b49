#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

// Capacity arithmetic for the console's "Cost & capacity" panel: what a
// provider tier allows, how full it is, which tier to buy and how many gateway
// instances to run. Pure functions; thread-safe.
//
// Degenerate inputs never produce NaN:
// - A tier limit that is NaN or <= 0 allows nothing of that kind; +infinity
//   means the tier does not limit that kind.
// - A workload quantity (rate, tokens, latency) that is negative, NaN or
//   infinite counts as 0.
// Where infinity is the honest answer (a tier that does not limit, a load on a
// tier that allows nothing) it is returned as +infinity and says so below.
namespace sluice::policy {

// A provider account tier's limits for the model being planned, both per
// minute. Tokens per minute counts input + output tokens (OpenAI's rule).
struct TierLimits {
    std::string name;
    double requestsPerMinute = 0.0;
    double tokensPerMinute = 0.0;
};

// One upstream model call within a request, with its average token counts.
struct ModelCall {
    double inputTokens = 0.0;
    double outputTokens = 0.0;
};

// What the chat applications send. One request is a pipeline of `calls`
// (e.g. classify → retrieve-and-answer → summarise); each call counts as one
// request against the tier's requestsPerMinute. An empty pipeline puts no
// load on the provider.
struct Workload {
    double requestsPerSecond = 0.0;
    std::vector<ModelCall> calls;
    // End-to-end time one request spends in the gateway (the whole pipeline).
    double latencySeconds = 0.0;
};

enum class BindingLimit {
    None,     // neither limit constrains (unlimited tier, or no load)
    Requests, // requestsPerMinute is the tighter limit
    Tokens,   // tokensPerMinute is the tighter limit
    Both,     // both are equally tight
};

struct TierCapacity {
    // Workload requests per minute the tier allows: min(requestBound, tokenBound).
    // +infinity when binding == None.
    double requestsPerMinute = 0.0;
    // tier RPM / calls per request; +infinity for an empty pipeline.
    double requestBoundPerMinute = 0.0;
    // tier TPM / tokens per request; +infinity when a request uses no tokens.
    double tokenBoundPerMinute = 0.0;
    BindingLimit binding = BindingLimit::None;
};

// The workload's request rate is ignored; only its pipeline shape matters.
TierCapacity allowedRequestsPerMinute(const TierLimits &tier, const Workload &workload);

struct TierUtilisation {
    // Demand the workload places on the tier, per minute.
    double modelCallsPerMinute = 0.0;
    double tokensPerMinute = 0.0;
    // Demand / limit; 1.0 is exactly at the limit. 0 when there is no demand
    // of that kind, +infinity when there is demand but the limit allows none.
    double requestFraction = 0.0;
    double tokenFraction = 0.0;
    // max(requestFraction, tokenFraction).
    double fraction = 0.0;
    // The limit with the larger fraction; None when both fractions are 0.
    BindingLimit binding = BindingLimit::None;
};

TierUtilisation utilisation(const TierLimits &tier, const Workload &workload);

// Index of the first tier in `tiersSmallestFirst` whose utilisation times
// headroomFactor is at most 1 (1.25 = keep 25% spare), or nullopt if none
// fits. headroomFactor below 1, NaN or infinite is treated as 1. A workload
// with no load fits the first tier.
std::optional<std::size_t> smallestFittingTier(const std::vector<TierLimits> &tiersSmallestFirst,
                                               const Workload &workload, double headroomFactor);

// Little's law: requests in flight = arrival rate × time in system.
double concurrency(double requestsPerSecond, double latencySeconds);
inline double concurrency(const Workload &workload)
{
    return concurrency(workload.requestsPerSecond, workload.latencySeconds);
}

// ceil(totalConcurrency / concurrencyPerInstance), at least 1 (a deployment
// keeps one instance up even when idle). nullopt when concurrencyPerInstance is
// not a finite number > 0, or when totalConcurrency is infinite or the answer
// does not fit in int64. Negative or NaN totalConcurrency counts as 0.
std::optional<std::int64_t> instancesNeeded(double totalConcurrency, double concurrencyPerInstance);

// One per-minute provider quota (requests or tokens) as the dashboard sees it,
// e.g. from x-ratelimit-limit-* / x-ratelimit-remaining-* headers.
struct QuotaState {
    double limitPerMinute = 0.0;
    // What is left now.
    double remaining = 0.0;
    // Current consumption rate.
    double usePerMinute = 0.0;
};

// Time until `remaining` reaches 0 at the current rate. Providers (OpenAI,
// Anthropic) replenish these quotas continuously at limitPerMinute / 60 per
// second rather than resetting at a minute boundary, so the quota only drains
// at usePerMinute - limitPerMinute:
// - remaining <= 0 (or NaN): zero, it is exhausted now;
// - usePerMinute <= limitPerMinute, or an infinite limit or remaining:
//   nullopt, the rate is sustainable and the quota is never exhausted;
// - otherwise remaining / (usePerMinute - limitPerMinute) minutes.
std::optional<std::chrono::duration<double>> timeToExhaust(const QuotaState &quota);

} // namespace sluice::policy
