#pragma once

#include <string_view>

namespace sluice::metrics {

// Prometheus naming rules (text format 0.0.4).
//   metric name: [a-zA-Z_:][a-zA-Z0-9_:]*
//   label name:  [a-zA-Z_][a-zA-Z0-9_]*
// Names starting with "__" are valid label names but reserved for Prometheus
// itself; the registry refuses them, the parser only refuses "__name__".
bool isValidMetricName(std::string_view name);
bool isValidLabelName(std::string_view name);
bool isReservedLabelName(std::string_view name);

// Characters a name may contain; the parser reads names with these.
bool isMetricNameStart(char character);
bool isMetricNameChar(char character);
bool isLabelNameStart(char character);
bool isLabelNameChar(char character);

} // namespace sluice::metrics
