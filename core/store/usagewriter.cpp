#include "store/usagewriter.h"

#include "store/auditwrites.h"
#include "store/postgreserror.h"
#include "store/schemamigrator.h"

#include <QDeadlineTimer>
#include <QTimer>
#include <QUuid>

#include <pqxx/pqxx>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace sluice::store {

namespace {

// A session temp table: COPY lands here, one statement then moves the rows into `usage`
// with ON CONFLICT, which COPY itself cannot do. ON COMMIT DELETE ROWS empties it per batch.
constexpr const char *createIncomingSql =
    "CREATE TEMP TABLE usage_incoming ("
    " ts timestamptz NOT NULL,"
    " instance text NOT NULL,"
    " api_key_id text NOT NULL,"
    " model text NOT NULL,"
    " upstream text NOT NULL,"
    " input_tokens bigint NOT NULL,"
    " output_tokens bigint NOT NULL,"
    " cached_input_tokens bigint NOT NULL,"
    " cache_write_tokens bigint NOT NULL,"
    " cost_usd numeric NOT NULL,"
    " latency_ms integer NOT NULL,"
    " ttft_ms integer,"
    " status integer NOT NULL,"
    " cache_hit boolean NOT NULL,"
    " request_id text NOT NULL"
    ") ON COMMIT DELETE ROWS";

constexpr std::size_t columnCount = 15;

const std::vector<std::string> &incomingColumns()
{
    static const std::vector<std::string> columns{
        "ts", "instance", "api_key_id", "model", "upstream", "input_tokens", "output_tokens",
        "cached_input_tokens", "cache_write_tokens", "cost_usd", "latency_ms", "ttft_ms", "status",
        "cache_hit", "request_id"};
    return columns;
}

// Only the rows actually inserted (not already present from an earlier, in-doubt commit)
// feed the roll-up. The roll-up rows are upserted in key order so two instances writing
// the same keys lock them in the same order and cannot deadlock.
constexpr const char *mergeSql =
    "WITH inserted AS ("
    " INSERT INTO usage (ts, instance, api_key_id, model, upstream, input_tokens, output_tokens,"
    "  cached_input_tokens, cache_write_tokens, cost_usd, latency_ms, ttft_ms, status, cache_hit, request_id)"
    " SELECT ts, instance, api_key_id, model, upstream, input_tokens, output_tokens,"
    "  cached_input_tokens, cache_write_tokens, cost_usd, latency_ms, ttft_ms, status, cache_hit, request_id"
    " FROM usage_incoming"
    " ON CONFLICT (request_id) DO NOTHING"
    " RETURNING ts, api_key_id, model, status, cache_hit, input_tokens, output_tokens,"
    "  cached_input_tokens, cache_write_tokens, cost_usd, latency_ms"
    "), rolled AS ("
    " INSERT INTO usage_daily AS d (day, api_key_id, model, requests, errors, cache_hits, input_tokens,"
    "  output_tokens, cached_input_tokens, cache_write_tokens, cost_usd, latency_ms_sum)"
    " SELECT (ts AT TIME ZONE 'UTC')::date, api_key_id, model, count(*),"
    "  count(*) FILTER (WHERE status >= 400), count(*) FILTER (WHERE cache_hit),"
    "  sum(input_tokens), sum(output_tokens), sum(cached_input_tokens), sum(cache_write_tokens),"
    "  sum(cost_usd), sum(latency_ms)"
    " FROM inserted"
    " GROUP BY 1, 2, 3"
    " ORDER BY 1, 2, 3"
    " ON CONFLICT (day, api_key_id, model) DO UPDATE SET"
    "  requests = d.requests + EXCLUDED.requests,"
    "  errors = d.errors + EXCLUDED.errors,"
    "  cache_hits = d.cache_hits + EXCLUDED.cache_hits,"
    "  input_tokens = d.input_tokens + EXCLUDED.input_tokens,"
    "  output_tokens = d.output_tokens + EXCLUDED.output_tokens,"
    "  cached_input_tokens = d.cached_input_tokens + EXCLUDED.cached_input_tokens,"
    "  cache_write_tokens = d.cache_write_tokens + EXCLUDED.cache_write_tokens,"
    "  cost_usd = d.cost_usd + EXCLUDED.cost_usd,"
    "  latency_ms_sum = d.latency_ms_sum + EXCLUDED.latency_ms_sum"
    " RETURNING 1"
    ")"
    " SELECT (SELECT count(*) FROM inserted), (SELECT count(*) FROM rolled)";

constexpr const char *pruneSql = "DELETE FROM usage WHERE ts < now() - make_interval(days => $1)";

// COPY text cannot carry NUL, and stream_to takes C strings.
QByteArray copyText(const QString &text)
{
    QByteArray utf8 = text.toUtf8();
    utf8.replace('\0', QByteArray());
    return utf8;
}

// One record as COPY fields; `fields` points into `values` (nullptr = NULL).
struct CopyRow {
    std::array<QByteArray, columnCount> values;
    std::array<const char *, columnCount> fields{};

