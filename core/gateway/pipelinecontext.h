#pragma once

#include "config/gatewayconfig.h"
#include "policy/clock.h"
#include "policy/pricetable.h"
#include "policy/shardedresponsecache.h"
#include "store/usagerecord.h"

#include <QString>

#include <atomic>
#include <functional>
#include <memory>

namespace sluice::http {
class UpstreamClient;
}

namespace sluice::gateway {

class GatewayMetrics;
class GatewayPolicies;
class Logger;
class RedisLanes;

// What every request of one gateway shares. Owned by the Gateway, which outlives every
// exchange (it shuts the servers down, and so every exchange, before it goes).
// Every member is safe to use from any connection thread.
struct PipelineContext {
    const policy::Clock *clock = nullptr;
    GatewayPolicies *policies = nullptr;
    policy::ShardedResponseCache *cache = nullptr;
    GatewayMetrics *metrics = nullptr;
    Logger *logger = nullptr;
    // The per-thread Redis connections for shared limits and cache; null unless
    // config.redis.enabled at start-up.
    RedisLanes *redisLanes = nullptr;
    // The running config and price table: read once per request, so a request runs on
    // one consistent version even while an admin changes it.
    std::function<std::shared_ptr<const config::GatewayConfig>()> config;
    std::function<std::shared_ptr<const policy::PriceTable>()> prices;
    // The upstream client of the calling thread (created on first use, lives as long as
    // the thread).
    std::function<http::UpstreamClient *()> upstreamClient;
    // Called after a request was queued for a concurrency permit: the owner makes sure
    // the queue's deadlines are enforced.
    std::function<void()> queueChanged;
    // Receives one record per routed request once it is answered (PostgreSQL usage
    // log); empty when no usage store is configured. Must be thread-safe and not block.
    std::function<void(store::UsageRecord)> recordUsage;
    QString instanceId;
    // x-sluice-request-id: instance prefix + a counter.
    QString requestIdPrefix;
    std::atomic<quint64> requestCounter{0};
    // Requests inside the pipeline, for the graceful-shutdown log and the stats.
    std::atomic<int> inFlight{0};
    QString version;

    QString nextRequestId() { return requestIdPrefix + QString::number(++requestCounter, 36); }
};

} // namespace sluice::gateway
