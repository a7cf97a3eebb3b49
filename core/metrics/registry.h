#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/callbackfamily.h"
#include "metrics/counter.h"
#include "metrics/family.h"
#include "metrics/histogrambuckets.h"
#include "policy/result.h"

namespace sluice::metrics {

// The metrics of one process (or one embedded gateway): families of counters,
// gauges, histograms and callback series, written out in the Prometheus text
// format 0.0.4. Not a singleton: whoever builds the gateway owns one and hands
// it to the parts that record metrics.
//
// Thread-safe. Registration and exposition may run on any threads at once;
// the returned families and series live as long as the Registry and are
// updated without locks (see Family). Families cannot be unregistered.
//
// Registration checks, and fails with an Error naming the metric:
//  - the name is a valid Prometheus metric name and not registered yet;
//  - counters end in "_total" and nothing else does; no name ends in "_bucket",
//    "_count" or "_sum" (reserved for histogram and summary samples);
//  - help is non-empty UTF-8;
//  - label names are valid, distinct, not reserved ("__" prefix) and neither
//    "le" nor "quantile";
//  - maxSeries >= 1;
//  - histogram bounds are finite and strictly increasing (a trailing +Inf is
//    accepted and dropped: the +Inf bucket is always there).
// The "sluice_" prefix and base units are the gateway's conventions and are
// left to `promtool check metrics`.
//
// Every registry holds the counter sluice_metrics_series_overflow_total: label
// sets refused by a full family (see Family) and sent to its "__overflow__"
// series.
class Registry {
public:
    static constexpr std::size_t kDefaultMaxSeries = 1000;
    static constexpr std::string_view kSeriesOverflowMetricName = "sluice_metrics_series_overflow_total";

    Registry();
    ~Registry();
    Registry(const Registry &) = delete;
    Registry &operator=(const Registry &) = delete;

    Result<CounterFamily *> counterFamily(std::string name, std::string help, std::vector<std::string> labelNames,
                                          std::size_t maxSeries = kDefaultMaxSeries);
    Result<GaugeFamily *> gaugeFamily(std::string name, std::string help, std::vector<std::string> labelNames,
                                      std::size_t maxSeries = kDefaultMaxSeries);
    Result<HistogramFamily *> histogramFamily(std::string name, std::string help, std::vector<std::string> labelNames,
                                              std::vector<double> upperBounds = defaultLatencyBucketsSeconds(),
                                              std::size_t maxSeries = kDefaultMaxSeries);
    // Series added later with CallbackFamily::set().
    Result<CallbackFamily *> gaugeCallbackFamily(std::string name, std::string help,
                                                 std::vector<std::string> labelNames,
                                                 std::size_t maxSeries = kDefaultMaxSeries);
    Result<CallbackFamily *> counterCallbackFamily(std::string name, std::string help,
                                                   std::vector<std::string> labelNames,
                                                   std::size_t maxSeries = kDefaultMaxSeries);

    // One series with no labels, created at once so it is exposed as 0 before
    // its first update.
    Result<Counter *> counter(std::string name, std::string help);
    Result<Gauge *> gauge(std::string name, std::string help);
    Result<Histogram *> histogram(std::string name, std::string help,
                                  std::vector<double> upperBounds = defaultLatencyBucketsSeconds());
    Result<CallbackFamily *> gaugeCallback(std::string name, std::string help, CallbackFamily::ValueFunction value);
    Result<CallbackFamily *> counterCallback(std::string name, std::string help, CallbackFamily::ValueFunction value);

    // nullptr if no family has this name.
    const MetricFamily *find(std::string_view name) const;
    std::vector<std::string> familyNames() const;

    // Every family in text format 0.0.4, families sorted by name and series by
    // label values, so the output is deterministic. Serve it with
    // kExpositionContentType. Callback series are evaluated on this thread.
    std::string exposition() const;
    // The same, appended to `out` (reuse one buffer across scrapes).
    void appendExposition(std::string &out) const;

    // Lookups sent to an overflow series so far.
    std::uint64_t seriesOverflowCount() const;

private:
    template <typename FamilyType>
    Result<FamilyType *> add(std::unique_ptr<FamilyType> family);

    // Declared first: families hold a reference to it.
    Counter m_seriesOverflowTotal;
    mutable std::shared_mutex m_mutex;
    std::map<std::string, std::unique_ptr<MetricFamily>, std::less<>> m_families;
    mutable std::atomic<std::size_t> m_lastExpositionBytes{0};
};

} // namespace sluice::metrics
