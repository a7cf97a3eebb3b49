#pragma once

#include "gateway/simulatoroptions.h"

#include <QString>
#include <QStringList>

#include <optional>

namespace sluice::gateway {

// Parsing of command-line option values shared by `sluice-gateway simulate` and
// `sluice-gateway load`. Every parse function returns the error text, naming the option
// ("--think-ms: expected MEAN[,SPREAD] with numbers >= 0, got "x""), or an empty
// string when the value was taken (only then is `target` changed).

// "value" in double quotes, for messages.
QString quotedValue(const QString &value);
// "<option>: expected <what>, got "<value>"".
QString optionValueError(const QString &option, const QString &what, const QString &value);

// Digits only: no sign, no blanks, no exponent; nullopt above 2^64 - 1.
std::optional<quint64> wholeNumber(const QString &text);
// A finite number without surrounding blanks.
std::optional<double> finiteNumber(const QString &text);

QString parseProbability(const QString &option, const QString &value, double &target);
// MEAN[,SPREAD] with numbers >= 0; a missing spread is 0. The shape stays as it was.
QString parseMeanSpread(const QString &option, const QString &value, Distribution &target);
// Comma-separated model names, blanks trimmed, duplicates dropped; none may be empty.
QString parseModels(const QString &option, const QString &value, QStringList &target);

} // namespace sluice::gateway
