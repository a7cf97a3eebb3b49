#include "gateway/redislanes.h"

#include "config/secretsource.h"

#include <QThread>

namespace sluice::gateway {

Result<store::RedisSessionOptions, QString> redisSessionOptions(const config::RedisConfig &redis)
{
    auto password = config::readSecret({redis.passwordEnv, QStringLiteral("redis.password_env"), redis.passwordFile,
                                        QStringLiteral("redis.password_file")});
    if (!password)
        return unexpected(password.error());
    store::RedisSessionOptions options;
    options.host = redis.address;
    options.port = quint16(redis.port);
    options.db = redis.db;
    options.user = redis.user;
    options.password = QString::fromUtf8(*password);
    options.connectTimeout = redis.connectTimeout;
    options.commandTimeout = redis.commandTimeout;
    return options;
}

RedisLane::RedisLane(store::RedisSessionOptions options, QByteArray keyNamespace, QObject *parent)
    : QObject(parent), m_session(std::move(options)), m_keyNamespace(std::move(keyNamespace))
{
    connect(&m_session, &store::RedisSession::stateChanged, this, [this](store::RedisSession::State state) {
        const bool ready = state == store::RedisSession::State::Ready;
        m_ready.store(ready, std::memory_order_relaxed);
        // Pipelined ahead of any request's EVALSHA: no NOSCRIPT round trip after a
        // restart of Redis (which forgets its scripts).
        if (ready) {
            m_admission.load(m_session);
            endFirstAttempt();
        }
    });
    connect(&m_session, &store::RedisSession::connectionError, this, &RedisLane::endFirstAttempt);
    m_session.open();
}

void RedisLane::endFirstAttempt()
{
    if (m_firstAttemptDone.exchange(true))
        return;
    emit firstAttemptDone();
}

RedisLane::~RedisLane()
{
    // Pending callbacks are called (Cancelled) rather than dropped: an exchange waiting
    // for an answer deletes itself only once it has one.
    m_session.close();
}

namespace {

int fallbackIndex(config::RedisFallback policy)
{
    switch (policy) {
    case config::RedisFallback::Local: return 0;
    case config::RedisFallback::FailOpen: return 1;
    case config::RedisFallback::FailClosed: return 2;
    }
    return 0;
}

} // namespace

Result<std::unique_ptr<RedisLanes>, QString> RedisLanes::create(const config::RedisConfig &redis,
                                                                metrics::Registry &registry,
                                                                std::function<bool()> linkConnected)
{
    auto options = redisSessionOptions(redis);
    if (!options)
        return unexpected(options.error());
    Counters counters;
    auto fallback = registry.counterFamily("sluice_redis_fallback_total",
                                           "Rate-limit admissions decided by redis.fallback because Redis could not "
                                           "be used (not connected, an error or a command timeout).",
                                           {"policy"});
    auto commands = registry.counterFamily("sluice_redis_commands_total",
                                           "Commands the request pipeline sent to Redis: admit (the admission script, "
                                           "which also reads the shared cache), settle, cache_set.",
                                           {"op"});
    auto errors = registry.counterFamily("sluice_redis_command_errors_total",
                                         "Pipeline commands to Redis that failed (error answer, timeout, lost "
                                         "connection).",
                                         {"op"});
    if (!fallback)
        return unexpected(QString::fromStdString(fallback.error().message));
    if (!commands)
        return unexpected(QString::fromStdString(commands.error().message));
    if (!errors)
        return unexpected(QString::fromStdString(errors.error().message));
    const char *policies[] = {"local", "fail_open", "fail_closed"};
    for (int i = 0; i < 3; ++i)
        counters.fallback[i] = &(*fallback)->labels({policies[i]});
    const char *ops[] = {"admit", "settle", "cache_set"};
    for (int i = 0; i < 3; ++i) {
        counters.commands[i] = &(*commands)->labels({ops[i]});
        counters.errors[i] = &(*errors)->labels({ops[i]});
    }
    std::unique_ptr<RedisLanes> lanes(
        new RedisLanes(std::move(*options), redis.keyNamespace.toUtf8(), counters, std::move(linkConnected)));
    // The gauge holds the lane table and the link probe, not this object.
    auto table = lanes->m_lanes;
    auto link = lanes->m_linkConnected;
    auto gauge = registry.gaugeCallback(
        "sluice_redis_fallback_active",
        "1 while this instance cannot use Redis for every request (a worker's connection or the configuration "
        "link is down) and rate limits follow redis.fallback; 0 otherwise.",
        [table, link] { return anyDown(*table, link) ? 1.0 : 0.0; });
    if (!gauge)
        return unexpected(QString::fromStdString(gauge.error().message));
    return lanes;
}

RedisLanes::RedisLanes(store::RedisSessionOptions options, QByteArray keyNamespace, Counters counters,
                       std::function<bool()> linkConnected)
    : m_options(std::move(options))
    , m_keyNamespace(std::move(keyNamespace))
    , m_counters(counters)
    , m_linkConnected(std::move(linkConnected))
    , m_lanes(std::make_shared<Lanes>())
{
}

RedisLanes::~RedisLanes() = default;

RedisLane *RedisLanes::forThisThread()
{
    QThread *thread = QThread::currentThread();
    std::lock_guard lock(m_lanes->mutex);
    if (RedisLane *lane = m_lanes->byThread.value(thread))
        return lane;
    auto *lane = new RedisLane(m_options, m_keyNamespace);
    m_lanes->byThread.insert(thread, lane);
    // The lane lives and dies on this thread.
    QObject::connect(thread, &QThread::finished, lane, [table = m_lanes, thread, lane] {
        {
            std::lock_guard innerLock(table->mutex);
            table->byThread.remove(thread);
        }
        delete lane;
    }, Qt::DirectConnection);
    return lane;
}

void RedisLanes::countFallback(config::RedisFallback policy)
{
    m_counters.fallback[fallbackIndex(policy)]->inc();
}

void RedisLanes::countCommand(RedisOp op)
{
    m_counters.commands[int(op)]->inc();
}

void RedisLanes::countError(RedisOp op)
{
    m_counters.errors[int(op)]->inc();
}

bool RedisLanes::fallbackActive() const
{
    return anyDown(*m_lanes, m_linkConnected);
}

bool RedisLanes::anyDown(Lanes &lanes, const std::function<bool()> &linkConnected)
{
    if (linkConnected && !linkConnected())
        return true;
    std::lock_guard lock(lanes.mutex);
    for (const RedisLane *lane : std::as_const(lanes.byThread)) {
        if (!lane->isStarting() && !lane->readyFromAnyThread())
            return true;
    }
    return false;
}

} // namespace sluice::gateway
