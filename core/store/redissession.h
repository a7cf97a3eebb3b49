#pragma once

#include "policy/result.h"
#include "store/redisreply.h"
#include "store/storeerror.h"

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QTimer>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <vector>

struct redisAsyncContext;
struct redisReply;
class RedisQtAdapter;

namespace sluice::store {

// Where and how a RedisSession connects. Durations are wall-clock, measured on the
// session's thread; a zero or negative timeout disables it.
struct RedisSessionOptions {
    // A host name (resolved with QHostInfo, never by hiredis) or an IP literal.
    QString host = QStringLiteral("127.0.0.1");
    quint16 port = 6379;
    // SELECTed after AUTH when not 0.
    int db = 0;
    // ACL user for "AUTH user password"; empty: "AUTH password" (the default user).
    QString user;
    // Empty: no AUTH at all.
    QString password;
    // From the start of an attempt (name lookup) until Ready, AUTH and SELECT included.
    std::chrono::milliseconds connectTimeout{2'000};
    // From a command being handed to hiredis until its answer. A command past it fails
    // with Timeout (the server may still run it); the connection stays up and the late
    // answer is discarded. Commands queued behind a slow one time out with it.
    std::chrono::milliseconds commandTimeout{1'000};
    // Reconnect pacing after a lost connection or a failed attempt: the first retry
    // after reconnectMin, then a uniform draw in [c/2, c], never below reconnectMin,
    // with c = min(reconnectMax, reconnectMin * 2^failures). Reset once Ready.
    std::chrono::milliseconds reconnectMin{100};
    std::chrono::milliseconds reconnectMax{5'000};
};

// Counters for metrics; monotonic for the session's life.
struct RedisSessionStats {
    quint64 commandsSent = 0;     // handed to hiredis (AUTH and SELECT included)
    quint64 repliesReceived = 0;  // answers that reached their command in time, error answers included
    quint64 commandErrors = 0;    // callbacks delivered with an error, whatever the kind
    quint64 commandTimeouts = 0;  // of those, Timeout
    quint64 connectAttempts = 0;  // attempts begun (name lookup or connect)
    quint64 connectFailures = 0;  // attempts that ended before Ready
    quint64 reconnects = 0;       // Ready reached again after a connection had been Ready
    // Summed over repliesReceived: divide for the mean round trip.
    std::chrono::nanoseconds roundTripTotal{0};
};

// One connection to one Redis server: owns the hiredis async context and its Qt adapter
// (socket notifiers on the session's event loop), so nothing ever blocks that loop. Host
// names are resolved with QHostInfo first (hiredis 0.14 would block in getaddrinfo);
// connect and command timeouts are QTimers (hiredis 0.14 has none).
//
// States: Disconnected → Resolving (skipped for an IP literal) → Connecting →
// Authenticating (when a password is set) → Selecting (when db != 0) → Ready. A failure
// on the way, a lost connection or a timed-out attempt goes back to Disconnected, sets
// lastError() and, while the session is open, schedules the next attempt (backoff in
// RedisSessionOptions). A rejected AUTH is retried like any failure: the server's
// configuration may be fixed meanwhile; lastError() says Authentication.
//
// Commands: command() sends at once when Ready; hiredis writes them back to back, so
// commands issued together are pipelined and answered in order. While not Ready a
// command fails with NotConnected without being sent. Each callback is called exactly
// once — with the answer, or with an error (Timeout, NotConnected when the connection is
// lost with the command in flight, Cancelled by close(), Server / Authentication for an
// error answer) — unless its context object has been destroyed by then, in which case
// it is dropped. Callbacks never run from inside command(); they may call command(),
// close() or delete the session.
//
// Pub/sub: subscribe() puts the connection in RESP2 subscribe mode, where Redis answers
// only subscription commands; the session then hands every push for its channels to
// pushReceived() and refuses command() until the connection ends. Subscriptions belong
// to a connection: after a reconnect the session is an ordinary one again and nothing is
// subscribed until subscribe() is called again. A session for subscribing is best kept
// for that alone (RedisSubscriber owns one).
//
// Thread affinity: the owner thread (the one that created it); every method, every
// callback and every signal happen there, and it needs a running event loop. Contexts
// must live on the same thread. Destroying the session drops pending callbacks without
// calling them (call close() first to have them called with Cancelled) and frees the
// connection; it may be destroyed from inside one of its callbacks or signals.
class RedisSession : public QObject {
    Q_OBJECT
public:
    enum class State { Disconnected, Resolving, Connecting, Authenticating, Selecting, Ready };
    Q_ENUM(State)

    using Callback = std::function<void(Result<RedisReply, StoreError>)>;

    explicit RedisSession(RedisSessionOptions options, QObject *parent = nullptr);
    ~RedisSession() override;

    // Starts connecting (and reconnecting whenever the connection is lost) until close().
    // Does nothing while already open.
    void open();
    // Stops: drops the connection or the attempt in progress, fails every pending command
    // with Cancelled and stays Disconnected until open(). Does nothing while closed.
    void close();
    bool isOpen() const { return m_open; }

    State state() const { return m_state; }
    bool isReady() const { return m_state == State::Ready; }
    // Why the session last left (or failed to reach) Ready; kind NotConnected with an
    // empty message before anything went wrong.
    const StoreError &lastError() const { return m_lastError; }
    const RedisSessionOptions &options() const { return m_options; }
    RedisSessionStats stats() const { return m_stats; }

    // Sends one command, e.g. {"SET", key, value}. Arguments are binary-safe. `context`
    // bounds the callback's life (null: the session itself); see the class comment.
    void command(QList<QByteArray> args, QObject *context, Callback callback);

    // SUBSCRIBE to `channels` (exact names, binary-safe) on the current connection, which
    // stays in subscribe mode for its life. Returns false, sending nothing, while not
    // Ready or for an empty list. No command timeout applies and no callback: the server's
    // confirmation ["subscribe", channel, count] for each channel, then every
    // ["message", channel, payload], arrive as pushReceived() until the connection ends.
    // In subscribe mode command() fails with Protocol without sending: hiredis 0.14 drops
    // the connection on any error answer there, and Redis answers most commands with
    // one. For the same reason a refused SUBSCRIBE (an ACL without the channel) costs
    // the connection; lastError() carries the server's message. SUBSCRIBE and the other
    // subscription commands (and MONITOR) are always refused by command() with
    // Protocol: hiredis routes their answers differently. There is no unsubscribe:
    // hiredis 0.14 fails an assertion when a pipelined SUBSCRIBE is answered after the
    // UNSUBSCRIBE of the last channel; to stop listening, close the session.
    bool subscribe(const QList<QByteArray> &channels);
    // subscribe() succeeded on the current connection.
    bool isSubscribeMode() const { return m_subscribeMode; }

    static QString stateName(State state);

signals:
    // A pub/sub push (an array, see subscribe()), emitted while hiredis reads the
    // connection: a slot may close() or destroy the session.
    void pushReceived(const sluice::store::RedisReply &push);
    void stateChanged(sluice::store::RedisSession::State state);
    // A connection attempt failed or an established connection was lost (also in lastError()).
    void connectionError(const sluice::store::StoreError &error);

private:
    struct Pending {
        QPointer<QObject> context; // the caller's, or the session itself
        Callback callback;
        std::chrono::steady_clock::time_point sentAt;
        std::chrono::steady_clock::time_point deadline;
    };
    struct Delivery {
        Pending pending;
        Result<RedisReply, StoreError> result;
    };
    using PendingMap = std::map<std::uint64_t, Pending>;

    static void onHiredisConnect(const redisAsyncContext *context, int status);
    static void onHiredisDisconnect(const redisAsyncContext *context, int status);
    static void onHiredisReply(redisAsyncContext *context, void *reply, void *privateData);

    void startAttempt();
    void connectTo(const QString &address);
    void startHandshake(quint64 generation);
    void sendHandshakeSelect();
    void becomeReady();
    void handleReply(std::uint64_t id, const redisReply &reply);
    void handlePush(const redisReply &reply);
    // Hands the command to hiredis and tracks it; false when hiredis refused it.
    bool send(const QList<QByteArray> &args, const Pending &pending);
    void failAttempt(StoreError error);
    // Forgets the context (freeing it unless hiredis is about to), goes Disconnected and
    // fails what was pending with `pendingError`. With a `failure` (anything but
    // close()) it also sets lastError(), emits connectionError() and schedules the next
    // attempt. Returns false if a callback or a slot destroyed the session meanwhile.
    bool dropConnection(StoreError pendingError, std::optional<StoreError> failure, bool hiredisFreesContext);
    // Cuts hiredis' hooks to this object, deletes the adapter and frees the context
    // unless hiredis frees it itself (inside its connect-failure and disconnect callbacks).
    void releaseContext(bool hiredisFreesContext);
    void scheduleReconnect();
    void setState(State state);
    void armCommandTimer();
    void expireCommands();
    void deliverLater(Pending pending, StoreError error);
    // Calls each delivery's callback unless its context died; stops early if a callback
    // destroyed the session. Returns false then.
    bool deliver(std::vector<Delivery> deliveries);

    RedisSessionOptions m_options;
    State m_state = State::Disconnected;
    StoreError m_lastError{StoreErrorKind::NotConnected, {}};
    bool m_open = false;
    // Bumped whenever an attempt or a connection ends, so stale lookups, queued handshake
    // steps and handshake answers recognise themselves.
    quint64 m_generation = 0;
    int m_lookupId = -1;
    redisAsyncContext *m_context = nullptr; // freed by hiredis or by releaseContext(), never owned by a smart pointer
    RedisQtAdapter *m_adapter = nullptr;    // deleted in releaseContext(), while the context is still alive
    PendingMap m_pending;
    std::uint64_t m_nextId = 1;
    QTimer m_connectTimer;
    QTimer m_commandTimer;
    QTimer m_reconnectTimer;
    int m_failedAttempts = 0;
    bool m_wasReady = false;
    bool m_subscribeMode = false; // subscribe() sent on the current connection
    std::mt19937_64 m_random;
    RedisSessionStats m_stats;
};

} // namespace sluice::store
