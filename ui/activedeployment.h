#pragma once

#include "models/connectionprofile.h"

#include <QByteArray>
#include <QColor>
#include <QList>
#include <QString>
#include <QUrl>

#include <optional>

namespace sluice::ui {

// The deployment the console is watching right now — a connection profile with its
// secrets loaded, or the embedded sandbox — as every panel needs it: where its sources
// are and how to authenticate. Produced by DeploymentController, handed to the panels by
// ConsoleApp. A plain value; secrets are held only in memory.
struct ActiveDeployment {
    QString name;                     // the profile's name, or "Sandbox"
    QString environmentLabel;         // "production", "staging", ... ("sandbox" for the sandbox)
    QColor colour;                    // the environment's colour
    bool sandbox = false;
    bool readOnly = false;            // the profile's read-only flag: no tuning, no flush
    // Gateway admin base URLs (http://host:port); each admin listener also serves /metrics.
    QList<QUrl> adminUrls;
    QByteArray adminToken;
    // Empty: the dashboard scrapes each admin URL's /metrics itself.
    QUrl prometheusUrl;
    std::optional<models::RedisEndpoint> redis;
    QString redisPassword;
    // libpq connection string; empty: no PostgreSQL source.
    QString postgresConnection;
    int refreshIntervalSeconds = 5;   // 1..30

    bool isValid() const { return !name.isEmpty(); }
};

} // namespace sluice::ui
