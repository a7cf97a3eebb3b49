#include "metrics/histogram.h"

#include <algorithm>
#include <cmath>

namespace sluice::metrics {

Histogram::Histogram(std::shared_ptr<const std::vector<double>> upperBounds)
    : m_upperBounds(std::move(upperBounds))
    , m_bucketCounts(std::make_unique<std::atomic<std::uint64_t>[]>(m_upperBounds->size() + 1))
{
}

void Histogram::observe(double value) noexcept
{
    if (std::isnan(value))
        return;
    const auto &bounds = *m_upperBounds;
    const auto bucket = std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin();
    m_bucketCounts[static_cast<std::size_t>(bucket)].fetch_add(1, std::memory_order_relaxed);
    m_sum.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const
{
    Snapshot snapshot;
    const std::size_t buckets = m_upperBounds->size() + 1;
    snapshot.cumulativeCounts.resize(buckets);
    std::uint64_t running = 0;
    for (std::size_t index = 0; index < buckets; ++index) {
        running += m_bucketCounts[index].load(std::memory_order_relaxed);
        snapshot.cumulativeCounts[index] = running;
    }
    snapshot.count = running;
    snapshot.sum = m_sum.load(std::memory_order_relaxed);
    return snapshot;
}

} // namespace sluice::metrics
