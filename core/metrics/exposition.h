#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "metrics/metrictype.h"

namespace sluice::metrics {

// Building blocks of the Prometheus text exposition format 0.0.4, shared by
// the registry (writing) and the parser (reading). All functions are pure and
// thread-safe, and independent of the C locale.

// The Content-Type of a /metrics answer.
inline constexpr std::string_view kExpositionContentType = "text/plain; version=0.0.4; charset=utf-8";

// A sample value or bucket bound as text that parses back to the same double:
// "+Inf", "-Inf", "NaN"; integral values with magnitude below 2^53 as plain
// integers ("2000000", not "2e+06"), so counters read naturally; everything
// else in the shortest form that round-trips (std::to_chars), e.g. "0.1",
// "1e-07", "1.7976931348623157e+308".
void appendValue(std::string &out, double value);
std::string formatValue(double value);

// A sample value as Prometheus reads it (Go's strconv.ParseFloat without hex
// floats or underscores): optional sign, digits with optional fraction and
// exponent ("1", "-.5", "5.", "1E-3"), "Inf"/"Infinity" with optional sign and
// "NaN", all case-insensitive. The whole text must be consumed. Magnitudes
// beyond the double range are refused; ones too small for it become ±0.
std::optional<double> parseValue(std::string_view text);

// HELP text: backslash → \\ and line feed → \n.
void appendEscapedHelp(std::string &out, std::string_view help);
// Label value: backslash → \\, double quote → \" and line feed → \n.
void appendEscapedLabelValue(std::string &out, std::string_view value);

// "# HELP <name> <help>\n# TYPE <name> <type>\n"; the HELP line is left out
// when `help` is empty.
void appendFamilyHeader(std::string &out, std::string_view name, std::string_view help, MetricType type);

// `name="value"` preceded by '{' for the first label of a sample and ','
// otherwise; the caller closes with '}'.
void appendLabel(std::string &out, bool first, std::string_view name, std::string_view value);

} // namespace sluice::metrics
