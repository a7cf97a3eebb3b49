#include <QTest>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "metrics/histogrambuckets.h"
#include "metrics/registry.h"

using sluice::metrics::CallbackFamily;
using sluice::metrics::Counter;
using sluice::metrics::CounterFamily;
using sluice::metrics::Gauge;
using sluice::metrics::Histogram;
using sluice::metrics::Registry;

namespace {

enum Kind { CounterKind, GaugeKind, HistogramKind, GaugeCallbackKind, CounterCallbackKind };

std::vector<std::string> toStd(const QStringList &list)
{
    std::vector<std::string> result;
    for (const QString &item : list)
        result.push_back(item.toStdString());
    return result;
}

// Registers one family of `kind`; returns the error message, empty on success.
QString registerFamily(Registry &registry, int kind, const QByteArray &name, const QByteArray &help,
                       const QStringList &labelNames, const QList<double> &bounds, int maxSeries)
{
    const auto series = static_cast<std::size_t>(maxSeries);
    const std::vector<double> upperBounds(bounds.begin(), bounds.end());
    std::string message;
    const auto take = [&](const auto &result) {
        if (!result.ok())
            message = result.error().message;
    };
    switch (kind) {
    case CounterKind:
        take(registry.counterFamily(name.toStdString(), help.toStdString(), toStd(labelNames), series));
        break;
    case GaugeKind:
        take(registry.gaugeFamily(name.toStdString(), help.toStdString(), toStd(labelNames), series));
        break;
    case HistogramKind:
        take(registry.histogramFamily(name.toStdString(), help.toStdString(), toStd(labelNames), upperBounds,
                                      series));
        break;
    case GaugeCallbackKind:
        take(registry.gaugeCallbackFamily(name.toStdString(), help.toStdString(), toStd(labelNames), series));
        break;
    case CounterCallbackKind:
        take(registry.counterCallbackFamily(name.toStdString(), help.toStdString(), toStd(labelNames), series));
        break;
    }
    return QString::fromStdString(message);
}

std::vector<std::uint64_t> cumulative(const Histogram &histogram)
{
    return histogram.snapshot().cumulativeCounts;
}

} // namespace

