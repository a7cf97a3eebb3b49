#include "policy/retryafter.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <limits>

namespace sluice::policy {

namespace {

constexpr std::int64_t maxRetryAfterSeconds = std::int64_t{1} << 31;

constexpr std::array<std::string_view, 7> shortDayNames{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 7> longDayNames{"Monday", "Tuesday", "Wednesday", "Thursday",
                                                       "Friday", "Saturday", "Sunday"};
constexpr std::array<std::string_view, 12> monthNames{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

std::string_view trimmed(std::string_view text)
{
    const auto isSpace = [](char c) { return c == ' ' || c == '\t'; };
    while (!text.empty() && isSpace(text.front()))
        text.remove_prefix(1);
    while (!text.empty() && isSpace(text.back()))
        text.remove_suffix(1);
    return text;
}

class Cursor {
public:
    explicit Cursor(std::string_view text) : m_text(text) {}

    bool atEnd() const { return m_pos == m_text.size(); }
    std::size_t position() const { return m_pos; }
    char peek() const { return m_text[m_pos]; }
    void skip() { ++m_pos; }

    bool literal(std::string_view expected)
    {
        if (!m_text.substr(m_pos).starts_with(expected))
            return false;
        m_pos += expected.size();
        return true;
    }

    // Exactly `count` digits.
    std::optional<int> digits(int count)
    {
        int value = 0;
        for (int i = 0; i < count; ++i) {
            if (atEnd() || !isDigit(peek()))
                return std::nullopt;
            value = value * 10 + (peek() - '0');
            skip();
        }
        return value;
    }

    // The index of the name found here.
    template <std::size_t N>
    std::optional<int> oneOf(const std::array<std::string_view, N> &names)
    {
        for (std::size_t i = 0; i < N; ++i) {
            if (literal(names[i]))
                return static_cast<int>(i);
        }
        return std::nullopt;
    }

private:
    std::string_view m_text;
    std::size_t m_pos = 0;
};

struct DateTime {
    int year = 0;
    int month = 0; // 1..12
    int day = 0;
    int hour = 0;
    int minute = 0;
    int second = 0;
};

bool timeOfDay(Cursor &cursor, DateTime &at)
{
    const auto hour = cursor.digits(2);
    if (!hour || !cursor.literal(":"))
        return false;
    const auto minute = cursor.digits(2);
    if (!minute || !cursor.literal(":"))
        return false;
    const auto second = cursor.digits(2);
    if (!second)
        return false;
    at.hour = *hour;
    at.minute = *minute;
    at.second = *second;
    return true;
}

bool parseMonth(Cursor &cursor, DateTime &at)
{
    const auto index = cursor.oneOf(monthNames);
    if (!index)
        return false;
    at.month = *index + 1;
    return true;
}

// "Sun, 06 Nov 1994 08:49:37 GMT"
std::optional<DateTime> imfFixdate(std::string_view text)
{
    Cursor cursor(text);
    DateTime at;
    if (!cursor.oneOf(shortDayNames) || !cursor.literal(", "))
        return std::nullopt;
    const auto day = cursor.digits(2);
    if (!day || !cursor.literal(" ") || !parseMonth(cursor, at) || !cursor.literal(" "))
        return std::nullopt;
    const auto year = cursor.digits(4);
    if (!year || !cursor.literal(" ") || !timeOfDay(cursor, at) || !cursor.literal(" GMT") || !cursor.atEnd())
        return std::nullopt;
    at.day = *day;
    at.year = *year;
    return at;
}

int yearOf(std::int64_t unixSeconds)
{
    using namespace std::chrono;
    const std::int64_t dayNumber = unixSeconds / 86400 - (unixSeconds % 86400 < 0 ? 1 : 0);
    const auto clamped = std::clamp<std::int64_t>(dayNumber, -2'000'000, 2'000'000);
    return static_cast<int>(year_month_day{sys_days{days{clamped}}}.year());
}

// "Sunday, 06-Nov-94 08:49:37 GMT"
std::optional<DateTime> rfc850Date(std::string_view text, std::int64_t nowUnixSeconds)
{
    Cursor cursor(text);
    DateTime at;
    if (!cursor.oneOf(longDayNames) || !cursor.literal(", "))
        return std::nullopt;
    const auto day = cursor.digits(2);
    if (!day || !cursor.literal("-") || !parseMonth(cursor, at) || !cursor.literal("-"))
        return std::nullopt;
    const auto twoDigitYear = cursor.digits(2);
    if (!twoDigitYear || !cursor.literal(" ") || !timeOfDay(cursor, at) || !cursor.literal(" GMT") || !cursor.atEnd())
        return std::nullopt;
    at.day = *day;
    // RFC 9110 §5.6.7: the year nearest to now, never more than 50 years ahead.
    const int currentYear = yearOf(nowUnixSeconds);
    int year = currentYear - currentYear % 100 + *twoDigitYear;
    if (year > currentYear + 50)
        year -= 100;
    else if (year <= currentYear - 50)
        year += 100;
    at.year = year;
    return at;
}

// "Sun Nov  6 08:49:37 1994"
std::optional<DateTime> asctimeDate(std::string_view text)
{
    Cursor cursor(text);
    DateTime at;
    if (!cursor.oneOf(shortDayNames) || !cursor.literal(" ") || !parseMonth(cursor, at) || !cursor.literal(" "))
        return std::nullopt;
    const auto day = cursor.literal(" ") ? cursor.digits(1) : cursor.digits(2);
    if (!day || !cursor.literal(" ") || !timeOfDay(cursor, at) || !cursor.literal(" "))
        return std::nullopt;
    const auto year = cursor.digits(4);
    if (!year || !cursor.atEnd())
        return std::nullopt;
    at.day = *day;
    at.year = *year;
    return at;
}

std::optional<std::int64_t> unixSeconds(const DateTime &at)
{
    using namespace std::chrono;
    const year_month_day date{year{at.year}, std::chrono::month{static_cast<unsigned>(at.month)}, day{static_cast<unsigned>(at.day)}};
    // A leap second (:60) counts as the second before it.
    if (!date.ok() || at.hour > 23 || at.minute > 59 || at.second > 60)
        return std::nullopt;
    const std::int64_t dayNumber = sys_days{date}.time_since_epoch().count();
    return dayNumber * 86400 + at.hour * 3600 + at.minute * 60 + std::min(at.second, 59);
}

std::optional<Nanoseconds> deltaSeconds(std::string_view text)
{
    Cursor cursor(text);
    std::int64_t seconds = 0;
    bool anyDigit = false;
    while (!cursor.atEnd() && isDigit(cursor.peek())) {
        anyDigit = true;
        seconds = std::min(seconds * 10 + (cursor.peek() - '0'), maxRetryAfterSeconds + 1);
        cursor.skip();
    }
    if (!anyDigit)
        return std::nullopt;
    std::int64_t fractionNs = 0;
    if (cursor.literal(".")) {
        std::int64_t scale = 100'000'000;
        bool anyFractionDigit = false;
        while (!cursor.atEnd() && isDigit(cursor.peek())) {
            anyFractionDigit = true;
            fractionNs += (cursor.peek() - '0') * scale;
            scale /= 10;
            cursor.skip();
        }
        if (!anyFractionDigit)
            return std::nullopt;
    }
    if (!cursor.atEnd())
        return std::nullopt;
    if (seconds >= maxRetryAfterSeconds)
        return maxParsedRetryAfter;
    return std::chrono::seconds(seconds) + Nanoseconds(fractionNs);
}

std::optional<Nanoseconds> httpDateDelay(std::string_view text, std::int64_t nowUnixSeconds)
{
    std::optional<DateTime> at = imfFixdate(text);
    if (!at)
        at = rfc850Date(text, nowUnixSeconds);
    if (!at)
        at = asctimeDate(text);
    if (!at)
        return std::nullopt;
    const auto when = unixSeconds(*at);
    if (!when)
        return std::nullopt;
    std::int64_t delta = 0;
    if (__builtin_sub_overflow(*when, nowUnixSeconds, &delta))
        delta = nowUnixSeconds < 0 ? maxRetryAfterSeconds : 0;
    return std::chrono::seconds(std::clamp<std::int64_t>(delta, 0, maxRetryAfterSeconds));
}

std::optional<std::int64_t> durationUnitNs(std::string_view unit)
{
    if (unit == "ns")
        return 1;
    if (unit == "us" || unit == "\u00B5s" || unit == "\u03BCs")
        return 1'000;
    if (unit == "ms")
        return 1'000'000;
    if (unit == "s")
        return 1'000'000'000;
    if (unit == "m")
        return 60'000'000'000;
    if (unit == "h")
        return 3'600'000'000'000;
    return std::nullopt;
}

} // namespace

std::optional<Nanoseconds> parseRetryAfter(std::string_view headerValue, std::int64_t nowUnixSeconds)
{
    const std::string_view text = trimmed(headerValue);
    if (text.empty())
        return std::nullopt;
    if (isDigit(text.front()))
        return deltaSeconds(text);
    return httpDateDelay(text, nowUnixSeconds);
}

std::optional<Nanoseconds> parseResetDuration(std::string_view text)
{
    constexpr std::int64_t maxNs = std::numeric_limits<std::int64_t>::max();
    text = trimmed(text);
    if (text == "0")
        return Nanoseconds{0};
    if (text.empty())
        return std::nullopt;

    Cursor cursor(text);
    std::int64_t totalNs = 0;
    while (!cursor.atEnd()) {
        std::int64_t whole = 0;
        bool anyDigit = false;
        while (!cursor.atEnd() && isDigit(cursor.peek())) {
            const int digit = cursor.peek() - '0';
            if (whole > (maxNs - digit) / 10)
                return std::nullopt;
            whole = whole * 10 + digit;
            anyDigit = true;
            cursor.skip();
        }
        std::int64_t fraction = 0;
        double scale = 1.0;
        if (cursor.literal(".")) {
            while (!cursor.atEnd() && isDigit(cursor.peek())) {
                // Digits beyond 18 cannot matter at nanosecond resolution.
                if (scale < 1e18) {
                    fraction = fraction * 10 + (cursor.peek() - '0');
                    scale *= 10.0;
                }
                anyDigit = true;
                cursor.skip();
            }
        }
        if (!anyDigit)
            return std::nullopt;

        const std::size_t unitStart = cursor.position();
        while (!cursor.atEnd() && !isDigit(cursor.peek()) && cursor.peek() != '.')
            cursor.skip();
        const auto unitNs = durationUnitNs(text.substr(unitStart, cursor.position() - unitStart));
        if (!unitNs || whole > maxNs / *unitNs)
            return std::nullopt;
        // Truncated like Go's time.ParseDuration.
        const auto fractionNs = static_cast<std::int64_t>(static_cast<double>(fraction) * (static_cast<double>(*unitNs) / scale));
        std::int64_t termNs = 0;
        if (__builtin_add_overflow(whole * *unitNs, fractionNs, &termNs) || __builtin_add_overflow(totalNs, termNs, &totalNs))
            return std::nullopt;
    }
    return Nanoseconds(totalNs);
}

} // namespace sluice::policy
