#pragma once

#include "clients/httpsource.h"
#include "clients/sourceerror.h"
#include "policy/result.h"

#include <QJsonObject>
#include <QObject>
#include <QString>
#include <QUrl>

#include <functional>
#include <map>
#include <memory>

class QNetworkAccessManager;

namespace sluice::clients {

// What a successful probe found.
struct ProbeResult {
    QString endpoint;  // "host:port"
    QString serverId;  // the gateway's instance id; empty for Prometheus
    QString version;   // the gateway's or Prometheus' version
    qint64 roundTripMs = 0;
    QJsonObject details; // the answer's JSON (instance info, Prometheus build info)
};

// "Test connection" for the console's Connections panel: one request per probe that
// says whether the address is the service the operator meant, or precisely why not
// (SourceError). HTTP sources live here; the Redis and PostgreSQL probes join them
// with the same ProbeResult / SourceError vocabulary (sourceErrorFromStore()).
//
// Each probe uses its own connection settings and timeout and returns a RequestId for
// cancel(); its callback is called exactly once (Cancelled from inside cancel())
// unless `context` is destroyed first or this object is destroyed.
//
// Thread affinity: create, use and destroy on one thread with an event loop (the GUI
// thread). `network`, when given, must outlive this object.
class SourceProber : public QObject {
    Q_OBJECT
public:
    using Callback = std::function<void(Result<ProbeResult, SourceError>)>;

    explicit SourceProber(QNetworkAccessManager *network = nullptr, QObject *parent = nullptr);
    ~SourceProber() override;

    // GET <url>/admin/v1/instance with the bearer token: ok with the instance id and
    // version. 401/403 AuthenticationFailed; an answer without the instance shape
    // WrongProtocol.
    RequestId probeAdmin(const QUrl &url, const QByteArray &token, int timeoutMs, const QObject *context,
                         Callback done);
    // GET <url>/api/v1/status/buildinfo: ok with Prometheus' version; anything that is
    // not Prometheus' answer (a gateway's /metrics URL, a web page) WrongProtocol.
    RequestId probePrometheus(const QUrl &url, const QByteArray &token, int timeoutMs, const QObject *context,
                              Callback done);

    bool cancel(RequestId id);
    int cancelAll();
    int pendingCount() const { return int(m_probes.size()); }

private:
    struct Probe {
        std::unique_ptr<HttpSource> source;
        RequestId sourceRequest = 0;
        QMetaObject::Connection contextConnection;
    };
    HttpSource *newSource(RequestId id, const QUrl &url, const QByteArray &token, int timeoutMs,
                          const QString &serviceName);
    void release(RequestId id);

    QNetworkAccessManager *m_network = nullptr;
    std::map<RequestId, Probe> m_probes;
    RequestId m_nextId = 1;
};

} // namespace sluice::clients
