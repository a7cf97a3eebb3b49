#include "metrics/histogrambuckets.h"

namespace sluice::metrics {

std::vector<double> defaultLatencyBucketsSeconds()
{
    return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60};
}

std::vector<double> tokenCountBuckets()
{
    return exponentialBuckets(16, 4, 9);
}

std::vector<double> linearBuckets(double start, double width, std::size_t count)
{
    std::vector<double> bounds;
    if (!(width > 0))
        return bounds;
    bounds.reserve(count);
    for (std::size_t index = 0; index < count; ++index)
        bounds.push_back(start + width * static_cast<double>(index));
    return bounds;
}

std::vector<double> exponentialBuckets(double start, double factor, std::size_t count)
{
    std::vector<double> bounds;
    if (!(start > 0) || !(factor > 1))
        return bounds;
    bounds.reserve(count);
    double bound = start;
    for (std::size_t index = 0; index < count; ++index) {
        bounds.push_back(bound);
        bound *= factor;
    }
    return bounds;
}

} // namespace sluice::metrics
