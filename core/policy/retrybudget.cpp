#include "policy/retrybudget.h"

#include <algorithm>
#include <limits>

namespace sluice::policy {

namespace {

// Absorbs rounding in ratio * requests (0.29 * 100 is 28.999999999999996).
constexpr double allowanceEpsilon = 1e-9;

constexpr std::int64_t emptyStep = std::numeric_limits<std::int64_t>::min();

RetryBudgetPolicy normalized(RetryBudgetPolicy policy)
{
    if (!(policy.retryRatio >= 0.0))
        policy.retryRatio = 0.0;
    policy.minRetriesPerSecond = std::max(policy.minRetriesPerSecond, 0);
    policy.window = std::max(policy.window, Nanoseconds{retryBudgetBuckets});
    return policy;
}

} // namespace

RetryBudget::RetryBudget(RetryBudgetPolicy policy, const Clock &clock)
    : m_clock(clock), m_policy(normalized(policy)), m_bucketWidth(m_policy.window / retryBudgetBuckets)
{
}

void RetryBudget::recordRequest()
{
    ++currentBucket().requests;
}

bool RetryBudget::tryRetry()
{
    Bucket &bucket = currentBucket();
    const Totals now = totals(bucket.step);
    if (static_cast<double>(now.retries) + 1.0 > allowance(now) + allowanceEpsilon) {
        ++m_retriesRejected;
        return false;
    }
    ++bucket.retries;
    ++m_retriesAllowed;
    return true;
}

double RetryBudget::available() const
{
    const Totals now = totals(currentStep());
    return std::max(allowance(now) - static_cast<double>(now.retries), 0.0);
}

void RetryBudget::setPolicy(RetryBudgetPolicy policy)
{
    policy = normalized(policy);
    if (policy.window != m_policy.window) {
        m_buckets = {};
        m_bucketWidth = policy.window / retryBudgetBuckets;
    }
    m_policy = policy;
}

RetryBudget::Stats RetryBudget::stats() const
{
    const Totals now = totals(currentStep());
    Stats stats;
    stats.requestsInWindow = now.requests;
    stats.retriesInWindow = now.retries;
    stats.available = std::max(allowance(now) - static_cast<double>(now.retries), 0.0);
    stats.retriesAllowed = m_retriesAllowed;
    stats.retriesRejected = m_retriesRejected;
    return stats;
}

std::int64_t RetryBudget::currentStep() const
{
    // Floor division: the clock's epoch is arbitrary, so time may be negative.
    const std::int64_t now = m_clock.now().count();
    const std::int64_t width = m_bucketWidth.count();
    return now / width - (now % width < 0 ? 1 : 0);
}

RetryBudget::Bucket &RetryBudget::currentBucket()
{
    const std::int64_t step = currentStep();
    Bucket &bucket = m_buckets[static_cast<std::size_t>((step % retryBudgetBuckets + retryBudgetBuckets) % retryBudgetBuckets)];
    if (bucket.step != step)
        bucket = Bucket{step, 0, 0};
    return bucket;
}

RetryBudget::Totals RetryBudget::totals(std::int64_t step) const
{
    Totals sum;
    for (const Bucket &bucket : m_buckets) {
        if (bucket.step != emptyStep && bucket.step <= step && bucket.step > step - retryBudgetBuckets) {
            sum.requests += bucket.requests;
            sum.retries += bucket.retries;
        }
    }
    return sum;
}

double RetryBudget::allowance(const Totals &totals) const
{
    const double windowSeconds = std::chrono::duration<double>(m_policy.window).count();
    return m_policy.retryRatio * static_cast<double>(totals.requests) + m_policy.minRetriesPerSecond * windowSeconds;
}

} // namespace sluice::policy
