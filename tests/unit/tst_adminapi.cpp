#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include "config/apikeyhash.h"
#include "config/configloader.h"
#include "config/configwriter.h"
#include "config/gatewayconfig.h"
#include "gateway/adminapi.h"
#include "gateway/authfailuretracker.h"
#include "gateway/configstore.h"
#include "http/httpserver.h"
#include "metrics/registry.h"
#include "policy/clock.h"
#include "rawhttpclient.h"

#include <memory>
#include <mutex>
#include <utility>

using namespace std::chrono_literals;
using sluice::config::GatewayConfig;
using sluice::gateway::AdminApi;
using sluice::gateway::AdminAuth;
using sluice::gateway::AdminBackend;
using sluice::gateway::AuthFailureTracker;
using sluice::gateway::ConfigStore;
using sluice::http::HttpServer;
using sluice::http::HttpServerOptions;
using sluice::test::RawHttpClient;
using sluice::test::RawHttpResponse;

namespace {

constexpr int kTimeoutMs = 10'000; // only guards against hangs
const QByteArray kToken = QByteArrayLiteral("s3cret-admin-token");

using Headers = QList<std::pair<QByteArray, QByteArray>>;

class FakeBackend final : public AdminBackend {
public:
    explicit FakeBackend(GatewayConfig initial) : m_store(std::move(initial)) {}

    ConfigStore &configStore() override { return m_store; }
    QJsonObject statsSnapshot() override
    {
        return QJsonObject{{QStringLiteral("requests_total"), 1234}, {QStringLiteral("cache_hit_ratio"), 0.25}};
    }
    QJsonObject flushCache(const QString &namespaceOrEmpty) override
    {
        std::lock_guard lock(m_mutex);
        m_flushes.append(namespaceOrEmpty);
        return QJsonObject{{QStringLiteral("flushed_entries"), 17}, {QStringLiteral("namespace"), namespaceOrEmpty}};
    }
    QJsonObject instanceInfo() override
    {
        return QJsonObject{{QStringLiteral("id"), QStringLiteral("gw-test-1")}, {QStringLiteral("uptime_seconds"), 42}};
    }
    QStringList flushes() const
    {
        std::lock_guard lock(m_mutex);
        return m_flushes;
    }

private:
    ConfigStore m_store;
    mutable std::mutex m_mutex;
    QStringList m_flushes;
};

GatewayConfig initialConfig()
{
    GatewayConfig config = sluice::config::defaultConfig();
    config.version = 1;
    return config;
}

QJsonObject jsonOf(const RawHttpResponse &response)
{
    return QJsonDocument::fromJson(response.body).object();
}

QJsonObject errorOf(const RawHttpResponse &response)
{
    return jsonOf(response).value(QStringLiteral("error")).toObject();
}

QStringList errorPaths(const QJsonArray &errors)
{
    QStringList paths;
    for (const QJsonValue &error : errors)
        paths.append(error.toObject().value(QStringLiteral("path")).toString());
    return paths;
}

} // namespace

class TestAdminApi : public QObject {
    Q_OBJECT
private:
    std::unique_ptr<FakeBackend> m_backend;
    std::unique_ptr<sluice::metrics::Registry> m_registry;
    std::unique_ptr<sluice::policy::ManualClock> m_clock;
    std::unique_ptr<AdminApi> m_api;
    std::unique_ptr<HttpServer> m_server;

    void start(AdminAuth auth)
    {
        m_backend = std::make_unique<FakeBackend>(initialConfig());
        m_registry = std::make_unique<sluice::metrics::Registry>();
        m_clock = std::make_unique<sluice::policy::ManualClock>(1h);
        m_api = std::make_unique<AdminApi>(*m_backend, std::move(auth), *m_registry, *m_clock);
        HttpServerOptions options;
        options.address = QHostAddress::LocalHost;
        options.port = 0;
        options.threads = 1;
        m_server = std::make_unique<HttpServer>(options, m_api->handler());
        QVERIFY(m_server->listen().ok());
    }

    ConfigStore &store() { return m_backend->configStore(); }

    static Headers authed(Headers headers = {})
    {
        headers.prepend({"Authorization", "Bearer " + kToken});
        return headers;
    }

