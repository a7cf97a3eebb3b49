#include "store/redisinstanceregistry.h"

#include "store/rediskey.h"

#include <QCoreApplication>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>
#include <QSysInfo>

#include <algorithm>
#include <memory>

namespace sluice::store {

namespace {

QString timeToJson(const QDateTime &time)
{
    return time.isValid() ? time.toUTC().toString(Qt::ISODateWithMs) : QString();
}

QDateTime timeFromJson(const QJsonValue &value)
{
    QDateTime time = QDateTime::fromString(value.toString(), Qt::ISODateWithMs);
    return time.isValid() ? time.toUTC() : QDateTime();
}

StoreError malformed(const char *command, const RedisReply &reply)
{
    return {StoreErrorKind::Protocol,
            QStringLiteral("%1 answered a malformed %2")
                .arg(QLatin1String(command), QLatin1String(RedisReply::typeName(reply.type())))};
}

// One discover() call: a SCAN page, then an MGET of its new keys, until the cursor is 0.
struct Discovery {
    // Alive whenever a step runs: a session drops its pending callbacks when destroyed.
    RedisSession *session = nullptr;
    // Raw: the session checks it before every callback, and each step is sent from
    // inside the previous callback, while it is known to be alive (null: the session).
    QObject *context = nullptr;
    QByteArray pattern;
    QSet<QByteArray> seen;
    QList<InstanceInfo> found;
    RedisInstanceRegistry::DiscoverCallback callback;

