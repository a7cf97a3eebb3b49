#pragma once

#include "gateway/authfailuretracker.h"
#include "gateway/configstore.h"
#include "http/httphandler.h"
#include "http/httprequest.h"
#include "http/httpresponder.h"
#include "metrics/counter.h"
#include "metrics/family.h"
#include "metrics/registry.h"
#include "policy/clock.h"

#include <QHostAddress>
#include <QJsonObject>
#include <QString>

#include <chrono>
#include <memory>
#include <mutex>

namespace sluice::gateway {

struct AdminReply; // one answer of the admin API; defined in adminapi.cpp

// What the admin API needs from the rest of the gateway. Implemented by the gateway;
// every member may be called from any HTTP thread at once, so it must be thread-safe,
// and must not block for long (it runs on an event-loop thread).
class AdminBackend {
public:
    virtual ~AdminBackend() = default;
    virtual ConfigStore &configStore() = 0;
    // The body of GET /admin/v1/stats.
    virtual QJsonObject statsSnapshot() = 0;
    // Empties the response cache, or one namespace of it (empty = all). The body of
    // POST /admin/v1/cache/flush: {"flushed_entries": N, ...}.
    virtual QJsonObject flushCache(const QString &namespaceOrEmpty) = 0;
    // The same, told who asked (for the audit log); what the admin API calls. By default
    // the origin is ignored.
    virtual QJsonObject flushCache(const QString &namespaceOrEmpty, const ApplyOrigin &origin)
    {
        Q_UNUSED(origin);
        return flushCache(namespaceOrEmpty);
    }
    // The body of GET /admin/v1/instance: id, version, started_at, uptime_seconds,
    // listeners, ...
    virtual QJsonObject instanceInfo() = 0;
};

// Who may use the admin API: the holder of one bearer token, given here only as
// the lowercase hex SHA-256 of its UTF-8 bytes (config::hashApiKey(), the form of
// admin.token_sha256), or anyone (the gateway decides so from config.admin, e.g. a
// loopback listener without a token).
struct AdminAuth {
    bool tokenRequired = true;
    QString tokenSha256; // 64 lowercase hex; with tokenRequired, any other value admits nobody

    static AdminAuth noTokenRequired() { return AdminAuth{false, {}}; }
    static AdminAuth bearerTokenSha256(QString sha256Hex) { return AdminAuth{true, std::move(sha256Hex)}; }
};

// The gateway's admin API, served on the admin listener: an http::HttpHandler.
// JSON in and out (Content-Type: application/json); errors are
//   {"error":{"type":"…","message":"…","errors":[{"path":"…","message":"…"}]}}
// with "errors" listing configuration problems (empty for other errors).
//
//   GET    /admin/v1/config            running config (config::saveConfig), ETag and
//                                      X-Sluice-Config-Version; If-None-Match → 304
//   PUT    /admin/v1/config            a whole config (application/json)
//   PATCH  /admin/v1/config            an RFC 7396 merge patch over the running config
//                                      (application/merge-patch+json or application/json)
//       Both apply through ConfigStore::apply(), atomically: If-Match (an ETag, a bare
//       version number, or *) → 409 with the running ETag (header and body) on a
//       mismatch; 400 "invalid_config" listing every field error; 400 "invalid_json"
//       with line and column; 415 for another content type; 200
//       {"version":N,"etag":"…","changes":[{"path","old","new"}]}. A PATCH without
//       If-Match that races another change is re-applied to the newer config (up to
//       three times). X-Sluice-Comment becomes the history comment; the body's own
//       "version" is ignored (the store numbers versions).
//   POST   /admin/v1/config/validate   a dry run of PUT (of PATCH with ?patch=1):
//                                      200 {"valid":true,"changes":[…]} or
//                                      200 {"valid":false,"errors":[…]}
//   GET    /admin/v1/config/history    {"limit":50,"entries":[…]} newest first
//   GET    /admin/v1/stats             AdminBackend::statsSnapshot()
//   POST   /admin/v1/cache/flush       optional body {"namespace":"…"}
//   GET    /admin/v1/instance          AdminBackend::instanceInfo()
// HEAD is accepted wherever GET is. Unknown path: 404; known path, other method: 405
// with Allow.
//
// Auth comes first, for every path: unless AdminAuth says no token is required, a
// request needs `Authorization: Bearer <token>`; the SHA-256 of the presented token is
// compared with the expected hash in constant time. A missing or wrong token is a 401
// with `WWW-Authenticate: Bearer`, counted in sluice_admin_auth_failures_total and in
// an AuthFailureTracker keyed by peer address; the 401 goes out after the tracker's
// delay (a single-shot timer on the connection's thread; nothing sleeps). Every
// answer is counted in sluice_admin_requests_total{route,code}, route one of config,
// config_validate, config_history, stats, cache_flush, instance, unknown. Tokens are
// never echoed or logged. Who applied a change is "admin-token" ("anonymous" when no
// token is required), from the peer address.
//
// Thread-safe: handle() runs on every HTTP thread at once, and answers on the thread
// it was called on. backend, registry and clock must outlive the AdminApi, and the
// AdminApi must outlive the server whose handler it is (a delayed 401 holds only the
// responder, so it may still fire after the AdminApi is gone). If the registry already
// holds the two metrics (a second AdminApi on the same registry), they are shared.
class AdminApi {
public:
    AdminApi(AdminBackend &backend, AdminAuth auth, metrics::Registry &registry, const policy::Clock &clock,
             std::size_t maxTrackedAddresses = AuthFailureTracker::kDefaultMaxAddresses);
    AdminApi(const AdminApi &) = delete;
    AdminApi &operator=(const AdminApi &) = delete;

    void handle(http::HttpRequest request, std::shared_ptr<http::HttpResponder> responder);
    // A handler for http::HttpServer that calls handle() on this object.
    http::HttpHandler handler();

    // Replaces the expected token (e.g. after admin.token_sha256 changed). Thread-safe;
    // requests already past their auth check are not affected.
    void setAuth(AdminAuth auth);
    AdminAuth auth() const;

    // Failed attempts from `peer` that have not decayed (see AuthFailureTracker).
    int failureCount(const QHostAddress &peer) const;
    // The delay chosen for the last 401 answered to `peer` (0 while none is live).
    std::chrono::milliseconds lastFailureDelay(const QHostAddress &peer) const;
    const AuthFailureTracker &authFailures() const { return m_authFailures; }

    // The key used for a peer: its address text, IPv4-mapped IPv6 shown as IPv4.
    static QString addressKey(const QHostAddress &peer);

private:
    using Reply = AdminReply;
    enum class Route { Config, ConfigValidate, ConfigHistory, Stats, CacheFlush, Instance, Unknown };

    bool isAuthorized(const http::HttpRequest &request) const;
    Reply dispatch(const http::HttpRequest &request, Route route);
    Reply getConfig(const http::HttpRequest &request);
    Reply putConfig(const http::HttpRequest &request);
    Reply patchConfig(const http::HttpRequest &request);
    Reply validateConfig(const http::HttpRequest &request);
    Reply getHistory();
    Reply flushCache(const http::HttpRequest &request);
    ApplyOrigin originOf(const http::HttpRequest &request) const;
    void countRequest(Route route, int status);

    AdminBackend &m_backend;
    AuthFailureTracker m_authFailures;
    mutable std::mutex m_authMutex;
    AdminAuth m_auth;
    metrics::Counter *m_authFailuresTotal = nullptr;     // null if the registry refused it
    metrics::CounterFamily *m_requestsTotal = nullptr;   // null if the registry refused it
};

} // namespace sluice::gateway
