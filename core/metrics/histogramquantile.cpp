#include "metrics/histogramquantile.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace sluice::metrics {

double histogramQuantile(double q, const std::vector<std::pair<double, double>> &input)
{
    constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
    constexpr double kInf = std::numeric_limits<double>::infinity();
    if (std::isnan(q))
        return kNaN;
    if (q < 0)
        return -kInf;
    if (q > 1)
        return kInf;

    std::vector<std::pair<double, double>> buckets;
    buckets.reserve(input.size());
    for (const auto &bucket : input) {
        if (!std::isnan(bucket.first))
            buckets.push_back(bucket);
    }
    if (buckets.empty())
        return kNaN;
    std::stable_sort(buckets.begin(), buckets.end(),
                     [](const auto &left, const auto &right) { return left.first < right.first; });
    if (!(std::isinf(buckets.back().first) && buckets.back().first > 0))
        return kNaN;

    std::vector<std::pair<double, double>> merged;
    merged.reserve(buckets.size());
    for (const auto &bucket : buckets) {
        if (!merged.empty() && merged.back().first == bucket.first)
            merged.back().second += bucket.second;
        else
            merged.push_back(bucket);
    }

    // Float noise from rate() can make counts dip; treat near-equal as equal.
    constexpr double kTolerance = 1e-12;
    double previous = merged.front().second;
    for (std::size_t index = 1; index < merged.size(); ++index) {
        const double current = merged[index].second;
        const double delta = std::fabs(current - previous);
        if (delta == 0)
            continue;
        if (delta / current <= kTolerance)
            merged[index].second = previous;
        else
            previous = current;
    }
    double highest = merged.front().second;
    for (std::size_t index = 1; index < merged.size(); ++index) {
        if (merged[index].second > highest)
            highest = merged[index].second;
        else if (merged[index].second < highest)
            merged[index].second = highest;
    }

    if (merged.size() < 2)
        return kNaN;
    const double observations = merged.back().second;
    if (observations == 0)
        return kNaN;
    double rank = q * observations;
    const std::size_t last = merged.size() - 1;
    // Binary search as Go's sort.Search, so odd inputs (NaN counts) pick the
    // same bucket as Prometheus.
    std::size_t bucket = 0;
    std::size_t end = last;
    while (bucket < end) {
        const std::size_t middle = bucket + (end - bucket) / 2;
        if (!(merged[middle].second >= rank))
            bucket = middle + 1;
        else
            end = middle;
    }

    if (bucket == last)
        return merged[last - 1].first;
    if (bucket == 0 && merged[0].first <= 0)
        return merged[0].first;
    double bucketStart = 0;
    const double bucketEnd = merged[bucket].first;
    double count = merged[bucket].second;
    if (bucket > 0) {
        bucketStart = merged[bucket - 1].first;
        count -= merged[bucket - 1].second;
        rank -= merged[bucket - 1].second;
    }
    return bucketStart + (bucketEnd - bucketStart) * (rank / count);
}

} // namespace sluice::metrics
