#pragma once

#include "policy/result.h"
#include "store/redisscript.h"
#include "store/redissession.h"
#include "store/redissubscriber.h"
#include "store/storeerror.h"

#include <QByteArray>
#include <QObject>
#include <QPointer>
#include <QTimer>

#include <chrono>
#include <functional>
#include <optional>

namespace sluice::store {

// The kind of the shared configuration's key and channel ("config").
inline constexpr char kConfigKeyKind[] = "config";

// The shared configuration document as stored: a version and the JSON text.
struct ConfigDocument {
    qint64 version = 0;
    QByteArray json;

    friend bool operator==(const ConfigDocument &, const ConfigDocument &) = default;
};

// What a publish() did.
struct ConfigPublishOutcome {
    // Stored and announced; false: refused, the stored version was not the expected one.
    bool applied = false;
    // The version stored after the call: the new one when applied, else the one that
    // refused it (0: no document; -1: a stored version that is not a number).
    qint64 storedVersion = 0;
    // Subscribers the announcement reached (PUBLISH's count, every instance's channel
    // included); 0 when refused.
    qint64 receivers = 0;
};

struct RedisConfigChannelOptions {
    // The <namespace> of the key and the channel (no ':'), e.g. the deployment.
    QByteArray keyNamespace = QByteArrayLiteral("default");
    // The subscriber's own connection; unset: the command session's options (same
    // server, credentials and database).
    std::optional<RedisSessionOptions> subscriberSession;
    // After a failed re-read (see the class comment), the next try; the command session
    // becoming Ready again also retries at once. Clamped to at least 1 ms.
    std::chrono::milliseconds resyncRetryInterval{1'000};
};

// The configuration shared by every gateway instance: one versioned document in Redis,
// written by compare-and-set and announced on a channel.
//
//   key      sluice:<namespace>:config:current   a hash {version, json}
//   channel  sluice:<namespace>:config:changed   payload: the new version, in decimal
//
// publish() and fetch() run on the command session given to the constructor (shared,
// must outlive the channel). Listening needs a connection of its own: the channel owns
// a RedisSubscriber, started by open(). changed(version) is emitted for every
// announcement. Because announcements sent while the subscriber's connection was down
// are lost, every time the subscription is confirmed (the first time included: a
// publish may fall between the owner's own fetch() and the subscription) the channel
// fetches the document once and emits changed() if its version is greater than
// lastReportedVersion(). So a receiver may see a version twice (announcement and
// re-read racing) and must apply idempotently; versions are not guaranteed to grow
// (a restarted, empty server starts again from 1), so announcements are never
// filtered.
//
// Versions are integers below 2^53 (Lua numbers); a new version must be greater than
// the expected one.
//
// Thread affinity: the session's thread.
class RedisConfigChannel : public QObject {
    Q_OBJECT
public:
    using PublishCallback = std::function<void(Result<ConfigPublishOutcome, StoreError>)>;
    // nullopt: no document stored.
    using FetchCallback = std::function<void(Result<std::optional<ConfigDocument>, StoreError>)>;

    explicit RedisConfigChannel(RedisSession &session, RedisConfigChannelOptions options = {},
                                QObject *parent = nullptr);
    ~RedisConfigChannel() override;

    // Starts listening (and re-listening after reconnects) until close().
    void open();
    void close();
    bool isOpen() const { return m_subscriber.isOpen(); }
    // The subscription is confirmed on the subscriber's current connection.
    bool isListening() const;

    // Stores `configJson` as version `newVersion` if the stored version is
    // `expectedVersion` (0: no document stored), and announces it, atomically (one
    // script). Refused by the compare: applied false with the stored version. Errors:
    // the session's; Server when newVersion <= expectedVersion, expectedVersion < 0 or
    // the key holds something else. Callback rules as RedisSession::command().
    void publish(QByteArray configJson, qint64 expectedVersion, qint64 newVersion, QObject *context,
                 PublishCallback callback);
    // Reads the document (one HMGET). Errors: the session's; Protocol for a stored
    // version that is not an integer, or a json without a version.
    void fetch(QObject *context, FetchCallback callback) const;

    // The last version changed() carried, or set by setKnownVersion(); 0 at first.
    qint64 lastReportedVersion() const { return m_lastReportedVersion; }
    // Tells the channel which version the owner has already applied (e.g. from its own
    // fetch() at start-up), so a re-read does not report it again.
    void setKnownVersion(qint64 version) { m_lastReportedVersion = version; }

    QByteArray configKey() const;
    QByteArray changedChannel() const;
    const RedisConfigChannelOptions &options() const { return m_options; }
    const RedisSubscriber &subscriber() const { return m_subscriber; }
    const RedisScript &publishScript() const { return m_publishScript; }
    // Re-reads completed after (re)subscriptions, whatever they found.
    quint64 resyncs() const { return m_resyncs; }

signals:
    // A new configuration version: announced, or found newer by a re-read.
    void changed(qint64 version);
    // The subscription is confirmed (after open() and after every reconnect).
    void listening();
    // A re-read after a (re)subscription failed; it is retried.
    void resyncFailed(const sluice::store::StoreError &error);

private:
    void onMessage(const QByteArray &channel, const QByteArray &payload);
    void onSubscribed(const QByteArray &channel);
    void tryResync();
    void report(qint64 version);

    QPointer<RedisSession> m_session;
    RedisConfigChannelOptions m_options;
    RedisScript m_publishScript;
    RedisSubscriber m_subscriber;
    QTimer m_resyncRetryTimer;
    qint64 m_lastReportedVersion = 0;
    // A re-read is owed for subscription number m_subscriptionGeneration.
    bool m_resyncPending = false;
    bool m_resyncInFlight = false;
    quint64 m_subscriptionGeneration = 0;
    quint64 m_resyncs = 0;
};

} // namespace sluice::store
