#pragma once

#include <QMetaType>
#include <QString>

#include <limits>

namespace sluice::models {

// How fresh what the console knows about an instance is: Up (answered the last poll),
// Stale (seen, but not in the last few polls), Down (not answering / gone from the
// registry). The feeder decides; the model only shows it.
enum class InstanceState { Up, Stale, Down };

// "up", "stale", "down".
QString instanceStateName(InstanceState state);

// One gateway instance as the console sees it, from whichever source (admin API stats,
// /metrics, the Redis instance registry). Unknown numbers are NaN (shown empty).
struct InstanceRow {
    QString id; // unique; the row's identity across refreshes
    QString version;
    double uptimeSeconds = std::numeric_limits<double>::quiet_NaN();
    double requestsPerSecond = std::numeric_limits<double>::quiet_NaN();
    double latencyP95Seconds = std::numeric_limits<double>::quiet_NaN();
    qint64 configVersion = 0; // the shared configuration version it runs; 0: unknown
    InstanceState state = InstanceState::Up;
    QString address; // e.g. "10.0.0.7:8080"

    // NaN fields compare equal to NaN, so an unchanged row is not reported as changed.
    bool sameAs(const InstanceRow &other) const;
};

} // namespace sluice::models

Q_DECLARE_METATYPE(sluice::models::InstanceState)
