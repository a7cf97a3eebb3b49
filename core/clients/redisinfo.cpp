#include "clients/redisinfo.h"

#include <QByteArray>
#include <QHash>

#include <algorithm>
#include <cctype>

namespace sluice::clients {

namespace {

qint64 toInteger(const QByteArray &value)
{
    bool ok = false;
    const qint64 number = value.toLongLong(&ok);
    if (ok)
        return number;
    // A few fields are floats in some versions; take the integral part.
    const double real = value.toDouble(&ok);
    return ok ? qint64(real) : 0;
}

// "keys=3,expires=1,avg_ttl=0" → keys, expires.
std::optional<RedisDbKeys> parseDbLine(const QByteArray &name, const QByteArray &value)
{
    bool ok = false;
    const int db = name.mid(2).toInt(&ok);
    if (!ok || db < 0)
        return std::nullopt;
    RedisDbKeys keys;
    keys.db = db;
    for (const QByteArray &pair : value.split(',')) {
        const qsizetype equals = pair.indexOf('=');
        if (equals < 0)
            continue;
        const QByteArray key = pair.left(equals);
        const QByteArray number = pair.mid(equals + 1);
        if (key == "keys")
            keys.keys = toInteger(number);
        else if (key == "expires")
            keys.expires = toInteger(number);
    }
    return keys;
}

std::optional<double> ratio(qint64 hits, qint64 misses)
{
    const qint64 lookups = hits + misses;
    if (hits < 0 || misses < 0 || lookups <= 0)
        return std::nullopt;
    return double(hits) / double(lookups);
}

} // namespace

qint64 RedisInfo::totalKeys() const
{
    qint64 total = 0;
    for (const RedisDbKeys &db : keyspace)
        total += db.keys;
    return total;
}

Result<RedisInfo, QString> parseRedisInfo(QByteArrayView text)
{
    QHash<QByteArray, QByteArray> fields;
    RedisInfo info;
    for (QByteArray line : text.toByteArray().split('\n')) {
        if (line.endsWith('\r'))
            line.chop(1);
        if (line.isEmpty() || line.startsWith('#'))
            continue;
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0)
            continue;
        const QByteArray name = line.left(colon);
        const QByteArray value = line.mid(colon + 1);
        if (name.startsWith("db") && name.size() > 2 && std::isdigit(static_cast<unsigned char>(name[2]))) {
            if (std::optional<RedisDbKeys> keys = parseDbLine(name, value))
                info.keyspace.append(*keys);
            continue;
        }
        fields.insert(name, value);
    }

    static const char *const anchors[] = {"redis_version", "uptime_in_seconds", "connected_clients", "used_memory",
                                          "total_commands_processed"};
    if (std::none_of(std::begin(anchors), std::end(anchors), [&](const char *name) { return fields.contains(name); }))
        return unexpected(QStringLiteral("not a Redis INFO answer (no server, clients, memory or stats fields)"));

    const auto integer = [&](const char *name) { return toInteger(fields.value(name)); };
    info.version = QString::fromUtf8(fields.value("redis_version"));
    info.mode = QString::fromUtf8(fields.value("redis_mode"));
    info.uptimeSeconds = integer("uptime_in_seconds");
    info.connectedClients = integer("connected_clients");
    info.blockedClients = integer("blocked_clients");
    info.usedMemoryBytes = integer("used_memory");
    info.usedMemoryRssBytes = integer("used_memory_rss");
    info.usedMemoryPeakBytes = integer("used_memory_peak");
    info.maxMemoryBytes = integer("maxmemory");
    info.maxMemoryPolicy = QString::fromUtf8(fields.value("maxmemory_policy"));
    info.totalCommandsProcessed = integer("total_commands_processed");
    info.instantaneousOpsPerSecond = fields.value("instantaneous_ops_per_sec").toDouble();
    info.keyspaceHits = integer("keyspace_hits");
    info.keyspaceMisses = integer("keyspace_misses");
    info.evictedKeys = integer("evicted_keys");
    info.expiredKeys = integer("expired_keys");
    std::sort(info.keyspace.begin(), info.keyspace.end(),
              [](const RedisDbKeys &a, const RedisDbKeys &b) { return a.db < b.db; });
    info.hitRatioSinceStart = ratio(info.keyspaceHits, info.keyspaceMisses);
    info.opsPerSecond = info.instantaneousOpsPerSecond;
    return info;
}

void deriveRedisRates(RedisInfo &current, const RedisInfo *previous, qint64 intervalMs)
{
    current.hitRatioSinceStart = ratio(current.keyspaceHits, current.keyspaceMisses);
    const bool restarted = previous
        && (current.uptimeSeconds < previous->uptimeSeconds
            || current.totalCommandsProcessed < previous->totalCommandsProcessed
            || current.keyspaceHits < previous->keyspaceHits || current.keyspaceMisses < previous->keyspaceMisses
            || current.evictedKeys < previous->evictedKeys || current.expiredKeys < previous->expiredKeys);
    if (!previous || intervalMs <= 0 || restarted) {
        current.opsPerSecond = current.instantaneousOpsPerSecond;
        current.opsFromCounter = false;
        current.hitRatio.reset();
        current.evictedPerSecond = 0;
        current.expiredPerSecond = 0;
        current.intervalMs = 0;
        return;
    }
    const double seconds = double(intervalMs) / 1000.0;
    current.intervalMs = intervalMs;
    current.opsPerSecond = double(current.totalCommandsProcessed - previous->totalCommandsProcessed) / seconds;
    current.opsFromCounter = true;
    current.hitRatio = ratio(current.keyspaceHits - previous->keyspaceHits,
                             current.keyspaceMisses - previous->keyspaceMisses);
    current.evictedPerSecond = double(current.evictedKeys - previous->evictedKeys) / seconds;
    current.expiredPerSecond = double(current.expiredKeys - previous->expiredKeys) / seconds;
}

} // namespace sluice::clients
