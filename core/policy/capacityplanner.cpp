#include "policy/capacityplanner.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace sluice::policy {

namespace {

constexpr double infinity = std::numeric_limits<double>::infinity();

// Comparisons against a limit tolerate this relative error, so a workload
// computed to sit exactly on a limit (e.g. 0.1 × 3 requests) is not pushed
// over it by binary rounding.
constexpr double relativeTolerance = 1e-9;

double sanitizeLimit(double limit)
{
    return limit > 0.0 ? limit : 0.0; // also maps NaN to 0
}

double sanitizeAmount(double amount)
{
    return amount > 0.0 && std::isfinite(amount) ? amount : 0.0;
}

double tokensPerRequest(const Workload &workload)
{
    double tokens = 0.0;
    for (const ModelCall &call : workload.calls)
        tokens += sanitizeAmount(call.inputTokens) + sanitizeAmount(call.outputTokens);
    return tokens;
}

// limit / perRequest with the documented edge cases and no 0/0 or inf/inf.
double bound(double limit, double perRequest)
{
    if (perRequest == 0.0)
        return infinity;
    return limit / perRequest;
}

double fraction(double demand, double limit)
{
    if (demand == 0.0)
        return 0.0;
    if (limit == 0.0)
        return infinity;
    return demand / limit;
}

bool nearlyEqual(double a, double b)
{
    if (a == b)
        return true;
    if (!std::isfinite(a) || !std::isfinite(b))
        return false;
    return std::abs(a - b) <= relativeTolerance * std::max(std::abs(a), std::abs(b));
}

} // namespace

TierCapacity allowedRequestsPerMinute(const TierLimits &tier, const Workload &workload)
{
    TierCapacity capacity;
    capacity.requestBoundPerMinute =
        bound(sanitizeLimit(tier.requestsPerMinute), static_cast<double>(workload.calls.size()));
    capacity.tokenBoundPerMinute = bound(sanitizeLimit(tier.tokensPerMinute), tokensPerRequest(workload));
    capacity.requestsPerMinute = std::min(capacity.requestBoundPerMinute, capacity.tokenBoundPerMinute);

    if (std::isinf(capacity.requestsPerMinute))
        capacity.binding = BindingLimit::None;
    else if (nearlyEqual(capacity.requestBoundPerMinute, capacity.tokenBoundPerMinute))
        capacity.binding = BindingLimit::Both;
    else if (capacity.requestBoundPerMinute < capacity.tokenBoundPerMinute)
        capacity.binding = BindingLimit::Requests;
    else
        capacity.binding = BindingLimit::Tokens;
    return capacity;
}

TierUtilisation utilisation(const TierLimits &tier, const Workload &workload)
{
    const double requestsPerMinute = sanitizeAmount(workload.requestsPerSecond) * 60.0;

    TierUtilisation result;
    result.modelCallsPerMinute = requestsPerMinute * static_cast<double>(workload.calls.size());
    result.tokensPerMinute = requestsPerMinute * tokensPerRequest(workload);
    result.requestFraction = fraction(result.modelCallsPerMinute, sanitizeLimit(tier.requestsPerMinute));
    result.tokenFraction = fraction(result.tokensPerMinute, sanitizeLimit(tier.tokensPerMinute));
    result.fraction = std::max(result.requestFraction, result.tokenFraction);

    if (result.fraction == 0.0)
        result.binding = BindingLimit::None;
    else if (nearlyEqual(result.requestFraction, result.tokenFraction))
        result.binding = BindingLimit::Both;
    else if (result.requestFraction > result.tokenFraction)
        result.binding = BindingLimit::Requests;
    else
        result.binding = BindingLimit::Tokens;
    return result;
}

std::optional<std::size_t> smallestFittingTier(const std::vector<TierLimits> &tiersSmallestFirst,
                                               const Workload &workload, double headroomFactor)
{
    const double headroom = headroomFactor >= 1.0 && std::isfinite(headroomFactor) ? headroomFactor : 1.0;
    for (std::size_t index = 0; index < tiersSmallestFirst.size(); ++index) {
        const double needed = utilisation(tiersSmallestFirst[index], workload).fraction * headroom;
        if (needed <= 1.0 + relativeTolerance)
            return index;
    }
    return std::nullopt;
}

double concurrency(double requestsPerSecond, double latencySeconds)
{
    return sanitizeAmount(requestsPerSecond) * sanitizeAmount(latencySeconds);
}

std::optional<std::int64_t> instancesNeeded(double totalConcurrency, double concurrencyPerInstance)
{
    if (!(concurrencyPerInstance > 0.0) || !std::isfinite(concurrencyPerInstance) || std::isinf(totalConcurrency))
        return std::nullopt;
    const double total = totalConcurrency > 0.0 ? totalConcurrency : 0.0;
    const double ratio = total / concurrencyPerInstance;
    // 2^63 is exactly representable; anything at or above it (or an overflow
    // to infinity) does not fit in int64.
    if (!(ratio < 9223372036854775808.0))
        return std::nullopt;
    // Undo rounding such as 3.0 / 0.3 == 10.000000000000002 before ceil().
    const double instances = std::ceil(ratio - relativeTolerance * std::max(1.0, ratio));
    return std::max<std::int64_t>(1, static_cast<std::int64_t>(instances));
}

std::optional<std::chrono::duration<double>> timeToExhaust(const QuotaState &quota)
{
    if (!(quota.remaining > 0.0))
        return std::chrono::duration<double>(0.0);
    if (std::isinf(quota.remaining) || std::isinf(quota.limitPerMinute))
        return std::nullopt;
    const double drainPerMinute = sanitizeAmount(quota.usePerMinute) - sanitizeLimit(quota.limitPerMinute);
    if (!(drainPerMinute > 0.0))
        return std::nullopt;
    return std::chrono::duration<double>(quota.remaining / drainPerMinute * 60.0);
}

} // namespace sluice::policy
