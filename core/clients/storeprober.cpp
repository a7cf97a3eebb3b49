#include "clients/storeprober.h"

#include "store/postgreserror.h"
#include "store/redissession.h"

#include <QElapsedTimer>
#include <QHostAddress>
#include <QHostInfo>
#include <QJsonObject>
#include <QRegularExpression>
#include <QThread>
#include <QTimer>
#include <QUrl>

#include <pqxx/pqxx>

#include <algorithm>
#include <chrono>
#include <optional>

namespace sluice::clients {

namespace {

struct PostgresOutcome {
    std::optional<store::StoreError> error;
    bool nameNotFound = false;
    QString version;
    int versionNumber = 0;
    qint64 roundTripMs = 0;
};

// libpq's connect_timeout is whole seconds and treats anything under 2 as 2.
std::string postgresConnectionInfo(const QString &connectionString, int timeoutMs)
{
    QString info = connectionString.trimmed();
    if (!info.contains(QLatin1String("connect_timeout"))) {
        const int seconds = std::max(2, (timeoutMs + 999) / 1000);
        const QString setting = QStringLiteral("connect_timeout=%1").arg(seconds);
        if (info.startsWith(QLatin1String("postgres://")) || info.startsWith(QLatin1String("postgresql://")))
            info += (info.contains(QLatin1Char('?')) ? QLatin1Char('&') : QLatin1Char('?')) + setting;
        else
            info += (info.isEmpty() ? QString() : QStringLiteral(" ")) + setting;
    }
    return info.toStdString();
}

// Runs on the probe's own thread: the connection is created, used and closed there.
void runPostgresProbe(const std::string &info, PostgresOutcome &outcome)
{
    try {
        pqxx::connection connection(info);
        QElapsedTimer clock;
        clock.start();
        pqxx::nontransaction txn(connection);
        const pqxx::result rows = txn.exec("SHOW server_version");
        outcome.roundTripMs = clock.elapsed();
        if (rows.size() != 1 || rows.columns() != 1) {
            outcome.error = store::StoreError{store::StoreErrorKind::Protocol,
                                              QStringLiteral("SHOW server_version gave no single value")};
            return;
        }
        outcome.version = QString::fromStdString(rows[0][0].as<std::string>());
        outcome.versionNumber = connection.server_version();
    } catch (const std::exception &error) {
        outcome.error = store::storeErrorFromPostgres(error);
        outcome.nameNotFound = QString::fromUtf8(error.what()).contains(QLatin1String("could not translate host name"),
                                                                        Qt::CaseInsensitive);
    }
}

QString bracketed(const QString &host)
{
    return host.contains(QLatin1Char(':')) ? QStringLiteral("[%1]").arg(host) : host;
}

QJsonObject parseInfo(const QByteArray &text)
{
    QJsonObject fields;
    for (const QByteArray &rawLine : text.split('\n')) {
        const QByteArray line = rawLine.trimmed();
        if (line.isEmpty() || line.startsWith('#'))
            continue;
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0)
            continue;
        fields.insert(QString::fromUtf8(line.left(colon)), QString::fromUtf8(line.mid(colon + 1)));
    }
    return fields;
}

} // namespace

StoreProber::StoreProber(QObject *parent) : QObject(parent) {}

StoreProber::~StoreProber()
{
    for (auto &[id, probe] : m_probes) {
        if (probe.lookupId >= 0)
            QHostInfo::abortHostLookup(probe.lookupId);
        if (probe.redis) {
            disconnect(probe.redis, nullptr, this, nullptr);
            delete probe.redis;
        }
    }
    m_probes.clear();
    // A thread stuck in libpq cannot be interrupted; connect_timeout bounds the wait.
    for (auto &[id, thread] : m_postgresThreads) {
        disconnect(thread, nullptr, this, nullptr);
        thread->wait();
        delete thread;
    }
}

QString StoreProber::postgresEndpoint(const QString &connectionString)
{
    const QString text = connectionString.trimmed();
    QString host;
    int port = 5432;
    if (text.startsWith(QLatin1String("postgres://")) || text.startsWith(QLatin1String("postgresql://"))) {
        const QUrl url(text);
        host = url.host();
        port = url.port(5432);
    } else {
        static const QRegularExpression pair(QStringLiteral("(\\w+)\\s*=\\s*('[^']*'|\\S+)"));
        for (auto it = pair.globalMatch(text); it.hasNext();) {
            const auto match = it.next();
            QString value = match.captured(2);
            if (value.startsWith(QLatin1Char('\'')))
                value = value.mid(1, value.size() - 2);
            if (match.captured(1) == u"host" || match.captured(1) == u"hostaddr")
                host = value;
            else if (match.captured(1) == u"port")
                port = value.toInt();
        }
    }
    if (host.startsWith(QLatin1Char('/')))
        return host; // a Unix socket directory
    if (host.isEmpty())
        host = QStringLiteral("localhost");
    return QStringLiteral("%1:%2").arg(bracketed(host)).arg(port);
}

