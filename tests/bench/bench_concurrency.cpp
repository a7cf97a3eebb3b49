#include <benchmark/benchmark.h>

#include "policy/clock.h"
#include "policy/concurrencylimiter.h"

using namespace std::chrono_literals;
using sluice::policy::AdmissionKind;
using sluice::policy::ConcurrencyLimiter;
using sluice::policy::Priority;
using sluice::policy::SteadyClock;
using sluice::policy::WaitOutcome;

namespace {

// A free permit every time: the path every request takes when the upstream is not saturated.
void BM_AcquireReleaseUncontended(benchmark::State &state)
{
    SteadyClock clock;
    ConcurrencyLimiter limiter({64, 1000, 30s}, clock);
    for (auto _ : state) {
        const auto admission = limiter.acquire(Priority::Normal, {});
        benchmark::DoNotOptimize(admission);
        limiter.release();
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AcquireReleaseUncontended);

// All permits held and state.range(0) waiters queued (spread over the three classes); each
// release() grants the next waiter, whose callback runs. One iteration = fill the queue,
// then drain it by releases; items = waiters granted.
void BM_QueueDrainedByReleases(benchmark::State &state)
{
    const auto waiters = static_cast<int>(state.range(0));
    SteadyClock clock;
    ConcurrencyLimiter limiter({1, waiters, 30s}, clock);
    std::int64_t granted = 0;
    const ConcurrencyLimiter::OutcomeCallback onOutcome = [&granted](WaitOutcome) { ++granted; };
    limiter.acquire(Priority::Normal, {});
    constexpr Priority classes[] = {Priority::High, Priority::Normal, Priority::Low};
    for (auto _ : state) {
        for (int i = 0; i < waiters; ++i) {
            if (limiter.acquire(classes[i % 3], onOutcome).kind != AdmissionKind::Queued)
                state.SkipWithError("a waiter was not queued");
        }
        for (int i = 0; i < waiters; ++i)
            limiter.release();
    }
    if (granted != state.iterations() * waiters)
        state.SkipWithError("not every waiter was granted");
    state.SetItemsProcessed(granted);
}
BENCHMARK(BM_QueueDrainedByReleases)->Arg(1000);

} // namespace
