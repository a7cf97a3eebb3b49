#include "clients/adminclient.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace sluice::clients {

namespace {

const QString kAdminApi = QStringLiteral("the admin API");

HttpSourceOptions sourceOptions(const AdminClientOptions &options)
{
    HttpSourceOptions source;
    source.baseUrl = options.baseUrl;
    source.bearerToken = options.bearerToken;
    source.timeoutMs = options.timeoutMs;
    source.serviceName = kAdminApi;
    return source;
}

std::optional<QJsonObject> jsonObject(const QByteArray &body)
{
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(body, &parseError);
    if (parseError.error != QJsonParseError::NoError || !document.isObject())
        return std::nullopt;
    return document.object();
}

AdminError sourceFailure(SourceError error)
{
    AdminError failure;
    failure.kind = AdminErrorKind::Source;
    failure.source = std::move(error);
    return failure;
}

QList<AdminFieldError> fieldErrorsOf(const QJsonValue &value)
{
    QList<AdminFieldError> errors;
    for (const QJsonValue &entry : value.toArray()) {
        const QJsonObject object = entry.toObject();
        errors.append(AdminFieldError{object.value(QStringLiteral("path")).toString(),
                                      object.value(QStringLiteral("message")).toString()});
    }
    return errors;
}

QList<AdminFieldChange> changesOf(const QJsonValue &value)
{
    QList<AdminFieldChange> changes;
    for (const QJsonValue &entry : value.toArray()) {
        const QJsonObject object = entry.toObject();
        changes.append(AdminFieldChange{object.value(QStringLiteral("path")).toString(),
                                        object.value(QStringLiteral("old")), object.value(QStringLiteral("new"))});
    }
    return changes;
}

QByteArray compactJson(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

} // namespace

AdminClient::AdminClient(AdminClientOptions options, QNetworkAccessManager *network, QObject *parent)
    : QObject(parent), m_source(sourceOptions(options), network)
{
}

AdminError AdminClient::errorOf(const HttpSource &source, const HttpAnswer &answer)
{
    const std::optional<QJsonObject> body = jsonObject(answer.body);
    const QJsonObject error = body ? body->value(QStringLiteral("error")).toObject() : QJsonObject();
    // Every admin API error carries "errors" (empty for non-config errors); the data
    // plane's OpenAI-shaped errors, for one, do not.
    const bool isAdminError = error.value(QStringLiteral("type")).isString() && error.value(QStringLiteral("errors")).isArray();
    if (!isAdminError) {
        if (answer.status == 401 || answer.status == 403 || answer.status >= 500)
            return sourceFailure(source.statusError(answer));
        return sourceFailure(source.wrongProtocol(
            kAdminApi, QStringLiteral("it answered %1 without the admin API's error JSON").arg(answer.status)));
    }
    AdminError failure;
    failure.type = error.value(QStringLiteral("type")).toString();
    failure.message = error.value(QStringLiteral("message")).toString();
    failure.fieldErrors = fieldErrorsOf(error.value(QStringLiteral("errors")));
    failure.source = source.statusError(answer, failure.message);
    if (answer.status == 401 || answer.status == 403) {
        failure.kind = AdminErrorKind::Source;
    } else if (answer.status == 409) {
        failure.kind = AdminErrorKind::VersionConflict;
        const QJsonValue running = error.value(QStringLiteral("running_version"));
        if (running.isDouble())
            failure.runningVersion = qint64(running.toDouble());
        else if (const QByteArray header = answer.headers.value("x-sluice-config-version"); !header.isEmpty())
            failure.runningVersion = header.toLongLong();
        failure.runningEtag = error.value(QStringLiteral("etag")).toString();
        if (failure.runningEtag.isEmpty())
            failure.runningEtag = QString::fromLatin1(answer.headers.value("etag"));
    } else if (answer.status == 400
               && (failure.type == u"invalid_config" || failure.type == u"invalid_json")) {
        failure.kind = AdminErrorKind::InvalidConfig;
    } else {
        failure.kind = AdminErrorKind::Rejected;
    }
    return failure;
}

template <typename T, typename Parse>
RequestId AdminClient::request(HttpCall call, const QObject *context, Callback<T> done, Parse parse)
{
    call.headers.add("Accept", "application/json");
    return m_source.send(std::move(call), context,
                         [this, done = std::move(done), parse = std::move(parse)](Result<HttpAnswer, SourceError> answer) {
                             if (!answer) {
                                 done(unexpected(sourceFailure(std::move(answer).error())));
                                 return;
                             }
                             if (answer->status < 200 || answer->status > 299) {
                                 done(unexpected(errorOf(m_source, *answer)));
                                 return;
                             }
                             const std::optional<QJsonObject> body = jsonObject(answer->body);
                             if (!body) {
                                 done(unexpected(sourceFailure(m_source.wrongProtocol(
                                     kAdminApi, QStringLiteral("its answer is not a JSON object")))));
                                 return;
                             }
                             std::optional<T> parsed = parse(*answer, *body);
                             if (!parsed) {
                                 done(unexpected(sourceFailure(m_source.wrongProtocol(
                                     kAdminApi, QStringLiteral("its answer lacks the expected members")))));
                                 return;
                             }
                             done(std::move(*parsed));
                         });
}

RequestId AdminClient::instance(const QObject *context, Callback<AdminInstance> done)
{
    HttpCall call;
    call.path = QStringLiteral("/admin/v1/instance");
    return request<AdminInstance>(std::move(call), context, std::move(done),
                                  [](const HttpAnswer &, const QJsonObject &body) -> std::optional<AdminInstance> {
                                      if (!body.value(QStringLiteral("id")).isString())
                                          return std::nullopt;
                                      AdminInstance instance;
                                      instance.id = body.value(QStringLiteral("id")).toString();
                                      instance.version = body.value(QStringLiteral("version")).toString();
                                      instance.startedAtUtc = QDateTime::fromString(
                                          body.value(QStringLiteral("started_at")).toString(), Qt::ISODateWithMs);
                                      instance.uptimeSeconds = body.value(QStringLiteral("uptime_seconds")).toDouble();
                                      instance.configVersion =
                                          qint64(body.value(QStringLiteral("config_version")).toDouble());
                                      instance.configEtag = body.value(QStringLiteral("config_etag")).toString();
                                      for (const QJsonValue &listener : body.value(QStringLiteral("listeners")).toArray())
                                          instance.listeners.append(listener.toString());
                                      instance.adminUrl = body.value(QStringLiteral("admin")).toString();
                                      instance.inFlight = body.value(QStringLiteral("in_flight")).toInt();
                                      instance.ready = body.value(QStringLiteral("ready")).toBool();
                                      instance.json = body;
                                      return instance;
                                  });
}

RequestId AdminClient::stats(const QObject *context, Callback<QJsonObject> done)
{
    HttpCall call;
    call.path = QStringLiteral("/admin/v1/stats");
    return request<QJsonObject>(std::move(call), context, std::move(done),
                                [](const HttpAnswer &, const QJsonObject &body) -> std::optional<QJsonObject> {
                                    if (!body.value(QStringLiteral("requests")).isObject())
                                        return std::nullopt;
                                    return body;
                                });
}

RequestId AdminClient::config(const QObject *context, Callback<AdminConfigDocument> done)
{
    HttpCall call;
    call.path = QStringLiteral("/admin/v1/config");
    return request<AdminConfigDocument>(
        std::move(call), context, std::move(done),
        [](const HttpAnswer &answer, const QJsonObject &body) -> std::optional<AdminConfigDocument> {
            bool isNumber = false;
            const qint64 version = answer.headers.value("x-sluice-config-version").toLongLong(&isNumber);
            if (!isNumber)
                return std::nullopt;
            AdminConfigDocument document;
            document.config = body;
            document.json = answer.body;
            document.version = version;
            document.etag = QString::fromLatin1(answer.headers.value("etag"));
            return document;
        });
}

RequestId AdminClient::configHistory(const QObject *context, Callback<QList<AdminHistoryEntry>> done)
{
    HttpCall call;
    call.path = QStringLiteral("/admin/v1/config/history");
    return request<QList<AdminHistoryEntry>>(
        std::move(call), context, std::move(done),
        [](const HttpAnswer &, const QJsonObject &body) -> std::optional<QList<AdminHistoryEntry>> {
            const QJsonValue entries = body.value(QStringLiteral("entries"));
            if (!entries.isArray())
                return std::nullopt;
            QList<AdminHistoryEntry> history;
            for (const QJsonValue &value : entries.toArray()) {
                const QJsonObject entry = value.toObject();
                AdminHistoryEntry item;
                item.version = qint64(entry.value(QStringLiteral("version")).toDouble());
                item.appliedAtUtc =
                    QDateTime::fromString(entry.value(QStringLiteral("applied_at")).toString(), Qt::ISODateWithMs);
                item.who = entry.value(QStringLiteral("who")).toString();
                item.from = entry.value(QStringLiteral("from")).toString();
                item.comment = entry.value(QStringLiteral("comment")).toString();
                item.changeCount = entry.value(QStringLiteral("changes")).toInt();
                history.append(item);
            }
            return history;
        });
}

RequestId AdminClient::patchConfig(const QJsonObject &patch, const QString &ifMatch, const QString &comment,
                                   const QObject *context, Callback<AdminApplied> done)
{
    HttpCall call;
    call.method = "PATCH";
    call.path = QStringLiteral("/admin/v1/config");
    call.contentType = "application/merge-patch+json";
    call.body = compactJson(patch);
    if (!ifMatch.isEmpty())
        call.headers.add("If-Match", ifMatch.toLatin1());
    if (!comment.isEmpty()) {
        // A header value is one line of visible text.
        QString line = comment;
        line.replace(u'\r', u' ').replace(u'\n', u' ');
        call.headers.add("X-Sluice-Comment", line.toUtf8());
    }
    return request<AdminApplied>(std::move(call), context, std::move(done),
                                 [](const HttpAnswer &, const QJsonObject &body) -> std::optional<AdminApplied> {
                                     if (!body.value(QStringLiteral("version")).isDouble())
                                         return std::nullopt;
                                     AdminApplied applied;
                                     applied.version = qint64(body.value(QStringLiteral("version")).toDouble());
                                     applied.etag = body.value(QStringLiteral("etag")).toString();
                                     applied.changes = changesOf(body.value(QStringLiteral("changes")));
                                     return applied;
                                 });
}

RequestId AdminClient::validateConfig(const QJsonObject &configOrPatch, bool asPatch, const QObject *context,
                                      Callback<AdminValidation> done)
{
    HttpCall call;
    call.method = "POST";
    call.path = QStringLiteral("/admin/v1/config/validate");
    if (asPatch)
        call.query.addQueryItem(QStringLiteral("patch"), QStringLiteral("1"));
    call.contentType = asPatch ? "application/merge-patch+json" : "application/json";
    call.body = compactJson(configOrPatch);
    return request<AdminValidation>(std::move(call), context, std::move(done),
                                    [](const HttpAnswer &, const QJsonObject &body) -> std::optional<AdminValidation> {
                                        if (!body.value(QStringLiteral("valid")).isBool())
                                            return std::nullopt;
                                        AdminValidation validation;
                                        validation.valid = body.value(QStringLiteral("valid")).toBool();
                                        validation.changes = changesOf(body.value(QStringLiteral("changes")));
                                        validation.errors = fieldErrorsOf(body.value(QStringLiteral("errors")));
                                        return validation;
                                    });
}

RequestId AdminClient::flushCache(const QString &cacheNamespace, const QObject *context,
                                  Callback<AdminCacheFlush> done)
{
    HttpCall call;
    call.method = "POST";
    call.path = QStringLiteral("/admin/v1/cache/flush");
    call.contentType = "application/json";
    call.body = cacheNamespace.isEmpty() ? QByteArray("{}")
                                         : compactJson(QJsonObject{{QStringLiteral("namespace"), cacheNamespace}});
    return request<AdminCacheFlush>(std::move(call), context, std::move(done),
                                    [](const HttpAnswer &, const QJsonObject &body) -> std::optional<AdminCacheFlush> {
                                        if (!body.value(QStringLiteral("flushed_entries")).isDouble())
                                            return std::nullopt;
                                        return AdminCacheFlush{
                                            qint64(body.value(QStringLiteral("flushed_entries")).toDouble()),
                                            body.value(QStringLiteral("namespace")).toString()};
                                    });
}

} // namespace sluice::clients
