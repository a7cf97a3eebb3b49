#pragma once

#include "config/gatewayconfig.h"
#include "metrics/counter.h"
#include "metrics/registry.h"
#include "policy/result.h"
#include "store/redisadmission.h"
#include "store/redissession.h"

#include <QByteArray>
#include <QHash>
#include <QObject>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>

class QThread;

namespace sluice::gateway {

// The session options for config.redis (the password read from its env/file source).
// Errors: "redis.password_env: ..." when the secret cannot be read.
Result<store::RedisSessionOptions, QString> redisSessionOptions(const config::RedisConfig &redis);

// What the request pipeline sends to Redis, for the metrics.
enum class RedisOp { Admit, Settle, CacheSet };

// One HTTP worker thread's own connection to the shared state: a RedisSession (so the
// commands of every request on that thread are pipelined on one socket without locks)
// and the admission scripts, loaded again whenever the session becomes Ready.
//
// Thread affinity: the worker thread that created it (RedisLanes::forThisThread()).
class RedisLane : public QObject {
    Q_OBJECT
public:
    RedisLane(store::RedisSessionOptions options, QByteArray keyNamespace, QObject *parent = nullptr);
    ~RedisLane() override;

    store::RedisSession &session() { return m_session; }
    const store::RedisAdmission &admission() const { return m_admission; }
    const QByteArray &keyNamespace() const { return m_keyNamespace; }
    bool isReady() const { return m_session.isReady(); }
    // The first connection attempt is still under way (requests wait for it rather than
    // falling back on a lane that was just created).
    // Any thread.
    bool isStarting() const { return !m_firstAttemptDone.load(std::memory_order_relaxed); }
    // isReady() for other threads (the fallback gauge).
    bool readyFromAnyThread() const { return m_ready.load(std::memory_order_relaxed); }

signals:
    // The first connection attempt ended (Ready or failed).
    void firstAttemptDone();

private:
    void endFirstAttempt();

    store::RedisSession m_session;
    store::RedisAdmission m_admission;
    QByteArray m_keyNamespace;
    std::atomic<bool> m_ready{false};
    std::atomic<bool> m_firstAttemptDone{false};
};

// Every worker thread's RedisLane, created on first use and deleted as its thread
// finishes, and the metrics of the pipeline's shared-state traffic:
//   sluice_redis_fallback_active          gauge: 1 while any lane (or the config link) is
//                                         not connected, so redis.fallback decides
//   sluice_redis_fallback_total{policy}   admissions decided by redis.fallback
//                                         (local | fail_open | fail_closed)
//   sluice_redis_commands_total{op}       pipeline commands sent (admit — which also reads
//                                         the shared cache — | settle | cache_set)
//   sluice_redis_command_errors_total{op} of those, answered with an error or timed out
//
// Thread-safe. Lanes use the session options given at creation: a change of the redis
// section of the config needs a restart (the config link says so).
class RedisLanes {
public:
    // Registers the metrics in `registry` (once per registry). `linkConnected` says
    // whether the config link's own session is up (for the gauge); may be empty.
    static Result<std::unique_ptr<RedisLanes>, QString> create(const config::RedisConfig &redis,
                                                               metrics::Registry &registry,
                                                               std::function<bool()> linkConnected);
    ~RedisLanes();

    // The calling thread's lane (opened on creation). The calling thread needs a running
    // event loop and must outlive nothing: the lane goes when the thread finishes.
    RedisLane *forThisThread();

    void countFallback(config::RedisFallback policy);
    void countCommand(RedisOp op);
    void countError(RedisOp op);
    bool fallbackActive() const;

private:
    struct Counters {
        metrics::Counter *fallback[3] = {};
        metrics::Counter *commands[3] = {};
        metrics::Counter *errors[3] = {};
    };
    RedisLanes(store::RedisSessionOptions options, QByteArray keyNamespace, Counters counters,
               std::function<bool()> linkConnected);

    store::RedisSessionOptions m_options;
    QByteArray m_keyNamespace;
    Counters m_counters;
    std::function<bool()> m_linkConnected;
    // Shared with the threads' finished handlers, which may run after this is gone.
    struct Lanes {
        std::mutex mutex;
        QHash<QThread *, RedisLane *> byThread;
    };
    std::shared_ptr<Lanes> m_lanes;

    static bool anyDown(Lanes &lanes, const std::function<bool()> &linkConnected);
};

} // namespace sluice::gateway
