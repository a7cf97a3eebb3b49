#include <QTest>

#include <atomic>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include "metrics/promparser.h"
#include "metrics/registry.h"

using sluice::metrics::Counter;
using sluice::metrics::Gauge;
using sluice::metrics::Histogram;
using sluice::metrics::Registry;

namespace {

constexpr int kIterations = 1'000'000;

// Runs `work(threadIndex)` on `threads` std::threads released together.
template <typename Work>
void runTogether(int threads, Work work)
{
    std::latch start(threads);
    std::vector<std::thread> workers;
    for (int index = 0; index < threads; ++index) {
        workers.emplace_back([&, index] {
            start.arrive_and_wait();
            work(index);
        });
    }
    for (std::thread &worker : workers)
        worker.join();
}

} // namespace

class TestMetricConcurrency : public QObject {
    Q_OBJECT
private slots:
    void counterTotalsAreExact_data()
    {
        QTest::addColumn<int>("threads");
        QTest::newRow("one thread") << 1;
        QTest::newRow("two threads") << 2;
    }

    void counterTotalsAreExact()
    {
        QFETCH(int, threads);
        Registry registry;
        auto family = registry.counterFamily("sluice_requests_total", "Requests.", {"route"});
        QVERIFY(family.ok());
        Counter &counter = (*family)->labels({"chat"});
        Counter &fractions = (*family)->labels({"fractions"});
        runTogether(threads, [&](int) {
            for (int iteration = 0; iteration < kIterations; ++iteration) {
                counter.inc();
                fractions.add(0.25);
            }
        });
        QCOMPARE(counter.value(), double(threads) * kIterations);
        QCOMPARE(fractions.value(), double(threads) * kIterations * 0.25);
    }

    void histogramTotalsAreExact_data()
    {
        QTest::addColumn<int>("threads");
        QTest::newRow("one thread") << 1;
        QTest::newRow("two threads") << 2;
    }

    void histogramTotalsAreExact()
    {
        QFETCH(int, threads);
        Registry registry;
        auto histogram = registry.histogram("sluice_latency_seconds", "Latency.", {1, 10});
        QVERIFY(histogram.ok());
        Histogram &latency = **histogram;
        runTogether(threads, [&](int) {
            for (int iteration = 0; iteration < kIterations; ++iteration)
                latency.observe(iteration % 2 == 0 ? 0.5 : 2.0);
        });
        const Histogram::Snapshot snapshot = latency.snapshot();
        const std::uint64_t total = std::uint64_t(threads) * kIterations;
        QCOMPARE(snapshot.count, total);
        QCOMPARE(snapshot.cumulativeCounts, (std::vector<std::uint64_t>{total / 2, total, total}));
        // Multiples of 0.5 far below 2^52: every partial sum is exact.
        QCOMPARE(snapshot.sum, double(total / 2) * 2.5);
    }

    void gaugeAddsAndSubtractsExactly()
    {
        Gauge gauge;
        runTogether(2, [&](int index) {
            for (int iteration = 0; iteration < kIterations; ++iteration) {
                if (index == 0)
                    gauge.inc();
                else
                    gauge.dec();
            }
        });
        QCOMPARE(gauge.value(), 0.0);
    }

    void concurrentLookupsAgreeOnSeries()
    {
        Registry registry;
        auto family = registry.counterFamily("sluice_requests_total", "Requests.", {"model"}, 64);
        QVERIFY(family.ok());
        constexpr int kThreads = 4;
        constexpr int kModels = 100;
        std::vector<std::vector<Counter *>> seen(kThreads, std::vector<Counter *>(kModels));
        runTogether(kThreads, [&](int thread) {
            for (int model = 0; model < kModels; ++model) {
                Counter &counter = (*family)->labels({"model-" + std::to_string(model)});
                counter.inc();
                seen[thread][model] = &counter;
            }
        });
        for (int thread = 1; thread < kThreads; ++thread)
            QVERIFY(seen[thread] == seen[0]);
        QCOMPARE((*family)->seriesCount(), std::size_t(65)); // 64 and the overflow series
        // Each thread sent 36 models to the overflow series.
        QCOMPARE(registry.seriesOverflowCount(), std::uint64_t(kThreads * (kModels - 64)));
        QCOMPARE((*family)->labels({"__overflow__"}).value(), double(kThreads * (kModels - 64)));
        QCOMPARE((*family)->labels({"model-0"}).value(), double(kThreads));
    }

    void scrapesDuringUpdatesAreConsistent()
    {
        Registry registry;
        auto histograms = registry.histogramFamily("sluice_latency_seconds", "Latency.", {"model"}, {0.1, 1});
        auto counters = registry.counterFamily("sluice_requests_total", "Requests.", {"model"});
        QVERIFY(histograms.ok() && counters.ok());
        std::atomic<bool> writing{true};
        int scrapes = 0;
        int inconsistent = 0;
        int unparsable = 0;
        runTogether(3, [&](int index) {
            if (index < 2) {
                for (int iteration = 0; iteration < 200'000; ++iteration) {
                    const std::string model = "m" + std::to_string(iteration % 7);
                    (*histograms)->labels({model}).observe(iteration % 3 * 0.5);
                    (*counters)->labels({model}).inc();
                    if (iteration % 50'000 == 0)
                        (void)registry.gauge("sluice_gauge_" + std::to_string(index) + "_" + std::to_string(iteration),
                                             "Registered while scraping.");
                }
                writing = false;
                return;
            }
            while (writing || scrapes == 0) {
                const auto parsed = sluice::metrics::parseExposition(registry.exposition());
                ++scrapes;
                if (!parsed.ok()) {
                    ++unparsable;
                    continue;
                }
                const auto *family = sluice::metrics::findFamily(*parsed, "sluice_latency_seconds");
                for (int model = 0; family != nullptr && model < 7; ++model) {
                    const std::string name = "m" + std::to_string(model);
                    const auto buckets = sluice::metrics::histogramBuckets(*family, {{"model", name}});
                    const auto *count =
                        sluice::metrics::findSample(*parsed, "sluice_latency_seconds_count", {{"model", name}});
                    if (!buckets.empty() && (count == nullptr || buckets.back().second != count->value))
                        ++inconsistent;
                }
            }
        });
        QVERIFY(scrapes > 0);
        QCOMPARE(unparsable, 0);
        QCOMPARE(inconsistent, 0);
        double observed = 0;
        for (int model = 0; model < 7; ++model)
            observed += double((*histograms)->labels({"m" + std::to_string(model)}).snapshot().count);
        QCOMPARE(observed, 400'000.0);
    }
};

QTEST_APPLESS_MAIN(TestMetricConcurrency)
#include "tst_metricconcurrency.moc"