    RawHttpResponse call(const QByteArray &method, const QByteArray &target, const Headers &headers = {},
                         const QByteArray &body = {})
    {
        RawHttpClient client;
        if (!client.connectTo(m_server->serverPort()))
            return {};
        QByteArray wire = method + ' ' + target + " HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n";
        for (const auto &[name, value] : headers)
            wire += name + ": " + value + "\r\n";
        if (!body.isEmpty() || method == "PUT" || method == "POST" || method == "PATCH")
            wire += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
        wire += "\r\n" + body;
        client.send(wire);
        const QList<int> head = method == "HEAD" ? QList<int>{0} : QList<int>{};
        if (!QTest::qWaitFor([&] { return client.parse(head).responses.size() >= 1; }, kTimeoutMs))
            return {};
        return client.parse(head).responses.value(0);
    }

    QByteArray configBody(std::chrono::seconds ttl)
    {
        GatewayConfig config = *store().current();
        config.cache.ttl = ttl;
        return sluice::config::saveConfig(config);
    }

    std::string exposition() const { return m_registry->exposition(); }

private slots:
    void init() { start(AdminAuth::bearerTokenSha256(sluice::config::hashApiKey(QString::fromLatin1(kToken)))); }

    void cleanup()
    {
        m_server.reset();
        m_api.reset();
        m_clock.reset();
        m_registry.reset();
        m_backend.reset();
    }

    void getConfig()
    {
        const auto response = call("GET", "/admin/v1/config", authed());
        QCOMPARE(response.status, 200);
        QCOMPARE(response.header("content-type"), QByteArray("application/json"));
        QCOMPARE(response.header("etag"), store().etag().toLatin1());
        QCOMPARE(response.header("x-sluice-config-version"), QByteArray("1"));
        const auto loaded = sluice::config::loadConfig(response.body);
        QVERIFY(loaded.ok());
        QCOMPARE(*loaded, *store().current());

        const auto head = call("HEAD", "/admin/v1/config", authed());
        QCOMPARE(head.status, 200);
        QCOMPARE(head.header("etag"), store().etag().toLatin1());
        QVERIFY(head.body.isEmpty());
    }

    void ifNoneMatch_data()
    {
        QTest::addColumn<QByteArray>("ifNoneMatch");
        QTest::addColumn<int>("status");
        QTest::newRow("current etag") << QByteArray("<etag>") << 304;
        QTest::newRow("weak current etag") << QByteArray("W/<etag>") << 304;
        QTest::newRow("in a list") << QByteArray("\"0-0000000000000000\", <etag>") << 304;
        QTest::newRow("star") << QByteArray("*") << 304;
        QTest::newRow("other etag") << QByteArray("\"1-0000000000000000\"") << 200;
        QTest::newRow("garbage is ignored") << QByteArray("no quotes") << 200;
    }

    void ifNoneMatch()
    {
        QFETCH(QByteArray, ifNoneMatch);
        QFETCH(int, status);
        const QByteArray value = QByteArray(ifNoneMatch).replace("<etag>", store().etag().toLatin1());
        const auto response = call("GET", "/admin/v1/config", authed({{"If-None-Match", value}}));
        QCOMPARE(response.status, status);
        QCOMPARE(response.header("etag"), store().etag().toLatin1());
        if (status == 304)
            QVERIFY(response.body.isEmpty());
        else
            QVERIFY(sluice::config::loadConfig(response.body).ok());
    }

    void putAppliesAWholeConfig()
    {
        const auto response = call("PUT", "/admin/v1/config",
                                   authed({{"Content-Type", "application/json; charset=utf-8"},
                                           {"X-Sluice-Comment", "ttl down for the launch"}}),
                                   configBody(60s));
        QCOMPARE(response.status, 200);
        const QJsonObject body = jsonOf(response);
        QCOMPARE(body.value(QStringLiteral("version")).toInteger(), 2);
        QCOMPARE(body.value(QStringLiteral("etag")).toString(), store().etag());
        QCOMPARE(response.header("etag"), store().etag().toLatin1());
        QCOMPARE(response.header("x-sluice-config-version"), QByteArray("2"));
        const QJsonArray changes = body.value(QStringLiteral("changes")).toArray();
        QCOMPARE(changes.size(), 1);
        QCOMPARE(changes[0].toObject().value(QStringLiteral("path")).toString(), QStringLiteral("cache.ttl_seconds"));
        QCOMPARE(changes[0].toObject().value(QStringLiteral("old")).toInt(), 300);
        QCOMPARE(changes[0].toObject().value(QStringLiteral("new")).toInt(), 60);

        QCOMPARE(store().current()->version, std::int64_t(2));
        QCOMPARE(store().current()->cache.ttl, 60s);
        const auto last = store().history().last();
        QCOMPARE(last.comment, QStringLiteral("ttl down for the launch"));
        QCOMPARE(last.who, QStringLiteral("admin-token"));
        QCOMPARE(last.from, QStringLiteral("127.0.0.1"));
    }

