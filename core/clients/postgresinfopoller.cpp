#include "clients/postgresinfopoller.h"

#include "store/postgreserror.h"
#include "store/storeerror.h"

#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QRegularExpression>
#include <QThread>
#include <QTimer>
#include <QUrl>

#include <pqxx/pqxx>

#include <algorithm>
#include <atomic>
#include <random>
#include <string>

namespace sluice::clients {

namespace {

PostgresInfoPollerOptions sanitized(PostgresInfoPollerOptions options)
{
    options.intervalMs = std::max(100, options.intervalMs);
    options.connectTimeoutSeconds = std::max(1, options.connectTimeoutSeconds);
    options.statementTimeoutMs = std::max(1, options.statementTimeoutMs);
    options.reconnectMinMs = std::max(1, options.reconnectMinMs);
    options.reconnectMaxMs = std::max(options.reconnectMinMs, options.reconnectMaxMs);
    return options;
}

bool isUri(const QString &connection)
{
    return connection.startsWith(QLatin1String("postgres://")) || connection.startsWith(QLatin1String("postgresql://"));
}

// Adds connect_timeout unless the string sets one; both libpq syntaxes.
std::string connectionInfo(const QString &connectionString, int timeoutSeconds)
{
    QString info = connectionString.trimmed();
    if (!info.contains(QLatin1String("connect_timeout"))) {
        const QString setting = QStringLiteral("connect_timeout=%1").arg(timeoutSeconds);
        if (isUri(info))
            info += (info.contains(QLatin1Char('?')) ? QLatin1Char('&') : QLatin1Char('?')) + setting;
        else
            info += (info.isEmpty() ? QString() : QStringLiteral(" ")) + setting;
    }
    return info.toStdString();
}

// Sluice's tables may be missing (a database the gateway never migrated): checked first,
// so the statements naming them are only sent when they can succeed.
constexpr const char *overviewSql =
    "SELECT current_setting('server_version'), current_database(),"
    " current_setting('max_connections')::bigint,"
    " (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'),"
    " (SELECT count(*) FROM pg_stat_activity),"
    " pg_database_size(current_database()),"
    " to_regclass('usage') IS NOT NULL AND to_regclass('usage_daily') IS NOT NULL";

// n_live_tup rather than count(*): a sequential scan of a large usage table on every
// refresh would be the console loading the database it watches. max(ts) uses usage_ts_idx.
constexpr const char *usageSql =
    "SELECT (SELECT n_live_tup FROM pg_stat_user_tables WHERE relid = to_regclass('usage')),"
    " (SELECT count(*) FROM usage_daily),"
    " (SELECT (extract(epoch FROM max(ts)) * 1000)::bigint FROM usage)";

} // namespace

QString postgresEndpoint(const QString &connectionString)
{
    const QString trimmed = connectionString.trimmed();
    QString host;
    QString port;
    if (isUri(trimmed)) {
        const QUrl url(trimmed);
        host = url.host();
        if (url.port() > 0)
            port = QString::number(url.port());
    } else {
        static const QRegularExpression pair(QStringLiteral("(\\w+)\\s*=\\s*('(?:[^'\\\\]|\\\\.)*'|\\S*)"));
        for (auto it = pair.globalMatch(trimmed); it.hasNext();) {
            const QRegularExpressionMatch match = it.next();
            QString value = match.captured(2);
            if (value.startsWith(u'\''))
                value = value.mid(1, value.size() - 2);
            if (match.captured(1) == u"host" && host.isEmpty())
                host = value;
            else if (match.captured(1) == u"hostaddr")
                host = value;
            else if (match.captured(1) == u"port")
                port = value;
        }
    }
    host = host.section(u',', 0, 0);
    port = port.section(u',', 0, 0);
    if (host.isEmpty())
        host = QStringLiteral("localhost");
    if (port.isEmpty())
        port = QStringLiteral("5432");
    if (host.contains(u':'))
        host = QStringLiteral("[%1]").arg(host);
    return host + u':' + port;
}

struct PostgresInfoPoller::Shared {
    std::atomic<bool> stopped{false};
    std::atomic<bool> paused{false};
};

// Lives on the poller's thread and is the only user of the pqxx::connection. Blocking
// calls are fine here: this thread does nothing else.
class PostgresInfoPoller::Worker : public QObject {
    Q_OBJECT
public:
    Worker(const PostgresInfoPollerOptions &options, std::shared_ptr<Shared> shared)
        : m_options(options), m_shared(std::move(shared)), m_random(std::random_device{}())
    {
    }

    void begin()
    {
        m_timer = new QTimer(this);
        m_timer->setSingleShot(true);
        connect(m_timer, &QTimer::timeout, this, [this] { run(false); });
        run(false);
    }