class TestMetricRegistry : public QObject {
    Q_OBJECT
private slots:
    void registrationIsValidated_data()
    {
        QTest::addColumn<int>("kind");
        QTest::addColumn<QByteArray>("name");
        QTest::addColumn<QByteArray>("help");
        QTest::addColumn<QStringList>("labelNames");
        QTest::addColumn<QList<double>>("bounds");
        QTest::addColumn<int>("maxSeries");
        QTest::addColumn<QString>("expectedError"); // substring; empty means success

        const QByteArray help = "Some help.";
        const QList<double> noBounds;
        const double inf = std::numeric_limits<double>::infinity();
        const double nan = std::numeric_limits<double>::quiet_NaN();
        QTest::newRow("counter") << int(CounterKind) << QByteArray("sluice_requests_total") << help
                                 << QStringList{"route", "status"} << noBounds << 10 << QString();
        QTest::newRow("counter without _total")
            << int(CounterKind) << QByteArray("sluice_requests") << help << QStringList{} << noBounds << 10
            << QString("counter names must end in \"_total\"");
        QTest::newRow("counter named only _total") << int(CounterKind) << QByteArray("_total") << help
                                                   << QStringList{} << noBounds << 10
                                                   << QString("counter names must end in \"_total\"");
        QTest::newRow("counter callback without _total")
            << int(CounterCallbackKind) << QByteArray("sluice_hits") << help << QStringList{} << noBounds << 10
            << QString("counter names must end in \"_total\"");
        QTest::newRow("gauge ending in _total") << int(GaugeKind) << QByteArray("sluice_entries_total") << help
                                                << QStringList{} << noBounds << 10
                                                << QString("only counter names may end in \"_total\"");
        QTest::newRow("gauge") << int(GaugeKind) << QByteArray("sluice_cache_entries") << help << QStringList{}
                               << noBounds << 10 << QString();
        QTest::newRow("colon allowed") << int(GaugeKind) << QByteArray("job:sluice_rate:5m") << help
                                       << QStringList{} << noBounds << 10 << QString();
        QTest::newRow("leading digit") << int(GaugeKind) << QByteArray("1sluice") << help << QStringList{}
                                       << noBounds << 10 << QString("invalid metric name");
        QTest::newRow("dash") << int(GaugeKind) << QByteArray("sluice-x") << help << QStringList{} << noBounds
                              << 10 << QString("invalid metric name");
        QTest::newRow("empty name") << int(GaugeKind) << QByteArray() << help << QStringList{} << noBounds << 10
                                    << QString("invalid metric name");
        QTest::newRow("non-ASCII name") << int(GaugeKind) << QByteArray("sluice_\xc3\xa9") << help
                                        << QStringList{} << noBounds << 10 << QString("invalid metric name");
        QTest::newRow("gauge ending in _count") << int(GaugeKind) << QByteArray("sluice_entries_count") << help
                                                << QStringList{} << noBounds << 10
                                                << QString("reserved for histogram and summary samples");
        QTest::newRow("histogram ending in _bucket")
            << int(HistogramKind) << QByteArray("sluice_x_bucket") << help << QStringList{} << noBounds << 10
            << QString("reserved for histogram and summary samples");
        QTest::newRow("callback ending in _sum") << int(GaugeCallbackKind) << QByteArray("sluice_x_sum") << help
                                                 << QStringList{} << noBounds << 10
                                                 << QString("reserved for histogram and summary samples");
        QTest::newRow("empty help") << int(GaugeKind) << QByteArray("sluice_x") << QByteArray() << QStringList{}
                                    << noBounds << 10 << QString("help text is empty");
        QTest::newRow("help not UTF-8") << int(GaugeKind) << QByteArray("sluice_x") << QByteArray("bad \xff")
                                        << QStringList{} << noBounds << 10
                                        << QString("help text is not valid UTF-8");
        QTest::newRow("label starts with digit") << int(GaugeKind) << QByteArray("sluice_x") << help
                                                 << QStringList{"1a"} << noBounds << 10
                                                 << QString("invalid label name \"1a\"");
        QTest::newRow("label with colon") << int(GaugeKind) << QByteArray("sluice_x") << help
                                          << QStringList{"a:b"} << noBounds << 10
                                          << QString("invalid label name \"a:b\"");
        QTest::newRow("empty label name") << int(GaugeKind) << QByteArray("sluice_x") << help << QStringList{""}
                                          << noBounds << 10 << QString("invalid label name \"\"");
        QTest::newRow("reserved label") << int(CounterKind) << QByteArray("sluice_x_total") << help
                                        << QStringList{"__tenant"} << noBounds << 10
                                        << QString("label name \"__tenant\" is reserved");
        QTest::newRow("le on histogram") << int(HistogramKind) << QByteArray("sluice_x_seconds") << help
                                         << QStringList{"le"} << noBounds << 10
                                         << QString("label name \"le\" is reserved");
        QTest::newRow("quantile on gauge") << int(GaugeKind) << QByteArray("sluice_x") << help
                                           << QStringList{"quantile"} << noBounds << 10
                                           << QString("label name \"quantile\" is reserved");
        QTest::newRow("duplicate label") << int(GaugeKind) << QByteArray("sluice_x") << help
                                         << QStringList{"model", "route", "model"} << noBounds << 10
                                         << QString("duplicate label name \"model\"");
        QTest::newRow("max series 0") << int(GaugeKind) << QByteArray("sluice_x") << help << QStringList{}
                                      << noBounds << 0 << QString("maxSeries must be at least 1");
        QTest::newRow("histogram") << int(HistogramKind) << QByteArray("sluice_x_seconds") << help
                                   << QStringList{"model"} << QList<double>{0.1, 1, 10} << 10 << QString();
        QTest::newRow("histogram without bounds") << int(HistogramKind) << QByteArray("sluice_x_seconds") << help
                                                  << QStringList{} << QList<double>{} << 10 << QString();
        QTest::newRow("histogram trailing +Inf") << int(HistogramKind) << QByteArray("sluice_x_seconds") << help
                                                 << QStringList{} << QList<double>{1, 2, inf} << 10 << QString();
        QTest::newRow("histogram decreasing") << int(HistogramKind) << QByteArray("sluice_x_seconds") << help
                                              << QStringList{} << QList<double>{1, 0.5} << 10
                                              << QString("strictly increasing");
        QTest::newRow("histogram repeated bound") << int(HistogramKind) << QByteArray("sluice_x_seconds") << help
                                                  << QStringList{} << QList<double>{1, 1} << 10
                                                  << QString("strictly increasing");
        QTest::newRow("histogram NaN bound") << int(HistogramKind) << QByteArray("sluice_x_seconds") << help
                                             << QStringList{} << QList<double>{1, nan} << 10
                                             << QString("must be finite");
        QTest::newRow("histogram -Inf bound") << int(HistogramKind) << QByteArray("sluice_x_seconds") << help
                                              << QStringList{} << QList<double>{-inf, 1} << 10
                                              << QString("must be finite");
        QTest::newRow("histogram +Inf inside") << int(HistogramKind) << QByteArray("sluice_x_seconds") << help
                                               << QStringList{} << QList<double>{inf, inf} << 10
                                               << QString("must be finite");
    }

