#pragma once

#include "policy/clock.h"

#include <array>
#include <cstdint>
#include <limits>

namespace sluice::policy {

// Negative values are treated as 0; a window below retryBudgetBuckets ns is raised to it.
struct RetryBudgetPolicy {
    // Retries allowed per original request in the window: 0.2 lets retries add at most
    // 20% on top of the traffic.
    double retryRatio = 0.2;
    // Retries always allowed, even with no traffic: minRetriesPerSecond * window seconds
    // per window (a reserve that can be spent in a burst, as in Finagle).
    int minRetriesPerSecond = 10;
    // The span over which requests and retries are counted.
    Nanoseconds window = std::chrono::seconds(10);
};

// The window slides in steps of window / retryBudgetBuckets: it covers the current step
// and the retryBudgetBuckets - 1 before it.
inline constexpr int retryBudgetBuckets = 10;

// Keeps retries to a share of the traffic so that an upstream outage does not turn into
// a retry storm (Finagle's RetryBudget, Envoy's retry budgets). A retry is allowed when
//   retriesInWindow + 1 <= retryRatio * requestsInWindow + minRetriesPerSecond * windowSeconds.
// Call recordRequest() once per original request — never for a retry, or retries would
// earn more retries — and tryRetry() before each retry.
//
// Not thread-safe: use it from one thread (the owner's event-loop thread).
class RetryBudget {
public:
    struct Stats {
        std::uint64_t requestsInWindow = 0;
        std::uint64_t retriesInWindow = 0;
        double available = 0; // retries tryRetry() would still allow now
        std::uint64_t retriesAllowed = 0; // since construction
        std::uint64_t retriesRejected = 0;
    };

    // The clock must outlive the budget.
    RetryBudget(RetryBudgetPolicy policy, const Clock &clock);

    void recordRequest();
    // Consumes one retry from the budget if there is one; false means do not retry.
    bool tryRetry();
    // Retries still allowed now, possibly fractional; does not consume.
    double available() const;

    const RetryBudgetPolicy &policy() const { return m_policy; }
    // Applies at once. A new window length restarts the count (buckets of a different
    // width cannot be carried over); the ratio and the minimum alone keep it.
    void setPolicy(RetryBudgetPolicy policy);

    Stats stats() const;

private:
    struct Bucket {
        // The window step the counts belong to; the minimum marks an unused bucket.
        std::int64_t step = std::numeric_limits<std::int64_t>::min();
        std::uint64_t requests = 0;
        std::uint64_t retries = 0;
    };
    struct Totals {
        std::uint64_t requests = 0;
        std::uint64_t retries = 0;
    };

    std::int64_t currentStep() const;
    Bucket &currentBucket();
    Totals totals(std::int64_t step) const;
    double allowance(const Totals &totals) const;

    const Clock &m_clock;
    RetryBudgetPolicy m_policy;
    Nanoseconds m_bucketWidth;
    std::array<Bucket, retryBudgetBuckets> m_buckets;
    std::uint64_t m_retriesAllowed = 0;
    std::uint64_t m_retriesRejected = 0;
};

} // namespace sluice::policy