QTimer *StoreProber::startDeadline(RequestId id, int timeoutMs, const QString &endpoint)
{
    auto *timer = new QTimer(this);
    timer->setSingleShot(true);
    connect(timer, &QTimer::timeout, this, [this, id, timeoutMs, endpoint] {
        SourceError error;
        error.kind = SourceErrorKind::TimedOut;
        error.endpoint = endpoint;
        error.message = QStringLiteral("timed out: no answer from %1 within %2 ms").arg(endpoint).arg(timeoutMs);
        finish(id, unexpected(error));
    });
    timer->start(std::max(1, timeoutMs));
    return timer;
}

RequestId StoreProber::probeRedis(const RedisProbeTarget &target, int timeoutMs, const QObject *context, Callback done)
{
    const RequestId id = m_nextId++;
    const QString endpoint = QStringLiteral("%1:%2").arg(bracketed(target.host)).arg(target.port);
    Probe &probe = m_probes[id];
    probe.context = context;
    probe.hasContext = context != nullptr;
    probe.done = std::move(done);
    probe.endpoint = endpoint;
    probe.deadline = startDeadline(id, timeoutMs, endpoint);

    if (QHostAddress literal; literal.setAddress(target.host)) {
        // Queued, so the callback never runs from inside probeRedis().
        QMetaObject::invokeMethod(
            this, [this, id, target, timeoutMs, address = literal.toString()] {
                if (m_probes.count(id))
                    startRedisSession(id, address, target, timeoutMs);
            },
            Qt::QueuedConnection);
        return id;
    }
    probe.lookupId = QHostInfo::lookupHost(target.host, this, [this, id, target, timeoutMs](const QHostInfo &info) {
        const auto it = m_probes.find(id);
        if (it == m_probes.end())
            return;
        it->second.lookupId = -1;
        const QList<QHostAddress> addresses = info.addresses();
        if (info.error() != QHostInfo::NoError || addresses.isEmpty()) {
            SourceError error;
            error.kind = SourceErrorKind::NameNotFound;
            error.endpoint = it->second.endpoint;
            error.message = QStringLiteral("host name not found: %1").arg(target.host);
            finish(id, unexpected(error));
            return;
        }
        // IPv4 first, as RedisSession does: a server bound to 127.0.0.1 is not at ::1.
        QHostAddress chosen = addresses.first();
        for (const QHostAddress &address : addresses) {
            if (address.protocol() == QAbstractSocket::IPv4Protocol) {
                chosen = address;
                break;
            }
        }
        startRedisSession(id, chosen.toString(), target, timeoutMs);
    });
    return id;
}

void StoreProber::startRedisSession(RequestId id, const QString &address, const RedisProbeTarget &target,
                                    int timeoutMs)
{
    store::RedisSessionOptions options;
    options.host = address;
    options.port = target.port;
    options.db = target.db;
    options.user = target.user;
    options.password = target.password;
    options.connectTimeout = std::chrono::milliseconds(std::max(1, timeoutMs));
    options.commandTimeout = std::chrono::milliseconds(std::max(1, timeoutMs));
    // One attempt only: the probe ends at the first failure, long before a retry.
    options.reconnectMin = std::chrono::hours(1);
    options.reconnectMax = std::chrono::hours(1);
    auto *session = new store::RedisSession(options, this);
    m_probes[id].redis = session;
    connect(session, &store::RedisSession::connectionError, this, [this, id](const store::StoreError &error) {
        const auto it = m_probes.find(id);
        if (it != m_probes.end())
            finish(id, unexpected(sourceErrorFromStore(error, it->second.endpoint)));
    });
    connect(session, &store::RedisSession::stateChanged, this, [this, id](store::RedisSession::State state) {
        if (state == store::RedisSession::State::Ready)
            onRedisReady(id);
    });
    session->open();
}

