#include "metrics/metricfamily.h"

#include "metrics/exposition.h"

namespace sluice::metrics {

MetricFamily::MetricFamily(std::string name, std::string help, MetricType type, std::vector<std::string> labelNames,
                           std::size_t maxSeries)
    : m_name(std::move(name))
    , m_help(std::move(help))
    , m_type(type)
    , m_labelNames(std::move(labelNames))
    , m_maxSeries(maxSeries)
{
}

std::string MetricFamily::labelText(const std::vector<std::string> &labelValues) const
{
    std::string text;
    for (std::size_t index = 0; index < m_labelNames.size() && index < labelValues.size(); ++index)
        appendLabel(text, index == 0, m_labelNames[index], labelValues[index]);
    // appendLabel opens with '{' for the first label; the stored text has no braces.
    if (!text.empty())
        text.erase(0, 1);
    return text;
}

} // namespace sluice::metrics
