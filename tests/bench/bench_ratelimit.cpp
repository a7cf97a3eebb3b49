#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <vector>

#include "policy/clock.h"
#include "policy/gcralimiter.h"
#include "policy/keyedratelimiter.h"
#include "policy/ratescope.h"
#include "policy/shardedratelimiter.h"
#include "policy/slidingwindowlimiter.h"
#include "policy/tokenlimiter.h"

using namespace std::chrono_literals;
using namespace sluice::policy;

namespace {

// Generous enough that most decisions admit, so the charging path is measured.
const RateRule kGcraRule{RateAlgorithm::Gcra, 1'000'000, 1s, 1000};
const RateRule kWindowRule{RateAlgorithm::SlidingWindow, 1'000'000, 1s, 0};
const std::string kKey = "k=sk-live-0123456789abcdef|m=gpt-4o";

std::vector<std::string> makeKeys(std::size_t count)
{
    std::vector<std::string> keys;
    keys.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        char ip[32];
        std::snprintf(ip, sizeof ip, "10.%zu.%zu.%zu", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        keys.push_back(composeRateKey(RateScope::ApiKey | RateScope::Ip, RequestIdentity{"sk-live-abc", ip, {}, {}}));
    }
    return keys;
}

void countDecisions(benchmark::State &state, std::int64_t admitted)
{
    state.SetItemsProcessed(state.iterations());
    state.counters["admitted%"] = benchmark::Counter(100.0 * double(admitted) / double(state.iterations()));
}

} // namespace

static void BM_GcraDecideBare(benchmark::State &state)
{
    const GcraLimiter gcra(kGcraRule);
    std::int64_t tat = GcraLimiter::kFreshState;
    MonoTime now{0};
    std::int64_t admitted = 0;
    for (auto _ : state) {
        admitted += gcra.decide(tat, now).allowed;
        now += 1us;
        benchmark::DoNotOptimize(tat);
    }
    countDecisions(state, admitted);
}
BENCHMARK(BM_GcraDecideBare);

static void BM_GcraOneKeyManualClock(benchmark::State &state)
{
    ManualClock clock;
    KeyedRateLimiter limiter(kGcraRule, KeyedLimits{}, clock);
    std::int64_t admitted = 0;
    for (auto _ : state) {
        admitted += limiter.decide(kKey).allowed;
        clock.advance(1us);
    }
    countDecisions(state, admitted);
}
BENCHMARK(BM_GcraOneKeyManualClock);

static void BM_GcraOneKeySteadyClock(benchmark::State &state)
{
    SteadyClock clock;
    KeyedRateLimiter limiter(kGcraRule, KeyedLimits{}, clock);
    std::int64_t admitted = 0;
    for (auto _ : state)
        admitted += limiter.decide(kKey).allowed;
    countDecisions(state, admitted);
}
BENCHMARK(BM_GcraOneKeySteadyClock);

static void BM_GcraOneKeyCachedNow(benchmark::State &state)
{
    // One clock read per batch of 64 decisions, as an event loop might do.
    SteadyClock clock;
    KeyedRateLimiter limiter(kGcraRule, KeyedLimits{}, clock);
    std::int64_t admitted = 0;
    MonoTime now = clock.now();
    std::int64_t n = 0;
    for (auto _ : state) {
        if ((++n & 63) == 0)
            now = clock.now();
        admitted += limiter.decide(kKey, 1, now).allowed;
    }
    countDecisions(state, admitted);
}
BENCHMARK(BM_GcraOneKeyCachedNow);

