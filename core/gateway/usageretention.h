#pragma once

#include "gateway/logger.h"
#include "metrics/counter.h"
#include "metrics/registry.h"
#include "store/storeerror.h"
#include "store/usagewriter.h"

#include <QObject>
#include <QTimer>

#include <chrono>
#include <functional>
#include <memory>

namespace sluice::gateway {

// Keeps the PostgreSQL usage log within postgres.retention_days: firstDelay after start(),
// then every interval, it asks the UsageWriter to delete the `usage` rows older than the
// retention the running configuration has at that moment (UsageWriter::rollupAndPrune();
// usage_daily keeps their roll-up). Every instance prunes on its own schedule; deletes of
// the same rows by several instances at once are harmless.
//
// Each run is logged ("usage_prune", rows and retention_days; a warning when it failed,
// e.g. not connected: the next run tries again) and the rows deleted are counted in
//   sluice_usage_pruned_rows_total   counter, registered in `registry` by the constructor
//                                    (left out if the name is taken)
//
// Thread affinity: a QObject of the writer's owner thread (the gateway's), which runs an
// event loop. The registry and the logger must outlive it; the writer is held weakly.
class UsageRetention : public QObject {
    Q_OBJECT
public:
    struct Schedule {
        std::chrono::milliseconds firstDelay = std::chrono::seconds(5);
        std::chrono::milliseconds interval = std::chrono::hours(1);
    };

    // `retentionDays` is asked at each run.
    UsageRetention(std::weak_ptr<store::UsageWriter> writer, std::function<int()> retentionDays,
                   metrics::Registry &registry, Logger &logger, QObject *parent = nullptr);

    void start(Schedule schedule);
    void start() { start(Schedule{}); }
    // No further timed runs; a run in progress still reports.
    void stop();

    // One run now, whatever the schedule (which goes on unchanged). Timed runs are skipped
    // while an earlier run is still waiting for its answer; this one is not.
    void pruneNow();

    // Rows deleted by this instance since construction.
    qint64 prunedRowsTotal() const { return m_prunedRowsTotal; }

signals:
    // After each run, on this object's thread.
    void pruned(qint64 rows);
    void pruneFailed(const sluice::store::StoreError &error);

private:
    void onTimer();

    std::weak_ptr<store::UsageWriter> m_writer;
    std::function<int()> m_retentionDays;
    Logger &m_logger;
    metrics::Counter *m_prunedRows = nullptr; // owned by the registry; null if not registered
    QTimer m_timer;
    std::chrono::milliseconds m_interval{0};
    int m_runsInProgress = 0;
    qint64 m_prunedRowsTotal = 0;
};

} // namespace sluice::gateway
