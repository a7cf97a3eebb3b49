#pragma once

#include "clients/httpsource.h"
#include "clients/sourceerror.h"
#include "policy/result.h"

#include <QDateTime>
#include <QJsonObject>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QUrl>

#include <functional>
#include <map>
#include <optional>
#include <vector>

class QNetworkAccessManager;

namespace sluice::clients {

struct PromPoint {
    double timestampSeconds = 0; // Unix seconds
    double value = 0;            // NaN and ±Inf as Prometheus sent them
};

// One series of a query result: its label set (the __name__ included when the result
// kept it) and its points in time order (one for an instant vector).
struct PromSeries {
    std::map<QString, QString> labels;
    std::vector<PromPoint> points;

    QString label(const QString &name) const;
};

enum class PromResultType { Vector, Matrix, Scalar, String };

struct PromQueryResult {
    PromResultType type = PromResultType::Vector;
    // Vector and matrix: one entry per series. Scalar: one entry without labels.
    // String: empty (see stringValue).
    std::vector<PromSeries> series;
    QString stringValue;
    // Prometheus' warnings (e.g. a partial answer from a remote read).
    QStringList warnings;
};

struct PrometheusClientOptions {
    // Prometheus' base URL, optionally with a path prefix: "http://prometheus:9090",
    // "https://monitoring.example/prometheus".
    QUrl baseUrl;
    // Optional bearer token (Prometheus behind an authenticating proxy).
    QByteArray bearerToken;
    // One request, connect to complete answer.
    int timeoutMs = 15'000;
};

// Prometheus' HTTP API for the console's history charts: instant and range queries
// (POSTed as forms, so any PromQL travels intact) and the build info for the probe.
//
// Errors: transport errors as HttpSource reports them; Prometheus' own error JSON
// ({"status":"error","errorType":"bad_data","error":"parse error ..."}) becomes
// HttpStatus with "Prometheus at host:port refused the query (bad_data): parse error
// ..." (errorType "timeout" becomes TimedOut); 401/403 AuthenticationFailed; 502, 503
// and 504 without Prometheus JSON (a proxy in front of it) HttpStatus; any other
// answer that is not Prometheus' JSON envelope WrongProtocol.
//
// Every call returns a RequestId for cancel(); the callback is called exactly once
// (Cancelled from inside cancel()) unless `context` is destroyed first or this object
// is destroyed. Thread affinity: as HttpSource (one thread with an event loop; the
// GUI thread).
class PrometheusClient : public QObject {
    Q_OBJECT
public:
    using QueryCallback = std::function<void(Result<PromQueryResult, SourceError>)>;
    using BuildInfoCallback = std::function<void(Result<QJsonObject, SourceError>)>;

    explicit PrometheusClient(PrometheusClientOptions options, QNetworkAccessManager *network = nullptr,
                              QObject *parent = nullptr);

    // /api/v1/query at `at` (nullopt: Prometheus' now).
    RequestId query(const QString &promql, std::optional<QDateTime> at, const QObject *context,
                    QueryCallback done);
    // /api/v1/query_range from `start` to `end` every `stepSeconds` (> 0; see stepFor()).
    RequestId queryRange(const QString &promql, const QDateTime &start, const QDateTime &end, double stepSeconds,
                         const QObject *context, QueryCallback done);
    // /api/v1/status/buildinfo: the "data" object (version, revision, goVersion, ...).
    RequestId buildInfo(const QObject *context, BuildInfoCallback done);

    bool cancel(RequestId id) { return m_source.cancel(id); }
    int cancelAll() { return m_source.cancelAll(); }
    QString endpoint() const { return m_source.endpoint(); }

    // A Prometheus-friendly step for a chart `widthPixels` wide showing `rangeSeconds`:
    // about one point per 2 pixels, rounded up to 1, 2, 5, 10, 15, 30 s, 1, 2, 5, 10, 15,
    // 30 min, 1, 2, 3, 6, 12 h, then whole days; never below 1 s.
    static double stepFor(double rangeSeconds, int widthPixels);

    // The "data" of an API answer (its "warnings" appended to `warnings`, if given), or
    // the error it stands for (as described above). Public for tests; `source` names
    // the endpoint in messages.
    static Result<QJsonObject, SourceError> parseEnvelope(const HttpSource &source, const HttpAnswer &answer,
                                                          QStringList *warnings = nullptr);
    static Result<PromQueryResult, SourceError> parseQueryAnswer(const HttpSource &source, const HttpAnswer &answer);

private:
    RequestId postQuery(const QString &path, const QList<std::pair<QString, QString>> &form, const QObject *context,
                        QueryCallback done);

    HttpSource m_source;
};

} // namespace sluice::clients