    explicit CopyRow(const UsageRecord &record)
    {
        values = {
            record.timestamp.toUTC().toString(Qt::ISODateWithMs).toLatin1(),
            copyText(record.instance),
            copyText(record.apiKeyId),
            copyText(record.model),
            copyText(record.upstream),
            QByteArray::number(qint64(record.tokens.inputTokens)),
            QByteArray::number(qint64(record.tokens.outputTokens)),
            QByteArray::number(qint64(record.tokens.cachedInputTokens)),
            QByteArray::number(qint64(record.tokens.cacheWriteTokens)),
            std::isfinite(record.costUsd) ? QByteArray::number(record.costUsd, 'f', 10) : QByteArrayLiteral("0"),
            QByteArray::number(record.latencyMs),
            record.ttftMs ? QByteArray::number(*record.ttftMs) : QByteArray(),
            QByteArray::number(record.httpStatus),
            record.cacheHit ? QByteArrayLiteral("t") : QByteArrayLiteral("f"),
            copyText(record.requestId),
        };
        for (std::size_t index = 0; index < columnCount; ++index)
            fields[index] = values[index].constData();
        if (!record.ttftMs)
            fields[11] = nullptr;
    }
};

// Adds connect_timeout unless the caller's string sets one; both libpq syntaxes.
std::string connectionInfo(const QString &connectionString, int timeoutSeconds)
{
    QString info = connectionString.trimmed();
    if (!info.contains(QLatin1String("connect_timeout"))) {
        const QString setting = QStringLiteral("connect_timeout=%1").arg(std::max(1, timeoutSeconds));
        if (info.startsWith(QLatin1String("postgres://")) || info.startsWith(QLatin1String("postgresql://")))
            info += (info.contains(QLatin1Char('?')) ? QLatin1Char('&') : QLatin1Char('?')) + setting;
        else
            info += (info.isEmpty() ? QString() : QStringLiteral(" ")) + setting;
    }
    return info.toStdString();
}

UsageWriterOptions sanitized(UsageWriterOptions options)
{
    options.bufferCapacity = std::max(1, options.bufferCapacity);
    options.auditBufferCapacity = std::max(1, options.auditBufferCapacity);
    options.batchSize = std::max(1, options.batchSize);
    options.flushIntervalMs = std::max(1, options.flushIntervalMs);
    options.reconnectMinMs = std::max(1, options.reconnectMinMs);
    options.reconnectMaxMs = std::max(options.reconnectMinMs, options.reconnectMaxMs);
    options.connectTimeoutSeconds = std::max(1, options.connectTimeoutSeconds);
    options.stopDeadlineMs = std::max(0, options.stopDeadlineMs);
    return options;
}

} // namespace

// State the owner thread, the submitting threads and the worker share.
struct UsageWriter::Shared {
    std::mutex mutex;
    // Guarded by mutex.
    std::deque<UsageRecord> buffer;
    std::size_t inFlight = 0;     // the worker's current batch
    bool stopped = false;         // submit() drops from now on
    bool wakePosted = false;      // a flush request is queued to the worker
    Worker *worker = nullptr;     // set while the worker thread may receive events
    std::optional<StoreError> lastError;
    std::map<quint64, Result<qint64, StoreError>> finishedPrunes;
    std::deque<AuditItem> auditBuffer;
    std::size_t auditInFlight = 0;

    std::atomic<std::uint64_t> accepted{0};
    std::atomic<std::uint64_t> written{0};
    std::atomic<std::uint64_t> duplicates{0};
    std::atomic<std::uint64_t> dropped{0};
    std::atomic<std::uint64_t> pending{0}; // buffer.size() + inFlight, written under mutex
    std::atomic<std::uint64_t> failures{0};
    std::atomic<std::uint64_t> reconnects{0};
    std::atomic<bool> connected{false};
    std::atomic<std::uint64_t> auditAccepted{0};
    std::atomic<std::uint64_t> auditWritten{0};
    std::atomic<std::uint64_t> auditDropped{0};
    std::atomic<std::uint64_t> auditPending{0}; // auditBuffer.size() + auditInFlight, written under mutex
};

