#include "clients/sourceprober.h"

#include "clients/adminclient.h"
#include "clients/prometheusclient.h"

#include <QJsonDocument>
#include <QNetworkAccessManager>

namespace sluice::clients {

SourceProber::SourceProber(QNetworkAccessManager *network, QObject *parent) : QObject(parent), m_network(network)
{
    if (!m_network)
        m_network = new QNetworkAccessManager(this);
}

SourceProber::~SourceProber()
{
    // Before the network manager (a child) goes: the sources abort their replies quietly.
    m_probes.clear();
}

HttpSource *SourceProber::newSource(RequestId id, const QUrl &url, const QByteArray &token, int timeoutMs,
                                    const QString &serviceName)
{
    HttpSourceOptions options;
    options.baseUrl = url;
    options.bearerToken = token;
    options.timeoutMs = timeoutMs;
    options.serviceName = serviceName;
    Probe &probe = m_probes[id];
    probe.source = std::make_unique<HttpSource>(options, m_network);
    return probe.source.get();
}

void SourceProber::release(RequestId id)
{
    const auto it = m_probes.find(id);
    if (it == m_probes.end())
        return;
    if (it->second.contextConnection)
        disconnect(it->second.contextConnection);
    // Probably called from the source's own callback, which must not destroy it.
    it->second.source.release()->deleteLater();
    m_probes.erase(it);
}

bool SourceProber::cancel(RequestId id)
{
    const auto it = m_probes.find(id);
    if (it == m_probes.end())
        return false;
    return it->second.source->cancel(it->second.sourceRequest);
}

int SourceProber::cancelAll()
{
    std::vector<RequestId> ids;
    for (const auto &entry : m_probes)
        ids.push_back(entry.first);
    int cancelled = 0;
    for (const RequestId id : ids)
        cancelled += cancel(id) ? 1 : 0;
    return cancelled;
}

RequestId SourceProber::probeAdmin(const QUrl &url, const QByteArray &token, int timeoutMs, const QObject *context,
                                   Callback done)
{
    const RequestId id = m_nextId++;
    HttpSource *source = newSource(id, url, token, timeoutMs, QStringLiteral("the admin API"));
    HttpCall call;
    call.path = QStringLiteral("/admin/v1/instance");
    call.headers.add("Accept", "application/json");
    if (context)
        m_probes[id].contextConnection = connect(context, &QObject::destroyed, this, [this, id] { release(id); });
    m_probes[id].sourceRequest = source->send(
        std::move(call), context, [this, id, source, done = std::move(done)](Result<HttpAnswer, SourceError> answer) {
            Result<ProbeResult, SourceError> result = unexpected(SourceError{});
            if (!answer) {
                result = unexpected(std::move(answer).error());
            } else if (answer->status < 200 || answer->status > 299) {
                result = unexpected(AdminClient::errorOf(*source, *answer).source);
            } else {
                const QJsonObject body = QJsonDocument::fromJson(answer->body).object();
                if (!body.value(QStringLiteral("id")).isString()) {
                    result = unexpected(source->wrongProtocol(QStringLiteral("the admin API"),
                                                              QStringLiteral("no instance id in its answer")));
                } else {
                    ProbeResult probe;
                    probe.endpoint = source->endpoint();
                    probe.serverId = body.value(QStringLiteral("id")).toString();
                    probe.version = body.value(QStringLiteral("version")).toString();
                    probe.roundTripMs = answer->finishedAtMs - answer->sentAtMs;
                    probe.details = body;
                    result = std::move(probe);
                }
            }
            release(id);
            done(std::move(result));
        });
    return id;
}

RequestId SourceProber::probePrometheus(const QUrl &url, const QByteArray &token, int timeoutMs,
                                        const QObject *context, Callback done)
{
    const RequestId id = m_nextId++;
    HttpSource *source = newSource(id, url, token, timeoutMs, QStringLiteral("Prometheus"));
    HttpCall call;
    call.path = QStringLiteral("/api/v1/status/buildinfo");
    call.headers.add("Accept", "application/json");
    if (context)
        m_probes[id].contextConnection = connect(context, &QObject::destroyed, this, [this, id] { release(id); });
    m_probes[id].sourceRequest = source->send(
        std::move(call), context, [this, id, source, done = std::move(done)](Result<HttpAnswer, SourceError> answer) {
            Result<ProbeResult, SourceError> result = unexpected(SourceError{});
            if (!answer) {
                result = unexpected(std::move(answer).error());
            } else if (auto data = PrometheusClient::parseEnvelope(*source, *answer); !data) {
                result = unexpected(std::move(data).error());
            } else if (!data->value(QStringLiteral("version")).isString()) {
                result = unexpected(
                    source->wrongProtocol(QStringLiteral("Prometheus"), QStringLiteral("its build info has no version")));
            } else {
                ProbeResult probe;
                probe.endpoint = source->endpoint();
                probe.version = data->value(QStringLiteral("version")).toString();
                probe.roundTripMs = answer->finishedAtMs - answer->sentAtMs;
                probe.details = *data;
                result = std::move(probe);
            }
            release(id);
            done(std::move(result));
        });
    return id;
}

} // namespace sluice::clients
