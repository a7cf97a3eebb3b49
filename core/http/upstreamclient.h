#pragma once

#include "http/proxysettings.h"
#include "http/upstreamcall.h"
#include "http/upstreamconnection.h"
#include "http/upstreamrequest.h"

#include <QHash>
#include <QList>
#include <QObject>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QTimer>

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

namespace sluice::http {

struct UpstreamClientOptions {
    // Idle keep-alive connections kept per origin (scheme + host + port + proxy); 0
    // disables reuse. When full, the longest-idle one is closed.
    int maxIdleConnectionsPerOrigin = 32;
    // A pooled connection unused for this long is closed; non-positive: never. Below the
    // providers' own keep-alive timeouts (60 s and up), so it is rarely the server that
    // closes a connection just as it is reused.
    std::chrono::milliseconds idleConnectionTimeout{50'000};
    // Status lines and header fields of one response (interim 1xx ones included).
    qint64 maxResponseHeaderBytes = 64 * 1024;
    ProxySettings proxy = ProxySettings::fromEnvironment();
    // Trusted in addition to the system's CAs (tests, private CAs).
    QList<QSslCertificate> extraCaCertificates;
};

// Makes HTTP/1.1 calls to model providers, with keep-alive connection reuse, timeouts,
// streaming with backpressure, http/https proxies and TLS (system CAs plus
// extraCaCertificates; the peer and its host name verified, SNI sent).
//
// Reuse: after a complete response that allows keep-alive, the connection returns to an
// idle pool per origin and the next call there takes it (most recently used first). If
// a request sent on a reused connection meets a close or reset before any response
// byte, it is retried once on a fresh connection, transparently (nothing was received,
// and a server closing an idle connection never processed it). A response not read to
// its end never returns its connection to the pool.
//
// Thread affinity: the thread that created it; start(), the calls' methods and all
// callbacks happen on that thread, and callbacks run from its event loop, never from
// inside start(). The gateway creates one per event-loop thread. Destroying it cancels
// every call without callbacks and closes the pool; do not destroy it from inside one of
// its callbacks (use deleteLater()).
class UpstreamClient : public QObject {
    Q_OBJECT
public:
    explicit UpstreamClient(UpstreamClientOptions options = {}, QObject *parent = nullptr);
    ~UpstreamClient() override;

    // Starts a call; its outcome arrives through `callbacks`. Never fails here: an invalid
    // request is reported through onError (InvalidRequest) from the event loop.
    std::shared_ptr<UpstreamCall> start(UpstreamRequest request, UpstreamCallbacks callbacks);

    struct Stats {
        quint64 connectionsOpened = 0; // connect attempts begun (retries included)
        quint64 connectionsReused = 0; // calls served by a pooled connection
        quint64 callsStarted = 0;
        quint64 callsFailed = 0;       // onError delivered (cancelled calls not counted)
        int idleConnections = 0;       // in the pool now
        int activeCalls = 0;           // started, not finished
    };
    Stats stats() const;
    const UpstreamClientOptions &options() const { return m_options; }

    // Closes every pooled connection (e.g. after a provider's address changed).
    void closeIdleConnections();

private:
    friend class UpstreamCall;

    // For UpstreamCall.
    UpstreamConnection *takeIdleConnection(const UpstreamEndpoint &endpoint);
    UpstreamConnection *openConnection(const UpstreamEndpoint &endpoint);
    void releaseConnection(UpstreamConnection *connection, bool reusable);
    void discardConnection(UpstreamConnection *connection);
    void callFinished(UpstreamCall *call, bool failed);

    void onParkedClosed(UpstreamConnection *connection);
    const QSslConfiguration &tlsConfiguration();

    UpstreamClientOptions m_options;
    std::optional<QSslConfiguration> m_tlsConfiguration; // built on first https use
    std::unordered_map<UpstreamCall *, std::shared_ptr<UpstreamCall>> m_activeCalls;
    // Finished calls are released from the event loop, so that none is destroyed inside
    // its own slot.
    std::vector<std::shared_ptr<UpstreamCall>> m_finishedCalls;
    QTimer m_releaseTimer;
    QHash<QString, std::deque<UpstreamConnection *>> m_idle; // oldest first
    Stats m_stats;
    bool m_destroying = false;
};

} // namespace sluice::http