// Lives on the writer's thread and is the only user of the pqxx::connection.
class UsageWriter::Worker : public QObject {
    Q_OBJECT
public:
    Worker(const UsageWriterOptions &options, std::shared_ptr<Shared> shared, UsageWriter *writer)
        : m_options(options), m_shared(std::move(shared)), m_writer(writer), m_rng(std::random_device{}())
    {
    }

    void begin()
    {
        m_flushTimer = new QTimer(this);
        connect(m_flushTimer, &QTimer::timeout, this, [this] { flushStep(true); });
        m_flushTimer->start(m_options.flushIntervalMs);
        m_reconnectTimer = new QTimer(this);
        m_reconnectTimer->setSingleShot(true);
        connect(m_reconnectTimer, &QTimer::timeout, this, &Worker::tryConnect);
        tryConnect();
    }

    void wake()
    {
        {
            std::lock_guard lock(m_shared->mutex);
            m_shared->wakePosted = false;
        }
        flushStep(false);
    }

    void prune(quint64 id, int retentionDays)
    {
        std::optional<Result<qint64, StoreError>> result;
        if (!m_connection) {
            result.emplace(unexpected(StoreError{StoreErrorKind::NotConnected, QStringLiteral("not connected to PostgreSQL")}));
        } else {
            try {
                pqxx::work txn(*m_connection);
                const pqxx::result deleted = txn.exec_params(pruneSql, std::max(0, retentionDays));
                txn.commit();
                result.emplace(qint64(deleted.affected_rows()));
            } catch (const std::exception &error) {
                result.emplace(unexpected(storeErrorFromPostgres(error)));
                connectionFailed();
            }
        }
        {
            std::lock_guard lock(m_shared->mutex);
            m_shared->finishedPrunes.emplace(id, std::move(*result));
        }
        QMetaObject::invokeMethod(m_writer, [writer = m_writer] { writer->deliverFinishedPrunes(); }, Qt::QueuedConnection);
    }

    // The last thing the worker does: flush until the deadline, then close the connection.
    void drain(QDeadlineTimer deadline)
    {
        m_draining = true;
        if (m_flushTimer)
            m_flushTimer->stop();
        if (m_reconnectTimer)
            m_reconnectTimer->stop();
        while (hasWork() && !deadline.hasExpired()) {
            if (!m_connection) {
                const qint64 remainingSeconds = (deadline.remainingTime() + 999) / 1000;
                const int timeout = int(std::clamp<qint64>(remainingSeconds, 1, m_options.connectTimeoutSeconds));
                if (!connectNow(timeout)) {
                    pause(deadline);
                    continue;
                }
            }
            if (!writeBatch()) {
                connectionFailed();
                pause(deadline);
            }
        }
        m_connection.reset();
        setConnected(false);
    }

private:
    void tryConnect()
    {
        if (connectNow(m_options.connectTimeoutSeconds))
            flushStep(true);
        else
            scheduleReconnect();
    }

    // One batch; then, while a full batch (or with `all`, anything) is waiting, another —
    // posted, so stop and prune requests interleave with a long backlog. At most one
    // continuation is queued: timer ticks and wake-ups during a backlog join it.
    void flushStep(bool all)
    {
        if (!m_connection || m_draining)
            return;
        if (m_continuationQueued) {
            m_continueAll = m_continueAll || all;
            return;
        }
        if (!writeBatch()) {
            connectionFailed();
            return;
        }
        std::size_t buffered = 0;
        std::size_t auditBuffered = 0;
        {
            std::lock_guard lock(m_shared->mutex);
            buffered = m_shared->buffer.size();
            auditBuffered = m_shared->auditBuffer.size();
        }
        const std::size_t full = std::size_t(m_options.batchSize);
        if (buffered >= full || auditBuffered >= full || (all && buffered + auditBuffered > 0)) {
            m_continuationQueued = true;
            m_continueAll = all;
            QMetaObject::invokeMethod(
                this,
                [this] {
                    m_continuationQueued = false;
                    flushStep(std::exchange(m_continueAll, false));
                },
                Qt::QueuedConnection);
        }
    }

