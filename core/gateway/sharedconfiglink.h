#pragma once

#include "config/gatewayconfig.h"
#include "gateway/configstore.h"
#include "gateway/logger.h"
#include "metrics/counter.h"
#include "metrics/registry.h"
#include "policy/result.h"
#include "store/redisconfigchannel.h"
#include "store/redisinstanceregistry.h"
#include "store/redissession.h"
#include "store/storeerror.h"

#include <QDateTime>
#include <QJsonObject>
#include <QObject>
#include <QString>
#include <QTimer>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>

namespace sluice::gateway {

// One gateway instance's link to the configuration shared through Redis (config.redis):
// it owns a RedisSession, a RedisInstanceRegistry (this instance's heartbeat, every
// redis.heartbeat_seconds) and a RedisConfigChannel, and keeps the ConfigStore and the
// shared document in step:
//  - a change applied locally (admin API, SIGHUP: any ApplyOrigin::who but "redis") is
//    published as version new with expectedVersion = the version it replaced;
//  - an announced (or re-read) version newer than the running one is fetched, parsed
//    with config::loadConfig and installed with ConfigStore::adopt() under its own
//    number, origin who "redis";
//  - whenever the session becomes Ready (start-up and every reconnect), and after a
//    publish refused by the compare-and-set, the stored document is read and reconciled:
//    newer → adopted; none or older (a restarted, empty server; changes made during an
//    outage) → the running config is published over it; equal → nothing.
// While Redis is away the instance keeps serving with its running config; nothing here
// makes the gateway unready.
//
// Known limit: two instances that apply different changes from the same version at the
// same time both end up at the same version number; the compare-and-set keeps the first
// in Redis and the second instance keeps its own until the next change (counted as a
// conflict, and reported in lastError).
//
// Metrics, registered on create() in the given registry (once per registry):
//   sluice_redis_connected                              gauge, 1 while the session is Ready
//   sluice_config_distributed_total{direction=published|adopted|conflict}
//
// Thread affinity: the thread that creates it (the gateway's), which needs a running
// event loop. state() is thread-safe. The ConfigStore, registry and logger must outlive it.
class SharedConfigLink : public QObject {
    Q_OBJECT
public:
    // For the running config's redis section. Connects nothing yet. Errors: a password
    // that cannot be read ("redis.password_env: ..."), metrics already registered in
    // `registry`.
    static Result<std::unique_ptr<SharedConfigLink>, QString> create(ConfigStore &configStore,
                                                                     metrics::Registry &registry, Logger &logger,
                                                                     QObject *parent = nullptr);
    ~SharedConfigLink() override;

    // Connects (and reconnects until destroyed), starts the heartbeat and the channel.
    // `info`: id, address, adminUrl, version, startedAt of this instance (configVersion is
    // kept current from the store). Does nothing the second time.
    void start(store::InstanceInfo info);
    // Stops the heartbeat and deletes this instance's registry key (best effort); the
    // config channel keeps running until destruction.
    void stop();

    bool isConnected() const { return m_connected->load(); }
    // For GET /admin/v1/stats under "redis":
    //   {"connected", "address" ("host:port"), "key_namespace", "last_error" (empty if
    //    none), "last_error_at" (ISO 8601 UTC, absent if none), "shared_version" (the last
    //    version seen in Redis, 0: none), "last_published_version", "last_adopted_version",
    //    "published", "adopted", "conflicts"}
    QJsonObject state() const;

    store::RedisSession &session() { return *m_session; }
    store::RedisInstanceRegistry &instanceRegistry() { return *m_registry; }
    store::RedisConfigChannel &configChannel() { return *m_channel; }

signals:
    // A version from Redis is now running here.
    void adopted(qint64 version);
    // This instance's change is now the shared one.
    void published(qint64 version);

private:
    struct Counters {
        metrics::Counter *published = nullptr;
        metrics::Counter *adopted = nullptr;
        metrics::Counter *conflicts = nullptr;
    };

    SharedConfigLink(ConfigStore &configStore, store::RedisSessionOptions sessionOptions,
                     const config::RedisConfig &redis, Logger &logger,
                     std::shared_ptr<std::atomic<bool>> connected, Counters counters, QObject *parent);

    // Bridges ConfigStore listeners (any thread) to this object's thread; cut in the
    // destructor so a late notification cannot reach a dead object.
    struct ListenerGate {
        std::mutex mutex;
        SharedConfigLink *link = nullptr;
    };

    void onSessionState(store::RedisSession::State state);
    void onLocalChange(qint64 oldVersion, std::shared_ptr<const config::GatewayConfig> newConfig, bool fromRedis);
    void onAnnounced(qint64 version);
    // Reads the stored document and reconciles it with the running config (class comment).
    void sync();
    void reconcile(const std::optional<store::ConfigDocument> &stored);
    void publish(const config::GatewayConfig &config, qint64 expectedVersion);
    // After a publish refused because `version` is already stored: fine if the settings
    // are the running ones, an error otherwise.
    void checkSameVersion(qint64 version);
    void adoptDocument(const store::ConfigDocument &document);
    void noteSharedVersion(qint64 version);
    void setError(const QString &message);

    ConfigStore &m_configStore;
    Logger &m_logger;
    QString m_address;
    QString m_keyNamespace;
    std::shared_ptr<std::atomic<bool>> m_connected;
    Counters m_counters;
    std::shared_ptr<ListenerGate> m_gate;
    int m_listenerId = 0;
    bool m_started = false;
    // Reconciliations in a row started by refused publishes; bounded so two instances
    // cannot chase each other for ever.
    int m_conflictChain = 0;
    QTimer m_syncRetryTimer;

    mutable std::mutex m_stateMutex; // guards the fields below (read by state())
    QString m_lastError;
    QDateTime m_lastErrorAtUtc;
    qint64 m_sharedVersion = 0;
    qint64 m_lastPublishedVersion = 0;
    qint64 m_lastAdoptedVersion = 0;
    quint64 m_publishedCount = 0;
    quint64 m_adoptedCount = 0;
    quint64 m_conflictCount = 0;

    // The session first: the registry and the channel use it and go before it.
    std::unique_ptr<store::RedisSession> m_session;
    std::unique_ptr<store::RedisInstanceRegistry> m_registry;
    std::unique_ptr<store::RedisConfigChannel> m_channel;
};

} // namespace sluice::gateway
