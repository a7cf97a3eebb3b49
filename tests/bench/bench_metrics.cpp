// Metric updates, label lookups, exposition and parsing of a large scrape.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "metrics/histogrambuckets.h"
#include "metrics/promparser.h"
#include "metrics/registry.h"

using namespace sluice::metrics;

namespace {

// With two threads both hammer the same series: the worst case for the
// cache line it lives on.
void BM_CounterInc(benchmark::State &state)
{
    static Counter counter;
    for (auto _ : state)
        counter.inc();
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CounterInc)->Threads(1)->Threads(2)->UseRealTime();

void BM_CounterAddFraction(benchmark::State &state)
{
    static Counter counter;
    for (auto _ : state)
        counter.add(0.000125);
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CounterAddFraction)->Threads(1)->Threads(2)->UseRealTime();

void BM_HistogramObserve(benchmark::State &state)
{
    static Histogram histogram(std::make_shared<const std::vector<double>>(defaultLatencyBucketsSeconds()));
    // Latencies spread over the buckets, as a gateway would see them.
    static const std::vector<double> samples{0.004, 0.03, 0.2, 0.7, 1.9, 3.5, 8.0, 25.0};
    std::size_t index = std::size_t(state.thread_index());
    for (auto _ : state) {
        histogram.observe(samples[index]);
        index = (index + 1) % samples.size();
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HistogramObserve)->Threads(1)->Threads(2)->UseRealTime();

// labels() on a hit: what a caller pays when it does not cache the reference.
void BM_FamilyLabelLookup(benchmark::State &state)
{
    Registry registry;
    auto family = registry.counterFamily("sluice_requests_total", "Requests.", {"route", "status"});
    if (!family.ok()) {
        state.SkipWithError("registration failed");
        return;
    }
    const auto series = std::size_t(state.range(0));
    std::vector<std::string> routes;
    for (std::size_t index = 0; index < series; ++index)
        routes.push_back("/v1/route/" + std::to_string(index));
    for (const std::string &route : routes)
        (*family)->labels({route, "200"});
    std::size_t index = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(&(*family)->labels({routes[index], "200"}));
        if (++index == routes.size())
            index = 0;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FamilyLabelLookup)->Arg(10)->Arg(1'000);

// 10 000 series: 8 000 counters over (route, status, model) and 2 000 gauges,
// plus `histograms` histogram series with the default latency buckets.
bool fill(Registry &registry, std::size_t histograms)
{
    auto counters = registry.counterFamily("sluice_requests_total", "Requests.", {"route", "status", "model"},
                                           10'000);
    auto gauges = registry.gaugeFamily("sluice_in_flight_requests", "In flight.", {"upstream"}, 10'000);
    auto latency = registry.histogramFamily("sluice_upstream_duration_seconds", "Upstream latency.", {"model"},
                                            defaultLatencyBucketsSeconds(), 10'000);
    if (!counters.ok() || !gauges.ok() || !latency.ok())
        return false;
    // (route, model) is unique per index: 100 routes x 80 models.
    for (int index = 0; index < 8'000; ++index) {
        (*counters)
            ->labels({"/v1/route/" + std::to_string(index % 100), index % 7 == 0 ? "429" : "200",
                      "model-" + std::to_string(index / 100)})
            .inc(std::uint64_t(index) * 7919);
    }
    for (int index = 0; index < 2'000; ++index)
        (*gauges)->labels({"upstream-" + std::to_string(index)}).set(index * 0.25);
    for (std::size_t index = 0; index < histograms; ++index) {
        Histogram &histogram = (*latency)->labels({"model-" + std::to_string(index)});
        for (int sample = 0; sample < 20; ++sample)
            histogram.observe(0.001 * double(sample * sample * (index + 1)));
    }
    return true;
}

const Registry &tenThousandSeries()
{
    static Registry registry;
    static const bool filled = fill(registry, 0);
    benchmark::DoNotOptimize(filled);
    return registry;
}

const Registry &withHistograms()
{
    static Registry registry;
    static const bool filled = fill(registry, 1'000);
    benchmark::DoNotOptimize(filled);
    return registry;
}

void runExposition(benchmark::State &state, const Registry &registry)
{
    std::string out;
    for (auto _ : state) {
        out.clear();
        registry.appendExposition(out);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetBytesProcessed(std::int64_t(state.iterations()) * std::int64_t(out.size()));
    state.counters["bytes"] = double(out.size());
}

void BM_Exposition10kSeries(benchmark::State &state)
{
    runExposition(state, tenThousandSeries());
}
BENCHMARK(BM_Exposition10kSeries)->Unit(benchmark::kMillisecond);

void BM_Exposition10kSeriesPlus1kHistograms(benchmark::State &state)
{
    runExposition(state, withHistograms());
}
BENCHMARK(BM_Exposition10kSeriesPlus1kHistograms)->Unit(benchmark::kMillisecond);

void runParse(benchmark::State &state, const Registry &registry)
{
    const std::string text = registry.exposition();
    std::size_t samples = 0;
    for (auto _ : state) {
        auto parsed = parseExposition(text);
        if (!parsed.ok()) {
            state.SkipWithError(parsed.error().message.c_str());
            return;
        }
        samples = 0;
        for (const ParsedFamily &family : *parsed)
            samples += family.samples.size();
        benchmark::DoNotOptimize(parsed->data());
    }
    state.SetBytesProcessed(std::int64_t(state.iterations()) * std::int64_t(text.size()));
    state.SetItemsProcessed(std::int64_t(state.iterations()) * std::int64_t(samples));
}

void BM_Parse10kSeries(benchmark::State &state)
{
    runParse(state, tenThousandSeries());
}
BENCHMARK(BM_Parse10kSeries)->Unit(benchmark::kMillisecond);

void BM_Parse10kSeriesPlus1kHistograms(benchmark::State &state)
{
    runParse(state, withHistograms());
}
BENCHMARK(BM_Parse10kSeriesPlus1kHistograms)->Unit(benchmark::kMillisecond);

} // namespace