    void finish(Result<QList<InstanceInfo>, StoreError> result)
    {
        if (callback)
            callback(std::move(result));
    }
};

void scanPage(const std::shared_ptr<Discovery> &discovery, const QByteArray &cursor);

void fetchPage(const std::shared_ptr<Discovery> &discovery, const QList<QByteArray> &keys, const QByteArray &nextCursor)
{
    const auto continueOrFinish = [discovery, nextCursor] {
        if (nextCursor == "0") {
            std::sort(discovery->found.begin(), discovery->found.end(),
                      [](const InstanceInfo &a, const InstanceInfo &b) { return a.id < b.id; });
            discovery->finish(std::move(discovery->found));
        } else {
            scanPage(discovery, nextCursor);
        }
    };
    if (keys.isEmpty()) {
        continueOrFinish();
        return;
    }
    QList<QByteArray> command{QByteArrayLiteral("MGET")};
    command.append(keys);
    discovery->session->command(std::move(command), discovery->context,
                                [discovery, continueOrFinish](Result<RedisReply, StoreError> result) {
                                    if (!result) {
                                        discovery->finish(unexpected(std::move(result).error()));
                                        return;
                                    }
                                    if (!result->isArray()) {
                                        discovery->finish(unexpected(malformed("MGET", *result)));
                                        return;
                                    }
                                    for (const RedisReply &value : result->elements()) {
                                        if (!value.isString())
                                            continue; // expired since the SCAN
                                        if (std::optional<InstanceInfo> info = InstanceInfo::fromJson(value.bytes()))
                                            discovery->found.append(std::move(*info));
                                    }
                                    continueOrFinish();
                                });
}

void scanPage(const std::shared_ptr<Discovery> &discovery, const QByteArray &cursor)
{
    discovery->session->command(
        {QByteArrayLiteral("SCAN"), cursor, QByteArrayLiteral("MATCH"), discovery->pattern, QByteArrayLiteral("COUNT"),
         QByteArrayLiteral("100")},
        discovery->context, [discovery](Result<RedisReply, StoreError> result) {
            if (!result) {
                discovery->finish(unexpected(std::move(result).error()));
                return;
            }
            const RedisReply &reply = *result;
            if (!reply.isArray() || reply.elements().size() != 2 || !reply.elements()[0].isString()
                || !reply.elements()[1].isArray()) {
                discovery->finish(unexpected(malformed("SCAN", reply)));
                return;
            }
            QList<QByteArray> keys;
            for (const RedisReply &key : reply.elements()[1].elements()) {
                if (!key.isString()) {
                    discovery->finish(unexpected(malformed("SCAN", reply)));
                    return;
                }
                // SCAN may return a key more than once.
                if (!discovery->seen.contains(key.bytes())) {
                    discovery->seen.insert(key.bytes());
                    keys.append(key.bytes());
                }
            }
            fetchPage(discovery, keys, reply.elements()[0].bytes());
        });
}

} // namespace

QByteArray InstanceInfo::toJson() const
{
    QJsonObject object;
    object.insert(QStringLiteral("id"), id);
    object.insert(QStringLiteral("address"), address);
    object.insert(QStringLiteral("admin_url"), adminUrl);
    object.insert(QStringLiteral("version"), version);
    object.insert(QStringLiteral("started_at"), timeToJson(startedAt));
    object.insert(QStringLiteral("config_version"), configVersion);
    object.insert(QStringLiteral("heartbeat_at"), timeToJson(heartbeatAt));
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

std::optional<InstanceInfo> InstanceInfo::fromJson(const QByteArray &json)
{
    QJsonParseError error{};
    const QJsonDocument document = QJsonDocument::fromJson(json, &error);
    if (error.error != QJsonParseError::NoError || !document.isObject())
        return std::nullopt;
    const QJsonObject object = document.object();
    InstanceInfo info;
    info.id = object.value(QStringLiteral("id")).toString();
    if (info.id.isEmpty())
        return std::nullopt;
    info.address = object.value(QStringLiteral("address")).toString();
    info.adminUrl = object.value(QStringLiteral("admin_url")).toString();
    info.version = object.value(QStringLiteral("version")).toString();
    info.startedAt = timeFromJson(object.value(QStringLiteral("started_at")));
    info.configVersion = object.value(QStringLiteral("config_version")).toInteger();
    info.heartbeatAt = timeFromJson(object.value(QStringLiteral("heartbeat_at")));
    return info;
}

RedisInstanceRegistry::RedisInstanceRegistry(RedisSession &session, InstanceInfo info,
                                             RedisInstanceRegistryOptions options, QObject *parent)
    : QObject(parent), m_session(&session), m_info(std::move(info)), m_options(std::move(options))
{
    if (m_info.id.isEmpty())
        m_info.id = QSysInfo::machineHostName() + QLatin1Char('-')
            + QString::number(QCoreApplication::applicationPid());
    m_info.startedAt = m_info.startedAt.isValid() ? m_info.startedAt.toUTC() : QDateTime::currentDateTimeUtc();
    m_options.heartbeatInterval = std::max(m_options.heartbeatInterval, std::chrono::milliseconds(1));
    m_heartbeatTimer.setInterval(m_options.heartbeatInterval);
    connect(&m_heartbeatTimer, &QTimer::timeout, this, &RedisInstanceRegistry::heartbeat);
    // Back after an outage (a restarted server has lost the key): announce at once
    // rather than up to an interval later.
    connect(&session, &RedisSession::stateChanged, this, [this](RedisSession::State state) {
        if (state == RedisSession::State::Ready && m_running)
            heartbeat();
    });
}

RedisInstanceRegistry::~RedisInstanceRegistry()
{
    stop();
}

QByteArray RedisInstanceRegistry::keyFor(QByteArrayView keyNamespace, QByteArrayView id)
{
    return redisKey(keyNamespace, kInstanceKeyKind, id);
}

QByteArray RedisInstanceRegistry::key() const
{
    return keyFor(m_options.keyNamespace, m_info.id.toUtf8());
}

std::chrono::milliseconds RedisInstanceRegistry::ttl() const
{
    return 3 * m_options.heartbeatInterval;
}

void RedisInstanceRegistry::start()
{
    if (m_running)
        return;
    m_running = true;
    m_heartbeatTimer.start();
    heartbeat();
}

void RedisInstanceRegistry::stop(QObject *context, StopCallback callback)
{
    if (!m_running)
        return;
    m_running = false;
    m_heartbeatTimer.stop();
    if (!m_session)
        return;
    m_session->command({QByteArrayLiteral("DEL"), key()}, context,
                       [callback = std::move(callback)](Result<RedisReply, StoreError> result) {
                           if (!callback)
                               return;
                           if (!result)
                               callback(unexpected(std::move(result).error()));
                           else
                               callback(result->toInteger() > 0);
                       });
}

void RedisInstanceRegistry::setInfo(InstanceInfo info)
{
    if (info.id.isEmpty())
        info.id = m_info.id;
    info.startedAt = info.startedAt.isValid() ? info.startedAt.toUTC() : m_info.startedAt;
    const QByteArray oldKey = key();
    m_info = std::move(info);
    if (!m_running)
        return;
    if (m_session && key() != oldKey)
        m_session->command({QByteArrayLiteral("DEL"), oldKey}, this, {});
    // Restarted so the next one is a full interval after this one.
    m_heartbeatTimer.start();
    heartbeat();
}

void RedisInstanceRegistry::setConfigVersion(qint64 configVersion)
{
    InstanceInfo info = m_info;
    info.configVersion = configVersion;
    setInfo(std::move(info));
}

void RedisInstanceRegistry::heartbeat()
{
    if (!m_running || !m_session)
        return;
    m_info.heartbeatAt = QDateTime::currentDateTimeUtc();
    m_session->command({QByteArrayLiteral("SET"), key(), m_info.toJson(), QByteArrayLiteral("PX"),
                        QByteArray::number(qint64(ttl().count()))},
                       this, [this](Result<RedisReply, StoreError> result) {
                           if (result) {
                               ++m_heartbeatsWritten;
                               return;
                           }
                           ++m_heartbeatsFailed;
                           emit heartbeatFailed(result.error());
                       });
}

void RedisInstanceRegistry::discover(QObject *context, DiscoverCallback callback) const
{
    if (!m_session)
        return;
    discover(*m_session, m_options.keyNamespace, context, std::move(callback));
}

void RedisInstanceRegistry::discover(RedisSession &session, QByteArrayView keyNamespace, QObject *context,
                                     DiscoverCallback callback)
{
    auto discovery = std::make_shared<Discovery>();
    discovery->session = &session;
    discovery->context = context;
    discovery->pattern = keyFor(escapeRedisGlob(keyNamespace), "") + '*';
    discovery->callback = std::move(callback);
    scanPage(discovery, QByteArrayLiteral("0"));
}

} // namespace sluice::store
