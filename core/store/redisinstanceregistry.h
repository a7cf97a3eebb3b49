#pragma once

#include "policy/result.h"
#include "store/redissession.h"
#include "store/storeerror.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QDateTime>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QTimer>

#include <chrono>
#include <functional>
#include <optional>

namespace sluice::store {

// The kind of instance-registry keys ("instance").
inline constexpr char kInstanceKeyKind[] = "instance";

// What a gateway instance says about itself in the registry. Stored as compact JSON:
// {"id", "address", "admin_url", "version", "started_at", "config_version",
// "heartbeat_at"}, times as ISO 8601 UTC with milliseconds ("2024-05-01T12:00:00.000Z").
struct InstanceInfo {
    // Unique per instance; the <id> of its key. Empty in RedisInstanceRegistry's
    // constructor: "<host name>-<pid>".
    QString id;
    // Where it serves clients, e.g. "10.0.0.7:8080".
    QString address;
    // Its admin API, e.g. "http://10.0.0.7:9090".
    QString adminUrl;
    // The software version it runs.
    QString version;
    // UTC; invalid in RedisInstanceRegistry's constructor: the construction time.
    QDateTime startedAt;
    // The shared configuration version it runs (RedisConfigChannel); 0: none.
    qint64 configVersion = 0;
    // UTC; written by the registry at each heartbeat, so a reader sees how fresh it is.
    QDateTime heartbeatAt;

    QByteArray toJson() const;
    // nullopt unless `json` is an object with a non-empty string "id"; other fields may
    // be missing (empty / invalid / 0).
    static std::optional<InstanceInfo> fromJson(const QByteArray &json);

    friend bool operator==(const InstanceInfo &, const InstanceInfo &) = default;
};

struct RedisInstanceRegistryOptions {
    // The <namespace> of the keys (no ':'), e.g. the deployment.
    QByteArray keyNamespace = QByteArrayLiteral("default");
    // Time between heartbeats; the key expires after 3 intervals without one, so an
    // instance that died disappears by itself. Clamped to at least 1 ms.
    std::chrono::milliseconds heartbeatInterval{5'000};
};

// The registry of running gateway instances in Redis: while started, every heartbeat
// interval (and at once on start(), on setInfo() and whenever the session becomes Ready
// again) it SETs redisKey(namespace, "instance", id) to its InstanceInfo JSON with
// PX = 3 × interval; stop() DELetes the key. discover() lists every instance of the
// namespace (SCAN, never KEYS), this one included once its first heartbeat landed.
//
// A failed heartbeat (session down, timeout) is reported by heartbeatFailed() and
// simply retried at the next tick; three missed intervals and the instance is gone from
// discover() until the next heartbeat lands.
//
// The session must outlive the registry. Thread affinity: the session's thread.
class RedisInstanceRegistry : public QObject {
    Q_OBJECT
public:
    using DiscoverCallback = std::function<void(Result<QList<InstanceInfo>, StoreError>)>;
    // true when the key was there to delete.
    using StopCallback = std::function<void(Result<bool, StoreError>)>;

    RedisInstanceRegistry(RedisSession &session, InstanceInfo info, RedisInstanceRegistryOptions options = {},
                          QObject *parent = nullptr);
    // Stops (deleting the key, nobody told of the outcome) if still running.
    ~RedisInstanceRegistry() override;

    // Starts heartbeating: the first at once. Does nothing while running.
    void start();
    // Stops heartbeating and deletes this instance's key (pipelined behind any heartbeat
    // in flight, so that one cannot bring it back). `callback` (bound to `context`, null:
    // the session; may be empty) gets the DEL's outcome; a failed DEL leaves the key to
    // expire. While not running: does nothing and calls nothing.
    void stop(QObject *context = nullptr, StopCallback callback = {});
    bool isRunning() const { return m_running; }

    const InstanceInfo &info() const { return m_info; }
    // Replaces what this instance says about itself (heartbeatAt is overwritten by the
    // heartbeat; an empty id or invalid startedAt keep the current ones) and, while
    // running, heartbeats at once. A new id moves the entry: the old key is deleted.
    void setInfo(InstanceInfo info);
    // setInfo() with only configVersion changed.
    void setConfigVersion(qint64 configVersion);

    // Lists the namespace's instances, sorted by id (see the static overload).
    void discover(QObject *context, DiscoverCallback callback) const;
    // SCANs sluice:<keyNamespace>:instance:* (cursor loop, COUNT 100) and MGETs each
    // page's keys. Keys that expired in between, and values that are not instance JSON,
    // are skipped. Errors: the session's, Protocol for a malformed SCAN or MGET answer.
    // Callback rules as RedisSession::command(); usable without a registry (the console).
    static void discover(RedisSession &session, QByteArrayView keyNamespace, QObject *context,
                         DiscoverCallback callback);

    // This instance's key.
    QByteArray key() const;
    static QByteArray keyFor(QByteArrayView keyNamespace, QByteArrayView id);
    const RedisInstanceRegistryOptions &options() const { return m_options; }
    // Time to live of each heartbeat: 3 × heartbeatInterval.
    std::chrono::milliseconds ttl() const;

    // Heartbeats the server acknowledged / that failed, since construction.
    quint64 heartbeatsWritten() const { return m_heartbeatsWritten; }
    quint64 heartbeatsFailed() const { return m_heartbeatsFailed; }

signals:
    void heartbeatFailed(const sluice::store::StoreError &error);

private:
    void heartbeat();

    QPointer<RedisSession> m_session;
    InstanceInfo m_info;
    RedisInstanceRegistryOptions m_options;
    QTimer m_heartbeatTimer;
    bool m_running = false;
    quint64 m_heartbeatsWritten = 0;
    quint64 m_heartbeatsFailed = 0;
};

} // namespace sluice::store
