#pragma once

#include "clients/redisinfo.h"
#include "clients/sourceerror.h"
#include "store/redisinstanceregistry.h"

#include <QByteArray>
#include <QDateTime>
#include <QElapsedTimer>
#include <QList>
#include <QMetaType>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QTimer>

#include <memory>
#include <optional>

namespace sluice::store {
class RedisSession;
}

namespace sluice::clients {

struct RedisInfoPollerOptions {
    // A host name or IP literal; empty: nothing to poll (start() does nothing).
    QString host;
    int port = 6379;
    int db = 0;       // SELECTed when not 0
    QString user;     // ACL user; empty: the default user
    QString password; // empty: no AUTH
    // INFO every intervalMs (at least 100).
    int intervalMs = 5'000;
    // The <namespace> of sluice:<namespace>:<kind>:<id> whose keys and instances are listed.
    QByteArray keyNamespace = QByteArrayLiteral("default");
    // The Sluice key listing (instance registry + key counts) runs with the first INFO and
    // then every keysIntervalMs (at least intervalMs); 0 or negative: never.
    int keysIntervalMs = 15'000;
    // The key count SCANs at most scanPageLimit pages of scanCount (SCAN's COUNT hint)
    // keys each and then stops, saying the counts are lower bounds ("≥ N").
    int scanPageLimit = 10;
    int scanCount = 1'000;
    int connectTimeoutMs = 3'000;
    int commandTimeoutMs = 3'000;
    // Reconnect pacing after a lost connection (RedisSessionOptions).
    int reconnectMinMs = 250;
    int reconnectMaxMs = 5'000;
};

// Counts of one namespace's keys by kind, from a bounded SCAN of sluice:<ns>:*.
struct RedisSluiceKeys {
    QByteArray keyNamespace;
    qint64 rateLimitKeys = 0; // sluice:<ns>:ratelimit:*
    qint64 cacheKeys = 0;     // sluice:<ns>:cache:*
    qint64 instanceKeys = 0;  // sluice:<ns>:instance:*
    qint64 otherKeys = 0;     // any other kind (config, ...)
    // The SCAN stopped after scanPageLimit pages: every count is a lower bound.
    bool truncated = false;
    qint64 keysScanned = 0;  // distinct keys seen
    // The live gateway instances (RedisInstanceRegistry::discover()), sorted by id.
    QList<store::InstanceInfo> instances;
    QDateTime sampledAt; // UTC
};

// Reads one Redis server for the console: keeps a store::RedisSession open (it
// reconnects by itself), sends INFO every interval and turns the answer into a RedisInfo
// whose rates are divided by the real time between two answers; every keysIntervalMs it
// also lists the namespace's live gateway instances and counts its Sluice keys (SCAN with
// MATCH and COUNT, bounded, never KEYS).
//
// Signals: updated() for each INFO answer; failed() when a poll fails or the connection
// is lost or cannot be made (kinds from sourceErrorFromStore(); a poll that fails only
// because the connection is down reports why it is down, e.g. Refused, not just
// "not connected"); sluiceKeysUpdated() / sluiceKeysFailed() for the key listing. A
// failure does not stop polling: the next tick tries again, and updated() follows as soon
// as the server answers.
//
// A tick that finds the previous INFO (or the previous key listing) still in flight skips
// it. While paused nothing is sent (the connection stays open); pollNow() polls once even
// then.
//
// Thread affinity: create, use and destroy on one thread with an event loop (the GUI
// thread); nothing blocks it (names are resolved with QHostInfo, sockets are async).
class RedisInfoPoller : public QObject {
    Q_OBJECT
public:
    explicit RedisInfoPoller(RedisInfoPollerOptions options, QObject *parent = nullptr);
    ~RedisInfoPoller() override;

    const RedisInfoPollerOptions &options() const { return m_options; }
    // "host:port".
    QString endpoint() const { return m_endpoint; }

    // Opens the session, polls at once and then every interval (unless paused). Does
    // nothing while running or without a host.
    void start();
    // Closes the session (pending answers are dropped) and stops polling; start() again
    // begins afresh (rates restart from the next two samples).
    void stop();
    bool isRunning() const { return m_session != nullptr; }

    void setPaused(bool paused);
    bool isPaused() const { return m_paused; }
    // One INFO (and key listing, if due or `withKeys`) now, paused or not. Does nothing
    // unless running.
    void pollNow(bool withKeys = false);

    // The last successful sample; nullopt before the first.
    const std::optional<RedisInfo> &latest() const { return m_latest; }
    const std::optional<RedisSluiceKeys> &latestKeys() const { return m_latestKeys; }
    // The session, for tests and for callers that need another command (null unless running).
    store::RedisSession *session() const { return m_session; }

signals:
    void updated(const sluice::clients::RedisInfo &info);
    void failed(const sluice::clients::SourceError &error);
    void sluiceKeysUpdated(const sluice::clients::RedisSluiceKeys &keys);
    void sluiceKeysFailed(const sluice::clients::SourceError &error);

private:
    struct KeyScan;

    void tick();
    void pollInfo();
    void listKeys();
    void onInfoAnswer(const QByteArray &text);
    void reportStoreError(const store::StoreError &error, bool forKeys);
    void scanPage(const std::shared_ptr<KeyScan> &scan, const QByteArray &cursor);
    void finishKeys(const std::shared_ptr<KeyScan> &scan);

    RedisInfoPollerOptions m_options;
    QString m_endpoint;
    store::RedisSession *m_session = nullptr; // owned (child)
    QTimer m_timer;
    QElapsedTimer m_sinceLastInfo;
    QElapsedTimer m_sinceLastKeys;
    bool m_paused = false;
    bool m_infoInFlight = false;
    bool m_keysInFlight = false;
    // Bumped by stop(), so answers of an earlier session are ignored.
    quint64 m_generation = 0;
    std::optional<RedisInfo> m_latest;
    std::optional<RedisSluiceKeys> m_latestKeys;
};

} // namespace sluice::clients

Q_DECLARE_METATYPE(sluice::clients::RedisSluiceKeys)
