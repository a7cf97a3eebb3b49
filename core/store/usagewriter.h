#pragma once

#include "policy/result.h"
#include "store/auditrecord.h"
#include "store/storeerror.h"
#include "store/usagerecord.h"

#include <QHash>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QThread>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

namespace sluice::store {

struct UsageWriterOptions {
    // libpq connection string, key/value ("host=... port=... dbname=...") or URI.
    // connect_timeout=connectTimeoutSeconds is added unless it names one itself.
    QString connectionString;
    // Records accepted but not yet committed (buffered plus the batch being written).
    // submit() drops, and counts, what would exceed it: this is how much a PostgreSQL
    // outage can cost in memory, and the bound within which nothing is lost. At least 1.
    int bufferCapacity = 100000;
    // The same bound for the audit items (config versions and audit events), counted
    // apart so a flood of usage cannot crowd out the audit log, nor the other way. At least 1.
    int auditBufferCapacity = 10000;
    // Rows per transaction. A flush starts as soon as this many are buffered. At least 1.
    int batchSize = 500;
    // Whatever is buffered is flushed at least this often. At least 1.
    int flushIntervalMs = 1000;
    // Reconnect delay after the first failure, growing x2 per failure up to the max; each
    // delay is drawn uniformly from [min, current ceiling] so instances spread out.
    int reconnectMinMs = 250;
    int reconnectMaxMs = 10000;
    // Bounds each connection attempt (libpq's minimum is 2 s).
    int connectTimeoutSeconds = 5;
    // Apply the built-in schema migrations on the first successful connection; a failed
    // run counts as a failed connection attempt (retried with backoff, lastError() says why).
    bool applyMigrations = true;
    // The destructor's stop() deadline.
    int stopDeadlineMs = 5000;
};

// Counters, all since construction. Thread-safe snapshot.
struct UsageWriterStats {
    std::uint64_t accepted = 0;   // submit() calls that returned true
    std::uint64_t written = 0;    // records in committed batches
    std::uint64_t duplicates = 0; // of those, request ids already in the table (a retried commit)
    std::uint64_t dropped = 0;    // submit() calls that returned false (buffer full, or stopped)
    std::uint64_t pending = 0;    // accepted, not yet committed (buffer + batch in flight)
    std::uint64_t failures = 0;   // failed connection attempts and failed batch transactions
    std::uint64_t reconnects = 0; // connections established after a lost one
    // The same for audit items (submitConfigVersion(), submitAudit()); auditWritten counts
    // items in committed transactions, duplicates included.
    std::uint64_t auditAccepted = 0;
    std::uint64_t auditWritten = 0;
    std::uint64_t auditDropped = 0; // buffer full, stopped, or JSON that is not valid
    std::uint64_t auditPending = 0;
    bool connected = false;
};

// Writes usage records to PostgreSQL in batches without ever blocking the caller.
//
// submit() puts a record in a bounded buffer. A worker QObject on the writer's own QThread
// owns the pqxx::connection (nothing else touches it) and flushes batches of up to
// batchSize records — when that many are buffered, and every flushIntervalMs — each in one
// transaction: COPY (pqxx::stream_to) into a session temp table, then INSERT into `usage`
// (ON CONFLICT (request_id) DO NOTHING, so a batch retried after a commit whose outcome was
// unknown is not counted twice) and an upsert of the same rows into `usage_daily` (UTC day,
// key, model). A batch that fails stays with the worker: the connection is dropped and
// re-established with backoff, and the same batch is retried until it commits, so every
// accepted record is written unless the writer is stopped first.
//
// Audit items (config_versions and audit rows, store/auditrecord.h) travel the same way in
// a buffer of their own (auditBufferCapacity): every flush transaction also inserts the
// audit items waiting (up to batchSize), with the same guarantees — never blocking the
// caller, kept and retried across reconnects, idempotent on retry (config_versions keyed
// by version, audit rows by their event id; store/auditwrites.h).
//
// Thread affinity: the UsageWriter object belongs to the thread that created it (its
// owner); start(), stop(), rollupAndPrune() and the destructor are called there, and its
// signals are emitted there. submit(), stats() and the counter getters are thread-safe.
class UsageWriter : public QObject {
    Q_OBJECT
public:
    using PruneCallback = std::function<void(Result<qint64, StoreError>)>;

