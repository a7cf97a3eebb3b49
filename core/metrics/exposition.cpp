#include "metrics/exposition.h"

#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>

namespace sluice::metrics {

namespace {

bool equalsIgnoringCase(std::string_view text, std::string_view lowerKeyword)
{
    if (text.size() != lowerKeyword.size())
        return false;
    for (std::size_t index = 0; index < text.size(); ++index) {
        char character = text[index];
        if (character >= 'A' && character <= 'Z')
            character = char(character - 'A' + 'a');
        if (character != lowerKeyword[index])
            return false;
    }
    return true;
}

bool isDecimalChar(char character)
{
    return (character >= '0' && character <= '9') || character == '.' || character == 'e' || character == 'E' ||
           character == '+' || character == '-';
}

// from_chars only says "out of range"; Go's ParseFloat turns underflow into
// zero and refuses only overflow, so tell the two apart by the position of the
// first significant digit plus the exponent.
bool isUnderflow(std::string_view digits)
{
    const std::size_t exponentAt = digits.find_first_of("eE");
    const std::string_view mantissa = digits.substr(0, exponentAt);
    long long magnitude = 0;
    const std::size_t pointAt = mantissa.find('.');
    const std::size_t firstSignificant = mantissa.find_first_of("123456789");
    if (firstSignificant == std::string_view::npos)
        return true;
    const std::size_t integerDigits = pointAt == std::string_view::npos ? mantissa.size() : pointAt;
    if (firstSignificant < integerDigits)
        magnitude = static_cast<long long>(integerDigits - firstSignificant);
    else
        magnitude = -static_cast<long long>(firstSignificant - integerDigits - 1);
    if (exponentAt == std::string_view::npos)
        return magnitude <= 0;
    std::string_view exponent = digits.substr(exponentAt + 1);
    const bool negativeExponent = !exponent.empty() && exponent.front() == '-';
    if (!exponent.empty() && (exponent.front() == '-' || exponent.front() == '+'))
        exponent.remove_prefix(1);
    long long exponentValue = 0;
    for (const char character : exponent) {
        exponentValue = exponentValue * 10 + (character - '0');
        if (exponentValue > 1'000'000'000)
            break;
    }
    return (negativeExponent ? magnitude - exponentValue : magnitude + exponentValue) <= 0;
}

} // namespace

void appendValue(std::string &out, double value)
{
    if (std::isnan(value)) {
        out += "NaN";
        return;
    }
    if (std::isinf(value)) {
        out += value > 0 ? "+Inf" : "-Inf";
        return;
    }
    std::array<char, 32> buffer;
    constexpr double kExactIntegerLimit = 9007199254740992.0; // 2^53
    std::to_chars_result result;
    if (value == std::trunc(value) && std::fabs(value) < kExactIntegerLimit && !(value == 0 && std::signbit(value)))
        result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), static_cast<long long>(value));
    else
        result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
    out.append(buffer.data(), result.ptr);
}

std::string formatValue(double value)
{
    std::string text;
    appendValue(text, value);
    return text;
}

std::optional<double> parseValue(std::string_view text)
{
    std::string_view body = text;
    bool negative = false;
    bool signed_ = false;
    if (!body.empty() && (body.front() == '+' || body.front() == '-')) {
        negative = body.front() == '-';
        signed_ = true;
        body.remove_prefix(1);
    }
    if (equalsIgnoringCase(body, "inf") || equalsIgnoringCase(body, "infinity"))
        return negative ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    if (!signed_ && equalsIgnoringCase(body, "nan"))
        return std::numeric_limits<double>::quiet_NaN();
    // from_chars would also take "inf", "nan(...)" and hex digits; only the
    // decimal syntax is left to it.
    if (body.empty() || !((body.front() >= '0' && body.front() <= '9') || body.front() == '.'))
        return std::nullopt;
    for (const char character : body) {
        if (!isDecimalChar(character))
            return std::nullopt;
    }
    double value = 0;
    const auto [end, error] = std::from_chars(body.data(), body.data() + body.size(), value);
    if (error == std::errc::result_out_of_range) {
        // Syntax was fine up to the point from_chars stopped; it must also have
        // been the whole text.
        if (end != body.data() + body.size() || !isUnderflow(body))
            return std::nullopt;
        value = 0;
    } else if (error != std::errc{} || end != body.data() + body.size()) {
        return std::nullopt;
    }
    return negative ? -value : value;
}

void appendEscapedHelp(std::string &out, std::string_view help)
{
    for (const char character : help) {
        switch (character) {
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        default:
            out += character;
        }
    }
}

void appendEscapedLabelValue(std::string &out, std::string_view value)
{
    for (const char character : value) {
        switch (character) {
        case '\\':
            out += "\\\\";
            break;
        case '"':
            out += "\\\"";
            break;
        case '\n':
            out += "\\n";
            break;
        default:
            out += character;
        }
    }
}

void appendFamilyHeader(std::string &out, std::string_view name, std::string_view help, MetricType type)
{
    if (!help.empty()) {
        out += "# HELP ";
        out += name;
        out += ' ';
        appendEscapedHelp(out, help);
        out += '\n';
    }
    out += "# TYPE ";
    out += name;
    out += ' ';
    out += metricTypeName(type);
    out += '\n';
}

void appendLabel(std::string &out, bool first, std::string_view name, std::string_view value)
{
    out += first ? '{' : ',';
    out += name;
    out += "=\"";
    appendEscapedLabelValue(out, value);
    out += '"';
}

} // namespace sluice::metrics
