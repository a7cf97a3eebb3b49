#include "gateway/loadstats.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace sluice::gateway {

namespace {

constexpr int kSubBucketBits = 6;
constexpr qint64 kSubBuckets = qint64{1} << kSubBucketBits; // 64
constexpr int kMaxValueBits = 40;
constexpr qint64 kMaxMicroseconds = (qint64{1} << kMaxValueBits) - 1;
// Exact values 0..63, then 64 buckets for each power of two from 2^6 to 2^39.
constexpr std::size_t kBucketCount = std::size_t(kSubBuckets + (kMaxValueBits - kSubBucketBits) * kSubBuckets);

// Values 0..63 map to themselves; a larger v with bit width w is shifted right by
// w - 7, which leaves 64..127, and lands in the block of its power of two.
std::size_t bucketOf(qint64 microseconds)
{
    if (microseconds < kSubBuckets)
        return std::size_t(microseconds);
    const int shift = int(std::bit_width(quint64(microseconds))) - (kSubBucketBits + 1);
    const qint64 sub = (microseconds >> shift) - kSubBuckets;
    return std::size_t(kSubBuckets + qint64(shift) * kSubBuckets + sub);
}

// [lower, upper) of a bucket, in microseconds.
std::pair<qint64, qint64> boundsOf(std::size_t bucket)
{
    if (qint64(bucket) < kSubBuckets)
        return {qint64(bucket), qint64(bucket) + 1};
    const qint64 index = qint64(bucket) - kSubBuckets;
    const int shift = int(index / kSubBuckets);
    const qint64 lower = (kSubBuckets + index % kSubBuckets) << shift;
    return {lower, lower + (qint64{1} << shift)};
}

} // namespace

LatencyHistogram::LatencyHistogram() : m_buckets(kBucketCount, 0) {}

void LatencyHistogram::record(std::chrono::nanoseconds duration)
{
    const qint64 microseconds = std::clamp<qint64>(duration.count() / 1000, 0, kMaxMicroseconds);
    ++m_buckets[bucketOf(microseconds)];
    if (m_count == 0 || microseconds < m_minMicroseconds)
        m_minMicroseconds = microseconds;
    if (m_count == 0 || microseconds > m_maxMicroseconds)
        m_maxMicroseconds = microseconds;
    ++m_count;
}

void LatencyHistogram::clear()
{
    std::fill(m_buckets.begin(), m_buckets.end(), 0);
    m_count = 0;
    m_minMicroseconds = 0;
    m_maxMicroseconds = 0;
}

double LatencyHistogram::quantileSeconds(double q) const
{
    if (m_count == 0)
        return 0;
    q = std::isfinite(q) ? std::clamp(q, 0.0, 1.0) : 1.0;
    const quint64 rank = std::max<quint64>(1, quint64(std::ceil(q * double(m_count))));
    quint64 seen = 0;
    for (std::size_t bucket = 0; bucket < m_buckets.size(); ++bucket) {
        seen += m_buckets[bucket];
        if (seen >= rank) {
            const auto [lower, upper] = boundsOf(bucket);
            const double middle = (double(lower) + double(upper - 1)) / 2.0;
            return std::clamp(middle, double(m_minMicroseconds), double(m_maxMicroseconds)) / 1e6;
        }
    }
    return double(m_maxMicroseconds) / 1e6;
}

double LatencyHistogram::maxSeconds() const
{
    return double(m_maxMicroseconds) / 1e6;
}

LoadQuantiles LoadQuantiles::of(const LatencyHistogram &histogram)
{
    LoadQuantiles quantiles;
    quantiles.count = histogram.count();
    quantiles.p50 = histogram.quantileSeconds(0.50);
    quantiles.p95 = histogram.quantileSeconds(0.95);
    quantiles.p99 = histogram.quantileSeconds(0.99);
    quantiles.max = histogram.maxSeconds();
    return quantiles;
}

quint64 LoadStats::statusCount(int status) const
{
    const auto it = statusCounts.find(status);
    return it == statusCounts.end() ? 0 : it->second;
}

quint64 LoadStats::transportErrorCount(const QString &kind) const
{
    const auto it = transportErrors.find(kind);
    return it == transportErrors.end() ? 0 : it->second;
}

} // namespace sluice::gateway