    void registrationIsValidated()
    {
        QFETCH(int, kind);
        QFETCH(QByteArray, name);
        QFETCH(QByteArray, help);
        QFETCH(QStringList, labelNames);
        QFETCH(QList<double>, bounds);
        QFETCH(int, maxSeries);
        QFETCH(QString, expectedError);

        Registry registry;
        const QString error = registerFamily(registry, kind, name, help, labelNames, bounds, maxSeries);
        if (expectedError.isEmpty()) {
            QVERIFY2(error.isEmpty(), qPrintable(error));
            QVERIFY(registry.find(name.toStdString()) != nullptr);
        } else {
            QVERIFY2(error.contains(expectedError), qPrintable(error));
            QVERIFY2(error.contains(QString::fromUtf8(name)), "the message names the metric");
            QVERIFY(registry.find(name.toStdString()) == nullptr);
        }
    }

    void duplicateNamesAreRejected_data()
    {
        QTest::addColumn<int>("firstKind");
        QTest::addColumn<int>("secondKind");
        QTest::newRow("counter twice") << int(CounterKind) << int(CounterKind);
        QTest::newRow("counter then callback counter") << int(CounterKind) << int(CounterCallbackKind);
        QTest::newRow("gauge then histogram") << int(GaugeKind) << int(HistogramKind);
        QTest::newRow("callback then gauge") << int(GaugeCallbackKind) << int(GaugeKind);
    }

    void duplicateNamesAreRejected()
    {
        QFETCH(int, firstKind);
        QFETCH(int, secondKind);
        const auto nameFor = [](int kind) {
            return QByteArray(kind == CounterKind || kind == CounterCallbackKind ? "sluice_x_total" : "sluice_x");
        };
        Registry registry;
        QCOMPARE(registerFamily(registry, firstKind, nameFor(firstKind), "Help.", {}, {}, 10), QString());
        const QString error = registerFamily(registry, secondKind, nameFor(secondKind), "Help.", {}, {}, 10);
        QVERIFY2(error.contains("already registered"), qPrintable(error));
        QCOMPARE(registry.find(nameFor(firstKind).toStdString())->type(),
                 firstKind == CounterKind || firstKind == CounterCallbackKind ? sluice::metrics::MetricType::Counter
                 : firstKind == HistogramKind                                ? sluice::metrics::MetricType::Histogram
                                                                             : sluice::metrics::MetricType::Gauge);
    }

    void overflowCounterIsAlwaysRegistered()
    {
        Registry registry;
        const auto *family = registry.find(Registry::kSeriesOverflowMetricName);
        QVERIFY(family != nullptr);
        QCOMPARE(family->type(), sluice::metrics::MetricType::Counter);
        QCOMPARE(family->seriesCount(), std::size_t(1));
        QCOMPARE(registry.familyNames(), std::vector<std::string>{std::string(Registry::kSeriesOverflowMetricName)});
        QVERIFY(!registry.counter(std::string(Registry::kSeriesOverflowMetricName), "Again.").ok());
    }

    void labelsReturnStableSeries()
    {
        Registry registry;
        auto family = registry.counterFamily("sluice_requests_total", "Requests.", {"route", "status"});
        QVERIFY(family.ok());
        Counter &chat = (*family)->labels({"chat", "200"});
        const std::vector<std::string> dynamicValues{"chat", "200"};
        QCOMPARE(&(*family)->labels(dynamicValues), &chat);
        for (int index = 0; index < 100; ++index)
            (*family)->labels({"route" + std::to_string(index), "200"});
        QCOMPARE(&(*family)->labels({"chat", "200"}), &chat);
        QVERIFY(&(*family)->labels({"chat", "429"}) != &chat);
        QCOMPARE((*family)->seriesCount(), std::size_t(102));
    }

