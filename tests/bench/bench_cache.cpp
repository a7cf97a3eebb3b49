// Response cache and circuit breaker throughput on the real steady clock.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "policy/circuitbreaker.h"
#include "policy/clock.h"
#include "policy/responsecache.h"
#include "policy/shardedresponsecache.h"

using namespace std::chrono_literals;
using namespace sluice::policy;

namespace {

// Shaped like the gateway's keys: 64 hex digits of a request hash.
std::vector<std::string> makeKeys(std::size_t count)
{
    std::vector<std::string> keys;
    keys.reserve(count);
    for (std::size_t index = 0; index < count; ++index) {
        char buffer[65];
        std::snprintf(buffer, sizeof buffer, "%016zx%016zx%016zx%016zx", std::size_t(index * 0x9e3779b97f4a7c15ULL), index,
                      ~index, index * 31);
        keys.emplace_back(buffer);
    }
    return keys;
}

const CacheValue &smallValue()
{
    static const CacheValue value = std::make_shared<const std::string>(256, 'x');
    return value;
}

void BM_CacheHit(benchmark::State &state)
{
    const SteadyClock clock;
    const auto keys = makeKeys(std::size_t(state.range(0)));
    ResponseCache cache(CacheLimits{keys.size(), std::size_t{1} << 30, 4096, 1h}, clock);
    for (const auto &key : keys)
        cache.put("tenant", key, smallValue());
    std::size_t index = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(cache.get("tenant", keys[index]));
        if (++index == keys.size())
            index = 0;
    }
    state.SetItemsProcessed(state.iterations());
    if (cache.stats().misses != 0)
        state.SkipWithError("unexpected misses");
}
BENCHMARK(BM_CacheHit)->Arg(1'000)->Arg(100'000);

// Every lookup misses, and every put evicts the least recently used entry.
void BM_CacheMissPutWithEviction(benchmark::State &state)
{
    const SteadyClock clock;
    const auto keys = makeKeys(1 << 16);
    ResponseCache cache(CacheLimits{std::size_t(state.range(0)), std::size_t{1} << 30, 4096, 1h}, clock);
    std::size_t index = 0;
    for (auto _ : state) {
        const std::string &key = keys[index];
        if (!cache.get("tenant", key))
            cache.put("tenant", key, smallValue());
        if (++index == keys.size())
            index = 0;
    }
    state.SetItemsProcessed(state.iterations());
    state.counters["evictions"] = double(cache.stats().evictions);
}
BENCHMARK(BM_CacheMissPutWithEviction)->Arg(1'024);

ShardedResponseCache &sharedCache(const std::vector<std::string> &keys)
{
    static const SteadyClock clock;
    static ShardedResponseCache cache(CacheLimits{keys.size() * 2, std::size_t{1} << 30, 4096, 1h}, clock);
    static const bool filled = [&] {
        // One value per key, as in real use: a single shared value would make
        // both threads fight over its reference count instead of the cache.
        for (const auto &key : keys)
            cache.put("tenant", key, std::make_shared<const std::string>(256, 'x'));
        return true;
    }();
    benchmark::DoNotOptimize(filled);
    return cache;
}

void BM_ShardedCacheHit(benchmark::State &state)
{
    static const auto keys = makeKeys(10'000);
    ShardedResponseCache &cache = sharedCache(keys);
    // Threads start at different keys so they do not walk the shards in lockstep.
    std::size_t index = std::size_t(state.thread_index()) * 4999 % keys.size();
    for (auto _ : state) {
        benchmark::DoNotOptimize(cache.get("tenant", keys[index]));
        if (++index == keys.size())
            index = 0;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ShardedCacheHit)->Threads(1)->Threads(2)->UseRealTime();

void BM_BreakerAcquireSuccess(benchmark::State &state)
{
    const SteadyClock clock;
    CircuitBreaker breaker(BreakerPolicy{}, clock);
    for (auto _ : state) {
        const CircuitBreaker::Permit permit = breaker.tryAcquire();
        benchmark::DoNotOptimize(permit);
        breaker.onSuccess(permit);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BreakerAcquireSuccess);

} // namespace
