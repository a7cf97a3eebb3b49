#pragma once

#include "clients/sourceerror.h"

#include <QDateTime>
#include <QList>
#include <QMetaType>
#include <QObject>
#include <QPointer>
#include <QString>

#include <memory>
#include <optional>

class QThread;

namespace sluice::clients {

struct PostgresInfoPollerOptions {
    // libpq key/value ("host=db user=sluice dbname=sluice") or URI. connect_timeout=
    // connectTimeoutSeconds is added unless the string names one itself.
    QString connectionString;
    // One sample every intervalMs (at least 100) while connected.
    int intervalMs = 5'000;
    // Bounds each connection attempt (libpq rounds anything under 2 s up to 2 s), and so
    // how long a stopped poller's thread may still run.
    int connectTimeoutSeconds = 3;
    // Bounds each sample's statements (SET LOCAL statement_timeout).
    int statementTimeoutMs = 3'000;
    // After a failure the next attempt comes after a delay drawn from
    // [reconnectMinMs, c] with c = min(reconnectMaxMs, reconnectMinMs * 2^failures).
    int reconnectMinMs = 1'000;
    int reconnectMaxMs = 30'000;
};

// One PostgreSQL sample as the console shows it.
struct PostgresInfo {
    QString serverVersion;      // server_version, e.g. "15.6 (Debian 15.6-0+deb12u1)"
    QString database;           // current_database()
    qint64 connections = 0;     // client backends in pg_stat_activity (what max_connections limits)
    qint64 backends = 0;        // every row of pg_stat_activity (background workers too)
    qint64 maxConnections = 0;  // SHOW max_connections
    qint64 databaseSizeBytes = 0; // pg_database_size(current_database())
    // Whether Sluice's tables (usage, usage_daily) exist in the connection's search path;
    // the fields below are set only when they do.
    bool sluiceTables = false;
    // Live rows of usage as the statistics collector counts them (n_live_tup): cheap on a
    // table of millions of rows, approximate (updated as transactions end, within ~1 s).
    std::optional<qint64> usageRowsEstimate;
    // Rows of usage_daily (exact: one row per day, key and model).
    std::optional<qint64> usageDailyRows;
    // The newest usage.ts (UTC); invalid when the table is empty.
    QDateTime newestUsage;
    // Wall time (UTC) when the sample completed, and how long its statements took.
    QDateTime sampledAt;
    qint64 queryMs = 0;

    // connections / maxConnections, 0..1 (0 when maxConnections is unknown).
    double connectionUse() const { return maxConnections > 0 ? double(connections) / double(maxConnections) : 0.0; }
};

// "host:port" a libpq connection string points at ("localhost:5432" by default; the
// first host of a list). For messages and the status bar.
QString postgresEndpoint(const QString &connectionString);

// Reads one PostgreSQL database for the console. A worker object on the poller's own
// QThread owns the pqxx::connection (never the GUI thread): it connects, samples every
// interval (pg_stat_activity, max_connections, database size, and Sluice's usage tables
// when they exist) in one read-only transaction, and after any failure drops the
// connection and tries again with backoff (PostgresInfoPollerOptions).
//
// Signals, on the owner thread: updated() per sample, failed() per failed attempt
// (connect or sample; kinds from sourceErrorFromStore() via storeErrorFromPostgres()).
//
// stop() never blocks: it tells the worker to end and returns; a thread still inside a
// connect or a statement finishes by itself within connectTimeoutSeconds (or
// statementTimeoutMs) and cleans itself up. Nothing is emitted after stop().
// waitForStopped() is for tests and shutdown paths that must not leave a thread behind.
//
// Thread affinity: create, use and destroy on one thread with an event loop (the GUI thread).
class PostgresInfoPoller : public QObject {
    Q_OBJECT
public:
    explicit PostgresInfoPoller(PostgresInfoPollerOptions options, QObject *parent = nullptr);
    // stop(); does not wait.
    ~PostgresInfoPoller() override;

    const PostgresInfoPollerOptions &options() const { return m_options; }
    QString endpoint() const { return m_endpoint; }

    // Starts the worker thread, which connects and samples at once and then every
    // interval. Does nothing while running or with an empty connection string.
    void start();
    // See the class comment. start() again begins with a new thread and connection.
    void stop();
    bool isRunning() const { return m_shared != nullptr; }

    // While paused the worker samples nothing (a connection stays open).
    void setPaused(bool paused);
    bool isPaused() const { return m_paused; }
    // One sample as soon as the worker is free, paused or not (connecting first if needed).
    void pollNow();

    // Waits (blocking) until the threads of earlier stop()s have ended; false on timeout.
    bool waitForStopped(int timeoutMs);

    const std::optional<PostgresInfo> &latest() const { return m_latest; }

signals:
    void updated(const sluice::clients::PostgresInfo &info);
    void failed(const sluice::clients::SourceError &error);

private:
    struct Shared;
    class Worker;

    PostgresInfoPollerOptions m_options;
    QString m_endpoint;
    std::shared_ptr<Shared> m_shared; // null unless running
    QThread *m_thread = nullptr;      // deletes itself when it has finished after stop()
    Worker *m_worker = nullptr;       // lives on m_thread; deleted when it finishes
    QList<QPointer<QThread>> m_stoppingThreads;
    quint64 m_generation = 0; // bumped by start() and stop()
    bool m_paused = false;
    std::optional<PostgresInfo> m_latest;
};

} // namespace sluice::clients

Q_DECLARE_METATYPE(sluice::clients::PostgresInfo)
