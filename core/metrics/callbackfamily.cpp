#include "metrics/callbackfamily.h"

#include "metrics/exposition.h"
#include "metrics/utf8.h"

namespace sluice::metrics {

CallbackFamily::CallbackFamily(std::string name, std::string help, MetricType type,
                               std::vector<std::string> labelNames, std::size_t maxSeries)
    : MetricFamily(std::move(name), std::move(help), type, std::move(labelNames), maxSeries)
{
}

Result<bool> CallbackFamily::set(std::span<const std::string_view> labelValues, ValueFunction value)
{
    return setValues(labelValues, std::move(value));
}

Result<bool> CallbackFamily::set(std::span<const std::string> labelValues, ValueFunction value)
{
    return setValues(labelValues, std::move(value));
}

bool CallbackFamily::remove(std::span<const std::string_view> labelValues)
{
    return removeValues(labelValues);
}

bool CallbackFamily::remove(std::span<const std::string> labelValues)
{
    return removeValues(labelValues);
}

template <typename Values>
Result<bool> CallbackFamily::setValues(const Values &labelValues, ValueFunction value)
{
    if (labelValues.size() != labelNames().size()) {
        return unexpected(Error{"metric \"" + name() + "\" has " + std::to_string(labelNames().size()) +
                                " label names but " + std::to_string(labelValues.size()) +
                                " label values were given"});
    }
    if (!value)
        return unexpected(Error{"metric \"" + name() + "\": empty value callback"});
    for (const std::string_view labelValue : labelValues) {
        if (!isValidUtf8(labelValue))
            return unexpected(Error{"metric \"" + name() + "\": label value is not valid UTF-8"});
    }

    std::lock_guard lock(m_mutex);
    if (const auto found = m_series.find(labelValues); found != m_series.end()) {
        found->second.value = std::move(value);
        return true;
    }
    if (m_series.size() >= maxSeries()) {
        return unexpected(Error{"metric \"" + name() + "\" already has its maximum of " +
                                std::to_string(maxSeries()) + " series"});
    }
    std::vector<std::string> key(labelValues.begin(), labelValues.end());
    std::string text = labelText(key);
    m_series.emplace(std::move(key), Series{std::move(value), std::move(text)});
    return false;
}

template <typename Values>
bool CallbackFamily::removeValues(const Values &labelValues)
{
    std::lock_guard lock(m_mutex);
    const auto found = m_series.find(labelValues);
    if (found == m_series.end())
        return false;
    m_series.erase(found);
    return true;
}

std::size_t CallbackFamily::seriesCount() const
{
    std::lock_guard lock(m_mutex);
    return m_series.size();
}

void CallbackFamily::appendExposition(std::string &out) const
{
    appendFamilyHeader(out, name(), help(), type());
    std::lock_guard lock(m_mutex);
    for (const auto &entry : m_series) {
        out += name();
        if (!entry.second.labelText.empty()) {
            out += '{';
            out += entry.second.labelText;
            out += '}';
        }
        out += ' ';
        appendValue(out, entry.second.value());
        out += '\n';
    }
}

} // namespace sluice::metrics
