#pragma once

#include <QByteArray>
#include <QJsonValue>

namespace sluice::gateway {

// A canonical, byte-stable JSON text for hashing: equal JSON values give equal bytes
// however they were written. Pure; thread-safe.
// - objects: keys sorted by UTF-16 code units, no whitespace anywhere;
// - strings: UTF-8; only '"', '\\' and control characters escaped (\b \f \n \r \t,
//   others as \u00XX); '/' and non-ASCII characters are written as themselves;
// - numbers: an integral value with |x| < 2^53 as a plain integer (1.0, 1e0 and 1 all
//   give "1"; -0 gives "0"), any other value in the shortest form that round-trips
//   (std::to_chars); JSON has no NaN or infinity, so neither can occur.
QByteArray canonicalJson(const QJsonValue &value);

} // namespace sluice::gateway
