#pragma once

#include "clients/httpsource.h"
#include "clients/sourceerror.h"
#include "clients/sourceprober.h"
#include "policy/result.h"

#include <QObject>
#include <QPointer>
#include <QString>

#include <functional>
#include <map>
#include <memory>

class QThread;
class QTimer;

namespace sluice::store {
class RedisSession;
struct StoreError;
} // namespace sluice::store

namespace sluice::clients {

// Where a Redis probe connects and how it authenticates.
struct RedisProbeTarget {
    // A host name (resolved with QHostInfo; a name that does not resolve is
    // NameNotFound) or an IP literal.
    QString host = QStringLiteral("127.0.0.1");
    quint16 port = 6379;
    int db = 0;       // SELECTed when not 0
    QString user;     // ACL user; empty: the default user
    QString password; // empty: no AUTH
};

// "Test connection" for Redis and PostgreSQL, with SourceProber's vocabulary
// (ProbeResult / SourceError), so the Connections panel shows every source alike.
//
// probeRedis(): a short-lived store::RedisSession (AUTH user/password and SELECT db
// during its handshake), then PING and INFO server pipelined. Ok: version is INFO's
// redis_version, roundTripMs the PING's round trip, details every "key: value" of INFO
// server (strings). A rejected AUTH (or NOAUTH, WRONGPASS) is AuthenticationFailed, a
// name that does not resolve NameNotFound, something that does not speak RESP
// WrongProtocol; the rest as sourceErrorFromStore().
//
// probePostgres(): libpqxx on a thread of its own (never the calling thread): connect
// (connect_timeout added from timeoutMs unless the string sets one, at least 2 s: libpq's
// minimum) and `SHOW server_version`. Ok: version is server_version, roundTripMs the
// query's round trip, details {"server_version_num": int, "endpoint": "host:port"}.
// Errors through store::storeErrorFromPostgres() then sourceErrorFromStore(), except
// "could not translate host name", which is NameNotFound. endpoint is the string's
// host:port when it names them (key/value or URI), else "postgresql".
//
// Both: the whole probe is bounded by timeoutMs (TimedOut past it, whatever the stage);
// the callback is called exactly once (Cancelled from inside cancel()) unless `context`
// is destroyed first or this object is destroyed; never from inside the probe call.
//
// Thread affinity: create, use and destroy on one thread with an event loop (the GUI
// thread). The destructor waits for PostgreSQL connection attempts still running on
// their threads (bounded by their connect_timeout); their answers are dropped.
class StoreProber : public QObject {
    Q_OBJECT
public:
    using Callback = SourceProber::Callback;

    explicit StoreProber(QObject *parent = nullptr);
    ~StoreProber() override;

    RequestId probeRedis(const RedisProbeTarget &target, int timeoutMs, const QObject *context, Callback done);
    RequestId probePostgres(const QString &connectionString, int timeoutMs, const QObject *context, Callback done);

    bool cancel(RequestId id);
    int cancelAll();
    int pendingCount() const { return int(m_probes.size()); }

    // "host:port" of a libpq connection string (key/value or URI); "postgresql" when it
    // names no host. Default port 5432, default host "localhost".
    static QString postgresEndpoint(const QString &connectionString);

private:
    struct Probe {
        QPointer<const QObject> context;
        bool hasContext = false;
        Callback done;
        QString endpoint;
        QTimer *deadline = nullptr;        // a child of this object
        store::RedisSession *redis = nullptr; // a child; deleted later
        int lookupId = -1;
    };

    void startRedisSession(RequestId id, const QString &address, const RedisProbeTarget &target, int timeoutMs);
    void onRedisReady(RequestId id);
    // Ends the probe (if still pending): frees what it holds, then calls back.
    void finish(RequestId id, Result<ProbeResult, SourceError> result);
    QTimer *startDeadline(RequestId id, int timeoutMs, const QString &endpoint);

    std::map<RequestId, Probe> m_probes;
    std::map<RequestId, QThread *> m_postgresThreads; // running, whether or not the probe still waits
    RequestId m_nextId = 1;
};

} // namespace sluice::clients