    void counterAddsOnlyUpwards_data()
    {
        QTest::addColumn<QList<double>>("amounts");
        QTest::addColumn<double>("expected");
        const double inf = std::numeric_limits<double>::infinity();
        const double nan = std::numeric_limits<double>::quiet_NaN();
        QTest::newRow("whole amounts") << QList<double>{1, 2, 3} << 6.0;
        QTest::newRow("fractions") << QList<double>{0.25, 0.5, 1.25} << 2.0;
        QTest::newRow("negative ignored") << QList<double>{5, -3, 1} << 6.0;
        QTest::newRow("NaN ignored") << QList<double>{5, nan, 1} << 6.0;
        QTest::newRow("zero") << QList<double>{0, 0} << 0.0;
        QTest::newRow("huge whole amount") << QList<double>{1e300, 1} << 1e300;
        QTest::newRow("infinity kept") << QList<double>{1, inf} << inf;
    }

    void counterAddsOnlyUpwards()
    {
        QFETCH(QList<double>, amounts);
        QFETCH(double, expected);
        Registry registry;
        auto counter = registry.counter("sluice_cost_dollars_total", "Cost.");
        QVERIFY(counter.ok());
        for (const double amount : amounts)
            (*counter)->add(amount);
        QCOMPARE((*counter)->value(), expected);
    }

