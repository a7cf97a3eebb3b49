#include "gateway/adminapi.h"

#include "config/configloader.h"
#include "config/configpath.h"
#include "config/configwriter.h"
#include "config/mergepatch.h"
#include "http/httpheaders.h"

#include <QCryptographicHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTimer>
#include <QUrlQuery>

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace sluice::gateway {

struct AdminReply {
    int status = 200;
    http::HttpHeaders headers;
    QByteArray body;
};

namespace {

constexpr std::string_view kRequestsMetric = "sluice_admin_requests_total";
constexpr std::string_view kAuthFailuresMetric = "sluice_admin_auth_failures_total";
constexpr int kPatchAttempts = 3;
constexpr qsizetype kMaxCommentCharacters = 1024;

const QByteArray kJson = QByteArrayLiteral("application/json");
const QByteArray kMergePatchJson = QByteArrayLiteral("application/merge-patch+json");

AdminReply jsonReply(int status, const QJsonObject &object, http::HttpHeaders headers = {})
{
    headers.set("Content-Type", kJson);
    headers.set("Cache-Control", "no-store");
    return AdminReply{status, std::move(headers), QJsonDocument(object).toJson(QJsonDocument::Compact)};
}

QJsonArray errorsJson(const config::ConfigErrors &errors)
{
    QJsonArray array;
    for (const config::ConfigError &error : errors)
        array.append(QJsonObject{{QStringLiteral("path"), error.path}, {QStringLiteral("message"), error.reason}});
    return array;
}

AdminReply errorReply(int status, const QString &type, const QString &message,
                           const config::ConfigErrors &errors = {}, http::HttpHeaders headers = {},
                           const QJsonObject &extra = {})
{
    QJsonObject error = extra;
    error.insert(QStringLiteral("type"), type);
    error.insert(QStringLiteral("message"), message);
    error.insert(QStringLiteral("errors"), errorsJson(errors));
    return jsonReply(status, QJsonObject{{QStringLiteral("error"), error}}, std::move(headers));
}

// FieldChange holds compact JSON text; clients get the values themselves. Qt parses
// only objects and arrays at the top, hence the wrapping array.
QJsonValue valueOfText(const QString &text)
{
    if (text.isEmpty())
        return QJsonValue(QJsonValue::Null);
    const QJsonDocument document = QJsonDocument::fromJson(QByteArray("[") + text.toUtf8() + ']');
    return document.array().at(0);
}

QJsonArray changesJson(const QList<config::FieldChange> &changes)
{
    QJsonArray array;
    for (const config::FieldChange &change : changes) {
        array.append(QJsonObject{{QStringLiteral("path"), change.path},
                                 {QStringLiteral("old"), valueOfText(change.before)},
                                 {QStringLiteral("new"), valueOfText(change.after)}});
    }
    return array;
}

http::HttpHeaders versionHeaders(const ConfigStore::Snapshot &snapshot)
{
    return http::HttpHeaders{{"ETag", snapshot.etag.toLatin1()},
                             {"X-Sluice-Config-Version", QByteArray::number(qint64(snapshot.config->version))}};
}

// The media type of the body, lower case, without parameters ("; charset=utf-8").
QByteArray mediaType(const http::HttpRequest &request)
{
    QByteArray value = request.headers.value("content-type");
    const qsizetype semicolon = value.indexOf(';');
    if (semicolon >= 0)
        value.truncate(semicolon);
    return value.trimmed().toLower();
}

AdminReply unsupportedMediaType(const QByteArrayList &accepted)
{
    return errorReply(415, QStringLiteral("unsupported_media_type"),
                      QStringLiteral("the body must be sent as %1").arg(QString::fromLatin1(accepted.join(" or "))),
                      {},
                      accepted.contains(kMergePatchJson) ? http::HttpHeaders{{"Accept-Patch", kMergePatchJson}}
                                                         : http::HttpHeaders{});
}

// The located syntax error of a body that QJsonDocument refused. The config loader
// already turns Qt's offsets into "line L, column C" at the offending character.
AdminReply invalidJson(const QByteArray &body)
{
    config::ConfigErrors errors;
    if (const auto loaded = config::loadConfig(body); !loaded)
        errors = loaded.error();
    return errorReply(400, QStringLiteral("invalid_json"), QStringLiteral("the body is not valid JSON"), errors);
}

std::optional<QJsonObject> parseObject(const QByteArray &body, bool &syntaxError)
{
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(body, &parseError);
    syntaxError = parseError.error != QJsonParseError::NoError;
    if (syntaxError || !document.isObject())
        return std::nullopt;
    return document.object();
}

config::ConfigErrors notAnObject()
{
    return {{QStringLiteral("$"), QStringLiteral("must be an object")}};
}

AdminReply invalidConfig(const config::ConfigErrors &errors)
{
    return errorReply(400, QStringLiteral("invalid_config"),
                      QStringLiteral("the configuration has %1 problem(s)").arg(errors.size()), errors);
}

// If-Match / If-None-Match: "*", or a list of entity tags; a bare (or quoted) number
// names a config version.
struct EntityTagList {
    bool any = false;
    QList<QByteArray> strongTags;
    QList<QByteArray> weakTags; // opaque part, quotes included, W/ removed
    QList<qint64> versions;
};

std::optional<EntityTagList> parseEntityTags(const QByteArray &value)
{
    EntityTagList list;
    bool empty = true;
    for (const QByteArray &raw : value.split(',')) {
        const QByteArray item = raw.trimmed();
        if (item.isEmpty())
            continue;
        empty = false;
        bool isNumber = false;
        if (item == "*") {
            list.any = true;
            continue;
        }
        if (const qint64 version = item.toLongLong(&isNumber); isNumber && version >= 0) {
            list.versions.append(version);
            continue;
        }
        const bool weak = item.startsWith("W/");
        const QByteArray tag = weak ? item.mid(2) : item;
        if (tag.size() < 2 || !tag.startsWith('"') || !tag.endsWith('"') || tag.mid(1, tag.size() - 2).contains('"'))
            return std::nullopt;
        if (const qint64 version = tag.mid(1, tag.size() - 2).toLongLong(&isNumber); isNumber && version >= 0 && !weak)
            list.versions.append(version);
        else
            (weak ? list.weakTags : list.strongTags).append(tag);
    }
    if (empty)
        return std::nullopt;
    return list;
}

// Strong comparison (If-Match): weak tags never match.
bool matchesStrongly(const EntityTagList &list, const ConfigStore::Snapshot &snapshot)
{
    return list.any || list.strongTags.contains(snapshot.etag.toLatin1())
           || list.versions.contains(qint64(snapshot.config->version));
}

// Weak comparison (If-None-Match).
bool matchesWeakly(const EntityTagList &list, const ConfigStore::Snapshot &snapshot)
{
    const QByteArray etag = snapshot.etag.toLatin1();
    return matchesStrongly(list, snapshot) || list.weakTags.contains(etag);
}

AdminReply versionConflict(const ConfigStore::Snapshot &running)
{
    return errorReply(409, QStringLiteral("version_conflict"),
                      QStringLiteral("the running configuration is version %1 (ETag %2), not the one If-Match names")
                          .arg(running.config->version)
                          .arg(running.etag),
                      {}, versionHeaders(running),
                      QJsonObject{{QStringLiteral("running_version"), double(running.config->version)},
                                  {QStringLiteral("etag"), running.etag}});
}

AdminReply appliedReply(const AppliedConfig &applied)
{
    return jsonReply(200,
                     QJsonObject{{QStringLiteral("version"), double(applied.config->version)},
                                 {QStringLiteral("etag"), applied.etag},
                                 {QStringLiteral("changes"), changesJson(applied.diff)}},
                     versionHeaders(ConfigStore::Snapshot{applied.config, applied.etag}));
}

// Equal-length comparison that looks at every byte whatever it finds, so the time
// taken says nothing about how much of a guess was right.
bool constantTimeEquals(QByteArrayView left, QByteArrayView right)
{
    if (left.size() != right.size())
        return false;
    unsigned char difference = 0;
    for (qsizetype index = 0; index < left.size(); ++index)
        difference |= static_cast<unsigned char>(left[index] ^ right[index]);
    return difference == 0;
}

std::string_view routeName(int route)
{
    static constexpr std::string_view names[] = {"config", "config_validate", "config_history", "stats",
                                                 "cache_flush", "instance", "unknown"};
    return names[route];
}

template <typename FamilyType>
FamilyType *existingFamily(metrics::Registry &registry, std::string_view name)
{
    // A second AdminApi on one registry (the admin listener rebuilt after a config
    // change) shares the first one's series; the registry owns them and hands out
    // only const views of families it already holds.
    return const_cast<FamilyType *>(dynamic_cast<const FamilyType *>(registry.find(name)));
}

} // namespace

AdminApi::AdminApi(AdminBackend &backend, AdminAuth auth, metrics::Registry &registry, const policy::Clock &clock,
                   std::size_t maxTrackedAddresses)
    : m_backend(backend), m_authFailures(clock, maxTrackedAddresses), m_auth(std::move(auth))
{
    if (auto counter = registry.counter(std::string(kAuthFailuresMetric),
                                        "Admin API requests refused for a missing or wrong bearer token."))
        m_authFailuresTotal = *counter;
    else if (auto *family = existingFamily<metrics::CounterFamily>(registry, kAuthFailuresMetric);
             family && family->labelNames().empty())
        m_authFailuresTotal = &family->labels(std::span<const std::string_view>{});
    else
        qWarning("admin API: %s", counter.error().message.c_str());

    if (auto family = registry.counterFamily(std::string(kRequestsMetric),
                                             "Admin API requests answered, by route and status.", {"route", "code"}))
        m_requestsTotal = *family;
    else if (auto *existing = existingFamily<metrics::CounterFamily>(registry, kRequestsMetric);
             existing && existing->labelNames() == std::vector<std::string>{"route", "code"})
        m_requestsTotal = existing;
    else
        qWarning("admin API: %s", family.error().message.c_str());
}

http::HttpHandler AdminApi::handler()
{
    return [this](http::HttpRequest request, std::shared_ptr<http::HttpResponder> responder) {
        handle(std::move(request), std::move(responder));
    };
}

void AdminApi::setAuth(AdminAuth auth)
{
    std::lock_guard lock(m_authMutex);
    m_auth = std::move(auth);
}

AdminAuth AdminApi::auth() const
{
    std::lock_guard lock(m_authMutex);
    return m_auth;
}

QString AdminApi::addressKey(const QHostAddress &peer)
{
    bool isIpv4 = false;
    const quint32 ipv4 = peer.toIPv4Address(&isIpv4);
    return isIpv4 ? QHostAddress(ipv4).toString() : peer.toString();
}

int AdminApi::failureCount(const QHostAddress &peer) const
{
    return m_authFailures.failureCount(addressKey(peer));
}

std::chrono::milliseconds AdminApi::lastFailureDelay(const QHostAddress &peer) const
{
    return m_authFailures.lastDelay(addressKey(peer));
}

void AdminApi::countRequest(Route route, int status)
{
    if (!m_requestsTotal)
        return;
    const std::string code = std::to_string(status);
    m_requestsTotal->labels({routeName(int(route)), std::string_view(code)}).inc();
}

bool AdminApi::isAuthorized(const http::HttpRequest &request) const
{
    const AdminAuth auth = this->auth();
    if (!auth.tokenRequired)
        return true;
    const QByteArray authorization = request.headers.value("authorization").trimmed();
    const qsizetype space = authorization.indexOf(' ');
    if (space <= 0 || authorization.left(space).compare("bearer", Qt::CaseInsensitive) != 0)
        return false;
    const QByteArray token = authorization.mid(space + 1).trimmed();
    if (token.isEmpty())
        return false;
    const QByteArray presented = QCryptographicHash::hash(token, QCryptographicHash::Sha256).toHex();
    return constantTimeEquals(presented, auth.tokenSha256.toLatin1().toLower());
}

ApplyOrigin AdminApi::originOf(const http::HttpRequest &request) const
{
    ApplyOrigin origin;
    origin.who = auth().tokenRequired ? QStringLiteral("admin-token") : QStringLiteral("anonymous");
    origin.from = addressKey(request.peerAddress);
    origin.comment = QString::fromUtf8(request.headers.value("x-sluice-comment")).left(kMaxCommentCharacters);
    return origin;
}

void AdminApi::handle(http::HttpRequest request, std::shared_ptr<http::HttpResponder> responder)
{
    static const QByteArray prefix = QByteArrayLiteral("/admin/v1/");
    Route route = Route::Unknown;
    if (request.path.startsWith(prefix)) {
        const QByteArrayView rest = QByteArrayView(request.path).sliced(prefix.size());
        if (rest == "config")
            route = Route::Config;
        else if (rest == "config/validate")
            route = Route::ConfigValidate;
        else if (rest == "config/history")
            route = Route::ConfigHistory;
        else if (rest == "stats")
            route = Route::Stats;
        else if (rest == "cache/flush")
            route = Route::CacheFlush;
        else if (rest == "instance")
            route = Route::Instance;
    }

    if (!isAuthorized(request)) {
        const bool presented = request.headers.contains("authorization");
        const std::chrono::milliseconds delay = m_authFailures.recordFailure(addressKey(request.peerAddress));
        if (m_authFailuresTotal)
            m_authFailuresTotal->inc();
        countRequest(route, 401);
        Reply reply = errorReply(401, QStringLiteral("authentication_error"),
                                 presented ? QStringLiteral("the admin token is not valid")
                                           : QStringLiteral("an admin token is required (Authorization: Bearer)"),
                                 {}, http::HttpHeaders{{"WWW-Authenticate", "Bearer realm=\"sluice-admin\""}});
        if (delay.count() <= 0) {
            responder->respond(reply.status, std::move(reply.headers), std::move(reply.body));
            return;
        }
        // No context object: the timer belongs to this (the connection's) thread and
        // holds only the responder, which is safe to answer after the client left.
        QTimer::singleShot(delay, [responder = std::move(responder), reply = std::move(reply)]() mutable {
            responder->respond(reply.status, std::move(reply.headers), std::move(reply.body));
        });
        return;
    }
    if (auth().tokenRequired)
        m_authFailures.recordSuccess(addressKey(request.peerAddress));

    Reply reply = dispatch(request, route);
    countRequest(route, reply.status);
    responder->respond(reply.status, std::move(reply.headers), std::move(reply.body));
}

AdminReply AdminApi::dispatch(const http::HttpRequest &request, Route route)
{
    const QByteArray &method = request.method;
    const bool isGet = method == "GET" || method == "HEAD";
    auto notAllowed = [](const QByteArray &allow) {
        return errorReply(405, QStringLiteral("method_not_allowed"),
                          QStringLiteral("allowed methods: %1").arg(QString::fromLatin1(allow)), {},
                          http::HttpHeaders{{"Allow", allow}});
    };

    switch (route) {
    case Route::Config:
        if (isGet)
            return getConfig(request);
        if (method == "PUT")
            return putConfig(request);
        if (method == "PATCH")
            return patchConfig(request);
        return notAllowed("GET, HEAD, PUT, PATCH");
    case Route::ConfigValidate:
        if (method == "POST")
            return validateConfig(request);
        return notAllowed("POST");
    case Route::ConfigHistory:
        if (isGet)
            return getHistory();
        return notAllowed("GET, HEAD");
    case Route::Stats:
        if (isGet)
            return jsonReply(200, m_backend.statsSnapshot());
        return notAllowed("GET, HEAD");
    case Route::CacheFlush:
        if (method == "POST")
            return flushCache(request);
        return notAllowed("POST");
    case Route::Instance:
        if (isGet)
            return jsonReply(200, m_backend.instanceInfo());
        return notAllowed("GET, HEAD");
    case Route::Unknown:
        break;
    }
    return errorReply(404, QStringLiteral("not_found"),
                      QStringLiteral("no admin endpoint at %1").arg(QString::fromLatin1(request.path.left(200))));
}

AdminReply AdminApi::getConfig(const http::HttpRequest &request)
{
    const ConfigStore::Snapshot snapshot = m_backend.configStore().snapshot();
    http::HttpHeaders headers = versionHeaders(snapshot);
    headers.set("Cache-Control", "no-cache");
    if (request.headers.contains("if-none-match")) {
        const auto tags = parseEntityTags(request.headers.combinedValue("if-none-match"));
        // An unreadable If-None-Match is ignored (RFC 9110 lets a server do so): the
        // client simply gets the full answer.
        if (tags && matchesWeakly(*tags, snapshot))
            return Reply{304, std::move(headers), {}};
    }
    headers.set("Content-Type", kJson);
    return Reply{200, std::move(headers), config::saveConfig(*snapshot.config)};
}

AdminReply AdminApi::putConfig(const http::HttpRequest &request)
{
    if (mediaType(request) != kJson)
        return unsupportedMediaType({kJson});
    std::optional<EntityTagList> ifMatch;
    if (request.headers.contains("if-match")) {
        ifMatch = parseEntityTags(request.headers.combinedValue("if-match"));
        if (!ifMatch)
            return errorReply(400, QStringLiteral("invalid_request"),
                              QStringLiteral("If-Match must be *, an ETag or a configuration version"));
    }

    ConfigStore &store = m_backend.configStore();
    const ConfigStore::Snapshot snapshot = store.snapshot();
    if (ifMatch && !matchesStrongly(*ifMatch, snapshot))
        return versionConflict(snapshot);

    bool syntaxError = false;
    const std::optional<QJsonObject> document = parseObject(request.body, syntaxError);
    if (syntaxError)
        return invalidJson(request.body);
    if (!document)
        return invalidConfig(notAnObject());
    auto loaded = config::loadConfig(*document);
    if (!loaded)
        return invalidConfig(loaded.error());

    // The If-Match test above ran on `snapshot`; passing its version makes the store
    // refuse the change if another one got in since.
    const std::optional<std::int64_t> expected =
        ifMatch ? std::optional<std::int64_t>(snapshot.config->version) : std::nullopt;
    auto applied = store.apply(std::move(*loaded), expected, originOf(request));
    if (!applied) {
        if (applied.error().kind == ConfigApplyError::VersionConflict)
            return versionConflict(store.snapshot());
        return invalidConfig(applied.error().fieldErrors);
    }
    return appliedReply(*applied);
}

AdminReply AdminApi::patchConfig(const http::HttpRequest &request)
{
    const QByteArray type = mediaType(request);
    if (type != kMergePatchJson && type != kJson)
        return unsupportedMediaType({kMergePatchJson, kJson});
    std::optional<EntityTagList> ifMatch;
    if (request.headers.contains("if-match")) {
        ifMatch = parseEntityTags(request.headers.combinedValue("if-match"));
        if (!ifMatch)
            return errorReply(400, QStringLiteral("invalid_request"),
                              QStringLiteral("If-Match must be *, an ETag or a configuration version"));
    }
    bool syntaxError = false;
    const std::optional<QJsonObject> patch = parseObject(request.body, syntaxError);
    if (syntaxError)
        return invalidJson(request.body);
    if (!patch)
        return invalidConfig(notAnObject());

    ConfigStore &store = m_backend.configStore();
    const ApplyOrigin origin = originOf(request);
    ConfigStore::Snapshot snapshot = store.snapshot();
    for (int attempt = 0; attempt < kPatchAttempts; ++attempt) {
        snapshot = store.snapshot();
        if (ifMatch && !matchesStrongly(*ifMatch, snapshot))
            return versionConflict(snapshot);
        auto loaded = config::loadConfig(config::applyMergePatch(config::toJson(*snapshot.config), *patch));
        if (!loaded)
            return invalidConfig(loaded.error());
        // Always conditional on the base the patch was merged into: applying it over a
        // newer config would silently undo that change.
        auto applied = store.apply(std::move(*loaded), snapshot.config->version, origin);
        if (applied)
            return appliedReply(*applied);
        if (applied.error().kind == ConfigApplyError::Invalid)
            return invalidConfig(applied.error().fieldErrors);
        if (ifMatch)
            break;
    }
    return versionConflict(store.snapshot());
}

AdminReply AdminApi::validateConfig(const http::HttpRequest &request)
{
    const QString patchFlag = QUrlQuery(QString::fromUtf8(request.query)).queryItemValue(QStringLiteral("patch"));
    const bool isPatch = patchFlag == u"1" || patchFlag == u"true";
    const QByteArray type = mediaType(request);
    if (isPatch && type != kMergePatchJson && type != kJson)
        return unsupportedMediaType({kMergePatchJson, kJson});
    if (!isPatch && type != kJson)
        return unsupportedMediaType({kJson});

    auto invalid = [](const config::ConfigErrors &errors) {
        return jsonReply(200, QJsonObject{{QStringLiteral("valid"), false},
                                          {QStringLiteral("errors"), errorsJson(errors)}});
    };
    bool syntaxError = false;
    const std::optional<QJsonObject> body = parseObject(request.body, syntaxError);
    if (syntaxError) {
        const auto loaded = config::loadConfig(request.body);
        return invalid(loaded ? config::ConfigErrors{} : loaded.error());
    }
    if (!body)
        return invalid(notAnObject());

    ConfigStore &store = m_backend.configStore();
    auto loaded = isPatch ? config::loadConfig(config::applyMergePatch(config::toJson(*store.current()), *body))
                          : config::loadConfig(*body);
    if (!loaded)
        return invalid(loaded.error());
    const auto checked = store.check(*loaded);
    if (!checked)
        return invalid(checked.error().fieldErrors);
    return jsonReply(200,
                     QJsonObject{{QStringLiteral("valid"), true}, {QStringLiteral("changes"), changesJson(*checked)}});
}

AdminReply AdminApi::getHistory()
{
    const QList<ConfigHistoryEntry> history = m_backend.configStore().history();
    QJsonArray entries;
    for (auto it = history.crbegin(); it != history.crend(); ++it) {
        entries.append(QJsonObject{{QStringLiteral("version"), double(it->version)},
                                   {QStringLiteral("applied_at"), it->appliedAtUtc.toString(Qt::ISODateWithMs)},
                                   {QStringLiteral("who"), it->who},
                                   {QStringLiteral("from"), it->from},
                                   {QStringLiteral("comment"), it->comment},
                                   {QStringLiteral("changes"), it->changeCount}});
    }
    return jsonReply(200, QJsonObject{{QStringLiteral("limit"), ConfigStore::kHistoryLimit},
                                      {QStringLiteral("entries"), entries}});
}

AdminReply AdminApi::flushCache(const http::HttpRequest &request)
{
    QString cacheNamespace;
    if (!request.body.trimmed().isEmpty()) {
        if (mediaType(request) != kJson)
            return unsupportedMediaType({kJson});
        bool syntaxError = false;
        const std::optional<QJsonObject> body = parseObject(request.body, syntaxError);
        if (syntaxError)
            return invalidJson(request.body);
        if (!body)
            return errorReply(400, QStringLiteral("invalid_request"), QStringLiteral("the body must be an object"),
                              notAnObject());
        config::ConfigErrors errors;
        for (auto it = body->constBegin(); it != body->constEnd(); ++it) {
            if (it.key() != u"namespace")
                errors.push_back({config::pathWithKey({}, it.key()), QStringLiteral("unknown field")});
            else if (!it.value().isString())
                errors.push_back({config::pathWithKey({}, it.key()), QStringLiteral("must be a string")});
            else
                cacheNamespace = it.value().toString();
        }
        if (!errors.empty())
            return errorReply(400, QStringLiteral("invalid_request"), QStringLiteral("the body is not a flush request"),
                              errors);
    }
    return jsonReply(200, m_backend.flushCache(cacheNamespace, originOf(request)));
}

} // namespace sluice::gateway
