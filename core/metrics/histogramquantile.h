#pragma once

#include <utility>
#include <vector>

namespace sluice::metrics {

// The q-quantile of a classic histogram, computed exactly as PromQL's
// histogram_quantile() does from cumulative buckets (le, cumulative count) —
// e.g. the output of histogramBuckets(), or rates of them.
//
// Buckets may come in any order; buckets with the same bound are merged, a NaN
// bound is skipped, counts that differ by a relative 1e-12 are treated as
// equal and a count lower than the one before it is raised to it (Prometheus'
// monotonicity fix). Linear interpolation inside the bucket holding rank
// q * total, with 0 as the lower edge of the first bucket if its bound is
// positive; a quantile in the +Inf bucket is the highest finite bound.
//
// NaN if q is NaN, if there is no +Inf bucket, fewer than two buckets or no
// observations; -Inf if q < 0; +Inf if q > 1.
double histogramQuantile(double q, const std::vector<std::pair<double /*le*/, double /*cumulative count*/>> &buckets);

} // namespace sluice::metrics