    void ifMatch_data()
    {
        QTest::addColumn<QByteArray>("ifMatch");
        QTest::addColumn<int>("status");
        QTest::newRow("current etag") << QByteArray("<etag>") << 200;
        QTest::newRow("bare version") << QByteArray("1") << 200;
        QTest::newRow("quoted version") << QByteArray("\"1\"") << 200;
        QTest::newRow("star") << QByteArray("*") << 200;
        QTest::newRow("stale version") << QByteArray("0") << 409;
        QTest::newRow("other etag") << QByteArray("\"1-0000000000000000\"") << 409;
        QTest::newRow("weak etag never matches") << QByteArray("W/<etag>") << 409;
        QTest::newRow("malformed") << QByteArray("version one") << 400;
    }

    void ifMatch()
    {
        QFETCH(QByteArray, ifMatch);
        QFETCH(int, status);
        const QString runningEtag = store().etag();
        const QByteArray value = QByteArray(ifMatch).replace("<etag>", runningEtag.toLatin1());
        for (const QByteArray &method : {QByteArray("PUT"), QByteArray("PATCH")}) {
            const QByteArray body = method == "PUT" ? configBody(61s) : QByteArray("{\"cache\":{\"ttl_seconds\":61}}");
            const auto before = store().current();
            const auto response = call(method, "/admin/v1/config",
                                       authed({{"Content-Type", "application/json"}, {"If-Match", value}}), body);
            QCOMPARE(response.status, status);
            if (status == 200) {
                QCOMPARE(store().current()->cache.ttl, 61s);
                // Put the running version back to where the test row expects it.
                cleanup();
                init();
                continue;
            }
            QCOMPARE(store().current(), before);
            if (status == 409) {
                const QJsonObject error = jsonOf(response).value(QStringLiteral("error")).toObject();
                QCOMPARE(error.value(QStringLiteral("type")).toString(), QStringLiteral("version_conflict"));
                QCOMPARE(error.value(QStringLiteral("etag")).toString(), runningEtag);
                QCOMPARE(error.value(QStringLiteral("running_version")).toInteger(), 1);
                QCOMPARE(response.header("etag"), runningEtag.toLatin1());
            }
        }
    }

    void staleEtagAfterAnotherChangeConflicts()
    {
        const QByteArray first = store().etag().toLatin1();
        QCOMPARE(call("PUT", "/admin/v1/config", authed({{"Content-Type", "application/json"}, {"If-Match", first}}),
                      configBody(50s))
                     .status,
                 200);
        const auto second = call("PUT", "/admin/v1/config",
                                 authed({{"Content-Type", "application/json"}, {"If-Match", first}}), configBody(40s));
        QCOMPARE(second.status, 409);
        QCOMPARE(store().current()->cache.ttl, 50s);
        QCOMPARE(second.header("etag"), store().etag().toLatin1());
    }

    void putListsEveryFieldError()
    {
        GatewayConfig config = *store().current();
        config.cache.maxEntries = 0;
        config.concurrency.maxInFlight = 0;
        const auto before = store().current();
        const auto response = call("PUT", "/admin/v1/config", authed({{"Content-Type", "application/json"}}),
                                   sluice::config::saveConfig(config));
        QCOMPARE(response.status, 400);
        const QJsonObject error = jsonOf(response).value(QStringLiteral("error")).toObject();
        QCOMPARE(error.value(QStringLiteral("type")).toString(), QStringLiteral("invalid_config"));
        const QStringList paths = errorPaths(error.value(QStringLiteral("errors")).toArray());
        QVERIFY2(paths.contains(QStringLiteral("cache.max_entries")), qPrintable(paths.join(u' ')));
        QVERIFY2(paths.contains(QStringLiteral("concurrency.max_in_flight")), qPrintable(paths.join(u' ')));
        QVERIFY(!error.value(QStringLiteral("errors")).toArray()[0].toObject().value(QStringLiteral("message"))
                     .toString()
                     .isEmpty());
        QCOMPARE(store().current(), before);
    }

