#include "metrics/family.h"

#include <mutex>
#include <type_traits>

#include "metrics/exposition.h"
#include "metrics/utf8.h"

namespace sluice::metrics {

namespace {

template <typename Child>
constexpr MetricType typeOf()
{
    if constexpr (std::is_same_v<Child, Counter>)
        return MetricType::Counter;
    else if constexpr (std::is_same_v<Child, Gauge>)
        return MetricType::Gauge;
    else
        return MetricType::Histogram;
}

void appendSampleLine(std::string &out, std::string_view name, std::string_view suffix, std::string_view labelText,
                      double value)
{
    out += name;
    out += suffix;
    if (!labelText.empty()) {
        out += '{';
        out += labelText;
        out += '}';
    }
    out += ' ';
    appendValue(out, value);
    out += '\n';
}

} // namespace

template <typename Child>
Family<Child>::Family(std::string name, std::string help, std::vector<std::string> labelNames, std::size_t maxSeries,
                      Counter &seriesOverflowTotal, std::vector<double> upperBounds)
    : MetricFamily(std::move(name), std::move(help), typeOf<Child>(), std::move(labelNames), maxSeries)
    , m_seriesOverflowTotal(seriesOverflowTotal)
{
    if constexpr (std::is_same_v<Child, Histogram>) {
        for (const double bound : upperBounds)
            m_formattedBounds.push_back(formatValue(bound));
        m_formattedBounds.emplace_back("+Inf");
        m_upperBounds = std::make_shared<const std::vector<double>>(std::move(upperBounds));
    }
}

template <typename Child>
Child &Family<Child>::labels(std::span<const std::string_view> values)
{
    return findOrCreate(values);
}

template <typename Child>
Child &Family<Child>::labels(std::span<const std::string> values)
{
    return findOrCreate(values);
}

template <typename Child>
template <typename Values>
Child &Family<Child>::findOrCreate(const Values &values)
{
    if (values.size() != labelNames().size()) {
        std::unique_lock lock(m_mutex);
        m_seriesOverflowTotal.inc();
        return overflowLocked();
    }
    {
        std::shared_lock lock(m_mutex);
        if (const auto found = m_series.find(values); found != m_series.end())
            return *found->second.child;
    }
    std::vector<std::string> key;
    key.reserve(values.size());
    for (const std::string_view value : values)
        key.push_back(isValidUtf8(value) ? std::string(value) : toValidUtf8(value));

    std::unique_lock lock(m_mutex);
    if (const auto found = m_series.find(key); found != m_series.end())
        return *found->second.child;
    const std::size_t ordinarySeries = m_series.size() - (m_overflow != nullptr ? 1 : 0);
    if (ordinarySeries >= maxSeries()) {
        m_seriesOverflowTotal.inc();
        return overflowLocked();
    }
    return insertLocked(std::move(key));
}

template <typename Child>
Child &Family<Child>::insertLocked(std::vector<std::string> labelValues)
{
    Series series;
    if constexpr (std::is_same_v<Child, Histogram>)
        series.child = std::make_unique<Histogram>(m_upperBounds);
    else
        series.child = std::make_unique<Child>();
    series.labelText = labelText(labelValues);
    const auto inserted = m_series.emplace(std::move(labelValues), std::move(series)).first;
    return *inserted->second.child;
}

template <typename Child>
Child &Family<Child>::overflowLocked()
{
    if (m_overflow == nullptr) {
        std::vector<std::string> key(labelNames().size(), std::string(kOverflowLabelValue));
        const auto found = m_series.find(key);
        m_overflow = found != m_series.end() ? found->second.child.get() : &insertLocked(std::move(key));
    }
    return *m_overflow;
}

template <typename Child>
std::size_t Family<Child>::seriesCount() const
{
    std::shared_lock lock(m_mutex);
    return m_series.size();
}

template <typename Child>
void Family<Child>::appendExposition(std::string &out) const
{
    appendFamilyHeader(out, name(), help(), type());
    std::shared_lock lock(m_mutex);
    for (const auto &entry : m_series)
        appendSeries(out, entry.second);
}

template <typename Child>
void Family<Child>::appendSeries(std::string &out, const Series &series) const
{
    if constexpr (std::is_same_v<Child, Histogram>) {
        const Histogram::Snapshot snapshot = series.child->snapshot();
        for (std::size_t index = 0; index < snapshot.cumulativeCounts.size(); ++index) {
            out += name();
            out += "_bucket{";
            if (!series.labelText.empty()) {
                out += series.labelText;
                out += ',';
            }
            out += "le=\"";
            out += m_formattedBounds[index];
            out += "\"} ";
            appendValue(out, static_cast<double>(snapshot.cumulativeCounts[index]));
            out += '\n';
        }
        appendSampleLine(out, name(), "_sum", series.labelText, snapshot.sum);
        appendSampleLine(out, name(), "_count", series.labelText, static_cast<double>(snapshot.count));
    } else {
        appendSampleLine(out, name(), {}, series.labelText, series.child->value());
    }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

} // namespace sluice::metrics
