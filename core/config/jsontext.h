#pragma once

#include <QByteArray>
#include <QJsonValue>
#include <QString>

namespace sluice::config {

// Compact JSON text of any value, scalars included: 5, "abc", true, null,
// [1,2], {"a":1}. An undefined value gives an empty string.
QString jsonText(const QJsonValue &value);

// The JSON type of a value in words, for messages: "a string", "a number",
// "a boolean", "null", "an array", "an object".
QString jsonTypeName(const QJsonValue &value);

// "line L, column C" (1-based) of a byte offset into UTF-8 JSON text, for
// syntax errors; columns count characters, not bytes. The offset is clamped.
QString jsonLocation(const QByteArray &json, qsizetype offset);

} // namespace sluice::config
