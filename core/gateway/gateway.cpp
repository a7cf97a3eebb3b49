#include "gateway/gateway.h"

#include "store/rediskey.h"
#include "store/rediskeysweep.h"

#include "config/apikeyhash.h"
#include "config/configloader.h"
#include "metrics/exposition.h"
#include "config/pricetableloader.h"
#include "config/secretsource.h"
#include "gateway/apierror.h"
#include "gateway/chatexchange.h"
#include "gateway/providerprotocol.h"
#include "http/httpresponder.h"

#include <QHostInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QThread>

namespace sluice::gateway {

namespace {

policy::CacheLimits cacheLimits(const config::CacheConfig &cache)
{
    policy::CacheLimits limits;
    limits.maxEntries = std::size_t(std::max<std::int64_t>(cache.maxEntries, 0));
    limits.maxBytes = std::size_t(std::max<std::int64_t>(cache.maxBytes, 0));
    limits.maxEntryBytes = std::size_t(std::max<std::int64_t>(cache.maxEntryBytes, 0));
    limits.defaultTtl = cache.ttl;
    return limits;
}

http::HttpServerOptions serverOptions(const config::ServerConfig &server, const config::Listener &listener)
{
    http::HttpServerOptions options;
    options.address = QHostAddress(listener.address);
    options.port = quint16(listener.port);
    options.threads = server.threads;
    options.maxHeaderBytes = server.maxHeaderBytes;
    options.maxBodyBytes = server.maxBodyBytes;
    options.headerTimeout = server.headerTimeout;
    options.bodyTimeout = server.bodyTimeout;
    options.idleTimeout = server.idleTimeout;
    return options;
}

QString generatedInstanceId()
{
    return QHostInfo::localHostName().left(32) + QLatin1Char('-')
           + QString::number(QRandomGenerator::system()->generate() % 0xFFFFFF, 16).rightJustified(6, QLatin1Char('0'));
}

QByteArray jsonBytes(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

void respondJson(http::HttpResponder &responder, int status, const QJsonObject &object)
{
    responder.respond(status, http::HttpHeaders{{"content-type", "application/json"}}, jsonBytes(object));
}

// The client's error shape for paths outside the chat endpoints: Anthropic's when the
// client sent anthropic-version, OpenAI's otherwise.
ProviderKind shapeFor(const http::HttpRequest &request)
{
    return request.headers.contains("anthropic-version") ? ProviderKind::Anthropic : ProviderKind::OpenAI;
}

policy::CircuitBreaker::State breakerStateFromValue(int value)
{
    switch (value) {
    case 1: return policy::CircuitBreaker::State::HalfOpen;
    case 2: return policy::CircuitBreaker::State::Open;
    default: return policy::CircuitBreaker::State::Closed;
    }
}

} // namespace

Gateway::Gateway(GatewayOptions options, QObject *parent)
    : QObject(parent)
    , m_options(std::move(options))
    , m_instanceId(m_options.instanceId.isEmpty() ? generatedInstanceId() : m_options.instanceId)
    , m_startedAtUtc(QDateTime::currentDateTimeUtc())
    , m_logger(m_options.logger ? m_options.logger : std::make_shared<Logger>(stderr, m_options.config.logging.level))
    , m_configStore(m_options.config)
    , m_policies(m_clock, readUpstreamSecret)
    , m_cache(cacheLimits(m_options.config.cache), m_clock)
{
    auto metrics = GatewayMetrics::create(m_registry, QStringLiteral(SLUICE_VERSION));
    // A fresh registry always takes the families; a failure is a programming error.
    Q_ASSERT(bool(metrics));
    m_metrics = std::move(*metrics);
    m_metrics->setCacheStatsSource([this] { return m_cache.stats(); });
    m_policies.setBreakerListener([this](const QString &upstream, auto, auto to) {
        m_metrics->breakerTransition(upstream, to);
        m_logger->warn("breaker", {{"upstream", upstream},
                                   {"state", std::string(policy::breakerStateName(to))}});
    });

    m_context.clock = &m_clock;
    m_context.policies = &m_policies;
    m_context.cache = &m_cache;
    m_context.metrics = m_metrics.get();
    m_context.logger = m_logger.get();
    m_context.config = [this] { return m_configStore.current(); };
    m_context.prices = [this] {
        std::lock_guard lock(m_pricesMutex);
        return m_prices;
    };
    m_context.upstreamClient = [this] { return upstreamClientForThisThread(); };
    m_context.queueChanged = [this] { QMetaObject::invokeMethod(this, &Gateway::armQueueTimer, Qt::QueuedConnection); };
    m_context.requestIdPrefix = QStringLiteral("req_") + m_instanceId.right(6) + QLatin1Char('_');
    m_context.version = QStringLiteral(SLUICE_VERSION);
    m_context.instanceId = m_instanceId;
    m_context.recordUsage = m_options.usageObserver;

    applyRuntimeConfig(*m_configStore.current());
    m_configListenerId = m_configStore.addListener(
        [this](std::shared_ptr<const config::GatewayConfig> oldConfig,
               std::shared_ptr<const config::GatewayConfig> newConfig, const ApplyOrigin &origin) {
            applyRuntimeConfig(*newConfig);
            m_metrics->configReload(true);
            m_logger->info("config_applied", {{"version", newConfig->version},
                                              {"who", origin.who},
                                              {"from", origin.from},
                                              {"comment", origin.comment}});
            if (m_adminApi && oldConfig->admin != newConfig->admin) {
                if (auto auth = adminAuth(*newConfig))
                    m_adminApi->setAuth(*auth);
                else
                    m_logger->error("admin_token", {{"msg", auth.error()}, {"kept", "the previous token"}});
            }
            const bool adminListenerChanged = oldConfig->admin.enabled != newConfig->admin.enabled
                                              || oldConfig->admin.address != newConfig->admin.address
                                              || oldConfig->admin.port != newConfig->admin.port;
            if (oldConfig->server != newConfig->server || adminListenerChanged)
                m_logger->warn("config_restart_needed",
                               {{"msg", "server listener and admin address settings take effect at the next start"}});
            const qint64 version = newConfig->version;
            QMetaObject::invokeMethod(this, [this, version] { emit configApplied(version); }, Qt::QueuedConnection);
        });

    m_queueTimer.setSingleShot(true);
    connect(&m_queueTimer, &QTimer::timeout, this, &Gateway::armQueueTimer);
    m_maintenanceTimer.setInterval(std::chrono::seconds(1));
    connect(&m_maintenanceTimer, &QTimer::timeout, this, &Gateway::onMaintenance);
}

Gateway::~Gateway()
{
    m_configStore.removeListener(m_configListenerId);
    m_metrics->setCacheStatsSource({});
    m_adminServer.reset();
    m_servers.clear();
    m_usageRetention.reset();
    m_auditRecorder.reset();
    if (m_usageWriter) {
        disconnect(m_usageWriter.get(), nullptr, this, nullptr);
        m_usageWriter->stop(5000);
    }
    std::lock_guard lock(m_clientsMutex);
    m_clients.clear();
}

void Gateway::applyRuntimeConfig(const config::GatewayConfig &config)
{
    m_policies.configure(config);
    m_cache.setLimits(cacheLimits(config.cache));
    m_logger->setLevel(config.logging.level);
    m_metrics->setConfigVersion(config.version);
    m_metrics->setConcurrencyLimit(config.concurrency.maxInFlight);
    auto prices = loadPrices(config);
    {
        std::lock_guard lock(m_pricesMutex);
        if (prices)
            m_prices = std::move(prices);
    }
    for (const QString &problem : m_policies.upstreamProblems())
        m_logger->warn("upstream_key", {{"msg", problem}});
    updateGauges();
}

std::shared_ptr<const policy::PriceTable> Gateway::loadPrices(const config::GatewayConfig &config)
{
    {
        std::lock_guard lock(m_pricesMutex);
        if (m_prices && m_pricesFile == config.pricing.tableFile)
            return nullptr; // unchanged
    }
    auto table = config.pricing.tableFile.isEmpty() ? config::defaultPriceTable()
                                                    : config::loadPriceTableFile(config.pricing.tableFile);
    if (!table) {
        std::string errors;
        for (const std::string &error : table.error())
            errors += (errors.empty() ? "" : "; ") + error;
        m_logger->error("price_table", {{"file", config.pricing.tableFile}, {"msg", errors}});
        return nullptr;
    }
    m_pricesFile = config.pricing.tableFile;
    return std::make_shared<const policy::PriceTable>(std::move(*table));
}

Result<AdminAuth, QString> Gateway::adminAuth(const config::GatewayConfig &config) const
{
    if (!m_options.adminToken.isEmpty())
        return AdminAuth::bearerTokenSha256(config::hashApiKey(QString::fromUtf8(m_options.adminToken)));
    const config::AdminConfig &admin = config.admin;
    if (!admin.tokenSha256.isEmpty())
        return AdminAuth::bearerTokenSha256(admin.tokenSha256);
    const auto token = config::readSecret(
        {admin.tokenEnv, QStringLiteral("admin.token_env"), admin.tokenFile, QStringLiteral("admin.token_file")});
    if (!token)
        return unexpected(token.error());
    if (token->isEmpty())
        return AdminAuth::noTokenRequired();
    return AdminAuth::bearerTokenSha256(config::hashApiKey(QString::fromUtf8(*token)));
}

std::optional<QString> Gateway::startUsageStore(const config::GatewayConfig &config)
{
    const config::PostgresConfig &postgres = config.postgres;
    if (!postgres.enabled)
        return std::nullopt;
    const auto connection = config::readSecret(
        {postgres.connectionStringEnv, QStringLiteral("postgres.connection_string_env"),
         postgres.connectionStringFile, QStringLiteral("postgres.connection_string_file")});
    if (!connection)
        return connection.error();
    store::UsageWriterOptions options;
    options.connectionString = QString::fromUtf8(*connection);
    options.bufferCapacity = postgres.bufferRecords;
    options.batchSize = postgres.batchSize;
    options.flushIntervalMs = int(postgres.flushInterval.count());
    m_usageWriter = std::make_shared<store::UsageWriter>(options);
    connect(m_usageWriter.get(), &store::UsageWriter::connectedChanged, this, [this](bool connected) {
        if (connected)
            m_logger->info("usage_store", {{"state", "connected"}});
        else
            m_logger->warn("usage_store", {{"state", "disconnected"}, {"msg", "usage records wait in the buffer"}});
    });
    std::weak_ptr<store::UsageWriter> writer = m_usageWriter;
    auto gauge = [this, writer](const char *name, const char *help, auto read, bool counter) {
        auto value = [writer, read]() -> double {
            const auto live = writer.lock();
            return live ? double(read(*live)) : 0.0;
        };
        if (counter)
            (void)m_registry.counterCallback(name, help, value);
        else
            (void)m_registry.gaugeCallback(name, help, value);
    };
    gauge("sluice_usage_records_written_total", "Usage records written to PostgreSQL.",
          [](const store::UsageWriter &w) { return w.writtenCount(); }, true);
    gauge("sluice_usage_records_dropped_total", "Usage records dropped because the bounded buffer was full.",
          [](const store::UsageWriter &w) { return w.droppedCount(); }, true);
    gauge("sluice_usage_records_pending", "Usage records waiting to be written to PostgreSQL.",
          [](const store::UsageWriter &w) { return w.pendingCount(); }, false);
    gauge("sluice_usage_store_connected", "1 while the PostgreSQL usage store is connected.",
          [](const store::UsageWriter &w) { return w.isConnected() ? 1 : 0; }, false);
    auto observer = m_options.usageObserver;
    m_context.recordUsage = [writer, observer](store::UsageRecord record) {
        if (observer)
            observer(record);
        if (const auto live = writer.lock())
            live->submit(std::move(record));
    };
    m_usageWriter->start();
    m_auditRecorder = std::make_unique<AuditRecorder>(m_configStore, m_usageWriter);
    m_usageRetention = std::make_unique<UsageRetention>(
        m_usageWriter, [this] { return int(m_configStore.current()->postgres.retention.count()); }, m_registry,
        *m_logger);
    m_usageRetention->start();
    return std::nullopt;
}

Result<QList<QUrl>, QString> Gateway::start()
{
    const auto config = m_configStore.current();
    if (const auto problem = startUsageStore(*config))
        return unexpected(*problem);
    if (config->redis.enabled && !m_sharedConfig) {
        auto link = SharedConfigLink::create(m_configStore, m_registry, *m_logger);
        if (!link)
            return unexpected(link.error());
        m_sharedConfig = std::move(*link);
    }
    if (config->redis.enabled && !m_redisLanes) {
        SharedConfigLink *link = m_sharedConfig.get();
        auto lanes = RedisLanes::create(config->redis, m_registry, [link] { return link->isConnected(); });
        if (!lanes)
            return unexpected(lanes.error());
        m_redisLanes = std::move(*lanes);
        m_context.redisLanes = m_redisLanes.get();
    }
    auto handler = [this](http::HttpRequest request, std::shared_ptr<http::HttpResponder> responder) {
        handleDataPlane(std::move(request), std::move(responder));
    };
    std::vector<std::unique_ptr<http::HttpServer>> servers;
    for (const config::Listener &listener : config->server.listeners) {
        auto server = std::make_unique<http::HttpServer>(serverOptions(config->server, listener), handler);
        auto bound = server->listen();
        if (!bound)
            return unexpected(QStringLiteral("cannot listen on %1:%2: %3")
                                  .arg(listener.address)
                                  .arg(listener.port)
                                  .arg(bound.error().message));
        connect(server.get(), &http::HttpServer::drained, this, &Gateway::onServerDrained);
        servers.push_back(std::move(server));
    }
    if (config->admin.enabled) {
        auto auth = adminAuth(*config);
        if (!auth)
            return unexpected(auth.error());
        m_adminApi = std::make_unique<AdminApi>(*this, *auth, m_registry, m_clock);
        http::HttpServerOptions options;
        options.address = QHostAddress(config->admin.address);
        options.port = quint16(config->admin.port);
        options.threads = 1;
        options.maxBodyBytes = 16 * 1024 * 1024;
        AdminApi *api = m_adminApi.get();
        auto adminHandler = [this, api](http::HttpRequest request, std::shared_ptr<http::HttpResponder> responder) {
            if (request.path == "/metrics" && request.method == "GET") {
                answerMetrics(*responder);
                return;
            }
            api->handle(std::move(request), std::move(responder));
        };
        m_adminServer = std::make_unique<http::HttpServer>(options, adminHandler);
        auto bound = m_adminServer->listen();
        if (!bound) {
            m_adminServer.reset();
            return unexpected(QStringLiteral("cannot listen on %1:%2 (admin): %3")
                                  .arg(config->admin.address)
                                  .arg(config->admin.port)
                                  .arg(bound.error().message));
        }
        connect(m_adminServer.get(), &http::HttpServer::drained, this, &Gateway::onServerDrained);
    }
    m_servers = std::move(servers);
    m_maintenanceTimer.start();
    if (m_sharedConfig) {
        store::InstanceInfo info;
        info.id = m_instanceId;
        info.address = listenUrls().value(0).authority();
        info.adminUrl = adminUrl().toString();
        info.version = QStringLiteral(SLUICE_VERSION);
        info.startedAt = m_startedAtUtc;
        m_sharedConfig->start(std::move(info));
    }
    QStringList urls;
    for (const QUrl &url : listenUrls())
        urls.append(url.toString());
    m_logger->info("started", {{"instance", m_instanceId},
                               {"version", QStringLiteral(SLUICE_VERSION)},
                               {"listen", urls.join(u',')},
                               {"admin", adminUrl().toString()},
                               {"config_version", config->version}});
    return listenUrls();
}

QList<QUrl> Gateway::listenUrls() const
{
    QList<QUrl> urls;
    for (const auto &server : m_servers) {
        QUrl url;
        url.setScheme(QStringLiteral("http"));
        url.setHost(server->serverAddress().toString());
        url.setPort(server->serverPort());
        urls.append(url);
    }
    return urls;
}

QUrl Gateway::adminUrl() const
{
    if (!m_adminServer)
        return {};
    QUrl url;
    url.setScheme(QStringLiteral("http"));
    url.setHost(m_adminServer->serverAddress().toString());
    url.setPort(m_adminServer->serverPort());
    return url;
}

void Gateway::shutdown(std::chrono::milliseconds deadline)
{
    if (m_shuttingDown.exchange(true))
        return;
    m_logger->info("shutdown", {{"in_flight", m_context.inFlight.load()},
                                {"deadline_ms", qint64(deadline.count())}});
    m_serversToDrain = int(m_servers.size()) + (m_adminServer ? 1 : 0);
    if (m_serversToDrain == 0) {
        QMetaObject::invokeMethod(this, &Gateway::drained, Qt::QueuedConnection);
        return;
    }
    for (const auto &server : m_servers)
        server->shutdown(deadline);
    if (m_adminServer)
        m_adminServer->shutdown(deadline);
}

void Gateway::onServerDrained()
{
    if (--m_serversToDrain > 0)
        return;
    m_maintenanceTimer.stop();
    if (m_sharedConfig)
        m_sharedConfig->stop();
    if (m_usageRetention)
        m_usageRetention->stop();
    if (m_usageWriter) {
        const qint64 unwritten = m_usageWriter->stop(5000);
        if (unwritten > 0)
            m_logger->error("usage_store", {{"msg", "records not written at shutdown"}, {"records", unwritten}});
        if (const qint64 audit = m_usageWriter->auditPendingCount(); audit > 0)
            m_logger->error("usage_store", {{"msg", "audit items not written at shutdown"}, {"items", audit}});
    }
    m_logger->info("drained", {{"instance", m_instanceId}});
    emit drained();
}

Result<AppliedConfig, QStringList> Gateway::reload()
{
    if (m_options.configFile.isEmpty()) {
        m_metrics->configReload(false);
        return unexpected(QStringList{QStringLiteral("no configuration file to reload (started without --config)")});
    }
    auto loaded = config::loadConfigFile(m_options.configFile);
    if (!loaded) {
        m_metrics->configReload(false);
        const QStringList errors = config::toStringList(loaded.error());
        m_logger->error("config_reload", {{"file", m_options.configFile}, {"msg", errors.join(u"; ")}});
        return unexpected(errors);
    }
    auto applied = m_configStore.apply(std::move(*loaded), std::nullopt,
                                       ApplyOrigin{QStringLiteral("reload"), QStringLiteral("SIGHUP"),
                                                   m_options.configFile});
    if (!applied) {
        m_metrics->configReload(false);
        m_logger->error("config_reload", {{"file", m_options.configFile}, {"msg", applied.error().errors.join(u"; ")}});
        return unexpected(applied.error().errors);
    }
    return *applied;
}

http::UpstreamClient *Gateway::upstreamClientForThisThread()
{
    QThread *thread = QThread::currentThread();
    std::lock_guard lock(m_clientsMutex);
    if (auto *client = m_clients.value(thread))
        return client;
    auto *client = new http::UpstreamClient(m_options.upstreamClient);
    m_clients.insert(thread, client);
    // The client lives and dies on this thread: deleted as the thread finishes.
    connect(thread, &QThread::finished, client, [this, thread, client] {
        {
            std::lock_guard innerLock(m_clientsMutex);
            m_clients.remove(thread);
        }
        delete client;
    }, Qt::DirectConnection);
    return client;
}

void Gateway::handleDataPlane(http::HttpRequest request, std::shared_ptr<http::HttpResponder> responder)
{
    const QByteArray path = request.path.endsWith('/') && request.path.size() > 1 ? request.path.chopped(1)
                                                                                  : request.path;
    if (const auto kind = providerForPath(path)) {
        if (request.method != "POST") {
            m_metrics->clientError(u"method_not_allowed");
            responder->respond(405, http::HttpHeaders{{"content-type", "application/json"}, {"allow", "POST"}},
                               errorBody(*kind, errorForStatus(*kind, 405,
                                                               QStringLiteral("Method %1 not allowed on %2; use POST.")
                                                                   .arg(QString::fromLatin1(request.method),
                                                                        QString::fromLatin1(path)))));
            return;
        }
        if (m_shuttingDown) {
            responder->respond(503, http::HttpHeaders{{"content-type", "application/json"}, {"retry-after", "1"}},
                               errorBody(*kind, errorForStatus(*kind, 503, QStringLiteral("The gateway is shutting down."))));
            return;
        }
        ChatExchange::start(m_context, *kind, std::move(request), std::move(responder));
        return;
    }
    const bool get = request.method == "GET" || request.method == "HEAD";
    if (path == "/healthz" && get) {
        respondJson(*responder, 200, QJsonObject{{QStringLiteral("status"), QStringLiteral("ok")}});
        return;
    }
    if (path == "/readyz" && get) {
        answerReadiness(*responder);
        return;
    }
    if (path == "/metrics" && get) {
        answerMetrics(*responder);
        return;
    }
    if ((path == "/v1/models" || path.startsWith("/v1/models/")) && get) {
        answerModels(request, *responder);
        return;
    }
    const ProviderKind kind = shapeFor(request);
    const bool known = path == "/healthz" || path == "/readyz" || path == "/metrics" || path == "/v1/models"
                       || path.startsWith("/v1/models/");
    m_metrics->clientError(known ? u"method_not_allowed" : u"unknown_path");
    const int status = known ? 405 : 404;
    http::HttpHeaders headers{{"content-type", "application/json"}};
    if (known)
        headers.set("allow", "GET, HEAD");
    responder->respond(status, headers,
                       errorBody(kind, errorForStatus(kind, status,
                                                      known ? QStringLiteral("Method %1 not allowed on %2.")
                                                                  .arg(QString::fromLatin1(request.method),
                                                                       QString::fromLatin1(path))
                                                            : QStringLiteral("Unknown request URL: %1 %2.")
                                                                  .arg(QString::fromLatin1(request.method),
                                                                       QString::fromLatin1(path)))));
}

void Gateway::answerModels(const http::HttpRequest &request, http::HttpResponder &responder)
{
    const auto config = m_configStore.current();
    const ProviderKind kind = shapeFor(request);
    // The same keys as the chat endpoints: a key, or anonymous access.
    const QByteArray key = presentedApiKey(request.headers);
    const bool allowed = key.isEmpty() ? config->anonymous.enabled : findClientKey(*config, key) != nullptr;
    if (!allowed) {
        m_metrics->clientError(key.isEmpty() ? u"unauthenticated" : u"invalid_api_key");
        responder.respond(401, http::HttpHeaders{{"content-type", "application/json"}},
                          errorBody(kind, errorForStatus(kind, 401, key.isEmpty() ? QStringLiteral("No API key provided.")
                                                                                  : QStringLiteral("Incorrect API key provided."))));
        return;
    }
    const qint64 created = m_startedAtUtc.toSecsSinceEpoch();
    QJsonArray data;
    QStringList seen;
    auto add = [&](const QString &id, const QString &owner) {
        if (seen.contains(id))
            return;
        seen.append(id);
        if (kind == ProviderKind::OpenAI) {
            data.append(QJsonObject{{QStringLiteral("id"), id},
                                    {QStringLiteral("object"), QStringLiteral("model")},
                                    {QStringLiteral("created"), created},
                                    {QStringLiteral("owned_by"), owner}});
        } else {
            data.append(QJsonObject{{QStringLiteral("type"), QStringLiteral("model")},
                                    {QStringLiteral("id"), id},
                                    {QStringLiteral("display_name"), id},
                                    {QStringLiteral("created_at"), m_startedAtUtc.toString(Qt::ISODate)}});
        }
    };
    for (const config::Upstream &upstream : config->upstreams) {
        const bool sameShape = (upstream.kind == config::UpstreamKind::Anthropic) == (kind == ProviderKind::Anthropic);
        if (!sameShape)
            continue;
        for (const QString &model : upstream.models)
            add(model, upstream.name);
        for (const auto &[alias, target] : upstream.aliases)
            add(alias, upstream.name);
    }
    // GET /v1/models/{id}: one entry, as both providers' retrieve endpoints answer.
    const QByteArray path = request.path.endsWith('/') ? request.path.chopped(1) : request.path;
    if (path.startsWith("/v1/models/")) {
        const QString id = QUrl::fromPercentEncoding(path.mid(int(qstrlen("/v1/models/"))));
        const qsizetype index = seen.indexOf(id);
        if (index < 0) {
            m_metrics->clientError(u"unknown_model");
            ApiError error = errorForStatus(kind, 404, QStringLiteral("The model `%1` does not exist.").arg(id));
            if (kind == ProviderKind::OpenAI)
                error.code = QStringLiteral("model_not_found");
            responder.respond(404, http::HttpHeaders{{"content-type", "application/json"}}, errorBody(kind, error));
            return;
        }
        respondJson(responder, 200, data.at(index).toObject());
        return;
    }
    QJsonObject body;
    if (kind == ProviderKind::OpenAI) {
        body = QJsonObject{{QStringLiteral("object"), QStringLiteral("list")}, {QStringLiteral("data"), data}};
    } else {
        body = QJsonObject{{QStringLiteral("data"), data},
                           {QStringLiteral("has_more"), false},
                           {QStringLiteral("first_id"), data.isEmpty() ? QJsonValue() : QJsonValue(seen.first())},
                           {QStringLiteral("last_id"), data.isEmpty() ? QJsonValue() : QJsonValue(seen.last())}};
    }
    respondJson(responder, 200, body);
}

QJsonObject Gateway::redisFallbackState(const config::GatewayConfig &config) const
{
    const bool active = m_redisLanes && m_redisLanes->fallbackActive();
    QString policy;
    switch (config.redis.fallback) {
    case config::RedisFallback::Local: policy = QStringLiteral("local"); break;
    case config::RedisFallback::FailOpen: policy = QStringLiteral("fail_open"); break;
    case config::RedisFallback::FailClosed: policy = QStringLiteral("fail_closed"); break;
    }
    return QJsonObject{{QStringLiteral("fallback_active"), active},
                       {QStringLiteral("fallback_policy"), policy},
                       {QStringLiteral("shared_limits"), !active},
                       {QStringLiteral("shared_cache"), config.redis.sharedCache && !active}};
}

QStringList Gateway::readinessProblems() const
{
    QStringList problems;
    if (m_shuttingDown)
        problems.append(QStringLiteral("shutting down"));
    const auto config = m_configStore.current();
    if (config->upstreams.empty())
        problems.append(QStringLiteral("no upstreams configured"));
    problems.append(m_policies.upstreamProblems());
    const auto gauges = m_policies.upstreamGauges();
    if (!gauges.empty() && std::all_of(gauges.begin(), gauges.end(), [](const auto &g) { return g.breakerState == 2; }))
        problems.append(QStringLiteral("every upstream's circuit breaker is open"));
    if (m_redisLanes && config->redis.enabled && config->redis.fallback == config::RedisFallback::FailClosed
        && m_redisLanes->fallbackActive())
        problems.append(QStringLiteral("Redis cannot be used and redis.fallback is fail_closed"));
    return problems;
}

void Gateway::answerReadiness(http::HttpResponder &responder)
{
    const QStringList problems = readinessProblems();
    const auto config = m_configStore.current();
    QJsonObject body{{QStringLiteral("status"), problems.isEmpty() ? QStringLiteral("ready") : QStringLiteral("not_ready")},
                     {QStringLiteral("config_version"), double(config->version)},
                     {QStringLiteral("problems"), QJsonArray::fromStringList(problems)}};
    // Serving on the fallback policy is reported, not unready (unless fail_closed): a
    // balancer that pulled every instance when Redis went away would turn a degraded
    // deployment into a dead one.
    if (m_redisLanes)
        body.insert(QStringLiteral("redis"), redisFallbackState(*config));
    respondJson(responder, problems.isEmpty() ? 200 : 503, body);
}

void Gateway::answerMetrics(http::HttpResponder &responder)
{
    updateGauges();
    std::string text;
    m_registry.appendExposition(text);
    responder.respond(200, http::HttpHeaders{{"content-type", QByteArray(metrics::kExpositionContentType.data(), qsizetype(metrics::kExpositionContentType.size()))}},
                      QByteArray::fromStdString(text));
}

void Gateway::updateGauges()
{
    const auto queue = m_policies.queueStats();
    m_metrics->setQueueDepth(queue.queued);
    for (const auto &gauge : m_policies.upstreamGauges()) {
        m_metrics->breakerState(gauge.name, breakerStateFromValue(gauge.breakerState));
        if (!gauge.providerQuota)
            continue;
        const RateLimitState &state = *gauge.providerQuota;
        auto report = [&](QuotaResource resource, const std::optional<RateLimitBucket> &bucket) {
            if (bucket)
                m_metrics->providerQuota(gauge.name, resource, double(bucket->remaining), double(bucket->limit));
        };
        report(QuotaResource::Requests, state.requests);
        report(QuotaResource::Tokens, state.tokens);
        report(QuotaResource::InputTokens, state.inputTokens);
        report(QuotaResource::OutputTokens, state.outputTokens);
    }
}

void Gateway::armQueueTimer()
{
    const auto next = m_policies.expireQueue();
    if (!next) {
        m_queueTimer.stop();
        return;
    }
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(*next - m_clock.now());
    m_queueTimer.start(std::max(wait, std::chrono::milliseconds(1)));
}

void Gateway::onMaintenance()
{
    m_cache.purgeExpired();
    m_policies.purgeIdle();
    updateGauges();
}

QJsonObject Gateway::statsSnapshot()
{
    updateGauges();
    QJsonObject stats = m_metrics->snapshot();
    const auto queue = m_policies.queueStats();
    QJsonObject queueJson = stats.value(QStringLiteral("queue")).toObject();
    queueJson.insert(QStringLiteral("depth"), queue.queued);
    queueJson.insert(QStringLiteral("in_flight"), queue.inFlight);
    stats.insert(QStringLiteral("queue"), queueJson);
    stats.insert(QStringLiteral("upstream_state"), m_policies.upstreamSnapshot());
    if (m_usageWriter) {
        const store::UsageWriterStats usage = m_usageWriter->stats();
        stats.insert(QStringLiteral("usage_store"),
                     QJsonObject{{QStringLiteral("connected"), usage.connected},
                                 {QStringLiteral("written"), double(usage.written)},
                                 {QStringLiteral("dropped"), double(usage.dropped)},
                                 {QStringLiteral("pending"), double(usage.pending)},
                                 {QStringLiteral("failures"), double(usage.failures)},
                                 {QStringLiteral("audit_written"), double(usage.auditWritten)},
                                 {QStringLiteral("audit_dropped"), double(usage.auditDropped)},
                                 {QStringLiteral("audit_pending"), double(usage.auditPending)}});
    }
    if (m_sharedConfig)
    {
        QJsonObject redis = m_sharedConfig->state();
        if (m_redisLanes) {
            const QJsonObject fallback = redisFallbackState(*m_configStore.current());
            for (auto it = fallback.begin(); it != fallback.end(); ++it)
                redis.insert(it.key(), it.value());
        }
        stats.insert(QStringLiteral("redis"), redis);
    }
    stats.insert(QStringLiteral("instance"), m_instanceId);
    stats.insert(QStringLiteral("config_version"), double(m_configStore.current()->version));
    stats.insert(QStringLiteral("uptime_seconds"), double(m_startedAtUtc.secsTo(QDateTime::currentDateTimeUtc())));
    stats.insert(QStringLiteral("time_unix_ms"), double(QDateTime::currentMSecsSinceEpoch()));
    return stats;
}

QJsonObject Gateway::flushCache(const QString &namespaceOrEmpty)
{
    return flushCache(namespaceOrEmpty, ApplyOrigin{QStringLiteral("admin-token"), {}, {}});
}

QJsonObject Gateway::flushCache(const QString &namespaceOrEmpty, const ApplyOrigin &origin)
{
    const std::size_t flushed = namespaceOrEmpty.isEmpty() ? m_cache.flushAll()
                                                           : m_cache.flush(namespaceOrEmpty.toStdString());
    if (m_auditRecorder)
        m_auditRecorder->recordCacheFlush(namespaceOrEmpty, qint64(flushed), origin);
    m_logger->info("cache_flush", {{"namespace", namespaceOrEmpty}, {"entries", quint64(flushed)}});
    QJsonObject result{{QStringLiteral("flushed_entries"), double(flushed)},
                       {QStringLiteral("namespace"), namespaceOrEmpty}};
    const auto config = m_configStore.current();
    if (m_sharedConfig && config->redis.enabled && config->redis.sharedCache) {
        // Every instance's shared entries: swept in Redis from the gateway's thread, in
        // pages; the answer does not wait for it (the log line tells how many went).
        const QByteArray ns = store::escapeRedisGlob(config->redis.keyNamespace.toUtf8());
        const QByteArray id = namespaceOrEmpty.isEmpty()
                                  ? QByteArrayLiteral("*")
                                  : store::escapeRedisGlob(namespaceOrEmpty.toUtf8()) + QByteArrayLiteral(":*");
        const QByteArray pattern = store::redisKey(ns, store::kCacheKeyKind, id);
        const bool connected = m_sharedConfig->isConnected();
        result.insert(QStringLiteral("shared"), QJsonObject{{QStringLiteral("pattern"), QString::fromUtf8(pattern)},
                                                            {QStringLiteral("sweep"), connected ? QStringLiteral("started")
                                                                                                : QStringLiteral("redis not connected")}});
        if (connected) {
            QMetaObject::invokeMethod(this, [this, pattern] {
                if (!m_sharedConfig)
                    return;
                store::unlinkMatching(m_sharedConfig->session(), pattern, this,
                                      [this, pattern](Result<qint64, store::StoreError> swept) {
                                          if (swept)
                                              m_logger->info("shared_cache_flush", {{"pattern", QString::fromUtf8(pattern)},
                                                                                    {"entries", *swept}});
                                          else
                                              m_logger->warn("shared_cache_flush", {{"pattern", QString::fromUtf8(pattern)},
                                                                                    {"msg", swept.error().message}});
                                      });
            }, Qt::QueuedConnection);
        }
    }
    return result;
}

QJsonObject Gateway::instanceInfo()
{
    QJsonArray listeners;
    for (const QUrl &url : listenUrls())
        listeners.append(url.toString());
    const auto snapshot = m_configStore.snapshot();
    return QJsonObject{{QStringLiteral("id"), m_instanceId},
                       {QStringLiteral("version"), QStringLiteral(SLUICE_VERSION)},
                       {QStringLiteral("started_at"), m_startedAtUtc.toString(Qt::ISODateWithMs)},
                       {QStringLiteral("uptime_seconds"), double(m_startedAtUtc.secsTo(QDateTime::currentDateTimeUtc()))},
                       {QStringLiteral("config_version"), double(snapshot.config->version)},
                       {QStringLiteral("config_etag"), snapshot.etag},
                       {QStringLiteral("listeners"), listeners},
                       {QStringLiteral("admin"), adminUrl().toString()},
                       {QStringLiteral("in_flight"), m_context.inFlight.load()},
                       {QStringLiteral("ready"), readinessProblems().isEmpty()}};
}

} // namespace sluice::gateway
