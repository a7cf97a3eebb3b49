#include "metrics/metrictype.h"

#include <algorithm>
#include <array>

namespace sluice::metrics {

namespace {

constexpr std::array kTypes = {MetricType::Counter, MetricType::Gauge, MetricType::Histogram, MetricType::Summary,
                               MetricType::Untyped};

char lowerAscii(char character)
{
    return character >= 'A' && character <= 'Z' ? char(character - 'A' + 'a') : character;
}

} // namespace

std::string_view metricTypeName(MetricType type)
{
    switch (type) {
    case MetricType::Counter:
        return "counter";
    case MetricType::Gauge:
        return "gauge";
    case MetricType::Histogram:
        return "histogram";
    case MetricType::Summary:
        return "summary";
    case MetricType::Untyped:
        break;
    }
    return "untyped";
}

std::optional<MetricType> metricTypeFromName(std::string_view name)
{
    for (const MetricType type : kTypes) {
        const std::string_view keyword = metricTypeName(type);
        if (std::ranges::equal(name, keyword, [](char left, char right) { return lowerAscii(left) == right; }))
            return type;
    }
    return std::nullopt;
}

} // namespace sluice::metrics
