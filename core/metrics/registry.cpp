#include "metrics/registry.h"

#include <cmath>
#include <mutex>
#include <optional>
#include <set>

#include "metrics/exposition.h"
#include "metrics/metricnames.h"
#include "metrics/utf8.h"

namespace sluice::metrics {

namespace {

Error familyError(std::string_view name, std::string_view problem)
{
    std::string message = "metric \"";
    message += name;
    message += "\": ";
    message += problem;
    return Error{std::move(message)};
}

std::optional<Error> checkFamily(std::string_view name, std::string_view help, MetricType type,
                                 const std::vector<std::string> &labelNames, std::size_t maxSeries)
{
    if (!isValidMetricName(name))
        return familyError(name, "invalid metric name (must match [a-zA-Z_:][a-zA-Z0-9_:]*)");
    const bool endsInTotal = name.ends_with("_total") && name.size() > 6;
    if (type == MetricType::Counter && !endsInTotal)
        return familyError(name, "counter names must end in \"_total\"");
    if (type != MetricType::Counter && name.ends_with("_total"))
        return familyError(name, "only counter names may end in \"_total\"");
    for (const std::string_view suffix : {"_bucket", "_count", "_sum"}) {
        if (name.ends_with(suffix)) {
            return familyError(name, "names ending in \"" + std::string(suffix) +
                                         "\" are reserved for histogram and summary samples");
        }
    }
    if (help.empty())
        return familyError(name, "help text is empty");
    if (!isValidUtf8(help))
        return familyError(name, "help text is not valid UTF-8");
    std::set<std::string_view> seen;
    for (const std::string &label : labelNames) {
        if (!isValidLabelName(label))
            return familyError(name, "invalid label name \"" + label + "\" (must match [a-zA-Z_][a-zA-Z0-9_]*)");
        if (isReservedLabelName(label))
            return familyError(name, "label name \"" + label + "\" is reserved (\"__\" prefix)");
        if (label == "le" || label == "quantile")
            return familyError(name, "label name \"" + label + "\" is reserved for histogram and summary buckets");
        if (!seen.insert(label).second)
            return familyError(name, "duplicate label name \"" + label + "\"");
    }
    if (maxSeries == 0)
        return familyError(name, "maxSeries must be at least 1");
    return std::nullopt;
}

Result<std::vector<double>> checkBounds(std::string_view name, std::vector<double> upperBounds)
{
    if (!upperBounds.empty() && std::isinf(upperBounds.back()) && upperBounds.back() > 0)
        upperBounds.pop_back();
    for (std::size_t index = 0; index < upperBounds.size(); ++index) {
        if (!std::isfinite(upperBounds[index]))
            return unexpected(familyError(name, "histogram bucket bounds must be finite"));
        if (index > 0 && !(upperBounds[index - 1] < upperBounds[index]))
            return unexpected(familyError(name, "histogram bucket bounds must be strictly increasing"));
    }
    return upperBounds;
}

} // namespace

Registry::Registry()
{
    // Cannot fail: the name is valid and the registry empty.
    (void)counterCallback(std::string(kSeriesOverflowMetricName),
                          "Label sets sent to a family's \"__overflow__\" series because the family had reached "
                          "its maximum number of series.",
                          [this] { return m_seriesOverflowTotal.value(); });
}

Registry::~Registry() = default;

template <typename FamilyType>
Result<FamilyType *> Registry::add(std::unique_ptr<FamilyType> family)
{
    FamilyType *added = family.get();
    std::unique_lock lock(m_mutex);
    const auto [position, inserted] = m_families.try_emplace(family->name(), nullptr);
    if (!inserted)
        return unexpected(familyError(family->name(), "already registered"));
    position->second = std::move(family);
    return added;
}

Result<CounterFamily *> Registry::counterFamily(std::string name, std::string help,
                                                std::vector<std::string> labelNames, std::size_t maxSeries)
{
    if (auto error = checkFamily(name, help, MetricType::Counter, labelNames, maxSeries))
        return unexpected(std::move(*error));
    return add(std::unique_ptr<CounterFamily>(new CounterFamily(std::move(name), std::move(help),
                                                                std::move(labelNames), maxSeries,
                                                                m_seriesOverflowTotal)));
}

Result<GaugeFamily *> Registry::gaugeFamily(std::string name, std::string help, std::vector<std::string> labelNames,
                                            std::size_t maxSeries)
{
    if (auto error = checkFamily(name, help, MetricType::Gauge, labelNames, maxSeries))
        return unexpected(std::move(*error));
    return add(std::unique_ptr<GaugeFamily>(
        new GaugeFamily(std::move(name), std::move(help), std::move(labelNames), maxSeries, m_seriesOverflowTotal)));
}

Result<HistogramFamily *> Registry::histogramFamily(std::string name, std::string help,
                                                    std::vector<std::string> labelNames,
                                                    std::vector<double> upperBounds, std::size_t maxSeries)
{
    if (auto error = checkFamily(name, help, MetricType::Histogram, labelNames, maxSeries))
        return unexpected(std::move(*error));
    auto bounds = checkBounds(name, std::move(upperBounds));
    if (!bounds)
        return unexpected(std::move(bounds).error());
    return add(std::unique_ptr<HistogramFamily>(new HistogramFamily(std::move(name), std::move(help),
                                                                    std::move(labelNames), maxSeries,
                                                                    m_seriesOverflowTotal, std::move(*bounds))));
}

Result<CallbackFamily *> Registry::gaugeCallbackFamily(std::string name, std::string help,
                                                       std::vector<std::string> labelNames, std::size_t maxSeries)
{
    if (auto error = checkFamily(name, help, MetricType::Gauge, labelNames, maxSeries))
        return unexpected(std::move(*error));
    return add(std::unique_ptr<CallbackFamily>(
        new CallbackFamily(std::move(name), std::move(help), MetricType::Gauge, std::move(labelNames), maxSeries)));
}

Result<CallbackFamily *> Registry::counterCallbackFamily(std::string name, std::string help,
                                                         std::vector<std::string> labelNames, std::size_t maxSeries)
{
    if (auto error = checkFamily(name, help, MetricType::Counter, labelNames, maxSeries))
        return unexpected(std::move(*error));
    return add(std::unique_ptr<CallbackFamily>(
        new CallbackFamily(std::move(name), std::move(help), MetricType::Counter, std::move(labelNames), maxSeries)));
}

Result<Counter *> Registry::counter(std::string name, std::string help)
{
    auto family = counterFamily(std::move(name), std::move(help), {});
    if (!family)
        return unexpected(std::move(family).error());
    return &(*family)->labels({});
}

Result<Gauge *> Registry::gauge(std::string name, std::string help)
{
    auto family = gaugeFamily(std::move(name), std::move(help), {});
    if (!family)
        return unexpected(std::move(family).error());
    return &(*family)->labels({});
}

Result<Histogram *> Registry::histogram(std::string name, std::string help, std::vector<double> upperBounds)
{
    auto family = histogramFamily(std::move(name), std::move(help), {}, std::move(upperBounds));
    if (!family)
        return unexpected(std::move(family).error());
    return &(*family)->labels({});
}

Result<CallbackFamily *> Registry::gaugeCallback(std::string name, std::string help,
                                                 CallbackFamily::ValueFunction value)
{
    if (!value)
        return unexpected(familyError(name, "empty value callback"));
    auto family = gaugeCallbackFamily(std::move(name), std::move(help), {});
    if (!family)
        return family;
    (void)(*family)->set({}, std::move(value)); // Cannot fail: no labels, a callback, room for one.
    return family;
}

Result<CallbackFamily *> Registry::counterCallback(std::string name, std::string help,
                                                   CallbackFamily::ValueFunction value)
{
    if (!value)
        return unexpected(familyError(name, "empty value callback"));
    auto family = counterCallbackFamily(std::move(name), std::move(help), {});
    if (!family)
        return family;
    (void)(*family)->set({}, std::move(value)); // Cannot fail: no labels, a callback, room for one.
    return family;
}

const MetricFamily *Registry::find(std::string_view name) const
{
    std::shared_lock lock(m_mutex);
    const auto found = m_families.find(name);
    return found == m_families.end() ? nullptr : found->second.get();
}

std::vector<std::string> Registry::familyNames() const
{
    std::shared_lock lock(m_mutex);
    std::vector<std::string> names;
    names.reserve(m_families.size());
    for (const auto &entry : m_families)
        names.push_back(entry.first);
    return names;
}

std::string Registry::exposition() const
{
    std::string out;
    // The last size plus some slack: one allocation in the steady state.
    const std::size_t expected = m_lastExpositionBytes.load(std::memory_order_relaxed);
    out.reserve(expected + expected / 8 + 256);
    appendExposition(out);
    m_lastExpositionBytes.store(out.size(), std::memory_order_relaxed);
    return out;
}

void Registry::appendExposition(std::string &out) const
{
    std::shared_lock lock(m_mutex);
    for (const auto &entry : m_families)
        entry.second->appendExposition(out);
}

std::uint64_t Registry::seriesOverflowCount() const
{
    return static_cast<std::uint64_t>(m_seriesOverflowTotal.value());
}

} // namespace sluice::metrics