    void counterIncrementsAreExactIntegers()
    {
        Counter counter;
        counter.inc();
        counter.inc(41);
        counter.add(4'000'000'000.0);
        QCOMPARE(counter.value(), 4'000'000'042.0);
    }

    void gaugeMovesBothWays()
    {
        Registry registry;
        auto gauge = registry.gauge("sluice_in_flight_requests", "In flight.");
        QVERIFY(gauge.ok());
        (*gauge)->inc();
        (*gauge)->inc();
        (*gauge)->dec();
        (*gauge)->add(2.5);
        (*gauge)->sub(0.5);
        QCOMPARE((*gauge)->value(), 3.0);
        (*gauge)->set(-7.25);
        QCOMPARE((*gauge)->value(), -7.25);
    }

    void histogramBucketsObservations_data()
    {
        QTest::addColumn<QList<double>>("observations");
        QTest::addColumn<QList<int>>("expectedCumulative"); // le 0.1, 1, 10, +Inf
        QTest::addColumn<double>("expectedSum");
        const double nan = std::numeric_limits<double>::quiet_NaN();
        const double inf = std::numeric_limits<double>::infinity();
        QTest::newRow("none") << QList<double>{} << QList<int>{0, 0, 0, 0} << 0.0;
        QTest::newRow("bounds are inclusive") << QList<double>{0.1, 1, 10} << QList<int>{1, 2, 3, 3} << 11.1;
        QTest::newRow("above the last bound") << QList<double>{10.5, 1000} << QList<int>{0, 0, 0, 2} << 1010.5;
        QTest::newRow("negative and zero") << QList<double>{-5, 0} << QList<int>{2, 2, 2, 2} << -5.0;
        QTest::newRow("NaN ignored") << QList<double>{0.5, nan} << QList<int>{0, 1, 1, 1} << 0.5;
        QTest::newRow("+Inf counted") << QList<double>{inf} << QList<int>{0, 0, 0, 1} << inf;
    }

    void histogramBucketsObservations()
    {
        QFETCH(QList<double>, observations);
        QFETCH(QList<int>, expectedCumulative);
        QFETCH(double, expectedSum);
        Registry registry;
        auto histogram = registry.histogram("sluice_latency_seconds", "Latency.", {0.1, 1, 10});
        QVERIFY(histogram.ok());
        for (const double value : observations)
            (*histogram)->observe(value);
        const Histogram::Snapshot snapshot = (*histogram)->snapshot();
        QCOMPARE(snapshot.cumulativeCounts,
                 std::vector<std::uint64_t>(expectedCumulative.begin(), expectedCumulative.end()));
        QCOMPARE(snapshot.count, std::uint64_t(expectedCumulative.back()));
        QCOMPARE(snapshot.sum, expectedSum);
    }

    void histogramObservesDurationsInSeconds()
    {
        using namespace std::chrono_literals;
        Histogram histogram(std::make_shared<const std::vector<double>>(std::vector<double>{0.01, 1}));
        histogram.observe(5ms);
        histogram.observe(250ms);
        histogram.observe(2s);
        QCOMPARE(cumulative(histogram), (std::vector<std::uint64_t>{1, 2, 3}));
        QCOMPARE(histogram.snapshot().sum, 2.255);
    }

    void bucketSets_data()
    {
        QTest::addColumn<QList<double>>("actual");
        QTest::addColumn<QList<double>>("expected");
        const auto qt = [](const std::vector<double> &bounds) { return QList<double>(bounds.begin(), bounds.end()); };
        QTest::newRow("latency") << qt(sluice::metrics::defaultLatencyBucketsSeconds())
                                 << QList<double>{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60};
        QTest::newRow("tokens") << qt(sluice::metrics::tokenCountBuckets())
                                << QList<double>{16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576};
        QTest::newRow("linear") << qt(sluice::metrics::linearBuckets(1, 0.5, 4)) << QList<double>{1, 1.5, 2, 2.5};
        QTest::newRow("linear zero width") << qt(sluice::metrics::linearBuckets(1, 0, 4)) << QList<double>{};
        QTest::newRow("exponential") << qt(sluice::metrics::exponentialBuckets(1, 10, 3)) << QList<double>{1, 10, 100};
        QTest::newRow("exponential factor 1") << qt(sluice::metrics::exponentialBuckets(1, 1, 3)) << QList<double>{};
        QTest::newRow("exponential start 0") << qt(sluice::metrics::exponentialBuckets(0, 2, 3)) << QList<double>{};
    }

    void bucketSets()
    {
        QFETCH(QList<double>, actual);
        QFETCH(QList<double>, expected);
        QCOMPARE(actual, expected);
    }

    void defaultBucketSetsAreAccepted()
    {
        Registry registry;
        QVERIFY(registry.histogram("sluice_request_duration_seconds", "Latency.").ok());
        QVERIFY(registry.histogram("sluice_prompt_tokens", "Tokens.", sluice::metrics::tokenCountBuckets()).ok());
    }

    void overflowBeyondMaxSeries()
    {
        Registry registry;
        auto family = registry.counterFamily("sluice_requests_total", "Requests.", {"model"}, 3);
        QVERIFY(family.ok());
        Counter &first = (*family)->labels({"a"});
        (*family)->labels({"b"});
        (*family)->labels({"c"});
        QCOMPARE(registry.seriesOverflowCount(), std::uint64_t(0));

        Counter &overflowD = (*family)->labels({"d"});
        Counter &overflowE = (*family)->labels({"e"});
        QCOMPARE(&overflowD, &overflowE);
        QCOMPARE(&(*family)->labels({CounterFamily::kOverflowLabelValue}), &overflowD);
        QVERIFY(&overflowD != &first);
        QCOMPARE(&(*family)->labels({"a"}), &first); // known label sets still resolve
        QCOMPARE(registry.seriesOverflowCount(), std::uint64_t(2));
        QCOMPARE((*family)->seriesCount(), std::size_t(4));

        overflowD.inc(5);
        const std::string text = registry.exposition();
        QVERIFY2(text.find("sluice_requests_total{model=\"__overflow__\"} 5\n") != std::string::npos, text.c_str());
        QVERIFY2(text.find("sluice_metrics_series_overflow_total 2\n") != std::string::npos, text.c_str());
        QVERIFY(text.find("model=\"d\"") == std::string::npos);
    }

    void wrongLabelCountGoesToOverflow_data()
    {
        QTest::addColumn<QStringList>("values");
        QTest::newRow("too few") << QStringList{"a"};
        QTest::newRow("too many") << QStringList{"a", "b", "c"};
        QTest::newRow("none") << QStringList{};
    }

    void wrongLabelCountGoesToOverflow()
    {
        QFETCH(QStringList, values);
        Registry registry;
        auto family = registry.gaugeFamily("sluice_x", "X.", {"one", "two"});
        QVERIFY(family.ok());
        Gauge &gauge = (*family)->labels(toStd(values));
        QCOMPARE(&gauge, &(*family)->labels({"__overflow__", "__overflow__"}));
        QCOMPARE(registry.seriesOverflowCount(), std::uint64_t(1));
    }

    void invalidUtf8LabelValuesAreRepaired()
    {
        Registry registry;
        auto family = registry.counterFamily("sluice_requests_total", "Requests.", {"model"});
        QVERIFY(family.ok());
        Counter &raw = (*family)->labels({"gpt\xff"});
        QCOMPARE(&(*family)->labels({"gpt\xff"}), &raw);
        QCOMPARE(&(*family)->labels({"gpt\xef\xbf\xbd"}), &raw);
        QCOMPARE((*family)->seriesCount(), std::size_t(1));
        raw.inc();
        QVERIFY(registry.exposition().find("{model=\"gpt\xef\xbf\xbd\"} 1\n") != std::string::npos);
    }

    void callbackFamiliesEvaluateAtScrape()
    {
        Registry registry;
        double entries = 3;
        auto single = registry.gaugeCallback("sluice_cache_entries", "Entries.", [&entries] { return entries; });
        QVERIFY(single.ok());
        QVERIFY(registry.exposition().find("sluice_cache_entries 3\n") != std::string::npos);
        entries = 7;
        QVERIFY(registry.exposition().find("sluice_cache_entries 7\n") != std::string::npos);

        auto breakers = registry.gaugeCallbackFamily("sluice_breaker_state", "Breaker.", {"upstream"}, 2);
        QVERIFY(breakers.ok());
        auto added = (*breakers)->set({"openai"}, [] { return 1.0; });
        QVERIFY(added.ok());
        QCOMPARE(*added, false);
        auto replaced = (*breakers)->set({"openai"}, [] { return 2.0; });
        QVERIFY(replaced.ok());
        QCOMPARE(*replaced, true);
        QVERIFY((*breakers)->set({"anthropic"}, [] { return 0.0; }).ok());
        QCOMPARE((*breakers)->seriesCount(), std::size_t(2));

        const std::string text = registry.exposition();
        QVERIFY(text.find("sluice_breaker_state{upstream=\"anthropic\"} 0\n"
                          "sluice_breaker_state{upstream=\"openai\"} 2\n") != std::string::npos);

        QVERIFY((*breakers)->remove({"openai"}));
        QVERIFY(!(*breakers)->remove({"openai"}));
        QVERIFY(registry.exposition().find("openai") == std::string::npos);
    }

    void callbackSetIsValidated_data()
    {
        QTest::addColumn<QStringList>("values");
        QTest::addColumn<bool>("withFunction");
        QTest::addColumn<QString>("expectedError");
        QTest::newRow("wrong label count") << QStringList{"a", "b"} << true
                                           << QString("has 1 label names but 2 label values");
        QTest::newRow("empty function") << QStringList{"a"} << false << QString("empty value callback");
        QTest::newRow("not UTF-8") << QStringList{QString::fromLatin1("\xff")} << true << QString();
        QTest::newRow("family full") << QStringList{"third"} << true << QString("maximum of 2 series");
    }

    void callbackSetIsValidated()
    {
        QFETCH(QStringList, values);
        QFETCH(bool, withFunction);
        QFETCH(QString, expectedError);
        Registry registry;
        auto family = registry.gaugeCallbackFamily("sluice_x", "X.", {"name"}, 2);
        QVERIFY(family.ok());
        QVERIFY((*family)->set({"first"}, [] { return 1.0; }).ok());
        QVERIFY((*family)->set({"second"}, [] { return 2.0; }).ok());
        std::vector<std::string> labelValues = toStd(values);
        if (QTest::currentDataTag() == QByteArray("not UTF-8"))
            labelValues = {std::string("\xff")};
        const auto result =
            (*family)->set(labelValues, withFunction ? CallbackFamily::ValueFunction([] { return 3.0; }) : nullptr);
        QVERIFY(!result.ok());
        const QString message = QString::fromStdString(result.error().message);
        QVERIFY2(message.contains(expectedError.isEmpty() ? QString("not valid UTF-8") : expectedError),
                 qPrintable(message));
        QCOMPARE((*family)->seriesCount(), std::size_t(2));
    }

    void unlabelledConveniencesExposeZero()
    {
        Registry registry;
        QVERIFY(registry.counter("sluice_a_total", "A.").ok());
        QVERIFY(registry.gauge("sluice_b", "B.").ok());
        QVERIFY(registry.histogram("sluice_c_seconds", "C.", {1}).ok());
        const std::string text = registry.exposition();
        QVERIFY(text.find("sluice_a_total 0\n") != std::string::npos);
        QVERIFY(text.find("sluice_b 0\n") != std::string::npos);
        QVERIFY(text.find("sluice_c_seconds_bucket{le=\"+Inf\"} 0\n") != std::string::npos);
        QVERIFY(!registry.gaugeCallback("sluice_d", "D.", nullptr).ok());
        QVERIFY(registry.find("sluice_d") == nullptr);
    }
};

QTEST_APPLESS_MAIN(TestMetricRegistry)
#include "tst_metricregistry.moc"
