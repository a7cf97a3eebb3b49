#pragma once

#include <initializer_list>
#include <map>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/counter.h"
#include "metrics/gauge.h"
#include "metrics/histogram.h"
#include "metrics/metricfamily.h"

namespace sluice::metrics {

class Registry;

// The series of one counter, gauge or histogram metric, one per label set.
// Obtained from a Registry, which owns it.
//
// labels() returns the series for a list of label values (in the order of
// labelNames()), creating it on first use. The reference stays valid for the
// Registry's lifetime: look it up once, cache it, then update it from any
// thread with no lock. labels() itself is thread-safe (a shared lock for a
// hit, an exclusive one to create) but not meant for every request.
//
// Cardinality is bounded: once the family holds maxSeries() series, a label
// set it has not seen yet is given the overflow series instead, whose every
// label value is "__overflow__", and the registry's
// sluice_metrics_series_overflow_total is incremented (once per such labels()
// call, so a caller that caches the reference counts once). A family thus
// never exceeds maxSeries() + 1 series. A call with the wrong number of label
// values is a programming error; it is treated the same way.
//
// Label values must be UTF-8; ill-formed bytes are replaced by U+FFFD when the
// series is created (a lookup with the same raw bytes finds it again).
template <typename Child>
class Family final : public MetricFamily {
public:
    static constexpr std::string_view kOverflowLabelValue = "__overflow__";

    Child &labels(std::initializer_list<std::string_view> values)
    {
        return labels(std::span<const std::string_view>(values.begin(), values.size()));
    }
    Child &labels(std::span<const std::string_view> values);
    Child &labels(std::span<const std::string> values);

    std::size_t seriesCount() const override;
    void appendExposition(std::string &out) const override;

private:
    friend class Registry;

    struct Series {
        std::unique_ptr<Child> child;
        std::string labelText;
    };

    // `upperBounds` only for histograms (validated by the Registry).
    Family(std::string name, std::string help, std::vector<std::string> labelNames, std::size_t maxSeries,
           Counter &seriesOverflowTotal, std::vector<double> upperBounds = {});

    template <typename Values>
    Child &findOrCreate(const Values &values);
    Child &insertLocked(std::vector<std::string> labelValues);
    Child &overflowLocked();
    void appendSeries(std::string &out, const Series &series) const;

    mutable std::shared_mutex m_mutex;
    std::map<std::vector<std::string>, Series, LabelValuesLess> m_series;
    Child *m_overflow = nullptr;
    Counter &m_seriesOverflowTotal;
    std::shared_ptr<const std::vector<double>> m_upperBounds;
    std::vector<std::string> m_formattedBounds;
};

extern template class Family<Counter>;
extern template class Family<Gauge>;
extern template class Family<Histogram>;

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

} // namespace sluice::metrics
