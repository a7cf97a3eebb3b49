#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QString>

#include "config/gatewayconfig.h"

// Writing a configuration as JSON. The output is canonical: every field is
// written (defaults included), in a fixed order, arrays keep their order; so
// loadConfig(saveConfig(c)) == c for a valid c, and saving that again gives
// the same bytes.
//
// Reentrant; safe to call from any thread.
namespace sluice::config {

// Every field; QJsonObject keeps keys sorted.
QJsonObject toJson(const GatewayConfig &config);

// UTF-8 JSON for people: fields in the order gatewayconfig.h documents them
// (version and comment first), map keys sorted, two-space indentation,
// arrays of plain values on one line, a final newline.
QByteArray saveConfig(const GatewayConfig &config);

// Lowercase hex SHA-256 of the compact canonical JSON without "version" and
// "comment": equal for equal settings, whatever the key order or whitespace
// of the file they came from. 64 characters.
QString contentHash(const GatewayConfig &config);

} // namespace sluice::config