static void BM_GcraManyKeysRoundRobin(benchmark::State &state)
{
    const std::vector<std::string> keys = makeKeys(std::size_t(state.range(0)));
    ManualClock clock;
    KeyedRateLimiter limiter(kGcraRule, KeyedLimits{keys.size() * 2, 1h}, clock);
    for (const auto &key : keys)
        limiter.decide(key);
    std::size_t next = 0;
    std::int64_t admitted = 0;
    for (auto _ : state) {
        admitted += limiter.decide(keys[next]).allowed;
        if (++next == keys.size())
            next = 0;
        clock.advance(1us);
    }
    countDecisions(state, admitted);
}
BENCHMARK(BM_GcraManyKeysRoundRobin)->Arg(1000)->Arg(100'000);

static void BM_GcraNewKeysEvicting(benchmark::State &state)
{
    // A flood of distinct keys against a 10 000-key bound: insert + evict.
    const std::vector<std::string> keys = makeKeys(100'000);
    ManualClock clock;
    KeyedRateLimiter limiter(kGcraRule, KeyedLimits{10'000, 1h}, clock);
    std::size_t next = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(limiter.decide(keys[next]));
        if (++next == keys.size())
            next = 0;
        clock.advance(1us);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GcraNewKeysEvicting);

static void BM_SlidingWindowOneKey(benchmark::State &state)
{
    ManualClock clock;
    KeyedRateLimiter limiter(kWindowRule, KeyedLimits{}, clock);
    std::int64_t admitted = 0;
    for (auto _ : state) {
        admitted += limiter.decide(kKey).allowed;
        clock.advance(1us);
    }
    countDecisions(state, admitted);
}
BENCHMARK(BM_SlidingWindowOneKey);

static void BM_TokenReserveReconcile(benchmark::State &state)
{
    // 1e9 tokens per minute refill 1 000 tokens per 60 us: every pair fits.
    ManualClock clock;
    TokenLimiter limiter(RateRule{RateAlgorithm::Gcra, 1'000'000'000, 1min, 100'000}, KeyedLimits{}, clock);
    std::int64_t admitted = 0;
    for (auto _ : state) {
        auto admission = limiter.reserve(kKey, 1000);
        admitted += admission.decision.allowed;
        limiter.reconcile(admission.reservation, 800);
        clock.advance(60us);
    }
    countDecisions(state, admitted);
}
BENCHMARK(BM_TokenReserveReconcile);

static void BM_ShardedSameKey(benchmark::State &state)
{
    static SteadyClock clock;
    static ShardedRateLimiter limiter(kGcraRule, KeyedLimits{}, clock, 16);
    std::int64_t admitted = 0;
    for (auto _ : state)
        admitted += limiter.decide(kKey).allowed;
    countDecisions(state, admitted);
}
BENCHMARK(BM_ShardedSameKey)->Threads(1)->Threads(2)->UseRealTime();

static void BM_ShardedDistinctKeys(benchmark::State &state)
{
    static SteadyClock clock;
    static ShardedRateLimiter limiter(kGcraRule, KeyedLimits{}, clock, 16);
    static const std::vector<std::string> keys = makeKeys(1024);
    // Each thread works on its own half of the keys.
    const std::size_t base = std::size_t(state.thread_index()) * 512;
    std::size_t next = 0;
    std::int64_t admitted = 0;
    for (auto _ : state) {
        admitted += limiter.decide(keys[base + next]).allowed;
        next = (next + 1) & 511;
    }
    countDecisions(state, admitted);
}
BENCHMARK(BM_ShardedDistinctKeys)->Threads(1)->Threads(2)->UseRealTime();

static void BM_ShardedDisjointShards(benchmark::State &state)
{
    // As above, but each thread's keys live in its own half of the shards:
    // no lock or cache line is shared between the threads.
    static SteadyClock clock;
    static ShardedRateLimiter limiter(kGcraRule, KeyedLimits{}, clock, 16);
    static const std::vector<std::vector<std::string>> keysByThread = [] {
        std::vector<std::vector<std::string>> split(2);
        for (const auto &key : makeKeys(4096)) {
            auto &mine = split[limiter.shardOf(key) < 8 ? 0 : 1];
            if (mine.size() < 512)
                mine.push_back(key);
        }
        return split;
    }();
    const auto &keys = keysByThread[std::size_t(state.thread_index())];
    std::size_t next = 0;
    std::int64_t admitted = 0;
    for (auto _ : state) {
        admitted += limiter.decide(keys[next]).allowed;
        next = (next + 1) & 511;
    }
    countDecisions(state, admitted);
}
BENCHMARK(BM_ShardedDisjointShards)->Threads(1)->Threads(2)->UseRealTime();

static void BM_ComposeRateKey(benchmark::State &state)
{
    const RequestIdentity identity{"sk-live-0123456789abcdef", "203.0.113.7", "/v1/chat/completions", "gpt-4o"};
    std::string buffer;
    for (auto _ : state) {
        buffer.clear();
        appendRateKey(buffer, RateScope::ApiKey | RateScope::Model, identity);
        benchmark::DoNotOptimize(buffer.data());
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ComposeRateKey);
