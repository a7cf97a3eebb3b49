#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

namespace sluice::metrics {

// One histogram series: observations counted in fixed buckets, plus their sum
// and count. Thread-safe and lock-free: observe() is one integer fetch_add on
// the bucket and one compare-and-swap loop on the double sum.
//
// Buckets are stored non-cumulatively (bucket i counts bounds[i-1] < v <=
// bounds[i], the last one v > bounds.back()) and made cumulative by snapshot().
// The count is the sum of the buckets, so a snapshot's +Inf bucket always
// equals its count; under concurrent observe() the sum may lag or lead the
// buckets by the observations in flight.
class Histogram {
public:
    struct Snapshot {
        // cumulativeCounts[i] counts observations <= upperBounds[i]; the last
        // entry (one more than the bounds) is the +Inf bucket == count.
        std::vector<std::uint64_t> cumulativeCounts;
        double sum = 0;
        std::uint64_t count = 0;
    };

    // `upperBounds`: strictly increasing and finite (the registry checks);
    // shared by every series of a family.
    explicit Histogram(std::shared_ptr<const std::vector<double>> upperBounds);

    // NaN is ignored (it would poison the sum forever).
    void observe(double value) noexcept;
    // A duration, recorded in seconds.
    template <typename Rep, typename Period>
    void observe(std::chrono::duration<Rep, Period> duration) noexcept
    {
        observe(std::chrono::duration<double>(duration).count());
    }

    const std::vector<double> &upperBounds() const noexcept { return *m_upperBounds; }
    Snapshot snapshot() const;

private:
    std::shared_ptr<const std::vector<double>> m_upperBounds;
    std::unique_ptr<std::atomic<std::uint64_t>[]> m_bucketCounts;
    alignas(64) std::atomic<double> m_sum{0.0};
};

} // namespace sluice::metrics