    bool connectNow(int timeoutSeconds)
    {
        try {
            auto connection = std::make_unique<pqxx::connection>(connectionInfo(m_options.connectionString, timeoutSeconds));
            if (m_options.applyMigrations && !m_schemaReady) {
                const auto migrations = builtInSchemaMigrations();
                if (!migrations.ok()) {
                    reportFailure(migrations.error());
                    return false;
                }
                const auto applied = SchemaMigrator(*migrations).apply(*connection);
                if (!applied.ok()) {
                    reportFailure(applied.error());
                    return false;
                }
                m_schemaReady = true;
            }
            {
                pqxx::nontransaction txn(*connection);
                txn.exec(createIncomingSql);
            }
            m_connection = std::move(connection);
        } catch (const std::exception &error) {
            reportFailure(storeErrorFromPostgres(error));
            return false;
        }
        if (m_everConnected)
            ++m_shared->reconnects;
        m_everConnected = true;
        setConnected(true);
        return true;
    }

    // Any failure drops the connection: libpqxx 6 may silently re-open a broken one,
    // which would lack the session's temp table, so a fresh start is the only safe state.
    void connectionFailed()
    {
        m_connection.reset();
        setConnected(false);
        scheduleReconnect();
    }

    void scheduleReconnect()
    {
        if (m_draining || !m_reconnectTimer || m_reconnectTimer->isActive())
            return;
        m_reconnectTimer->start(nextDelayMs());
    }

    int nextDelayMs()
    {
        const qint64 ceiling = std::min<qint64>(m_options.reconnectMaxMs,
                                                qint64(m_options.reconnectMinMs) << std::min(m_failedAttempts, 20));
        ++m_failedAttempts;
        std::uniform_int_distribution<qint64> spread(m_options.reconnectMinMs, std::max<qint64>(ceiling, m_options.reconnectMinMs));
        return int(spread(m_rng));
    }

    void pause(const QDeadlineTimer &deadline)
    {
        const qint64 delay = std::min<qint64>(nextDelayMs(), deadline.remainingTime());
        if (delay > 0)
            QThread::msleep(quint64(delay));
    }

    bool hasWork() const
    {
        if (!m_batch.empty() || !m_auditBatch.empty())
            return true;
        std::lock_guard lock(m_shared->mutex);
        return !m_shared->buffer.empty() || !m_shared->auditBuffer.empty();
    }

    // Moves up to batchSize items from `buffer` into an empty `batch`; `inFlight` = its size.
    template <typename Item>
    static void takeBatch(std::deque<Item> &buffer, std::vector<Item> &batch, std::size_t &inFlight, int batchSize)
    {
        if (!batch.empty())
            return;
        const std::size_t count = std::min(buffer.size(), std::size_t(batchSize));
        batch.assign(std::make_move_iterator(buffer.begin()), std::make_move_iterator(buffer.begin() + std::ptrdiff_t(count)));
        buffer.erase(buffer.begin(), buffer.begin() + std::ptrdiff_t(count));
        inFlight = count;
    }

    // True when the current batches (usage and audit) committed, or there was nothing to
    // write. On failure they stay in m_batch and m_auditBatch for the next attempt.
    bool writeBatch()
    {
        {
            std::lock_guard lock(m_shared->mutex);
            takeBatch(m_shared->buffer, m_batch, m_shared->inFlight, m_options.batchSize);
            takeBatch(m_shared->auditBuffer, m_auditBatch, m_shared->auditInFlight, m_options.batchSize);
        }
        if (m_batch.empty() && m_auditBatch.empty()) {
            m_failedAttempts = 0;
            return true;
        }
        long long inserted = 0;
        try {
            pqxx::work txn(*m_connection);
            if (!m_batch.empty()) {
                {
                    pqxx::stream_to stream(txn, "usage_incoming", incomingColumns());
                    for (const UsageRecord &record : m_batch)
                        stream << CopyRow(record).fields;
                    stream.complete();
                }
                const pqxx::result merged = txn.exec(mergeSql);
                inserted = merged[0][0].as<long long>();
            }
            if (!m_auditBatch.empty())
                insertAuditItems(txn, m_auditBatch);
            txn.commit();
        } catch (const std::exception &error) {
            reportFailure(storeErrorFromPostgres(error));
            return false;
        }
        const std::size_t count = m_batch.size();
        const std::size_t auditCount = m_auditBatch.size();
        m_batch.clear();
        m_auditBatch.clear();
        {
            std::lock_guard lock(m_shared->mutex);
            m_shared->inFlight = 0;
            m_shared->pending = m_shared->buffer.size();
            m_shared->auditInFlight = 0;
            m_shared->auditPending = m_shared->auditBuffer.size();
        }
        m_shared->auditWritten += auditCount;
        m_shared->written += count;
        m_shared->duplicates += count - std::min<std::size_t>(count, std::size_t(std::max(0LL, inserted)));
        m_failedAttempts = 0;
        return true;
    }

