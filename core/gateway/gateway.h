#pragma once

#include "config/gatewayconfig.h"
#include "gateway/adminapi.h"
#include "gateway/auditrecorder.h"
#include "gateway/configstore.h"
#include "gateway/gatewaymetrics.h"
#include "gateway/gatewaypolicies.h"
#include "gateway/logger.h"
#include "gateway/pipelinecontext.h"
#include "gateway/redislanes.h"
#include "gateway/sharedconfiglink.h"
#include "gateway/usageretention.h"
#include "http/httpserver.h"
#include "http/upstreamclient.h"
#include "metrics/registry.h"
#include "policy/clock.h"
#include "policy/result.h"
#include "policy/shardedresponsecache.h"
#include "store/usagewriter.h"

#include <QDateTime>
#include <QHash>
#include <QObject>
#include <QTimer>
#include <QUrl>

#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

class QThread;

namespace sluice::gateway {

struct GatewayOptions {
    // A valid configuration (as loadConfig() returns it).
    config::GatewayConfig config;
    // Where the config came from, for reload() (SIGHUP); empty: reload() is refused.
    QString configFile;
    // The admin bearer token in plain text, overriding config.admin's token source
    // (--demo prints a generated one). Empty: config.admin decides.
    QByteArray adminToken;
    // An id for this instance (metrics, logs, admin API); empty: host name + random suffix.
    QString instanceId;
    // Upstream client settings (proxy from the environment, extra CA certificates).
    http::UpstreamClientOptions upstreamClient;
    // Where log lines go; nullptr: stderr.
    std::shared_ptr<Logger> logger;
    // Also receives every usage record (tests, the console's sandbox); thread-safe,
    // non-blocking. Independent of the PostgreSQL usage store.
    std::function<void(store::UsageRecord)> usageObserver;
};

// One running gateway: the data-plane listeners (OpenAI- and Anthropic-compatible API,
// /v1/models, /healthz, /readyz, /metrics), the admin listener, the request pipeline and
// everything it shares. The same class is run by sluice-gateway and embedded by the
// console's sandbox.
//
// Thread affinity: create, start(), reload(), shutdown() and destroy on one thread with
// a running event loop (the main thread of sluice-gateway, the GUI thread of the
// console); nothing here blocks it. Requests run on the servers' event-loop threads.
// The admin backend methods (statsSnapshot() ...) are thread-safe.
class Gateway : public QObject, public AdminBackend {
    Q_OBJECT
public:
    explicit Gateway(GatewayOptions options, QObject *parent = nullptr);
    ~Gateway() override;

    // Binds every listener (and the admin listener when enabled) and returns the
    // data-plane URLs. On failure nothing listens and the message names the address
    // ("cannot listen on 127.0.0.1:8080: address in use").
    Result<QList<QUrl>, QString> start();
    // Stops accepting, finishes requests in flight within `deadline`, then emits
    // drained(). Calling it again does nothing.
    void shutdown(std::chrono::milliseconds deadline);
    // Re-reads GatewayOptions::configFile and applies it like an admin PUT. Errors are
    // "path: reason" lines; nothing changes on any error.
    Result<AppliedConfig, QStringList> reload();

    // http://address:port of each data-plane listener, in config order, and of the admin
    // listener (empty when disabled). Valid after start().
    QList<QUrl> listenUrls() const;
    QUrl adminUrl() const;
    QString instanceId() const { return m_instanceId; }

    metrics::Registry &registry() { return m_registry; }
    GatewayMetrics &metrics() { return *m_metrics; }
    Logger &logger() { return *m_logger; }
    PipelineContext &context() { return m_context; }
    // The link to the configuration shared through Redis; null unless config.redis.enabled
    // (after start()).
    SharedConfigLink *sharedConfig() { return m_sharedConfig.get(); }
    // The pruning of the PostgreSQL usage log; null unless config.postgres.enabled (after
    // start()).
    UsageRetention *usageRetention() { return m_usageRetention.get(); }

