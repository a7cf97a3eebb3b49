#include "clients/redisinfopoller.h"

#include "store/rediskey.h"
#include "store/redisreply.h"
#include "store/redissession.h"

#include <QSet>

#include <algorithm>
#include <chrono>

namespace sluice::clients {

namespace {

RedisInfoPollerOptions sanitized(RedisInfoPollerOptions options)
{
    options.intervalMs = std::max(100, options.intervalMs);
    if (options.keysIntervalMs > 0)
        options.keysIntervalMs = std::max(options.intervalMs, options.keysIntervalMs);
    options.scanPageLimit = std::max(1, options.scanPageLimit);
    options.scanCount = std::max(1, options.scanCount);
    options.reconnectMinMs = std::max(1, options.reconnectMinMs);
    options.reconnectMaxMs = std::max(options.reconnectMinMs, options.reconnectMaxMs);
    return options;
}

QString endpointFor(const RedisInfoPollerOptions &options)
{
    const QString host = options.host.contains(u':') ? QStringLiteral("[%1]").arg(options.host) : options.host;
    return QStringLiteral("%1:%2").arg(host).arg(options.port);
}

store::StoreError malformed(const char *command, const store::RedisReply &reply)
{
    return {store::StoreErrorKind::Protocol,
            QStringLiteral("unexpected %1 answer to %2").arg(QLatin1String(store::RedisReply::typeName(reply.type())),
                                                             QLatin1String(command))};
}

} // namespace

// One key listing in progress: a SCAN cursor loop over sluice:<ns>:*, bounded in pages.
struct RedisInfoPoller::KeyScan {
    quint64 generation = 0;
    QByteArray prefix; // "sluice:<ns>:"
    QByteArray pattern;
    int pages = 0;
    QSet<QByteArray> seen; // SCAN may return a key more than once
    RedisSluiceKeys result;
};

RedisInfoPoller::RedisInfoPoller(RedisInfoPollerOptions options, QObject *parent)
    : QObject(parent), m_options(sanitized(std::move(options))), m_endpoint(endpointFor(m_options))
{
    m_timer.setInterval(m_options.intervalMs);
    connect(&m_timer, &QTimer::timeout, this, &RedisInfoPoller::tick);
}

RedisInfoPoller::~RedisInfoPoller()
{
    stop();
}

void RedisInfoPoller::start()
{
    if (m_session || m_options.host.isEmpty())
        return;
    store::RedisSessionOptions session;
    session.host = m_options.host;
    session.port = quint16(m_options.port);
    session.db = m_options.db;
    session.user = m_options.user;
    session.password = m_options.password;
    session.connectTimeout = std::chrono::milliseconds(m_options.connectTimeoutMs);
    session.commandTimeout = std::chrono::milliseconds(m_options.commandTimeoutMs);
    session.reconnectMin = std::chrono::milliseconds(m_options.reconnectMinMs);
    session.reconnectMax = std::chrono::milliseconds(m_options.reconnectMaxMs);
    m_session = new store::RedisSession(session, this);
    connect(m_session, &store::RedisSession::connectionError, this,
            [this](const store::StoreError &error) { emit failed(sourceErrorFromStore(error, m_endpoint)); });
    // A poll is due as soon as the connection is up, rather than failing at once with
    // NotConnected while the session is still connecting.
    connect(m_session, &store::RedisSession::stateChanged, this, [this](store::RedisSession::State state) {
        if (state == store::RedisSession::State::Ready && !m_paused && !m_latest)
            pollNow(true);
    });
    m_session->open();
    m_timer.start();
}

void RedisInfoPoller::stop()
{
    if (!m_session)
        return;
    ++m_generation;
    m_timer.stop();
    // Deleting the session drops its pending callbacks without calling them.
    delete std::exchange(m_session, nullptr);
    m_infoInFlight = false;
    m_keysInFlight = false;
    m_latest.reset();
    m_latestKeys.reset();
    m_sinceLastInfo.invalidate();
    m_sinceLastKeys.invalidate();
}

void RedisInfoPoller::setPaused(bool paused)
{
    m_paused = paused;
}

void RedisInfoPoller::pollNow(bool withKeys)
{
    if (!m_session)
        return;
    pollInfo();
    const bool keysDue = m_options.keysIntervalMs > 0
        && (!m_sinceLastKeys.isValid() || m_sinceLastKeys.elapsed() >= m_options.keysIntervalMs);
    if (withKeys || keysDue)
        listKeys();
}

void RedisInfoPoller::tick()
{
    if (m_paused)
        return;
    // Until the session is up, its connectionError() says why; a NotConnected per tick
    // would only repeat it less precisely.
    if (!m_session->isReady())
        return;
    pollNow(false);
}

void RedisInfoPoller::pollInfo()
{
    if (m_infoInFlight)
        return;
    m_infoInFlight = true;
    const quint64 generation = m_generation;
    // Plain INFO: the default sections hold server, clients, memory, stats and keyspace
    // (Redis before 7 accepts only one section name per call).
    m_session->command({QByteArrayLiteral("INFO")}, this,
                       [this, generation](Result<store::RedisReply, store::StoreError> result) {
                           if (generation != m_generation)
                               return;
                           m_infoInFlight = false;
                           if (!result) {
                               reportStoreError(result.error(), false);
                               return;
                           }
                           if (!result->isString()) {
                               reportStoreError(malformed("INFO", *result), false);
                               return;
                           }
                           onInfoAnswer(result->bytes());
                       });
}

void RedisInfoPoller::onInfoAnswer(const QByteArray &text)
{
    Result<RedisInfo, QString> parsed = parseRedisInfo(text);
    if (!parsed) {
        emit failed(sourceErrorFromStore({store::StoreErrorKind::Protocol, parsed.error()}, m_endpoint));
        return;
    }
    RedisInfo info = std::move(parsed).value();
    // The interval is measured between answers, on a steady clock: that is the span the
    // counters' difference covers, whatever the tick's own jitter.
    const qint64 intervalMs = m_sinceLastInfo.isValid() ? m_sinceLastInfo.restart() : 0;
    if (!m_sinceLastInfo.isValid())
        m_sinceLastInfo.start();
    deriveRedisRates(info, m_latest ? &*m_latest : nullptr, intervalMs);
    info.sampledAt = QDateTime::currentDateTimeUtc();
    m_latest = info;
    emit updated(info);
}

void RedisInfoPoller::reportStoreError(const store::StoreError &error, bool forKeys)
{
    store::StoreError precise = error;
    // A command refused because the connection is down says less than why it is down.
    if (error.kind == store::StoreErrorKind::NotConnected && m_session
        && m_session->lastError().kind != store::StoreErrorKind::NotConnected
        && !m_session->lastError().message.isEmpty())
        precise = m_session->lastError();
    const SourceError sourceError = sourceErrorFromStore(precise, m_endpoint);
    if (forKeys)
        emit sluiceKeysFailed(sourceError);
    else
        emit failed(sourceError);
}

void RedisInfoPoller::listKeys()
{
    if (m_keysInFlight || m_options.keysIntervalMs <= 0)
        return;
    m_keysInFlight = true;
    m_sinceLastKeys.start();
    auto scan = std::make_shared<KeyScan>();
    scan->generation = m_generation;
    scan->prefix = QByteArrayLiteral("sluice:") + m_options.keyNamespace + ':';
    scan->pattern = store::escapeRedisGlob(scan->prefix) + '*';
    scan->result.keyNamespace = m_options.keyNamespace;
    store::RedisInstanceRegistry::discover(
        *m_session, m_options.keyNamespace, this,
        [this, scan](Result<QList<store::InstanceInfo>, store::StoreError> result) {
            if (scan->generation != m_generation)
                return;
            if (!result) {
                m_keysInFlight = false;
                reportStoreError(result.error(), true);
                return;
            }
            scan->result.instances = std::move(result).value();
            scanPage(scan, QByteArrayLiteral("0"));
        });
}

void RedisInfoPoller::scanPage(const std::shared_ptr<KeyScan> &scan, const QByteArray &cursor)
{
    m_session->command(
        {QByteArrayLiteral("SCAN"), cursor, QByteArrayLiteral("MATCH"), scan->pattern, QByteArrayLiteral("COUNT"),
         QByteArray::number(m_options.scanCount)},
        this, [this, scan](Result<store::RedisReply, store::StoreError> result) {
            if (scan->generation != m_generation)
                return;
            if (!result) {
                m_keysInFlight = false;
                reportStoreError(result.error(), true);
                return;
            }
            const store::RedisReply &reply = *result;
            if (!reply.isArray() || reply.elements().size() != 2 || !reply.elements()[0].isString()
                || !reply.elements()[1].isArray()) {
                m_keysInFlight = false;
                reportStoreError(malformed("SCAN", reply), true);
                return;
            }
            for (const store::RedisReply &key : reply.elements()[1].elements()) {
                if (!key.isString() || scan->seen.contains(key.bytes()))
                    continue;
                scan->seen.insert(key.bytes());
                const QByteArray rest = key.bytes().mid(scan->prefix.size());
                const QByteArray kind = rest.left(rest.indexOf(':'));
                if (kind == store::kRateLimitKeyKind)
                    ++scan->result.rateLimitKeys;
                else if (kind == store::kCacheKeyKind)
                    ++scan->result.cacheKeys;
                else if (kind == store::kInstanceKeyKind)
                    ++scan->result.instanceKeys;
                else
                    ++scan->result.otherKeys;
            }
            ++scan->pages;
            const QByteArray next = reply.elements()[0].bytes();
            if (next == "0") {
                finishKeys(scan);
            } else if (scan->pages >= m_options.scanPageLimit) {
                scan->result.truncated = true;
                finishKeys(scan);
            } else {
                scanPage(scan, next);
            }
        });
}

void RedisInfoPoller::finishKeys(const std::shared_ptr<KeyScan> &scan)
{
    m_keysInFlight = false;
    scan->result.keysScanned = scan->seen.size();
    scan->result.sampledAt = QDateTime::currentDateTimeUtc();
    m_latestKeys = scan->result;
    emit sluiceKeysUpdated(scan->result);
}

} // namespace sluice::clients