    void reportFailure(const StoreError &error)
    {
        ++m_shared->failures;
        {
            std::lock_guard lock(m_shared->mutex);
            m_shared->lastError = error;
        }
        QMetaObject::invokeMethod(m_writer, [writer = m_writer, error] { emit writer->writeFailed(error); },
                                  Qt::QueuedConnection);
    }

    void setConnected(bool connected)
    {
        if (m_shared->connected.exchange(connected) == connected)
            return;
        QMetaObject::invokeMethod(m_writer, [writer = m_writer, connected] { writer->onConnectionChanged(connected); },
                                  Qt::QueuedConnection);
    }

    const UsageWriterOptions m_options;
    const std::shared_ptr<Shared> m_shared;
    UsageWriter *const m_writer; // outlives the worker; only a receiver for posted calls
    std::unique_ptr<pqxx::connection> m_connection;
    std::vector<UsageRecord> m_batch;
    std::vector<AuditItem> m_auditBatch;
    QTimer *m_flushTimer = nullptr;
    QTimer *m_reconnectTimer = nullptr;
    std::mt19937_64 m_rng;
    int m_failedAttempts = 0;
    bool m_schemaReady = false;
    bool m_everConnected = false;
    bool m_draining = false;
    bool m_continuationQueued = false;
    bool m_continueAll = false;
};

UsageWriter::UsageWriter(UsageWriterOptions options, QObject *parent)
    : QObject(parent), m_options(sanitized(std::move(options))), m_shared(std::make_shared<Shared>())
{
    m_thread.setObjectName(QStringLiteral("sluice-usage-writer"));
}

UsageWriter::~UsageWriter()
{
    stop(m_options.stopDeadlineMs);
}

void UsageWriter::start()
{
    if (m_started || m_stopped)
        return;
    m_started = true;
    m_worker = new Worker(m_options, m_shared, this);
    m_worker->moveToThread(&m_thread);
    {
        std::lock_guard lock(m_shared->mutex);
        m_shared->worker = m_worker;
    }
    m_thread.start();
    QMetaObject::invokeMethod(m_worker, [worker = m_worker] { worker->begin(); }, Qt::QueuedConnection);
}

qint64 UsageWriter::stop(int deadlineMs)
{
    if (!m_stopped) {
        m_stopped = true;
        {
            std::lock_guard lock(m_shared->mutex);
            m_shared->stopped = true;
            m_shared->worker = nullptr;
        }
        if (m_worker) {
            const QDeadlineTimer deadline(std::max(0, deadlineMs));
            QMetaObject::invokeMethod(
                m_worker,
                [worker = m_worker, deadline] {
                    worker->drain(deadline);
                    QThread::currentThread()->quit();
                },
                Qt::QueuedConnection);
            m_thread.wait();
            delete m_worker;
            m_worker = nullptr;
        }
        onConnectionChanged(false);
        deliverFinishedPrunes();
        const QHash<quint64, PendingPrune> cancelled = std::exchange(m_prunes, {});
        for (const PendingPrune &prune : cancelled) {
            if (prune.context && prune.done)
                prune.done(unexpected(StoreError{StoreErrorKind::Cancelled, QStringLiteral("the usage writer stopped")}));
        }
    }
    return pendingCount();
}

bool UsageWriter::submit(UsageRecord record)
{
    if (!record.timestamp.isValid() || record.timestamp.date().year() < 1 || record.timestamp.date().year() > 9999)
        record.timestamp = QDateTime::currentDateTimeUtc();
    if (record.requestId.isEmpty())
        record.requestId = QUuid::createUuid().toString(QUuid::WithoutBraces);

    std::lock_guard lock(m_shared->mutex);
    Shared &shared = *m_shared;
    if (shared.stopped || shared.buffer.size() + shared.inFlight >= std::size_t(m_options.bufferCapacity)) {
        ++shared.dropped;
        return false;
    }
    shared.buffer.push_back(std::move(record));
    shared.pending = shared.buffer.size() + shared.inFlight;
    ++shared.accepted;
    // Posting under the mutex: stop() clears `worker` under it before the worker goes away.
    if (shared.worker && !shared.wakePosted && shared.buffer.size() >= std::size_t(m_options.batchSize)) {
        shared.wakePosted = true;
        QMetaObject::invokeMethod(shared.worker, [worker = shared.worker] { worker->wake(); }, Qt::QueuedConnection);
    }
    return true;
}

