#include <QTest>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "metrics/parsedfamily.h"
#include "metrics/promparser.h"
#include "metrics/registry.h"

using sluice::metrics::MetricType;
using sluice::metrics::ParsedFamily;
using sluice::metrics::Registry;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool sameDouble(double left, double right)
{
    if (std::isnan(left) || std::isnan(right))
        return std::isnan(left) && std::isnan(right);
    return left == right && std::signbit(left) == std::signbit(right);
}

std::vector<ParsedFamily> parseOrFail(const std::string &text)
{
    auto parsed = sluice::metrics::parseExposition(text);
    if (!parsed.ok()) {
        QTest::qFail(qPrintable(QString("line %1: %2\n%3")
                                    .arg(parsed.error().line)
                                    .arg(QString::fromStdString(parsed.error().message))
                                    .arg(QString::fromStdString(text))),
                     __FILE__, __LINE__);
        return {};
    }
    return std::move(parsed).value();
}

} // namespace

class TestExpositionRoundTrip : public QObject {
    Q_OBJECT
private slots:
    void valuesSurvive_data()
    {
        QTest::addColumn<double>("value");
        QTest::newRow("zero") << 0.0;
        QTest::newRow("negative zero") << -0.0;
        QTest::newRow("integer") << 2000000.0;
        QTest::newRow("2^53") << 9007199254740992.0;
        QTest::newRow("2^64") << 18446744073709551616.0;
        QTest::newRow("0.1 + 0.2") << 0.1 + 0.2;
        QTest::newRow("third") << 1.0 / 3.0;
        QTest::newRow("pi") << 3.141592653589793;
        QTest::newRow("negative") << -123.456;
        QTest::newRow("tiny") << 1e-300;
        QTest::newRow("smallest denormal") << 5e-324;
        QTest::newRow("largest") << std::numeric_limits<double>::max();
        QTest::newRow("lowest") << std::numeric_limits<double>::lowest();
        QTest::newRow("+Inf") << kInf;
        QTest::newRow("-Inf") << -kInf;
        QTest::newRow("NaN") << kNaN;
    }

    void valuesSurvive()
    {
        QFETCH(double, value);
        Registry registry;
        auto gauge = registry.gauge("sluice_value", "Value.");
        auto histogram = registry.histogram("sluice_observed", "Observed.", {0, 1});
        QVERIFY(gauge.ok() && histogram.ok());
        (*gauge)->set(value);
        (*histogram)->observe(value);

        const auto families = parseOrFail(registry.exposition());
        const auto *gaugeSample = sluice::metrics::findSample(families, "sluice_value", {});
        QVERIFY(gaugeSample != nullptr);
        QVERIFY2(sameDouble(gaugeSample->value, value), qPrintable(QString::number(gaugeSample->value, 'g', 17)));
        const auto *sum = sluice::metrics::findSample(families, "sluice_observed_sum", {});
        const auto *count = sluice::metrics::findSample(families, "sluice_observed_count", {});
        QVERIFY(sum != nullptr && count != nullptr);
        if (std::isnan(value)) {
            QCOMPARE(count->value, 0.0); // NaN observations are dropped
        } else {
            QVERIFY(sameDouble(sum->value, value + 0.0));
            QCOMPARE(count->value, 1.0);
        }
    }

    void labelValuesSurvive_data()
    {
        QTest::addColumn<QByteArray>("value");
        QTest::newRow("plain") << QByteArray("gpt-4o-mini");
        QTest::newRow("empty") << QByteArray();
        QTest::newRow("quotes") << QByteArray("say \"hi\"");
        QTest::newRow("backslashes") << QByteArray("\\\\server\\share\\");
        QTest::newRow("newlines") << QByteArray("line one\nline two\n");
        QTest::newRow("escape lookalikes") << QByteArray("\\n \\\" \\\\");
        QTest::newRow("syntax characters") << QByteArray("} 1\n# TYPE x counter\n{a=\"");
        QTest::newRow("blanks") << QByteArray(" \t leading and trailing \t ");
        QTest::newRow("UTF-8") << QByteArray("caf\xc3\xa9 \xf0\x9f\x9a\x80 \xe6\xa8\xa1\xe5\x9e\x8b");
        QTest::newRow("overflow marker") << QByteArray("__overflow__");
    }

    void labelValuesSurvive()
    {
        QFETCH(QByteArray, value);
        Registry registry;
        auto counters = registry.counterFamily("sluice_requests_total", "Requests.", {"model", "route"});
        auto histograms = registry.histogramFamily("sluice_tokens", "Tokens.", {"model"}, {10});
        QVERIFY(counters.ok() && histograms.ok());
        (*counters)->labels({value.toStdString(), "r"}).inc(7);
        (*histograms)->labels({value.toStdString()}).observe(3);

        const auto families = parseOrFail(registry.exposition());
        const std::string raw = value.toStdString();
        const auto *counter = sluice::metrics::findSample(families, "sluice_requests_total",
                                                          {{"model", raw}, {"route", "r"}});
        QVERIFY(counter != nullptr);
        QCOMPARE(counter->value, 7.0);
        const auto *family = sluice::metrics::findFamily(families, "sluice_tokens");
        QVERIFY(family != nullptr);
        const auto buckets = sluice::metrics::histogramBuckets(*family, {{"model", raw}});
        const std::vector<std::pair<double, double>> expected{{10, 1}, {kInf, 1}};
        QCOMPARE(buckets, expected);
    }