    void run(bool forced)
    {
        if (m_shared->stopped)
            return;
        if (m_shared->paused && !forced) {
            m_timer->start(m_options.intervalMs);
            return;
        }
        try {
            if (!m_connection)
                m_connection = std::make_unique<pqxx::connection>(
                    connectionInfo(m_options.connectionString, m_options.connectTimeoutSeconds));
            if (m_shared->stopped)
                return;
            PostgresInfo info = sample();
            m_failures = 0;
            emit sampled(info);
        } catch (const std::exception &error) {
            // libpqxx 6 may quietly reopen a broken connection; a fresh one is the only
            // known state after a failure.
            m_connection.reset();
            if (m_shared->stopped)
                return;
            emit sampleFailed(store::storeErrorFromPostgres(error));
            m_timer->start(nextDelayMs());
            return;
        }
        m_timer->start(m_options.intervalMs);
    }

signals:
    void sampled(const sluice::clients::PostgresInfo &info);
    void sampleFailed(const sluice::store::StoreError &error);

private:
    PostgresInfo sample()
    {
        QElapsedTimer elapsed;
        elapsed.start();
        PostgresInfo info;
        pqxx::read_transaction txn(*m_connection);
        txn.exec_params("SELECT set_config('statement_timeout', $1, true)", std::to_string(m_options.statementTimeoutMs));
        const pqxx::row overview = txn.exec1(overviewSql);
        info.serverVersion = QString::fromStdString(overview[0].as<std::string>());
        info.database = QString::fromStdString(overview[1].as<std::string>());
        info.maxConnections = overview[2].as<long long>();
        info.connections = overview[3].as<long long>();
        info.backends = overview[4].as<long long>();
        info.databaseSizeBytes = overview[5].as<long long>();
        info.sluiceTables = overview[6].as<bool>();
        if (info.sluiceTables) {
            const pqxx::row usage = txn.exec1(usageSql);
            if (!usage[0].is_null())
                info.usageRowsEstimate = usage[0].as<long long>();
            info.usageDailyRows = usage[1].as<long long>();
            if (!usage[2].is_null())
                info.newestUsage = QDateTime::fromMSecsSinceEpoch(usage[2].as<long long>(), Qt::UTC);
        }
        txn.commit();
        info.queryMs = elapsed.elapsed();
        info.sampledAt = QDateTime::currentDateTimeUtc();
        return info;
    }

    int nextDelayMs()
    {
        const qint64 ceiling = std::min<qint64>(m_options.reconnectMaxMs,
                                                qint64(m_options.reconnectMinMs) << std::min(m_failures, 20));
        ++m_failures;
        std::uniform_int_distribution<qint64> spread(m_options.reconnectMinMs,
                                                     std::max<qint64>(ceiling, m_options.reconnectMinMs));
        return int(spread(m_random));
    }

    const PostgresInfoPollerOptions m_options;
    const std::shared_ptr<Shared> m_shared;
    std::unique_ptr<pqxx::connection> m_connection;
    QTimer *m_timer = nullptr;
    std::mt19937_64 m_random;
    int m_failures = 0;
};

PostgresInfoPoller::PostgresInfoPoller(PostgresInfoPollerOptions options, QObject *parent)
    : QObject(parent), m_options(sanitized(std::move(options))), m_endpoint(postgresEndpoint(m_options.connectionString))
{
}

PostgresInfoPoller::~PostgresInfoPoller()
{
    stop();
}

void PostgresInfoPoller::start()
{
    if (m_shared || m_options.connectionString.trimmed().isEmpty())
        return;
    m_shared = std::make_shared<Shared>();
    m_shared->paused = m_paused;
    m_thread = new QThread;
    m_thread->setObjectName(QStringLiteral("sluice-postgres-info"));
    m_worker = new Worker(m_options, m_shared);
    m_worker->moveToThread(m_thread);
    connect(m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(m_thread, &QThread::finished, m_thread, &QObject::deleteLater);
    // Queued across threads; the generation tells a late signal of a stopped worker apart.
    const quint64 generation = ++m_generation;
    connect(m_worker, &Worker::sampled, this, [this, generation](const PostgresInfo &info) {
        if (generation != m_generation || !m_shared)
            return;
        m_latest = info;
        emit updated(info);
    });
    connect(m_worker, &Worker::sampleFailed, this, [this, generation](const store::StoreError &error) {
        if (generation != m_generation || !m_shared)
            return;
        emit failed(sourceErrorFromStore(error, m_endpoint));
    });
    m_thread->start();
    QMetaObject::invokeMethod(m_worker, [worker = m_worker] { worker->begin(); }, Qt::QueuedConnection);
}

void PostgresInfoPoller::stop()
{
    if (!m_shared)
        return;
    m_shared->stopped = true;
    ++m_generation;
    disconnect(m_worker, nullptr, this, nullptr);
    m_thread->quit();
    m_stoppingThreads.append(QPointer<QThread>(m_thread));
    m_stoppingThreads.removeIf([](const QPointer<QThread> &thread) { return thread.isNull(); });
    // The worker and the thread delete themselves once the thread has finished; the
    // shared state lives on with the worker until then.
    m_thread = nullptr;
    m_worker = nullptr;
    m_shared.reset();
    m_latest.reset();
}

void PostgresInfoPoller::setPaused(bool paused)
{
    m_paused = paused;
    if (m_shared)
        m_shared->paused = paused;
}

void PostgresInfoPoller::pollNow()
{
    if (!m_worker)
        return;
    QMetaObject::invokeMethod(m_worker, [worker = m_worker] { worker->run(true); }, Qt::QueuedConnection);
}

bool PostgresInfoPoller::waitForStopped(int timeoutMs)
{
    const QDeadlineTimer deadline(std::max(0, timeoutMs));
    bool allEnded = true;
    for (const QPointer<QThread> &thread : std::as_const(m_stoppingThreads)) {
        if (thread && !thread->wait(deadline))
            allEnded = false;
    }
    m_stoppingThreads.removeIf([](const QPointer<QThread> &thread) { return thread.isNull() || thread->isFinished(); });
    return allEnded;
}

} // namespace sluice::clients

#include "postgresinfopoller.moc"