bool UsageWriter::submitConfigVersion(ConfigVersionRecord record)
{
    return submitAuditItem(std::move(record));
}

bool UsageWriter::submitAudit(AuditEvent event)
{
    return submitAuditItem(std::move(event));
}

// No wake-up: audit items are rare and ride along with the next timed flush.
bool UsageWriter::submitAuditItem(AuditItem item)
{
    const bool storable = prepareAuditItem(item);
    std::lock_guard lock(m_shared->mutex);
    Shared &shared = *m_shared;
    if (!storable || shared.stopped
        || shared.auditBuffer.size() + shared.auditInFlight >= std::size_t(m_options.auditBufferCapacity)) {
        ++shared.auditDropped;
        return false;
    }
    shared.auditBuffer.push_back(std::move(item));
    shared.auditPending = shared.auditBuffer.size() + shared.auditInFlight;
    ++shared.auditAccepted;
    return true;
}

void UsageWriter::rollupAndPrune(int retentionDays, QObject *context, PruneCallback done)
{
    const quint64 id = m_nextPruneId++;
    m_prunes.insert(id, PendingPrune{context, std::move(done)});
    if (m_worker && !m_stopped) {
        QMetaObject::invokeMethod(m_worker, [worker = m_worker, id, retentionDays] { worker->prune(id, retentionDays); },
                                  Qt::QueuedConnection);
        return;
    }
    {
        std::lock_guard lock(m_shared->mutex);
        m_shared->finishedPrunes.emplace(
            id, unexpected(StoreError{m_stopped ? StoreErrorKind::Cancelled : StoreErrorKind::NotConnected,
                                      m_stopped ? QStringLiteral("the usage writer stopped")
                                                : QStringLiteral("the usage writer is not started")}));
    }
    QMetaObject::invokeMethod(this, &UsageWriter::deliverFinishedPrunes, Qt::QueuedConnection);
}

void UsageWriter::deliverFinishedPrunes()
{
    std::map<quint64, Result<qint64, StoreError>> finished;
    {
        std::lock_guard lock(m_shared->mutex);
        finished.swap(m_shared->finishedPrunes);
    }
    for (auto &[id, result] : finished) {
        const PendingPrune prune = m_prunes.take(id);
        if (prune.context && prune.done)
            prune.done(std::move(result));
    }
}

void UsageWriter::onConnectionChanged(bool connected)
{
    if (m_connected == connected)
        return;
    m_connected = connected;
    emit connectedChanged(connected);
}

UsageWriterStats UsageWriter::stats() const
{
    UsageWriterStats stats;
    stats.accepted = m_shared->accepted;
    stats.written = m_shared->written;
    stats.duplicates = m_shared->duplicates;
    stats.dropped = m_shared->dropped;
    stats.pending = m_shared->pending;
    stats.failures = m_shared->failures;
    stats.reconnects = m_shared->reconnects;
    stats.connected = m_shared->connected;
    stats.auditAccepted = m_shared->auditAccepted;
    stats.auditWritten = m_shared->auditWritten;
    stats.auditDropped = m_shared->auditDropped;
    stats.auditPending = m_shared->auditPending;
    return stats;
}

qint64 UsageWriter::writtenCount() const
{
    return qint64(m_shared->written.load());
}

qint64 UsageWriter::droppedCount() const
{
    return qint64(m_shared->dropped.load());
}

qint64 UsageWriter::pendingCount() const
{
    return qint64(m_shared->pending.load());
}

qint64 UsageWriter::failureCount() const
{
    return qint64(m_shared->failures.load());
}

qint64 UsageWriter::auditPendingCount() const
{
    return qint64(m_shared->auditPending.load());
}

std::optional<StoreError> UsageWriter::lastError() const
{
    std::lock_guard lock(m_shared->mutex);
    return m_shared->lastError;
}

} // namespace sluice::store

#include "usagewriter.moc"
