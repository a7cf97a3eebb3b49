#pragma once

#include "config/gatewayconfig.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QString>
#include <QStringView>

#include <atomic>
#include <concepts>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>

namespace sluice::gateway {

using LogLevel = config::LogLevel;

// The value of one log field, formatted by the Logger. A view: it refers to the
// text it was built from, so build it only as an argument of a Logger call
// (where temporaries live until the call returns), never store it.
// Accepts text (QString, QStringView, QByteArray and const char * / std::string
// as UTF-8), integers, floating point and bool. Other pointers are refused at
// compile time (they would silently become bool).
class LogValue {
public:
    LogValue(const QString &text) : m_kind(Kind::Utf16), m_utf16(text) {}
    LogValue(QStringView text) : m_kind(Kind::Utf16), m_utf16(text) {}
    LogValue(const QByteArray &text) : m_kind(Kind::Utf8), m_utf8(text.constData(), std::size_t(text.size())) {}
    // nullptr logs as an empty value.
    LogValue(const char *text)
        : m_kind(Kind::Utf8), m_utf8(text != nullptr ? std::string_view(text) : std::string_view())
    {
    }
    LogValue(std::string_view text) : m_kind(Kind::Utf8), m_utf8(text) {}
    LogValue(const std::string &text) : m_kind(Kind::Utf8), m_utf8(text) {}
    LogValue(bool value) : m_kind(Kind::Bool), m_unsigned(value ? 1 : 0) {}
    template <std::integral T>
        requires(!std::same_as<T, bool> && !std::same_as<T, char> && std::is_signed_v<T>)
    LogValue(T value) : m_kind(Kind::Signed), m_signed(value)
    {
    }
    template <std::integral T>
        requires(!std::same_as<T, bool> && !std::same_as<T, char> && std::is_unsigned_v<T>)
    LogValue(T value) : m_kind(Kind::Unsigned), m_unsigned(value)
    {
    }
    template <std::floating_point T>
    LogValue(T value) : m_kind(Kind::Double), m_double(static_cast<double>(value))
    {
    }
    template <typename T>
    LogValue(const T *) = delete;
    // A single char is ambiguous (a letter or a number?); pass text or an int.
    LogValue(char) = delete;

    // Appends the value as logfmt: bare when it is non-empty and holds no space,
    // '=', '"', backslash or control character, otherwise in double quotes with
    // the escapes \" \\ \n \r \t and \u00XX. Ill-formed UTF-8 becomes U+FFFD. Numbers:
    // integers exactly; doubles in the shortest of fixed or exponent notation
    // with up to 10 significant digits ("12.5", "0.3", "1e-07"), NaN, +Inf, -Inf;
    // bools as true / false.
    void appendTo(std::string &out) const;

private:
    enum class Kind { Utf8, Utf16, Signed, Unsigned, Double, Bool };
    Kind m_kind;
    std::string_view m_utf8;
    QStringView m_utf16;
    std::int64_t m_signed = 0;
    std::uint64_t m_unsigned = 0;
    double m_double = 0;
};

// One `key=value` pair. Keys should be snake_case ASCII; any byte that would
// break the line (space, '=', '"', '\\', control or non-ASCII) is written as '_'.
struct LogField {
    std::string_view key;
    LogValue value;
};

// Structured event log, one logfmt line per event:
//   ts=2026-11-23T10:04:05.123Z level=info event=request_done request_id=abc status=200 duration_ms=12.5 msg="…"
// ts (UTC, milliseconds), level and event come first, then the fields in the
// order given. A line never contains a newline: every value is escaped (see
// LogValue). Fields named ts, level or event are not checked for; don't.
//
//   logger.info("request_done", {{"request_id", id}, {"status", 200}, {"msg", "served from cache"}});
//
// Thread-safe: any thread may log at once; each line is formatted on the
// calling thread and then written whole under one mutex, so lines never
// interleave. The level can be changed live from any thread (setLevel()); events
// below it cost one atomic load.
//
// Never log a secret: header values whose isSecretHeader() is true, API keys,
// prompts. No global instance: the gateway owns one and hands it out.
class Logger {
public:
    // Receives one whole line without its trailing newline. Called with the
    // logger's lock held, on the logging thread, one line at a time; it must not
    // log to this Logger (it would deadlock).
    using LineSink = std::function<void(std::string_view line)>;
    // Current wall time, milliseconds since the Unix epoch.
    using WallClock = std::function<std::int64_t()>;

    // Writes lines (with '\n') to `out` and flushes after each. `out` must stay
    // open for the logger's lifetime; nullptr discards everything. An empty
    // `wallClock` reads the system clock.
    explicit Logger(std::FILE *out = stderr, LogLevel level = LogLevel::Info, WallClock wallClock = {});
    // Hands every line to `sink` (tests, the console's log view).
    explicit Logger(LineSink sink, LogLevel level = LogLevel::Info, WallClock wallClock = {});
    Logger(const Logger &) = delete;
    Logger &operator=(const Logger &) = delete;

    void setLevel(LogLevel level) { m_level.store(level, std::memory_order_relaxed); }
    LogLevel level() const { return m_level.load(std::memory_order_relaxed); }
    // True if an event at `level` would be written; check it before building
    // costly fields.
    bool isEnabled(LogLevel level) const { return static_cast<int>(level) >= static_cast<int>(this->level()); }

    void log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields = {});
    void debug(std::string_view event, std::initializer_list<LogField> fields = {})
    {
        log(LogLevel::Debug, event, fields);
    }
    void info(std::string_view event, std::initializer_list<LogField> fields = {})
    {
        log(LogLevel::Info, event, fields);
    }
    void warn(std::string_view event, std::initializer_list<LogField> fields = {})
    {
        log(LogLevel::Warn, event, fields);
    }
    void error(std::string_view event, std::initializer_list<LogField> fields = {})
    {
        log(LogLevel::Error, event, fields);
    }

    // The line log() would write (without the newline), for `nowUnixMilliseconds`.
    // Pure; ignores the level.
    static std::string formatLine(std::int64_t nowUnixMilliseconds, LogLevel level, std::string_view event,
                                  std::initializer_list<LogField> fields);

private:
    static void appendLine(std::string &out, std::int64_t nowUnixMilliseconds, LogLevel level,
                           std::string_view event, std::initializer_list<LogField> fields);
    std::int64_t now() const;

    std::atomic<LogLevel> m_level;
    WallClock m_wallClock;
    std::mutex m_writeMutex;
    std::FILE *m_out = nullptr;
    LineSink m_sink;
};

// "2026-11-23T10:04:05.123Z": RFC 3339 UTC with milliseconds, as the ts field.
std::string formatLogTimestamp(std::int64_t unixMilliseconds);

// True for request and response headers whose value is a credential and must
// never be logged, matched case-insensitively: authorization,
// proxy-authorization, x-api-key, api-key, x-goog-api-key, cookie, set-cookie.
bool isSecretHeader(QByteArrayView name);

} // namespace sluice::gateway
