#pragma once

#include <cstddef>
#include <vector>

namespace sluice::metrics {

// Upper bounds for histograms, strictly increasing; the +Inf bucket is
// implicit and never listed.

// Request and upstream latencies in seconds, 5 ms … 60 s:
// 0.005 0.01 0.025 0.05 0.1 0.25 0.5 1 2.5 5 10 20 30 60.
std::vector<double> defaultLatencyBucketsSeconds();

// Prompt and completion sizes in tokens, powers of four 16 … 1 048 576.
std::vector<double> tokenCountBuckets();

// `count` bounds start, start + width, … Empty if count is 0 or width <= 0.
std::vector<double> linearBuckets(double start, double width, std::size_t count);
// `count` bounds start, start * factor, … Empty if count is 0, start <= 0 or
// factor <= 1.
std::vector<double> exponentialBuckets(double start, double factor, std::size_t count);

} // namespace sluice::metrics
