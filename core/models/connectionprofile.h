#pragma once

#include <QColor>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace sluice::models {

// What a deployment is, shown as a coloured tag so production is never mistaken for a
// sandbox.
enum class EnvironmentTag { Production, Staging, Development, Sandbox, Custom };

// "production", "staging", "development", "sandbox", "custom".
QString environmentTagName(EnvironmentTag tag);
// The inverse of environmentTagName (case-insensitive); nullopt for anything else.
std::optional<EnvironmentTag> environmentTagFromName(const QString &name);
// Production red, staging orange, development blue, sandbox green, custom grey.
QColor defaultTagColour(EnvironmentTag tag);

struct RedisEndpoint {
    QString host; // empty: no Redis in this profile
    int port = 6379;
    int db = 0;
    QString user; // empty: the default user

    friend bool operator==(const RedisEndpoint &, const RedisEndpoint &) = default;
};

// How the console reaches one deployment.
//
// Secrets — the admin token, the Redis password and the PostgreSQL connection string
// when it holds a password — are never written to settings or export files; ProfileStore
// keeps them in a SecretStore. Those fields are optional: nullopt means "not loaded"
// (what ProfileStore::profiles() gives) and, when saving, "leave what is stored"; a
// value, even empty, replaces what is stored (empty: no secret). A PostgreSQL string
// without a password is plain configuration and is always loaded.
struct ConnectionProfile {
    QString name; // unique among profiles; not empty
    EnvironmentTag environment = EnvironmentTag::Development;
    QString customEnvironment; // the tag's text when environment is Custom
    QColor colour;             // invalid: defaultTagColour(environment)
    // The gateways' admin APIs ("http://10.0.0.7:9090"), unless discovered from the
    // Redis instance registry.
    QStringList adminUrls;
    bool discoverFromRedis = false;
    QString prometheusUrl; // empty: none
    RedisEndpoint redis;
    bool readOnly = false;           // the console refuses every change to this deployment
    int refreshIntervalSeconds = 5; // 1..30

    std::optional<QString> adminToken;
    std::optional<QString> redisPassword;
    // libpq key/value ("host=db user=sluice") or URI ("postgresql://user@db/sluice").
    std::optional<QString> postgresConnection;

    // environmentTagName(environment), or customEnvironment for Custom.
    QString environmentLabel() const;
    // colour when valid, else defaultTagColour(environment).
    QColor effectiveColour() const;
    // Whether postgresConnection holds a password (so the whole string is a secret).
    bool postgresIsSecret() const;

    friend bool operator==(const ConnectionProfile &, const ConnectionProfile &) = default;
};

// One validation problem: `field` is the settings/JSON key ("name", "redis.port",
// "admin_urls[1]"), `message` says what is wrong with it.
struct FieldIssue {
    QString field;
    QString message;

    // "<field>: <message>"
    QString toString() const;
    friend bool operator==(const FieldIssue &, const FieldIssue &) = default;
};

// True when a libpq connection string carries a password: a "password" keyword (or any
// "password" text at all, to err on the safe side) or a URI whose user info has a
// ":password" part.
bool connectionStringHoldsPassword(const QString &connection);

// Every problem with `profile`, in field order; empty when it is valid. `otherNames`
// are the names of the other profiles (a duplicate is an error, compared exactly):
//   name: "must not be empty"; "a profile named \"X\" already exists"
//   environment: "a custom environment needs a name"
//   admin_urls: "give at least one admin URL, or turn on discovery from Redis"
//   admin_urls[i] / prometheus_url: "\"U\" is not a valid URL: <reason>",
//       "\"U\" must be an http or https URL", "\"U\" has no host"
//   redis.host: "needed for discovery from Redis"
//   redis.port: "N is out of range 1..65535"
//   redis.db: "N must not be negative"
//   refresh_interval_seconds: "N is out of range 1..30"
QList<FieldIssue> validateProfile(const ConnectionProfile &profile, const QStringList &otherNames = {});

} // namespace sluice::models
