#include "gateway/logger.h"

#include "metrics/utf8.h"

#include <QStringEncoder>

#include <array>
#include <charconv>
#include <chrono>
#include <cmath>

namespace sluice::gateway {

namespace {

bool needsQuotes(std::string_view text)
{
    if (text.empty())
        return true;
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte <= 0x20 || byte == 0x7f || c == '=' || c == '"' || c == '\\')
            return true;
    }
    return false;
}

void appendQuoted(std::string &out, std::string_view text)
{
    static constexpr char kHex[] = "0123456789abcdef";
    out += '"';
    for (const char c : text) {
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default: {
            const auto byte = static_cast<unsigned char>(c);
            if (byte < 0x20 || byte == 0x7f) {
                out += "\\u00";
                out += kHex[byte >> 4];
                out += kHex[byte & 0xf];
            } else {
                out += c;
            }
        }
        }
    }
    out += '"';
}

void appendText(std::string &out, std::string_view utf8)
{
    // A value copied from a request may be any bytes; the log stays UTF-8.
    if (!metrics::isValidUtf8(utf8)) {
        const std::string valid = metrics::toValidUtf8(utf8);
        appendText(out, valid);
        return;
    }
    if (needsQuotes(utf8))
        appendQuoted(out, utf8);
    else
        out += utf8;
}

void appendUtf16(std::string &out, QStringView text)
{
    thread_local std::string utf8;
    QStringEncoder encoder(QStringEncoder::Utf8);
    utf8.resize(static_cast<std::size_t>(encoder.requiredSpace(text.size())));
    const char *end = encoder.appendToBuffer(utf8.data(), text);
    utf8.resize(static_cast<std::size_t>(end - utf8.data()));
    appendText(out, utf8);
}

template <typename Number>
void appendInteger(std::string &out, Number value)
{
    std::array<char, 24> buffer;
    const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
    out.append(buffer.data(), result.ptr);
}

void appendDouble(std::string &out, double value)
{
    if (std::isnan(value)) {
        out += "NaN";
        return;
    }
    if (std::isinf(value)) {
        out += value > 0 ? "+Inf" : "-Inf";
        return;
    }
    // 10 significant digits: 0.1 + 0.2 logs as 0.3, not 0.30000000000000004.
    std::array<char, 32> buffer;
    const auto result =
        std::to_chars(buffer.data(), buffer.data() + buffer.size(), value, std::chars_format::general, 10);
    out.append(buffer.data(), result.ptr);
}

void appendKey(std::string &out, std::string_view key)
{
    if (key.empty()) {
        out += '_';
        return;
    }
    for (const char c : key) {
        const auto byte = static_cast<unsigned char>(c);
        const bool breaksLine = byte <= 0x20 || byte >= 0x7f || c == '=' || c == '"' || c == '\\';
        out += breaksLine ? '_' : c;
    }
}

void appendTwoDigits(std::string &out, unsigned value)
{
    out += static_cast<char>('0' + value / 10 % 10);
    out += static_cast<char>('0' + value % 10);
}

std::string_view levelName(LogLevel level)
{
    const auto index = static_cast<std::size_t>(level);
    return index < config::kLogLevelNames.size() ? config::kLogLevelNames[index] : std::string_view("info");
}

} // namespace

void LogValue::appendTo(std::string &out) const
{
    switch (m_kind) {
    case Kind::Utf8:
        appendText(out, m_utf8);
        break;
    case Kind::Utf16:
        appendUtf16(out, m_utf16);
        break;
    case Kind::Signed:
        appendInteger(out, m_signed);
        break;
    case Kind::Unsigned:
        appendInteger(out, m_unsigned);
        break;
    case Kind::Double:
        appendDouble(out, m_double);
        break;
    case Kind::Bool:
        out += m_unsigned != 0 ? "true" : "false";
        break;
    }
}

std::string formatLogTimestamp(std::int64_t unixMilliseconds)
{
    using namespace std::chrono;
    const sys_time<milliseconds> time{milliseconds{unixMilliseconds}};
    const sys_days day = floor<days>(time);
    const year_month_day date{day};
    const hh_mm_ss<milliseconds> clock{time - day};

    std::string out;
    out.reserve(24);
    const int year = static_cast<int>(date.year());
    appendTwoDigits(out, static_cast<unsigned>(year / 100));
    appendTwoDigits(out, static_cast<unsigned>(year % 100));
    out += '-';
    appendTwoDigits(out, static_cast<unsigned>(date.month()));
    out += '-';
    appendTwoDigits(out, static_cast<unsigned>(date.day()));
    out += 'T';
    appendTwoDigits(out, static_cast<unsigned>(clock.hours().count()));
    out += ':';
    appendTwoDigits(out, static_cast<unsigned>(clock.minutes().count()));
    out += ':';
    appendTwoDigits(out, static_cast<unsigned>(clock.seconds().count()));
    out += '.';
    const auto millis = static_cast<unsigned>(clock.subseconds().count());
    out += static_cast<char>('0' + millis / 100);
    appendTwoDigits(out, millis % 100);
    out += 'Z';
    return out;
}

Logger::Logger(std::FILE *out, LogLevel level, WallClock wallClock)
    : m_level(level), m_wallClock(std::move(wallClock)), m_out(out)
{
}

Logger::Logger(LineSink sink, LogLevel level, WallClock wallClock)
    : m_level(level), m_wallClock(std::move(wallClock)), m_sink(std::move(sink))
{
}

std::int64_t Logger::now() const
{
    if (m_wallClock)
        return m_wallClock();
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

void Logger::appendLine(std::string &out, std::int64_t nowUnixMilliseconds, LogLevel level, std::string_view event,
                        std::initializer_list<LogField> fields)
{
    out += "ts=";
    out += formatLogTimestamp(nowUnixMilliseconds);
    out += " level=";
    out += levelName(level);
    out += " event=";
    appendText(out, event);
    for (const LogField &field : fields) {
        out += ' ';
        appendKey(out, field.key);
        out += '=';
        field.value.appendTo(out);
    }
}

std::string Logger::formatLine(std::int64_t nowUnixMilliseconds, LogLevel level, std::string_view event,
                               std::initializer_list<LogField> fields)
{
    std::string line;
    appendLine(line, nowUnixMilliseconds, level, event, fields);
    return line;
}

void Logger::log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields)
{
    if (!isEnabled(level) || (m_out == nullptr && !m_sink))
        return;
    // Formatted outside the lock, in a buffer each thread reuses: a busy
    // gateway neither serialises on formatting nor allocates per line.
    thread_local std::string line;
    line.clear();
    appendLine(line, now(), level, event, fields);

    std::lock_guard lock(m_writeMutex);
    if (m_sink) {
        m_sink(line);
        return;
    }
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), m_out);
    std::fflush(m_out);
}

bool isSecretHeader(QByteArrayView name)
{
    static constexpr std::array<std::string_view, 7> kSecretHeaders{
        "authorization", "proxy-authorization", "x-api-key", "api-key", "x-goog-api-key", "cookie", "set-cookie"};
    for (const std::string_view secret : kSecretHeaders) {
        if (static_cast<std::size_t>(name.size()) != secret.size())
            continue;
        bool same = true;
        for (std::size_t index = 0; index < secret.size() && same; ++index) {
            char c = name[static_cast<qsizetype>(index)];
            if (c >= 'A' && c <= 'Z')
                c = static_cast<char>(c - 'A' + 'a');
            same = c == secret[index];
        }
        if (same)
            return true;
    }
    return false;
}

} // namespace sluice::gateway
