#include "metrics/metricnames.h"

namespace sluice::metrics {

namespace {

bool isAsciiLetter(char character)
{
    return (character >= 'a' && character <= 'z') || (character >= 'A' && character <= 'Z');
}

bool isAsciiDigit(char character)
{
    return character >= '0' && character <= '9';
}

} // namespace

bool isMetricNameStart(char character)
{
    return isAsciiLetter(character) || character == '_' || character == ':';
}

bool isMetricNameChar(char character)
{
    return isMetricNameStart(character) || isAsciiDigit(character);
}

bool isLabelNameStart(char character)
{
    return isAsciiLetter(character) || character == '_';
}

bool isLabelNameChar(char character)
{
    return isLabelNameStart(character) || isAsciiDigit(character);
}

bool isValidMetricName(std::string_view name)
{
    if (name.empty() || !isMetricNameStart(name.front()))
        return false;
    for (const char character : name.substr(1)) {
        if (!isMetricNameChar(character))
            return false;
    }
    return true;
}

bool isValidLabelName(std::string_view name)
{
    if (name.empty() || !isLabelNameStart(name.front()))
        return false;
    for (const char character : name.substr(1)) {
        if (!isLabelNameChar(character))
            return false;
    }
    return true;
}

bool isReservedLabelName(std::string_view name)
{
    return name.starts_with("__");
}

} // namespace sluice::metrics
