#pragma once

#include "clients/httpsource.h"
#include "clients/sourceerror.h"
#include "policy/result.h"

#include <QDateTime>
#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QUrl>

#include <functional>
#include <optional>

class QNetworkAccessManager;

namespace sluice::clients {

// A configuration problem as the admin API names it: a field path and why.
struct AdminFieldError {
    QString path;    // "$.cache.ttl_seconds"
    QString message;
};

enum class AdminErrorKind {
    // No usable answer from the admin API: see `source` (refused, timed out, 401/403
    // AuthenticationFailed, not the admin API at all WrongProtocol, ...).
    Source,
    // 409: If-Match named another version than the one running; runningVersion and
    // runningEtag say which runs now.
    VersionConflict,
    // 400 invalid_config or invalid_json: fieldErrors lists every problem.
    InvalidConfig,
    // Any other error answer of the admin API (400 invalid_request, 404, 405, 415, 5xx):
    // `type` and `message` are the API's own.
    Rejected,
};

// An admin API failure. `source` is always filled (kind HttpStatus with the status for
// answers of the API), so one line for any failure is source.message.
struct AdminError {
    AdminErrorKind kind = AdminErrorKind::Source;
    SourceError source;
    // From the body {"error":{"type","message","errors":[{path,message}]}}.
    QString type;
    QString message;
    QList<AdminFieldError> fieldErrors;
    // VersionConflict only.
    std::optional<qint64> runningVersion;
    QString runningEtag;
};

// GET /admin/v1/instance.
struct AdminInstance {
    QString id;
    QString version;
    QDateTime startedAtUtc;
    double uptimeSeconds = 0;
    qint64 configVersion = 0;
    QString configEtag;
    QStringList listeners;
    QString adminUrl;
    int inFlight = 0;
    bool ready = false;
    QJsonObject json; // the whole answer
};

// GET /admin/v1/config: the running configuration as the gateway saved it.
struct AdminConfigDocument {
    QJsonObject config;
    QByteArray json; // the body as received
    qint64 version = 0; // X-Sluice-Config-Version
    QString etag;       // ETag, quotes included: pass it back as If-Match
};

// One changed field of a configuration change.
struct AdminFieldChange {
    QString path;
    QJsonValue oldValue; // Null when the field was added
    QJsonValue newValue; // Null when the field was removed
};

// PATCH /admin/v1/config answered 200.
struct AdminApplied {
    qint64 version = 0;
    QString etag;
    QList<AdminFieldChange> changes;
};

// POST /admin/v1/config/validate.
struct AdminValidation {
    bool valid = false;
    QList<AdminFieldChange> changes;   // when valid
    QList<AdminFieldError> errors;     // when not
};

// GET /admin/v1/config/history: one entry, newest first.
struct AdminHistoryEntry {
    qint64 version = 0;
    QDateTime appliedAtUtc;
    QString who;
    QString from;
    QString comment;
    int changeCount = 0;
};

// POST /admin/v1/cache/flush.
struct AdminCacheFlush {
    qint64 flushedEntries = 0;
    QString cacheNamespace;
};

struct AdminClientOptions {
    // The admin listener, e.g. "http://127.0.0.1:9090" (a path prefix is kept).
    QUrl baseUrl;
    // The admin token in plain text, sent as `Authorization: Bearer`; empty: none (an
    // admin listener on loopback without a token).
    QByteArray bearerToken;
    int timeoutMs = 10'000;
};

// The gateway's admin API (gateway/adminapi.h), asynchronously, for the console's
// Tuning and Connections panels. Each call returns a RequestId for cancel(); its
// callback is called exactly once (Cancelled from inside cancel()) unless `context`
// is destroyed first or this object is destroyed.
//
// Answers that are not the admin API's (no JSON, or JSON without the expected shape)
// are WrongProtocol, so a console pointed at the wrong port says so.
//
// Thread affinity: as HttpSource (one thread with an event loop; the GUI thread).
class AdminClient : public QObject {
    Q_OBJECT
public:
    template <typename T>
    using Callback = std::function<void(Result<T, AdminError>)>;

    explicit AdminClient(AdminClientOptions options, QNetworkAccessManager *network = nullptr,
                         QObject *parent = nullptr);

    RequestId instance(const QObject *context, Callback<AdminInstance> done);
    // The body of /admin/v1/stats (see GatewayMetrics::snapshot() and
    // Gateway::statsSnapshot() for its members).
    RequestId stats(const QObject *context, Callback<QJsonObject> done);
    RequestId config(const QObject *context, Callback<AdminConfigDocument> done);
    RequestId configHistory(const QObject *context, Callback<QList<AdminHistoryEntry>> done);
    // An RFC 7396 merge patch over the running configuration. `ifMatch`: an ETag (as
    // AdminConfigDocument::etag), a version number, "*" or empty (none: the gateway
    // re-applies the patch over a config that changed meanwhile). `comment` goes to the
    // history (X-Sluice-Comment); empty: none.
    RequestId patchConfig(const QJsonObject &patch, const QString &ifMatch, const QString &comment,
                          const QObject *context, Callback<AdminApplied> done);
    // A dry run: a whole configuration, or (asPatch) a merge patch over the running one.
    RequestId validateConfig(const QJsonObject &configOrPatch, bool asPatch, const QObject *context,
                             Callback<AdminValidation> done);
    // Empties the response cache, or one namespace of it (empty: all).
    RequestId flushCache(const QString &cacheNamespace, const QObject *context, Callback<AdminCacheFlush> done);

    bool cancel(RequestId id) { return m_source.cancel(id); }
    int cancelAll() { return m_source.cancelAll(); }
    QString endpoint() const { return m_source.endpoint(); }
    void setBearerToken(QByteArray token) { m_source.setBearerToken(std::move(token)); }

    // The error an answer with a non-2xx status stands for (public for tests).
    static AdminError errorOf(const HttpSource &source, const HttpAnswer &answer);

private:
    // Sends `call`; a 2xx JSON object answer goes to `parse`, anything else becomes an
    // AdminError.
    template <typename T, typename Parse>
    RequestId request(HttpCall call, const QObject *context, Callback<T> done, Parse parse);

    HttpSource m_source;
};

} // namespace sluice::clients