    void wholeRegistrySurvives()
    {
        Registry registry;
        auto requests = registry.counterFamily("sluice_requests_total", "Requests handled.", {"route", "status"});
        auto cost = registry.counter("sluice_cost_dollars_total", "Spend in US dollars.");
        auto inFlight = registry.gaugeFamily("sluice_in_flight_requests", "In flight.\nPer route.", {"route"});
        auto latency = registry.histogramFamily("sluice_request_duration_seconds", "Latency \\ seconds.", {"model"});
        auto tokens = registry.histogram("sluice_completion_tokens", "Tokens.", sluice::metrics::tokenCountBuckets());
        auto entries = registry.gaugeCallback("sluice_cache_entries", "Entries.", [] { return 42.0; });
        auto hits = registry.counterCallbackFamily("sluice_cache_hits_total", "Hits.", {"tier"});
        QVERIFY(requests.ok() && cost.ok() && inFlight.ok() && latency.ok() && tokens.ok() && entries.ok() &&
                hits.ok());
        QVERIFY((*hits)->set({"memory"}, [] { return 1e9; }).ok());
        QVERIFY((*hits)->set({"redis"}, [] { return 17.0; }).ok());

        (*requests)->labels({"chat", "200"}).inc(1234);
        (*requests)->labels({"chat", "429"}).inc(5);
        (*requests)->labels({"messages", "200"}).inc();
        (*cost)->add(0.0003);
        (*cost)->add(1.25);
        (*inFlight)->labels({"chat"}).set(3);
        (*inFlight)->labels({"messages"}).set(0);
        for (const double seconds : {0.004, 0.02, 0.3, 0.3, 2.0, 45.0, 120.0})
            (*latency)->labels({"gpt-4o"}).observe(seconds);
        (*latency)->labels({"claude"}).observe(0.7);
        for (const double count : {12.0, 800.0, 5000.0, 2e6})
            (*tokens)->observe(count);

        const std::string text = registry.exposition();
        const auto families = parseOrFail(text);
        const std::vector<std::string> names = registry.familyNames();
        QCOMPARE(families.size(), names.size());
        for (std::size_t index = 0; index < names.size(); ++index) {
            const auto *registered = registry.find(names[index]);
            QCOMPARE(families[index].name, names[index]);
            QCOMPARE(families[index].type, registered->type());
            QCOMPARE(families[index].help, registered->help());
        }

        QCOMPARE(sluice::metrics::findSample(families, "sluice_requests_total",
                                             {{"route", "chat"}, {"status", "200"}})
                     ->value,
                 1234.0);
        QCOMPARE(sluice::metrics::findSample(families, "sluice_cost_dollars_total", {})->value, 0.0003 + 1.25);
        QCOMPARE(sluice::metrics::findSample(families, "sluice_in_flight_requests", {{"route", "chat"}})->value, 3.0);
        QCOMPARE(sluice::metrics::findSample(families, "sluice_cache_hits_total", {{"tier", "memory"}})->value, 1e9);
        QCOMPARE(sluice::metrics::findSample(families, "sluice_cache_entries", {})->value, 42.0);

        const auto *latencyFamily = sluice::metrics::findFamily(families, "sluice_request_duration_seconds");
        const auto buckets = sluice::metrics::histogramBuckets(*latencyFamily, {{"model", "gpt-4o"}});
        QCOMPARE(buckets.size(), sluice::metrics::defaultLatencyBucketsSeconds().size() + 1);
        const auto snapshot = (*latency)->labels({"gpt-4o"}).snapshot();
        for (std::size_t index = 0; index < buckets.size(); ++index)
            QCOMPARE(buckets[index].second, double(snapshot.cumulativeCounts[index]));
        QCOMPARE(sluice::metrics::findSample(families, "sluice_request_duration_seconds_sum", {{"model", "gpt-4o"}})
                     ->value,
                 snapshot.sum);
        QCOMPARE(sluice::metrics::findSample(families, "sluice_request_duration_seconds_count",
                                             {{"model", "gpt-4o"}})
                     ->value,
                 7.0);

        // The registry writes canonical text: formatting the parse gives it back byte for byte.
        QCOMPARE(QByteArray::fromStdString(sluice::metrics::formatExposition(families)),
                 QByteArray::fromStdString(text));
    }
};

QTEST_APPLESS_MAIN(TestExpositionRoundTrip)
#include "tst_expositionroundtrip.moc"