    void invalidJsonGivesLineAndColumn()
    {
        const auto response = call("PUT", "/admin/v1/config", authed({{"Content-Type", "application/json"}}),
                                   QByteArray("{\n  \"cache\": {\"ttl_seconds\": 60,}\n}"));
        QCOMPARE(response.status, 400);
        const QJsonObject error = jsonOf(response).value(QStringLiteral("error")).toObject();
        QCOMPARE(error.value(QStringLiteral("type")).toString(), QStringLiteral("invalid_json"));
        const QStringList paths = errorPaths(error.value(QStringLiteral("errors")).toArray());
        QCOMPARE(paths.size(), 1);
        QVERIFY2(paths[0].startsWith(QStringLiteral("line 2, column ")), qPrintable(paths[0]));

        const auto patch = call("PATCH", "/admin/v1/config",
                                authed({{"Content-Type", "application/merge-patch+json"}}), QByteArray("{\"cache\": "));
        QCOMPARE(patch.status, 400);
        QCOMPARE(jsonOf(patch).value(QStringLiteral("error")).toObject().value(QStringLiteral("type")).toString(),
                 QStringLiteral("invalid_json"));
        QCOMPARE(store().current()->version, std::int64_t(1));
    }

    void unsupportedMediaType_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("contentType");
        QTest::newRow("put text") << QByteArray("PUT") << QByteArray("text/plain");
        QTest::newRow("put form") << QByteArray("PUT") << QByteArray("application/x-www-form-urlencoded");
        QTest::newRow("put none") << QByteArray("PUT") << QByteArray();
        QTest::newRow("put merge patch") << QByteArray("PUT") << QByteArray("application/merge-patch+json");
        QTest::newRow("patch text") << QByteArray("PATCH") << QByteArray("text/plain");
    }

    void unsupportedMediaType()
    {
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, contentType);
        Headers headers = authed();
        if (!contentType.isEmpty())
            headers.append({"Content-Type", contentType});
        const auto response = call(method, "/admin/v1/config", headers, configBody(60s));
        QCOMPARE(response.status, 415);
        QCOMPARE(jsonOf(response).value(QStringLiteral("error")).toObject().value(QStringLiteral("type")).toString(),
                 QStringLiteral("unsupported_media_type"));
        QCOMPARE(store().current()->version, std::int64_t(1));
    }

    void patchMergesIntoTheRunningConfig()
    {
        const auto response = call("PATCH", "/admin/v1/config",
                                   authed({{"Content-Type", "application/merge-patch+json"}}),
                                   QByteArray("{\"cache\":{\"ttl_seconds\":42},\"concurrency\":{\"max_queue\":9}}"));
        QCOMPARE(response.status, 200);
        QCOMPARE(store().current()->cache.ttl, 42s);
        QCOMPARE(store().current()->concurrency.maxQueue, 9);
        QCOMPARE(store().current()->cache.maxEntries, initialConfig().cache.maxEntries);
        const QJsonObject body = jsonOf(response);
        QCOMPARE(body.value(QStringLiteral("version")).toInteger(), 2);
        const QStringList paths = errorPaths(body.value(QStringLiteral("changes")).toArray());
        QCOMPARE(paths, QStringList({QStringLiteral("cache.ttl_seconds"), QStringLiteral("concurrency.max_queue")}));

        const auto plainJson = call("PATCH", "/admin/v1/config", authed({{"Content-Type", "application/json"}}),
                                    QByteArray("{\"cache\":{\"ttl_seconds\":43}}"));
        QCOMPARE(plainJson.status, 200);
        QCOMPARE(store().current()->cache.ttl, 43s);

        const auto invalid = call("PATCH", "/admin/v1/config", authed({{"Content-Type", "application/json"}}),
                                  QByteArray("{\"cache\":{\"ttl_seconds\":\"long\"}}"));
        QCOMPARE(invalid.status, 400);
        QCOMPARE(errorPaths(errorOf(invalid).value(QStringLiteral("errors")).toArray()),
                 QStringList{QStringLiteral("cache.ttl_seconds")});
        QCOMPARE(store().current()->version, std::int64_t(3));
    }

    void validateIsADryRun()
    {
        const auto valid = call("POST", "/admin/v1/config/validate", authed({{"Content-Type", "application/json"}}),
                                configBody(5s));
        QCOMPARE(valid.status, 200);
        QCOMPARE(jsonOf(valid).value(QStringLiteral("valid")).toBool(), true);
        QCOMPARE(errorPaths(jsonOf(valid).value(QStringLiteral("changes")).toArray()),
                 QStringList{QStringLiteral("cache.ttl_seconds")});

        GatewayConfig broken = *store().current();
        broken.cache.maxEntries = 0;
        const auto invalid = call("POST", "/admin/v1/config/validate", authed({{"Content-Type", "application/json"}}),
                                  sluice::config::saveConfig(broken));
        QCOMPARE(invalid.status, 200);
        QCOMPARE(jsonOf(invalid).value(QStringLiteral("valid")).toBool(true), false);
        QCOMPARE(errorPaths(jsonOf(invalid).value(QStringLiteral("errors")).toArray()),
                 QStringList{QStringLiteral("cache.max_entries")});

        const auto patch = call("POST", "/admin/v1/config/validate?patch=1",
                                authed({{"Content-Type", "application/merge-patch+json"}}),
                                QByteArray("{\"retries\":{\"max_attempts\":5}}"));
        QCOMPARE(patch.status, 200);
        QCOMPARE(jsonOf(patch).value(QStringLiteral("valid")).toBool(), true);
        QCOMPARE(errorPaths(jsonOf(patch).value(QStringLiteral("changes")).toArray()),
                 QStringList{QStringLiteral("retries.max_attempts")});

        const auto syntax = call("POST", "/admin/v1/config/validate", authed({{"Content-Type", "application/json"}}),
                                 QByteArray("{\"cache\": }"));
        QCOMPARE(syntax.status, 200);
        QCOMPARE(jsonOf(syntax).value(QStringLiteral("valid")).toBool(true), false);
        QVERIFY(errorPaths(jsonOf(syntax).value(QStringLiteral("errors")).toArray())
                    .value(0)
                    .startsWith(QStringLiteral("line 1, column ")));

        const auto wrongType = call("POST", "/admin/v1/config/validate", authed({{"Content-Type", "text/plain"}}),
                                    configBody(5s));
        QCOMPARE(wrongType.status, 415);

        QCOMPARE(store().current()->version, std::int64_t(1));
        QCOMPARE(store().history().size(), 1);
    }

    void history()
    {
        QCOMPARE(call("PUT", "/admin/v1/config",
                      authed({{"Content-Type", "application/json"}, {"X-Sluice-Comment", "first change"}}),
                      configBody(70s))
                     .status,
                 200);
        const auto response = call("GET", "/admin/v1/config/history", authed());
        QCOMPARE(response.status, 200);
        const QJsonObject body = jsonOf(response);
        QCOMPARE(body.value(QStringLiteral("limit")).toInt(), ConfigStore::kHistoryLimit);
        const QJsonArray entries = body.value(QStringLiteral("entries")).toArray();
        QCOMPARE(entries.size(), 2);
        const QJsonObject newest = entries[0].toObject();
        QCOMPARE(newest.value(QStringLiteral("version")).toInteger(), 2);
        QCOMPARE(newest.value(QStringLiteral("comment")).toString(), QStringLiteral("first change"));
        QCOMPARE(newest.value(QStringLiteral("who")).toString(), QStringLiteral("admin-token"));
        QCOMPARE(newest.value(QStringLiteral("from")).toString(), QStringLiteral("127.0.0.1"));
        QCOMPARE(newest.value(QStringLiteral("changes")).toInt(), 1);
        QVERIFY(newest.value(QStringLiteral("applied_at")).toString().endsWith(u'Z'));
        QCOMPARE(entries[1].toObject().value(QStringLiteral("version")).toInteger(), 1);
    }

    void statsInstanceAndFlush()
    {
        const auto stats = call("GET", "/admin/v1/stats", authed());
        QCOMPARE(stats.status, 200);
        QCOMPARE(stats.header("content-type"), QByteArray("application/json"));
        QCOMPARE(jsonOf(stats).value(QStringLiteral("requests_total")).toInt(), 1234);

        const auto instance = call("GET", "/admin/v1/instance", authed());
        QCOMPARE(instance.status, 200);
        QCOMPARE(jsonOf(instance).value(QStringLiteral("id")).toString(), QStringLiteral("gw-test-1"));

        const auto flushAll = call("POST", "/admin/v1/cache/flush", authed());
        QCOMPARE(flushAll.status, 200);
        QCOMPARE(jsonOf(flushAll).value(QStringLiteral("flushed_entries")).toInt(), 17);

        const auto flushOne = call("POST", "/admin/v1/cache/flush", authed({{"Content-Type", "application/json"}}),
                                   QByteArray("{\"namespace\":\"chat\"}"));
        QCOMPARE(flushOne.status, 200);
        QCOMPARE(m_backend->flushes(), QStringList({QString(), QStringLiteral("chat")}));

        const auto badField = call("POST", "/admin/v1/cache/flush", authed({{"Content-Type", "application/json"}}),
                                   QByteArray("{\"namespace\":7,\"everything\":true}"));
        QCOMPARE(badField.status, 400);
        QCOMPARE(errorPaths(errorOf(badField).value(QStringLiteral("errors")).toArray()),
                 QStringList({QStringLiteral("everything"), QStringLiteral("namespace")}));
        const auto badJson = call("POST", "/admin/v1/cache/flush", authed({{"Content-Type", "application/json"}}),
                                  QByteArray("{nope"));
        QCOMPARE(badJson.status, 400);
        QCOMPARE(m_backend->flushes().size(), 2);
    }

    void unknownPathAndWrongMethod_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("path");
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("allow");
        QTest::newRow("unknown") << QByteArray("GET") << QByteArray("/admin/v1/nothing") << 404 << QByteArray();
        QTest::newRow("outside") << QByteArray("GET") << QByteArray("/v1/models") << 404 << QByteArray();
        QTest::newRow("delete config") << QByteArray("DELETE") << QByteArray("/admin/v1/config") << 405
                                       << QByteArray("GET, HEAD, PUT, PATCH");
        QTest::newRow("post stats") << QByteArray("POST") << QByteArray("/admin/v1/stats") << 405
                                    << QByteArray("GET, HEAD");
        QTest::newRow("get flush") << QByteArray("GET") << QByteArray("/admin/v1/cache/flush") << 405
                                   << QByteArray("POST");
        QTest::newRow("get validate") << QByteArray("GET") << QByteArray("/admin/v1/config/validate") << 405
                                      << QByteArray("POST");
    }

    void unknownPathAndWrongMethod()
    {
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, path);
        QFETCH(int, status);
        QFETCH(QByteArray, allow);
        const auto response = call(method, path, authed());
        QCOMPARE(response.status, status);
        QCOMPARE(response.header("allow"), allow);
        QCOMPARE(response.header("content-type"), QByteArray("application/json"));
        QVERIFY(!errorOf(response).value(QStringLiteral("type")).toString().isEmpty());
    }

    void missingOrWrongTokenIs401()
    {
        const auto missing = call("GET", "/admin/v1/config");
        QCOMPARE(missing.status, 401);
        QVERIFY(missing.header("www-authenticate").startsWith("Bearer"));
        QCOMPARE(jsonOf(missing).value(QStringLiteral("error")).toObject().value(QStringLiteral("type")).toString(),
                 QStringLiteral("authentication_error"));

        const auto wrong = call("GET", "/admin/v1/stats", {{"Authorization", "Bearer guessed-token-123"}});
        QCOMPARE(wrong.status, 401);
        QVERIFY(wrong.header("www-authenticate").startsWith("Bearer"));
        QVERIFY(!wrong.body.contains("guessed-token-123"));

        const auto otherScheme = call("GET", "/admin/v1/stats", {{"Authorization", "Basic " + kToken.toBase64()}});
        QCOMPARE(otherScheme.status, 401);
        // A prefix of the right token is just as wrong.
        const auto prefix = call("GET", "/admin/v1/stats", {{"Authorization", "Bearer " + kToken.left(6)}});
        QCOMPARE(prefix.status, 401);
        // Unknown paths are refused before routing, too.
        QCOMPARE(call("GET", "/admin/v1/nothing").status, 401);

        QCOMPARE(m_api->failureCount(QHostAddress::LocalHost), 5);
        const std::string text = exposition();
        QVERIFY2(text.find("sluice_admin_auth_failures_total 5\n") != std::string::npos, text.c_str());
        QVERIFY2(text.find("sluice_admin_requests_total{route=\"config\",code=\"401\"} 1\n") != std::string::npos,
                 text.c_str());
        QVERIFY2(text.find("sluice_admin_requests_total{route=\"stats\",code=\"401\"} 3\n") != std::string::npos,
                 text.c_str());
        QVERIFY2(text.find("sluice_admin_requests_total{route=\"unknown\",code=\"401\"} 1\n") != std::string::npos,
                 text.c_str());

        // The right token works, is counted as a 200, and forgets the failures.
        QCOMPARE(call("GET", "/admin/v1/stats", {{"Authorization", "bearer " + kToken}}).status, 200);
        QCOMPARE(m_api->failureCount(QHostAddress::LocalHost), 0);
        QVERIFY(exposition().find("sluice_admin_requests_total{route=\"stats\",code=\"200\"} 1\n")
                != std::string::npos);
        QVERIFY(exposition().find("sluice_admin_auth_failures_total 5\n") != std::string::npos);
    }

    void failureDelayGrowsAndDecays()
    {
        const QList<std::chrono::milliseconds> expected{0ms, 100ms, 200ms, 400ms};
        for (qsizetype attempt = 0; attempt < expected.size(); ++attempt) {
            const auto response = call("GET", "/admin/v1/stats", {{"Authorization", "Bearer wrong"}});
            QCOMPARE(response.status, 401);
            QCOMPARE(m_api->failureCount(QHostAddress::LocalHost), int(attempt + 1));
            QCOMPARE(m_api->lastFailureDelay(QHostAddress::LocalHost), expected[attempt]);
        }
        // The same peer seen as IPv4-mapped IPv6 is the same address.
        QCOMPARE(m_api->failureCount(QHostAddress(QStringLiteral("::ffff:127.0.0.1"))), 4);
        QCOMPARE(m_api->failureCount(QHostAddress(QStringLiteral("10.1.2.3"))), 0);

        // 60 s without a failure: the count decays and the next 401 is immediate again.
        m_clock->advance(59s);
        QCOMPARE(m_api->failureCount(QHostAddress::LocalHost), 4);
        m_clock->advance(1s);
        QCOMPARE(m_api->failureCount(QHostAddress::LocalHost), 0);
        QCOMPARE(call("GET", "/admin/v1/stats").status, 401);
        QCOMPARE(m_api->failureCount(QHostAddress::LocalHost), 1);
        QCOMPARE(m_api->lastFailureDelay(QHostAddress::LocalHost), 0ms);
    }

    void serverStopsWhileA401IsHeldBack()
    {
        QCOMPARE(call("GET", "/admin/v1/stats").status, 401);
        QCOMPARE(call("GET", "/admin/v1/stats").status, 401);
        RawHttpClient client;
        QVERIFY(client.connectTo(m_server->serverPort()));
        client.send("GET /admin/v1/stats HTTP/1.1\r\nHost: admin\r\n\r\n");
        QTRY_COMPARE_WITH_TIMEOUT(m_api->failureCount(QHostAddress::LocalHost), 3, kTimeoutMs);
        QCOMPARE(m_api->lastFailureDelay(QHostAddress::LocalHost), 200ms);
        // The answer is waiting on a timer: stopping the server now must neither crash
        // nor answer later on a dead connection.
        m_server.reset();
        QTRY_VERIFY_WITH_TIMEOUT(client.isClosed(), kTimeoutMs);
        QCOMPARE(client.responseCount(), 0);
    }

    void noTokenRequired()
    {
        cleanup();
        start(AdminAuth::noTokenRequired());
        QCOMPARE(call("GET", "/admin/v1/stats").status, 200);
        QCOMPARE(call("PATCH", "/admin/v1/config", {{"Content-Type", "application/json"}},
                      QByteArray("{\"cache\":{\"ttl_seconds\":11}}"))
                     .status,
                 200);
        QCOMPARE(store().history().last().who, QStringLiteral("anonymous"));
        QCOMPARE(m_api->failureCount(QHostAddress::LocalHost), 0);

        // Switching to a token at run time takes effect for the next request.
        m_api->setAuth(AdminAuth::bearerTokenSha256(sluice::config::hashApiKey(QString::fromLatin1(kToken))));
        QCOMPARE(call("GET", "/admin/v1/stats").status, 401);
        QCOMPARE(call("GET", "/admin/v1/stats", authed()).status, 200);
    }

    void secondApiSharesTheMetrics()
    {
        // E.g. the admin listener rebuilt after a config change, on the same registry.
        AdminApi second(*m_backend, AdminAuth::noTokenRequired(), *m_registry, *m_clock);
        HttpServerOptions options;
        options.threads = 1;
        HttpServer secondServer(options, second.handler());
        const auto port = secondServer.listen();
        QVERIFY(port.ok());
        RawHttpClient client;
        QVERIFY(client.connectTo(*port));
        client.send("GET /admin/v1/stats HTTP/1.1\r\nHost: admin\r\n\r\n");
        QTRY_COMPARE_WITH_TIMEOUT(client.responseCount(), 1, kTimeoutMs);
        QCOMPARE(client.response(0).status, 200);

        QCOMPARE(call("GET", "/admin/v1/stats").status, 401);
        const std::string text = exposition();
        QVERIFY2(text.find("sluice_admin_auth_failures_total 1\n") != std::string::npos, text.c_str());
        QVERIFY2(text.find("sluice_admin_requests_total{route=\"stats\",code=\"200\"} 1\n") != std::string::npos,
                 text.c_str());
        QVERIFY2(text.find("sluice_admin_requests_total{route=\"stats\",code=\"401\"} 1\n") != std::string::npos,
                 text.c_str());
    }

    // AuthFailureTracker on its own, on simulated time.

    void trackerDelays_data()
    {
        QTest::addColumn<int>("previousFailures");
        QTest::addColumn<int>("delayMs");
        QTest::newRow("none") << 0 << 0;
        QTest::newRow("1") << 1 << 100;
        QTest::newRow("2") << 2 << 200;
        QTest::newRow("3") << 3 << 400;
        QTest::newRow("6") << 6 << 3200;
        QTest::newRow("7 capped") << 7 << 5000;
        QTest::newRow("1000 capped") << 1000 << 5000;
    }

    void trackerDelays()
    {
        QFETCH(int, previousFailures);
        QFETCH(int, delayMs);
        QCOMPARE(AuthFailureTracker::delayAfter(previousFailures), std::chrono::milliseconds(delayMs));
    }

    void trackerTableIsBounded()
    {
        sluice::policy::ManualClock clock;
        AuthFailureTracker tracker(clock, 3);
        for (const char *address : {"10.0.0.1", "10.0.0.2", "10.0.0.3"}) {
            tracker.recordFailure(QString::fromLatin1(address));
            clock.advance(1s);
        }
        tracker.recordFailure(QStringLiteral("10.0.0.1")); // now the most recent
        clock.advance(1s);
        QCOMPARE(tracker.recordFailure(QStringLiteral("10.0.0.4")), 0ms);
        QCOMPARE(tracker.trackedAddresses(), std::size_t(3));
        QCOMPARE(tracker.failureCount(QStringLiteral("10.0.0.2")), 0); // oldest, dropped
        QCOMPARE(tracker.failureCount(QStringLiteral("10.0.0.1")), 2);
        QCOMPARE(tracker.failureCount(QStringLiteral("10.0.0.3")), 1);
        QCOMPARE(tracker.failureCount(QStringLiteral("10.0.0.4")), 1);

        // Decayed entries go first, whatever the bound.
        clock.advance(AuthFailureTracker::kDecay);
        tracker.recordFailure(QStringLiteral("10.0.0.5"));
        QCOMPARE(tracker.trackedAddresses(), std::size_t(1));
        QCOMPARE(tracker.lastDelay(QStringLiteral("10.0.0.5")), 0ms);
        QCOMPARE(tracker.recordFailure(QStringLiteral("10.0.0.5")), 100ms);
        tracker.recordSuccess(QStringLiteral("10.0.0.5"));
        QCOMPARE(tracker.failureCount(QStringLiteral("10.0.0.5")), 0);
        QCOMPARE(tracker.trackedAddresses(), std::size_t(0));
    }
};

QTEST_GUILESS_MAIN(TestAdminApi)
#include "tst_adminapi.moc"
