#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QString>

#include "config/configerror.h"
#include "config/gatewayconfig.h"
#include "policy/result.h"

// Reading a gateway configuration from JSON. The document is checked in full
// and every problem is reported, not just the first:
//  - JSON syntax: one error at "line L, column C";
//  - types: `cache.enabled: must be a boolean, got "yes"`; counts must be
//    integers within their range, so nothing overflows;
//  - unknown keys: `cache.ttl_secnds: unknown field (did you mean "ttl_seconds"?)`;
//  - missing required fields of array elements (upstream name, kind,
//    base_url, models; key id, key_sha256; rule name);
//  - then everything validate() checks (configvalidator.h).
// Absent fields take the defaults documented in gatewayconfig.h. Duplicate
// keys in one JSON object are not detected: the last one wins (QJsonDocument).
//
// Reentrant; safe to call from any thread.
namespace sluice::config {

using ConfigResult = Result<GatewayConfig, ConfigErrors>;

ConfigResult loadConfig(const QByteArray &json);
ConfigResult loadConfig(const QJsonObject &document);

// As loadConfig(); a file that cannot be read gives one error
// "<path>: cannot read: <reason>".
ConfigResult loadConfigFile(const QString &path);

} // namespace sluice::config
