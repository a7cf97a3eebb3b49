#include "clients/prometheusclient.h"

#include "metrics/exposition.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <array>
#include <cmath>

namespace sluice::clients {

namespace {

HttpSourceOptions sourceOptions(const PrometheusClientOptions &options)
{
    HttpSourceOptions source;
    source.baseUrl = options.baseUrl;
    source.bearerToken = options.bearerToken;
    source.timeoutMs = options.timeoutMs;
    source.serviceName = QStringLiteral("Prometheus");
    return source;
}

QString unixSeconds(const QDateTime &time)
{
    return QString::number(double(time.toMSecsSinceEpoch()) / 1000.0, 'f', 3);
}

QByteArray formBody(const QList<std::pair<QString, QString>> &form)
{
    QByteArray body;
    for (const auto &[name, value] : form) {
        if (!body.isEmpty())
            body += '&';
        // Percent-encodes '+' too, which a form decoder would read as a space.
        body += QUrl::toPercentEncoding(name) + '=' + QUrl::toPercentEncoding(value);
    }
    return body;
}

// A [timestamp, "value"] pair.
std::optional<PromPoint> pointOf(const QJsonValue &value)
{
    const QJsonArray pair = value.toArray();
    if (pair.size() != 2 || !pair.at(0).isDouble() || !pair.at(1).isString())
        return std::nullopt;
    const std::string text = pair.at(1).toString().toStdString();
    const std::optional<double> parsed = metrics::parseValue(text);
    if (!parsed)
        return std::nullopt;
    return PromPoint{pair.at(0).toDouble(), *parsed};
}

std::map<QString, QString> labelsOf(const QJsonObject &metric)
{
    std::map<QString, QString> labels;
    for (auto it = metric.constBegin(); it != metric.constEnd(); ++it)
        labels.emplace(it.key(), it.value().toString());
    return labels;
}

} // namespace

QString PromSeries::label(const QString &name) const
{
    const auto found = labels.find(name);
    return found == labels.end() ? QString() : found->second;
}

PrometheusClient::PrometheusClient(PrometheusClientOptions options, QNetworkAccessManager *network, QObject *parent)
    : QObject(parent), m_source(sourceOptions(options), network)
{
}

RequestId PrometheusClient::query(const QString &promql, std::optional<QDateTime> at, const QObject *context,
                                  QueryCallback done)
{
    QList<std::pair<QString, QString>> form{{QStringLiteral("query"), promql}};
    if (at)
        form.append({QStringLiteral("time"), unixSeconds(*at)});
    return postQuery(QStringLiteral("/api/v1/query"), form, context, std::move(done));
}

RequestId PrometheusClient::queryRange(const QString &promql, const QDateTime &start, const QDateTime &end,
                                       double stepSeconds, const QObject *context, QueryCallback done)
{
    const QList<std::pair<QString, QString>> form{{QStringLiteral("query"), promql},
                                                  {QStringLiteral("start"), unixSeconds(start)},
                                                  {QStringLiteral("end"), unixSeconds(end)},
                                                  {QStringLiteral("step"), QString::number(stepSeconds, 'g', 12)}};
    return postQuery(QStringLiteral("/api/v1/query_range"), form, context, std::move(done));
}

RequestId PrometheusClient::postQuery(const QString &path, const QList<std::pair<QString, QString>> &form,
                                      const QObject *context, QueryCallback done)
{
    HttpCall call;
    call.method = "POST";
    call.path = path;
    call.contentType = "application/x-www-form-urlencoded";
    call.body = formBody(form);
    call.headers.add("Accept", "application/json");
    return m_source.send(std::move(call), context,
                         [this, done = std::move(done)](Result<HttpAnswer, SourceError> answer) {
                             if (!answer) {
                                 done(unexpected(std::move(answer).error()));
                                 return;
                             }
                             done(parseQueryAnswer(m_source, *answer));
                         });
}

RequestId PrometheusClient::buildInfo(const QObject *context, BuildInfoCallback done)
{
    HttpCall call;
    call.path = QStringLiteral("/api/v1/status/buildinfo");
    call.headers.add("Accept", "application/json");
    return m_source.send(std::move(call), context,
                         [this, done = std::move(done)](Result<HttpAnswer, SourceError> answer) {
                             if (!answer) {
                                 done(unexpected(std::move(answer).error()));
                                 return;
                             }
                             auto data = parseEnvelope(m_source, *answer);
                             if (data && !data->value(QStringLiteral("version")).isString()) {
                                 done(unexpected(m_source.wrongProtocol(
                                     QStringLiteral("Prometheus"), QStringLiteral("its build info has no version"))));
                                 return;
                             }
                             done(std::move(data));
                         });
}

Result<QJsonObject, SourceError> PrometheusClient::parseEnvelope(const HttpSource &source, const HttpAnswer &answer,
                                                                 QStringList *warnings)
{
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(answer.body, &parseError);
    const QJsonObject envelope = document.object();
    const QString status = envelope.value(QStringLiteral("status")).toString();
    const bool isPrometheus = parseError.error == QJsonParseError::NoError && document.isObject()
                              && (status == u"success" || status == u"error");
    if (!isPrometheus) {
        if (answer.status == 401 || answer.status == 403)
            return unexpected(source.statusError(answer));
        if (answer.status == 502 || answer.status == 503 || answer.status == 504)
            return unexpected(source.statusError(answer));
        const QString detail = answer.status >= 200 && answer.status <= 299
                                   ? QStringLiteral("its answer is not the Prometheus API's JSON")
                                   : QStringLiteral("it answered %1 without the Prometheus API's JSON").arg(answer.status);
        return unexpected(source.wrongProtocol(QStringLiteral("Prometheus"), detail));
    }
    if (status == u"error") {
        const QString errorType = envelope.value(QStringLiteral("errorType")).toString();
        const QString message = envelope.value(QStringLiteral("error")).toString();
        SourceError error;
        error.endpoint = source.endpoint();
        error.httpStatus = answer.status;
        if (answer.status == 401 || answer.status == 403) {
            error = source.statusError(answer, message);
        } else if (errorType == u"timeout") {
            error.kind = SourceErrorKind::TimedOut;
            error.message = QStringLiteral("timed out: Prometheus at %1 gave up on the query (%2)")
                                .arg(error.endpoint, message);
        } else {
            error.kind = SourceErrorKind::HttpStatus;
            error.message = QStringLiteral("Prometheus at %1 refused the query (%2): %3")
                                .arg(error.endpoint, errorType.isEmpty() ? QString::number(answer.status) : errorType,
                                     message);
        }
        return unexpected(std::move(error));
    }
    if (answer.status < 200 || answer.status > 299)
        return unexpected(source.statusError(answer));
    const QJsonValue data = envelope.value(QStringLiteral("data"));
    if (!data.isObject())
        return unexpected(source.wrongProtocol(QStringLiteral("Prometheus"), QStringLiteral("no data in its answer")));
    if (warnings) {
        for (const QJsonValue &warning : envelope.value(QStringLiteral("warnings")).toArray())
            warnings->append(warning.toString());
    }
    return data.toObject();
}

Result<PromQueryResult, SourceError> PrometheusClient::parseQueryAnswer(const HttpSource &source,
                                                                        const HttpAnswer &answer)
{
    PromQueryResult result;
    auto data = parseEnvelope(source, answer, &result.warnings);
    if (!data)
        return unexpected(std::move(data).error());
    const auto malformed = [&](const QString &what) {
        return unexpected(source.wrongProtocol(QStringLiteral("Prometheus"), what));
    };
    const QString type = data->value(QStringLiteral("resultType")).toString();
    const QJsonValue payload = data->value(QStringLiteral("result"));
    if (type == u"vector" || type == u"matrix") {
        result.type = type == u"vector" ? PromResultType::Vector : PromResultType::Matrix;
        if (!payload.isArray())
            return malformed(QStringLiteral("a %1 result that is not a list").arg(type));
        for (const QJsonValue &entry : payload.toArray()) {
            const QJsonObject object = entry.toObject();
            PromSeries series;
            series.labels = labelsOf(object.value(QStringLiteral("metric")).toObject());
            if (result.type == PromResultType::Vector) {
                const auto point = pointOf(object.value(QStringLiteral("value")));
                if (!point)
                    return malformed(QStringLiteral("a vector sample without a readable value"));
                series.points.push_back(*point);
            } else {
                for (const QJsonValue &value : object.value(QStringLiteral("values")).toArray()) {
                    const auto point = pointOf(value);
                    if (!point)
                        return malformed(QStringLiteral("a matrix point without a readable value"));
                    series.points.push_back(*point);
                }
            }
            result.series.push_back(std::move(series));
        }
        return result;
    }
    if (type == u"scalar") {
        result.type = PromResultType::Scalar;
        const auto point = pointOf(payload);
        if (!point)
            return malformed(QStringLiteral("a scalar without a readable value"));
        result.series.push_back(PromSeries{{}, {*point}});
        return result;
    }
    if (type == u"string") {
        result.type = PromResultType::String;
        result.stringValue = payload.toArray().at(1).toString();
        return result;
    }
    return malformed(QStringLiteral("an unknown result type \"%1\"").arg(type));
}

double PrometheusClient::stepFor(double rangeSeconds, int widthPixels)
{
    static constexpr std::array<double, 18> kSteps{1,    2,    5,    10,    15,    30,    60,    120,   300,
                                                   600,  900,  1800, 3600,  7200,  10800, 21600, 43200, 86400};
    if (!(rangeSeconds > 0) || std::isinf(rangeSeconds))
        return 1;
    const double points = std::max(1, widthPixels / 2);
    const double wanted = rangeSeconds / points;
    for (const double step : kSteps) {
        if (step >= wanted)
            return step;
    }
    return std::ceil(wanted / 86400) * 86400;
}

} // namespace sluice::clients
