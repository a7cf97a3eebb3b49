#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/metrictype.h"

namespace sluice::metrics {

// What every family in a Registry has: a name, a help text, label names, a
// bound on its number of series, and a way to write itself as text. Created
// and owned by the Registry, which validated all of these; immutable apart
// from the series, so the accessors are thread-safe.
class MetricFamily {
public:
    virtual ~MetricFamily() = default;
    MetricFamily(const MetricFamily &) = delete;
    MetricFamily &operator=(const MetricFamily &) = delete;

    const std::string &name() const { return m_name; }
    const std::string &help() const { return m_help; }
    MetricType type() const { return m_type; }
    const std::vector<std::string> &labelNames() const { return m_labelNames; }
    std::size_t maxSeries() const { return m_maxSeries; }

    // Series currently present, including an overflow series. Thread-safe.
    virtual std::size_t seriesCount() const = 0;
    // Appends "# HELP", "# TYPE" and one line per sample in text format
    // 0.0.4, series ordered by their label values (byte-wise). Thread-safe.
    virtual void appendExposition(std::string &out) const = 0;

protected:
    MetricFamily(std::string name, std::string help, MetricType type, std::vector<std::string> labelNames,
                 std::size_t maxSeries);

    // `a="x",b="y"` for these values, escaped; built once per series.
    std::string labelText(const std::vector<std::string> &labelValues) const;

private:
    std::string m_name;
    std::string m_help;
    MetricType m_type;
    std::vector<std::string> m_labelNames;
    std::size_t m_maxSeries;
};

// Orders label value lists byte-wise and lets maps keyed by
// std::vector<std::string> be searched with spans of std::string_view or
// std::string without building a key.
struct LabelValuesLess {
    using is_transparent = void;

    template <typename Left, typename Right>
    bool operator()(const Left &left, const Right &right) const
    {
        return std::lexicographical_compare(left.begin(), left.end(), right.begin(), right.end(),
                                            [](std::string_view a, std::string_view b) { return a < b; });
    }
};

} // namespace sluice::metrics
