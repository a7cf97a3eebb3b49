#pragma once

#include <QByteArray>
#include <QDateTime>

namespace sluice::http {

// The IMF-fixdate form of RFC 9110 §5.6.7, as the Date header carries it:
// "Sun, 06 Nov 1994 08:49:37 GMT". Independent of the locale.
class HttpDate {
public:
    // `time` is converted to UTC; an invalid time gives an empty array.
    static QByteArray format(const QDateTime &time);
    // Now, formatted. Cached per thread for the current second, so calling it for
    // every response costs a clock read. Thread-safe.
    static QByteArray now();
};

} // namespace sluice::http