void StoreProber::onRedisReady(RequestId id)
{
    const auto it = m_probes.find(id);
    if (it == m_probes.end() || !it->second.redis)
        return;
    store::RedisSession *session = it->second.redis;
    const QString endpoint = it->second.endpoint;
    auto pingRoundTripMs = std::make_shared<qint64>(0);
    auto clock = std::make_shared<QElapsedTimer>();
    clock->start();
    session->command({QByteArrayLiteral("PING")}, session,
                     [this, id, endpoint, clock, pingRoundTripMs](Result<store::RedisReply, store::StoreError> reply) {
                         if (!m_probes.count(id))
                             return;
                         *pingRoundTripMs = clock->elapsed();
                         if (!reply) {
                             finish(id, unexpected(sourceErrorFromStore(reply.error(), endpoint)));
                         } else if (!reply->isStatus() || reply->bytes() != "PONG") {
                             SourceError error;
                             error.kind = SourceErrorKind::WrongProtocol;
                             error.endpoint = endpoint;
                             error.message = QStringLiteral("wrong protocol: %1 answered PING with a %2")
                                                 .arg(endpoint, QString::fromLatin1(store::RedisReply::typeName(reply->type())));
                             finish(id, unexpected(error));
                         }
                     });
    session->command({QByteArrayLiteral("INFO"), QByteArrayLiteral("server")}, session,
                     [this, id, endpoint, pingRoundTripMs](Result<store::RedisReply, store::StoreError> reply) {
                         if (!m_probes.count(id))
                             return;
                         if (!reply) {
                             finish(id, unexpected(sourceErrorFromStore(reply.error(), endpoint)));
                             return;
                         }
                         const QJsonObject info = parseInfo(reply->bytes());
                         if (!reply->isString() || !info.value(QStringLiteral("redis_version")).isString()) {
                             SourceError error;
                             error.kind = SourceErrorKind::WrongProtocol;
                             error.endpoint = endpoint;
                             error.message =
                                 QStringLiteral("wrong protocol: %1 answered INFO server without a redis_version").arg(endpoint);
                             finish(id, unexpected(error));
                             return;
                         }
                         ProbeResult result;
                         result.endpoint = endpoint;
                         result.serverId = info.value(QStringLiteral("run_id")).toString();
                         result.version = info.value(QStringLiteral("redis_version")).toString();
                         result.roundTripMs = *pingRoundTripMs;
                         result.details = info;
                         finish(id, std::move(result));
                     });
}

RequestId StoreProber::probePostgres(const QString &connectionString, int timeoutMs, const QObject *context,
                                     Callback done)
{
    const RequestId id = m_nextId++;
    const QString endpoint = postgresEndpoint(connectionString);
    Probe &probe = m_probes[id];
    probe.context = context;
    probe.hasContext = context != nullptr;
    probe.done = std::move(done);
    probe.endpoint = endpoint;
    probe.deadline = startDeadline(id, timeoutMs, endpoint);

    auto outcome = std::make_shared<PostgresOutcome>();
    QThread *thread = QThread::create(
        [outcome, info = postgresConnectionInfo(connectionString, timeoutMs)] { runPostgresProbe(info, *outcome); });
    thread->setObjectName(QStringLiteral("sluice-pg-probe"));
    m_postgresThreads[id] = thread;
    // finished() is emitted on the probe's thread; the slot runs here, queued.
    connect(thread, &QThread::finished, this, [this, id, thread, outcome, endpoint] {
        m_postgresThreads.erase(id);
        thread->deleteLater();
        if (!m_probes.count(id))
            return; // timed out or cancelled meanwhile
        if (outcome->error) {
            SourceError error = sourceErrorFromStore(*outcome->error, endpoint);
            if (outcome->nameNotFound) {
                error.kind = SourceErrorKind::NameNotFound;
                error.message = QStringLiteral("host name not found: %1: %2").arg(endpoint, outcome->error->message);
            }
            finish(id, unexpected(error));
            return;
        }
        ProbeResult result;
        result.endpoint = endpoint;
        result.version = outcome->version;
        result.roundTripMs = outcome->roundTripMs;
        result.details = QJsonObject{{QStringLiteral("server_version_num"), outcome->versionNumber},
                                     {QStringLiteral("endpoint"), endpoint}};
        finish(id, std::move(result));
    });
    thread->start();
    return id;
}

bool StoreProber::cancel(RequestId id)
{
    const auto it = m_probes.find(id);
    if (it == m_probes.end())
        return false;
    SourceError error;
    error.kind = SourceErrorKind::Cancelled;
    error.endpoint = it->second.endpoint;
    error.message = QStringLiteral("cancelled: %1").arg(it->second.endpoint);
    finish(id, unexpected(error));
    return true;
}

int StoreProber::cancelAll()
{
    std::vector<RequestId> ids;
    for (const auto &entry : m_probes)
        ids.push_back(entry.first);
    int cancelled = 0;
    for (const RequestId id : ids)
        cancelled += cancel(id) ? 1 : 0;
    return cancelled;
}

void StoreProber::finish(RequestId id, Result<ProbeResult, SourceError> result)
{
    const auto it = m_probes.find(id);
    if (it == m_probes.end())
        return;
    Probe probe = std::move(it->second);
    m_probes.erase(it);
    if (probe.lookupId >= 0)
        QHostInfo::abortHostLookup(probe.lookupId);
    if (probe.deadline) {
        probe.deadline->stop();
        probe.deadline->deleteLater();
    }
    if (probe.redis) {
        // Possibly inside one of the session's own signals or callbacks: later.
        disconnect(probe.redis, nullptr, this, nullptr);
        probe.redis->deleteLater();
    }
    if (probe.hasContext && !probe.context)
        return;
    if (probe.done)
        probe.done(std::move(result));
}

} // namespace sluice::clients