    explicit UsageWriter(UsageWriterOptions options, QObject *parent = nullptr);
    // stop(options.stopDeadlineMs) if still running.
    ~UsageWriter() override;

    const UsageWriterOptions &options() const { return m_options; }

    // Starts the worker thread, which connects (applying migrations if asked) and then
    // flushes whatever was submitted before. Once; a stopped writer stays stopped.
    void start();

    // Flushes what it can until `deadlineMs` from now (connecting again if needed), then
    // closes the connection and ends the thread. Blocks the owner thread until then; the
    // bound can be exceeded by one connection attempt (connectTimeoutSeconds) or by a
    // statement on a server that neither answers nor drops the connection (set TCP
    // keepalives in the connection string against that). Returns the usage records left
    // unwritten (still counted in pending; auditPendingCount() tells the audit items). Prune callbacks still outstanding are called from
    // inside stop() with their result, or Cancelled.
    // Later submit() calls are dropped. Idempotent. A writer never started writes nothing.
    qint64 stop(int deadlineMs);

    // Thread-safe; never blocks on the network (only a short mutex). Returns false, and
    // counts the record as dropped, when the buffer is full (pending == bufferCapacity)
    // or the writer is stopped. Records may be submitted before start().
    bool submit(UsageRecord record);

    // Thread-safe and non-blocking like submit(), for the audit buffer: false, counted in
    // auditDropped, when it is full, the writer is stopped, or the item's JSON is not valid
    // (store/auditwrites.h prepareAuditItem()). Written with the next flush (at most
    // flushIntervalMs later while connected).
    bool submitConfigVersion(ConfigVersionRecord record);
    bool submitAudit(AuditEvent event);

    // Deletes `usage` rows older than retentionDays (negative counts as 0) on the worker
    // thread. usage_daily is kept up to date on every write, so the roll-ups of pruned rows
    // stay. `done` runs on the owner thread with the number of rows deleted, or NotConnected
    // when there is no connection at the moment, or Cancelled when stopped first; exactly
    // once, unless `context` (which must live on the owner thread) is destroyed first.
    void rollupAndPrune(int retentionDays, QObject *context, PruneCallback done);

    UsageWriterStats stats() const;
    qint64 writtenCount() const;
    qint64 droppedCount() const;
    qint64 pendingCount() const;
    qint64 failureCount() const;
    qint64 auditPendingCount() const;
    // As last reported by the worker (updated on the owner thread with connectedChanged).
    bool isConnected() const { return m_connected; }
    // The most recent connection or write failure; nullopt if none happened yet.
    std::optional<StoreError> lastError() const;

signals:
    void connectedChanged(bool connected);
    // A connection attempt or a batch failed (the batch is kept and retried).
    void writeFailed(const sluice::store::StoreError &error);

private:
    struct Shared;
    class Worker;

    struct PendingPrune {
        QPointer<QObject> context;
        PruneCallback done;
    };

    void onConnectionChanged(bool connected);
    // Runs the callbacks of prunes whose results the worker has left in m_shared.
    void deliverFinishedPrunes();
    bool submitAuditItem(AuditItem item);

    UsageWriterOptions m_options;
    std::shared_ptr<Shared> m_shared;
    QThread m_thread;
    Worker *m_worker = nullptr; // lives on m_thread; deleted by stop() once the thread ended
    bool m_started = false;
    bool m_stopped = false;
    bool m_connected = false;
    quint64 m_nextPruneId = 1;
    QHash<quint64, PendingPrune> m_prunes;
};

} // namespace sluice::store
