#pragma once

#include <QJsonValue>
#include <QString>

namespace sluice::config {

// Compact JSON text of any value, scalars included: 5, "abc", true, null,
// [1,2], {"a":1}. An undefined value gives an empty string.
QString jsonText(const QJsonValue &value);

// The JSON type of a value in words, for messages: "a string", "a number",
// "a boolean", "null", "an array", "an object".
QString jsonTypeName(const QJsonValue &value);

} // namespace sluice::config
