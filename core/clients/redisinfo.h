#pragma once

#include "policy/result.h"

#include <QByteArrayView>
#include <QDateTime>
#include <QList>
#include <QMetaType>
#include <QString>

#include <optional>

namespace sluice::clients {

// The keys of one logical database, from INFO's keyspace section ("db0:keys=3,expires=1,...").
struct RedisDbKeys {
    int db = 0;
    qint64 keys = 0;
    qint64 expires = 0; // keys with a time to live

    friend bool operator==(const RedisDbKeys &, const RedisDbKeys &) = default;
};

// One Redis INFO sample as the console shows it. parseRedisInfo() fills the raw fields;
// deriveRedisRates() the rates, which need the sample before (over the real interval).
struct RedisInfo {
    // server
    QString version;             // redis_version
    QString mode;                // redis_mode: "standalone", "cluster", "sentinel"
    qint64 uptimeSeconds = 0;    // uptime_in_seconds
    // clients
    qint64 connectedClients = 0;
    qint64 blockedClients = 0;
    // memory, bytes
    qint64 usedMemoryBytes = 0;
    qint64 usedMemoryRssBytes = 0;
    qint64 usedMemoryPeakBytes = 0;
    qint64 maxMemoryBytes = 0;   // 0: no limit (maxmemory 0)
    QString maxMemoryPolicy;     // "noeviction", "allkeys-lru", ...
    // stats: counters since the server started
    qint64 totalCommandsProcessed = 0;
    double instantaneousOpsPerSecond = 0; // the server's own estimate (last ~1.6 s)
    qint64 keyspaceHits = 0;
    qint64 keyspaceMisses = 0;
    qint64 evictedKeys = 0;
    qint64 expiredKeys = 0;
    // keyspace, sorted by db
    QList<RedisDbKeys> keyspace;

    // Derived (deriveRedisRates()). Commands per second from totalCommandsProcessed over
    // the real interval since the previous sample; instantaneousOpsPerSecond for the
    // first sample or after a restart (opsFromCounter false then).
    double opsPerSecond = 0;
    bool opsFromCounter = false;
    // keyspace_hits / (hits + misses) over the interval, 0..1; nullopt when nothing was
    // looked up in it (or for the first sample).
    std::optional<double> hitRatio;
    // The same since the server started; nullopt before any lookup.
    std::optional<double> hitRatioSinceStart;
    // Keys evicted (maxmemory) and expired (TTL) per second over the interval; 0 for the
    // first sample.
    double evictedPerSecond = 0;
    double expiredPerSecond = 0;
    // Wall time (UTC) when the answer arrived, and the interval the rates cover (0: first
    // sample).
    QDateTime sampledAt;
    qint64 intervalMs = 0;

    // Sum of keyspace keys.
    qint64 totalKeys() const;
};

// Parses the text of INFO (any sections; "# Section" headers, "field:value" lines, CRLF or
// LF). Unknown fields are ignored and missing ones stay 0 / empty, so it works across Redis
// versions; lines without ':' are skipped. Fails (with a message) only for text that is
// not INFO at all: none of redis_version, uptime_in_seconds, connected_clients,
// used_memory, total_commands_processed.
Result<RedisInfo, QString> parseRedisInfo(QByteArrayView text);

// Fills `current`'s rates from `previous` (the sample before, from the same server) over
// `intervalMs` (> 0, measured by the caller with a steady clock). A counter that went down
// (server restarted: uptime smaller, or totals reset) is treated as a first sample.
// Without `previous` (nullptr) or interval: first-sample values.
void deriveRedisRates(RedisInfo &current, const RedisInfo *previous, qint64 intervalMs);

} // namespace sluice::clients

Q_DECLARE_METATYPE(sluice::clients::RedisInfo)
