// What accounting adds to each request: one price lookup and one cost sum.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>

#include "config/pricetableloader.h"
#include "policy/costmodel.h"
#include "policy/pricetable.h"
#include "policy/tokenusage.h"

namespace {

const sluice::policy::PriceTable &defaultTable()
{
    static const sluice::policy::PriceTable table = [] {
        auto loaded = sluice::config::defaultPriceTable();
        if (!loaded.ok())
            std::abort(); // a broken build; tst_pricetable reports why
        return std::move(loaded).value();
    }();
    return table;
}

void lookup(benchmark::State &state, const std::string &modelName)
{
    const sluice::policy::PriceTable &table = defaultTable();
    for (auto _ : state)
        benchmark::DoNotOptimize(table.find(modelName));
}

void BM_PriceLookupExact(benchmark::State &state)
{
    lookup(state, "gpt-4o-mini");
}
BENCHMARK(BM_PriceLookupExact);

void BM_PriceLookupDatedName(benchmark::State &state)
{
    lookup(state, "claude-3-5-sonnet-20241022");
}
BENCHMARK(BM_PriceLookupDatedName);

void BM_PriceLookupUnknown(benchmark::State &state)
{
    lookup(state, "meta-llama-3.1-70b-instruct-turbo");
}
BENCHMARK(BM_PriceLookupUnknown);

void BM_CostOfOneRequest(benchmark::State &state)
{
    const auto price = defaultTable().find("claude-sonnet-4-20250514")->price;
    std::int64_t promptTokens = 1000;
    for (auto _ : state) {
        const auto usage = sluice::policy::fromAnthropicUsage(
            {.inputTokens = promptTokens, .cacheReadInputTokens = 800, .cacheCreationInputTokens = 0, .outputTokens = 200});
        benchmark::DoNotOptimize(sluice::policy::costUsd(price, usage));
        benchmark::DoNotOptimize(promptTokens);
    }
}
BENCHMARK(BM_CostOfOneRequest);

void BM_LoadDefaultTable(benchmark::State &state)
{
    for (auto _ : state)
        benchmark::DoNotOptimize(sluice::config::defaultPriceTable());
}
BENCHMARK(BM_LoadDefaultTable);

} // namespace
