#pragma once

#include "models/connectionprofile.h"
#include "policy/result.h"

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QStringList>

namespace sluice::models {

// The profile exchange file: profiles WITHOUT secrets, to share a deployment's settings
// with a colleague or move them to another machine.
//
//   {"format": "sluice-profiles", "version": 1, "profiles": [
//     {"name": "prod-eu", "environment": "production", "colour": "#d32f2f",
//      "admin_urls": ["http://10.0.0.7:9090"], "discover_from_redis": false,
//      "prometheus_url": "http://prometheus:9090",
//      "redis": {"host": "redis", "port": 6379, "db": 0, "user": ""},
//      "postgres": "host=db user=sluice dbname=sluice", "read_only": true,
//      "refresh_interval_seconds": 5}]}
//
// "environment_label" holds a custom environment's text; "postgres" is present only
// when the string holds no password. Missing keys take the ConnectionProfile defaults.

// The profile as an exchange-file object: every secret left out.
QJsonObject profileToJson(const ConnectionProfile &profile);
// The whole file, indented.
QByteArray profilesToJson(const QList<ConnectionProfile> &profiles);

struct ParsedProfiles {
    // In file order; secret fields nullopt (a PostgreSQL string without a password
    // is kept).
    QList<ConnectionProfile> profiles;
    // Entries that could not be read, e.g. "profiles[2].redis.port: must be an integer".
    // Those profiles are not in `profiles`.
    QStringList rejected;
    // One line per profile that carried secrets, which were dropped:
    // "prod-eu: ignored admin_token, redis.password (secrets are never imported)".
    QStringList ignoredSecrets;
};

// Reads an exchange file. The error (the file is not usable at all) says why: not JSON
// (with the parser's message and offset), not an object, a "format" other than
// "sluice-profiles", no "profiles" array. Profiles are not validated here beyond their
// JSON types (see validateProfile).
Result<ParsedProfiles, QString> parseProfilesJson(const QByteArray &json);

} // namespace sluice::models
