#pragma once

#include <functional>
#include <initializer_list>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/metricfamily.h"
#include "policy/result.h"

namespace sluice::metrics {

class Registry;

// Gauge or counter series whose values are read from callbacks at scrape
// time, for quantities another object already keeps (cache entries,
// in-flight requests, breaker state, a policy object's own counters).
// Obtained from a Registry, which owns it.
//
// Thread-safe. Callbacks run on the thread that calls exposition, one after
// the other with this family's lock held, so they must be thread-safe, quick,
// must not throw and must not call into the Registry. A callback must stay
// callable until it is removed or replaced (or the Registry is destroyed);
// once remove() or set() has returned, the old callback is not running and
// never will be. A counter family's callbacks must never return less than
// before.
class CallbackFamily final : public MetricFamily {
public:
    using ValueFunction = std::function<double()>;

    // Installs `value` for this label set, replacing an earlier callback.
    // Returns true if it replaced one. Fails (and changes nothing) when the
    // number of label values does not match labelNames(), a value is not
    // UTF-8, `value` is empty, or the family already has maxSeries() series.
    Result<bool> set(std::initializer_list<std::string_view> labelValues, ValueFunction value)
    {
        return set(std::span<const std::string_view>(labelValues.begin(), labelValues.size()), std::move(value));
    }
    Result<bool> set(std::span<const std::string_view> labelValues, ValueFunction value);
    Result<bool> set(std::span<const std::string> labelValues, ValueFunction value);

    // Returns whether a series was removed.
    bool remove(std::initializer_list<std::string_view> labelValues)
    {
        return remove(std::span<const std::string_view>(labelValues.begin(), labelValues.size()));
    }
    bool remove(std::span<const std::string_view> labelValues);
    bool remove(std::span<const std::string> labelValues);

    std::size_t seriesCount() const override;
    void appendExposition(std::string &out) const override;

private:
    friend class Registry;

    struct Series {
        ValueFunction value;
        std::string labelText;
    };

    // `type` is MetricType::Gauge or MetricType::Counter.
    CallbackFamily(std::string name, std::string help, MetricType type, std::vector<std::string> labelNames,
                   std::size_t maxSeries);

    template <typename Values>
    Result<bool> setValues(const Values &labelValues, ValueFunction value);
    template <typename Values>
    bool removeValues(const Values &labelValues);

    // Exclusive even for scraping: that is what makes remove() a barrier.
    mutable std::mutex m_mutex;
    std::map<std::vector<std::string>, Series, LabelValuesLess> m_series;
};

} // namespace sluice::metrics
