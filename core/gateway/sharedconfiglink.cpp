#include "gateway/sharedconfiglink.h"

#include "gateway/redislanes.h"

#include "config/configerror.h"
#include "config/configloader.h"
#include "config/configwriter.h"


namespace sluice::gateway {
namespace {

constexpr int kMaxConflictChain = 5;
const QString kRedisOrigin = QStringLiteral("redis");

} // namespace

Result<std::unique_ptr<SharedConfigLink>, QString> SharedConfigLink::create(ConfigStore &configStore,
                                                                            metrics::Registry &registry,
                                                                            Logger &logger, QObject *parent)
{
    const auto config = configStore.current();
    const config::RedisConfig &redis = config->redis;
    auto options = redisSessionOptions(redis);
    if (!options)
        return unexpected(options.error());

    // The gauge may be read by a scrape after the link is gone: it holds the flag, not the link.
    auto connected = std::make_shared<std::atomic<bool>>(false);
    auto gauge = registry.gaugeCallback("sluice_redis_connected",
                                        "1 while the Redis connection for the shared configuration is up.",
                                        [connected] { return connected->load() ? 1.0 : 0.0; });
    if (!gauge)
        return unexpected(QString::fromStdString(gauge.error().message));
    auto family = registry.counterFamily("sluice_config_distributed_total",
                                         "Shared configuration versions published to or adopted from Redis, and "
                                         "publishes refused because another instance published first.",
                                         {"direction"});
    if (!family)
        return unexpected(QString::fromStdString(family.error().message));
    Counters counters;
    counters.published = &(*family)->labels({"published"});
    counters.adopted = &(*family)->labels({"adopted"});
    counters.conflicts = &(*family)->labels({"conflict"});

    return std::unique_ptr<SharedConfigLink>(new SharedConfigLink(configStore, std::move(*options), redis, logger,
                                                                  std::move(connected),
                                                                  counters, parent));
}

SharedConfigLink::SharedConfigLink(ConfigStore &configStore, store::RedisSessionOptions sessionOptions,
                                   const config::RedisConfig &redis, Logger &logger,
                                   std::shared_ptr<std::atomic<bool>> connected, Counters counters, QObject *parent)
    : QObject(parent)
    , m_configStore(configStore)
    , m_logger(logger)
    , m_address(QStringLiteral("%1:%2").arg(redis.address).arg(redis.port))
    , m_keyNamespace(redis.keyNamespace)
    , m_connected(std::move(connected))
    , m_counters(counters)
    , m_gate(std::make_shared<ListenerGate>())
{
    m_gate->link = this;
    const QByteArray keyNamespace = redis.keyNamespace.toUtf8();
    m_session = std::make_unique<store::RedisSession>(std::move(sessionOptions));
    store::RedisInstanceRegistryOptions registryOptions;
    registryOptions.keyNamespace = keyNamespace;
    registryOptions.heartbeatInterval = std::chrono::duration_cast<std::chrono::milliseconds>(redis.heartbeat);
    m_registry = std::make_unique<store::RedisInstanceRegistry>(*m_session, store::InstanceInfo{}, registryOptions);
    store::RedisConfigChannelOptions channelOptions;
    channelOptions.keyNamespace = keyNamespace;
    m_channel = std::make_unique<store::RedisConfigChannel>(*m_session, channelOptions);

    m_syncRetryTimer.setSingleShot(true);
    m_syncRetryTimer.setInterval(std::chrono::seconds(1));
    connect(&m_syncRetryTimer, &QTimer::timeout, this, [this] {
        if (m_session->isReady())
            sync();
    });
    connect(m_session.get(), &store::RedisSession::stateChanged, this, &SharedConfigLink::onSessionState);
    connect(m_session.get(), &store::RedisSession::connectionError, this,
            [this](const store::StoreError &error) { setError(error.message); });
    connect(m_registry.get(), &store::RedisInstanceRegistry::heartbeatFailed, this,
            [this](const store::StoreError &error) {
                m_logger.debug("redis_heartbeat", {{"state", "failed"}, {"msg", error.message}});
            });
    connect(m_channel.get(), &store::RedisConfigChannel::changed, this, &SharedConfigLink::onAnnounced);
    connect(m_channel.get(), &store::RedisConfigChannel::resyncFailed, this,
            [this](const store::StoreError &error) { setError(error.message); });

    // Listeners run on the applying thread (admin API, reload) with the store's apply
    // lock held: hop to this thread, where adopt() may be called again.
    std::shared_ptr<ListenerGate> gate = m_gate;
    m_listenerId = m_configStore.addListener(
        [gate](std::shared_ptr<const config::GatewayConfig> oldConfig,
               std::shared_ptr<const config::GatewayConfig> newConfig, const ApplyOrigin &origin) {
            std::lock_guard lock(gate->mutex);
            if (!gate->link)
                return;
            const qint64 oldVersion = oldConfig->version;
            const bool fromRedis = origin.who == kRedisOrigin;
            SharedConfigLink *link = gate->link;
            QMetaObject::invokeMethod(
                link, [link, oldVersion, newConfig, fromRedis] { link->onLocalChange(oldVersion, newConfig, fromRedis); },
                Qt::QueuedConnection);
        });
}

SharedConfigLink::~SharedConfigLink()
{
    {
        std::lock_guard lock(m_gate->mutex);
        m_gate->link = nullptr;
    }
    m_configStore.removeListener(m_listenerId);
    m_connected->store(false);
    m_channel.reset();
    m_registry.reset();
    m_session.reset();
}

void SharedConfigLink::start(store::InstanceInfo info)
{
    if (m_started)
        return;
    m_started = true;
    info.configVersion = m_configStore.current()->version;
    m_registry->setInfo(std::move(info));
    m_session->open();
    m_registry->start();
    m_channel->open();
}

void SharedConfigLink::stop()
{
    m_registry->stop();
}

void SharedConfigLink::onSessionState(store::RedisSession::State state)
{
    const bool ready = state == store::RedisSession::State::Ready;
    const bool was = m_connected->exchange(ready);
    if (ready == was)
        return;
    if (ready) {
        m_logger.info("redis", {{"state", "connected"}, {"address", m_address}});
        m_conflictChain = 0;
        sync();
    } else {
        m_logger.warn("redis", {{"state", "disconnected"},
                                {"address", m_address},
                                {"msg", "serving with the running configuration until Redis is back"}});
    }
}

void SharedConfigLink::onLocalChange(qint64 oldVersion, std::shared_ptr<const config::GatewayConfig> newConfig,
                                     bool fromRedis)
{
    m_registry->setConfigVersion(m_configStore.current()->version);
    if (fromRedis)
        return;
    // Not connected: the reconciliation after the reconnect publishes it.
    if (!m_session->isReady())
        return;
    m_conflictChain = 0;
    publish(*newConfig, oldVersion);
}

void SharedConfigLink::onAnnounced(qint64 version)
{
    noteSharedVersion(version);
    if (version > m_configStore.current()->version)
        sync();
}

void SharedConfigLink::sync()
{
    m_channel->fetch(this, [this](Result<std::optional<store::ConfigDocument>, store::StoreError> stored) {
        if (!stored) {
            setError(QStringLiteral("reading the shared configuration: ") + stored.error().message);
            // A lost connection resyncs when it is back; a slow answer is retried here.
            m_syncRetryTimer.start();
            return;
        }
        reconcile(*stored);
    });
}

void SharedConfigLink::reconcile(const std::optional<store::ConfigDocument> &stored)
{
    const auto running = m_configStore.current();
    if (!stored) {
        publish(*running, 0);
        return;
    }
    noteSharedVersion(stored->version);
    if (stored->version > running->version)
        adoptDocument(*stored);
    else if (stored->version < running->version && stored->version >= 0)
        publish(*running, stored->version);
    else if (stored->version == running->version)
        m_channel->setKnownVersion(std::max(m_channel->lastReportedVersion(), qint64(running->version)));
    else
        setError(QStringLiteral("the shared configuration's version in Redis is not a number"));
}

void SharedConfigLink::publish(const config::GatewayConfig &config, qint64 expectedVersion)
{
    const qint64 newVersion = config.version;
    if (newVersion <= expectedVersion || newVersion <= 0)
        return;
    m_channel->publish(config::saveConfig(config), expectedVersion, newVersion, this,
                       [this, newVersion](Result<store::ConfigPublishOutcome, store::StoreError> outcome) {
                           if (!outcome) {
                               setError(QStringLiteral("publishing configuration version %1: %2")
                                            .arg(newVersion)
                                            .arg(outcome.error().message));
                               return;
                           }
                           if (outcome->applied) {
                               m_counters.published->inc();
                               m_channel->setKnownVersion(std::max(m_channel->lastReportedVersion(), newVersion));
                               {
                                   std::lock_guard lock(m_stateMutex);
                                   m_lastPublishedVersion = newVersion;
                                   m_sharedVersion = newVersion;
                                   ++m_publishedCount;
                               }
                               m_logger.info("config_published", {{"version", newVersion},
                                                                  {"receivers", outcome->receivers}});
                               emit published(newVersion);
                               return;
                           }
                           // Another instance published first (or Redis lost the document).
                           m_counters.conflicts->inc();
                           {
                               std::lock_guard lock(m_stateMutex);
                               ++m_conflictCount;
                           }
                           m_logger.info("config_publish_conflict", {{"version", newVersion},
                                                                     {"stored_version", outcome->storedVersion}});
                           if (outcome->storedVersion >= 0)
                               noteSharedVersion(outcome->storedVersion);
                           if (outcome->storedVersion == newVersion) {
                               checkSameVersion(newVersion);
                               return;
                           }
                           if (++m_conflictChain > kMaxConflictChain) {
                               setError(QStringLiteral("gave up reconciling the shared configuration after %1 "
                                                       "conflicts in a row")
                                            .arg(kMaxConflictChain));
                               return;
                           }
                           sync();
                       });
}

void SharedConfigLink::checkSameVersion(qint64 version)
{
    // Usual after a reconnect: every instance publishes the same running version into
    // an empty server at once. Only different settings under one number are a problem.
    m_channel->fetch(this, [this, version](Result<std::optional<store::ConfigDocument>, store::StoreError> stored) {
        if (!stored || !*stored || (*stored)->version != version)
            return; // moved on meanwhile: the next announcement or reconnect reconciles
        const auto running = m_configStore.current();
        auto loaded = config::loadConfig((*stored)->json);
        if (running->version == version && loaded && config::contentHash(*loaded) == config::contentHash(*running))
            return;
        setError(QStringLiteral("configuration version %1 was published by another instance with different "
                                "settings; this instance keeps its own until the next change")
                     .arg(version));
    });
}

void SharedConfigLink::adoptDocument(const store::ConfigDocument &document)
{
    auto loaded = config::loadConfig(document.json);
    if (!loaded) {
        setError(QStringLiteral("shared configuration version %1 is invalid: %2")
                     .arg(document.version)
                     .arg(config::toStringList(loaded.error()).join(QStringLiteral("; "))));
        return;
    }
    loaded->version = document.version;
    auto installed = m_configStore.adopt(std::move(*loaded), ApplyOrigin{kRedisOrigin, m_address, {}});
    if (!installed) {
        // Not newer any more: a concurrent re-read adopted it first. Nothing to report.
        if (installed.error().kind == ConfigApplyError::VersionConflict)
            return;
        setError(QStringLiteral("shared configuration version %1 is invalid: %2")
                     .arg(document.version)
                     .arg(installed.error().errors.join(QStringLiteral("; "))));
        return;
    }
    m_counters.adopted->inc();
    m_channel->setKnownVersion(std::max(m_channel->lastReportedVersion(), document.version));
    {
        std::lock_guard lock(m_stateMutex);
        m_lastAdoptedVersion = document.version;
        ++m_adoptedCount;
    }
    emit adopted(document.version);
}

void SharedConfigLink::noteSharedVersion(qint64 version)
{
    std::lock_guard lock(m_stateMutex);
    m_sharedVersion = version;
}

void SharedConfigLink::setError(const QString &message)
{
    {
        std::lock_guard lock(m_stateMutex);
        m_lastError = message;
        m_lastErrorAtUtc = QDateTime::currentDateTimeUtc();
    }
    m_logger.warn("redis", {{"address", m_address}, {"msg", message}});
}

QJsonObject SharedConfigLink::state() const
{
    std::lock_guard lock(m_stateMutex);
    QJsonObject state{{QStringLiteral("connected"), m_connected->load()},
                      {QStringLiteral("address"), m_address},
                      {QStringLiteral("key_namespace"), m_keyNamespace},
                      {QStringLiteral("last_error"), m_lastError},
                      {QStringLiteral("shared_version"), double(m_sharedVersion)},
                      {QStringLiteral("last_published_version"), double(m_lastPublishedVersion)},
                      {QStringLiteral("last_adopted_version"), double(m_lastAdoptedVersion)},
                      {QStringLiteral("published"), double(m_publishedCount)},
                      {QStringLiteral("adopted"), double(m_adoptedCount)},
                      {QStringLiteral("conflicts"), double(m_conflictCount)}};
    if (m_lastErrorAtUtc.isValid())
        state.insert(QStringLiteral("last_error_at"), m_lastErrorAtUtc.toString(Qt::ISODateWithMs));
    return state;
}

} // namespace sluice::gateway
