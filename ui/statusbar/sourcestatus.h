#pragma once

#include <QDateTime>
#include <QList>
#include <QMetaType>
#include <QString>

namespace sluice::ui {

// The state of one data source the console reads (a gateway admin API, Prometheus,
// Redis, PostgreSQL, the sandbox), as the status bar shows it. Plain data (Qt Core
// only), so whatever watches a source can fill it in.
struct SourceStatus {
    enum class State { Disconnected, Connecting, Connected, Error };

    // Stable key, unique within one status bar: "admin:gw-1", "prometheus", "redis" ...
    QString id;
    // Shown next to the dot: "gw-1 admin", "Prometheus", "Redis".
    QString name;
    State state = State::Disconnected;
    // The last error for Error (and why for Disconnected), or what is being done for
    // Connecting; shown in the tooltip. May be empty.
    QString detail;
    // When the source last answered. Invalid: never.
    QDateTime lastUpdate;

    friend bool operator==(const SourceStatus &, const SourceStatus &) = default;
};

// "connected", "connecting", "disconnected", "error".
QString sourceStateText(SourceStatus::State state);

// "5 s ago", "3 min ago", "2 h ago"; "just now" under one second or for a time in the
// future (clock skew); "never" for an invalid time.
QString formatUpdateAge(const QDateTime &lastUpdate, const QDateTime &now);

} // namespace sluice::ui

Q_DECLARE_METATYPE(sluice::ui::SourceStatus)
