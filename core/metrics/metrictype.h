#pragma once

#include <optional>
#include <string_view>

namespace sluice::metrics {

// The metric types of the Prometheus text format 0.0.4. The registry creates
// counters, gauges and histograms; the parser reads all five.
enum class MetricType { Counter, Gauge, Histogram, Summary, Untyped };

// The lower-case keyword of a `# TYPE` line: "counter", "gauge", …
std::string_view metricTypeName(MetricType type);
// The type named by a `# TYPE` keyword, matched case-insensitively.
std::optional<MetricType> metricTypeFromName(std::string_view name);

} // namespace sluice::metrics
