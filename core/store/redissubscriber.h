#pragma once

#include "store/redisreply.h"
#include "store/redissession.h"

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QSet>

namespace sluice::store {

// Redis pub/sub on a connection of its own: owns a RedisSession used for SUBSCRIBE only
// (in RESP2 subscribe mode Redis answers nothing else on it). The channels asked for are
// wanted for the subscriber's life and sent again whenever the session becomes Ready, so
// they survive reconnects. Redis keeps nothing for a subscriber that is away: what was
// published while the connection was down is lost. subscribed() marks the moment from
// which messages arrive again, so a caller can re-read whatever state the channel
// announces (RedisConfigChannel does).
//
// Thread affinity: the owner thread, with a running event loop, like its session. Slots
// of its signals may destroy it.
class RedisSubscriber : public QObject {
    Q_OBJECT
public:
    // `options`: the subscriber's own connection (its command timeout does not apply to
    // subscriptions).
    explicit RedisSubscriber(RedisSessionOptions options, QObject *parent = nullptr);
    ~RedisSubscriber() override;

    // Connects, and reconnects whenever the connection is lost, until close().
    void open();
    // Drops the connection and with it every subscription; the channels stay wanted and
    // are subscribed again by the next open().
    void close();
    bool isOpen() const { return m_session.isOpen(); }

    // Adds channels (exact names, binary-safe); ones already wanted are ignored. Sent at
    // once when the connection is Ready, else as soon as it is. There is no unsubscribe
    // (see RedisSession::subscribe()): destroy the subscriber to stop listening.
    void subscribe(const QList<QByteArray> &channels);
    // The wanted channels, in the order first asked for.
    const QList<QByteArray> &channels() const { return m_channels; }
    // The server confirmed `channel` on the current connection.
    bool isSubscribed(const QByteArray &channel) const { return m_confirmed.contains(channel); }
    // Every wanted channel is confirmed (false while none is wanted).
    bool isSubscribedToAll() const;

    // The connection, for its state, errors and counters; not for commands.
    const RedisSession &session() const { return m_session; }
    // Messages emitted so far.
    quint64 messagesReceived() const { return m_messagesReceived; }

signals:
    void message(const QByteArray &channel, const QByteArray &payload);
    // The server confirmed `channel` on a new connection (the first one, or after a
    // reconnect): messages published from now on arrive, earlier ones may be lost.
    void subscribed(const QByteArray &channel);
    // The connection that carried confirmed or requested subscriptions ended (lost, or
    // close()): nothing arrives until subscribed() again.
    void subscriptionsLost();

private:
    void onStateChanged(RedisSession::State state);
    void onPush(const RedisReply &push);
    void sendSubscriptions(const QList<QByteArray> &channels);

    RedisSession m_session;
    QList<QByteArray> m_channels;
    QSet<QByteArray> m_wanted;
    // SUBSCRIBE sent on the current connection, and of those the confirmed ones.
    QSet<QByteArray> m_sent;
    QSet<QByteArray> m_confirmed;
    quint64 m_messagesReceived = 0;
};

} // namespace sluice::store