    // AdminBackend
    ConfigStore &configStore() override { return m_configStore; }
    QJsonObject statsSnapshot() override;
    QJsonObject flushCache(const QString &namespaceOrEmpty) override;
    QJsonObject flushCache(const QString &namespaceOrEmpty, const ApplyOrigin &origin) override;
    QJsonObject instanceInfo() override;

    // Why the gateway is not ready to serve (empty when ready): no upstream, a provider
    // key that could not be read, every breaker open, shutting down.
    QStringList readinessProblems() const;

signals:
    void drained();
    // A new config version is running (from the admin API or reload()).
    void configApplied(qint64 version);

private:
    void handleDataPlane(http::HttpRequest request, std::shared_ptr<http::HttpResponder> responder);
    void answerModels(const http::HttpRequest &request, http::HttpResponder &responder);
    void answerReadiness(http::HttpResponder &responder);
    // {"fallback_active", "fallback_policy", "shared_limits", "shared_cache"} for /readyz
    // and the stats.
    QJsonObject redisFallbackState(const config::GatewayConfig &config) const;
    void answerMetrics(http::HttpResponder &responder);
    void applyRuntimeConfig(const config::GatewayConfig &config);
    void armQueueTimer();
    void onMaintenance();
    void updateGauges();
    http::UpstreamClient *upstreamClientForThisThread();
    std::shared_ptr<const policy::PriceTable> loadPrices(const config::GatewayConfig &config);
    // The admin API's auth from config.admin (or GatewayOptions::adminToken); an error
    // when the configured token source gives nothing.
    Result<AdminAuth, QString> adminAuth(const config::GatewayConfig &config) const;
    void onServerDrained();
    // Starts the PostgreSQL usage writer when config.postgres is enabled; the reason it
    // could not (a connection string that cannot be read) otherwise.
    std::optional<QString> startUsageStore(const config::GatewayConfig &config);

    GatewayOptions m_options;
    QString m_instanceId;
    QDateTime m_startedAtUtc;
    policy::SteadyClock m_clock;
    std::shared_ptr<Logger> m_logger;
    metrics::Registry m_registry;
    std::unique_ptr<GatewayMetrics> m_metrics;
    ConfigStore m_configStore;
    GatewayPolicies m_policies;
    policy::ShardedResponseCache m_cache;
    mutable std::mutex m_pricesMutex;
    std::shared_ptr<const policy::PriceTable> m_prices;
    QString m_pricesFile;
    PipelineContext m_context;

    std::mutex m_clientsMutex;
    QHash<QThread *, http::UpstreamClient *> m_clients;

    // PostgreSQL usage log (config.postgres); null when disabled. Shared with the
    // request threads through m_context.recordUsage.
    std::shared_ptr<store::UsageWriter> m_usageWriter;
    // config_versions and audit rows, and the usage retention; with m_usageWriter.
    std::unique_ptr<AuditRecorder> m_auditRecorder;
    std::unique_ptr<UsageRetention> m_usageRetention;
    // Shared configuration and instance registry in Redis (config.redis); null when disabled.
    std::unique_ptr<SharedConfigLink> m_sharedConfig;
    // The request threads' Redis connections for shared limits and cache (config.redis);
    // null when disabled. Outlives the servers, whose threads own the lanes.
    std::unique_ptr<RedisLanes> m_redisLanes;

    QTimer m_queueTimer;
    QTimer m_maintenanceTimer;
    int m_configListenerId = 0;
    std::atomic<bool> m_shuttingDown{false};
    int m_serversToDrain = 0;

    // Last: the servers go first on destruction, ending every request while the rest
    // of the gateway is still there.
    std::unique_ptr<AdminApi> m_adminApi;
    std::vector<std::unique_ptr<http::HttpServer>> m_servers;
    std::unique_ptr<http::HttpServer> m_adminServer;
};

} // namespace sluice::gateway
