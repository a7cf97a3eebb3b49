#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "metrics/metrictype.h"

namespace sluice::metrics {

// Scraped metrics as parseExposition() returns them: plain values, no
// sharing, no threads.

using Label = std::pair<std::string, std::string>;
using LabelView = std::pair<std::string_view, std::string_view>;

struct ParsedSample {
    // The full sample name, suffix included ("x_bucket", "x_sum", …).
    std::string name;
    // In the order of the text, `le` and `quantile` included.
    std::vector<Label> labels;
    double value = 0;
    // Milliseconds since the Unix epoch, when the line had one.
    std::optional<std::int64_t> timestampMs;

    // The value of label `labelName`, or nullopt if the sample has none.
    std::optional<std::string_view> label(std::string_view labelName) const;

    friend bool operator==(const ParsedSample &, const ParsedSample &) = default;
};

struct ParsedFamily {
    std::string name;
    // Untyped when the text had no TYPE line for it.
    MetricType type = MetricType::Untyped;
    // Unescaped; empty when the text had no HELP line for it.
    std::string help;
    std::vector<ParsedSample> samples;

    friend bool operator==(const ParsedFamily &, const ParsedFamily &) = default;
};

// The family called `name`, or nullptr.
const ParsedFamily *findFamily(const std::vector<ParsedFamily> &families, std::string_view name);

// The sample called `sampleName` whose label set is exactly `labels` (in any
// order), or nullptr. For a histogram bucket, pass `le` among the labels.
const ParsedSample *findSample(const std::vector<ParsedFamily> &families, std::string_view sampleName,
                               std::initializer_list<LabelView> labels);
const ParsedSample *findSample(const std::vector<ParsedFamily> &families, std::string_view sampleName,
                               const std::vector<Label> &labels);

// The cumulative buckets (le, count) of the series of histogram `family`
// whose labels other than `le` are exactly `labels`, sorted by le: the input
// of histogramQuantile(). Buckets with an unreadable `le` are skipped; empty
// if there is no such series.
std::vector<std::pair<double, double>> histogramBuckets(const ParsedFamily &family,
                                                        std::initializer_list<LabelView> labels);
std::vector<std::pair<double, double>> histogramBuckets(const ParsedFamily &family, const std::vector<Label> &labels);

// `families` written back as text format 0.0.4, in their order: HELP (when
// not empty), TYPE, then the samples as given. Parsing the result yields
// `families` again (NaN payloads aside).
std::string formatExposition(const std::vector<ParsedFamily> &families);

} // namespace sluice::metrics
