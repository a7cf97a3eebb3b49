#include <QTest>

#include <cmath>
#include <limits>
#include <string>

#include "metrics/exposition.h"
#include "metrics/registry.h"

using sluice::metrics::Registry;

namespace {

QByteArray bytes(const std::string &text)
{
    return QByteArray::fromStdString(text);
}

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

} // namespace

class TestExposition : public QObject {
    Q_OBJECT
private slots:
    void contentType()
    {
        QCOMPARE(QByteArray(sluice::metrics::kExpositionContentType.data(),
                            qsizetype(sluice::metrics::kExpositionContentType.size())),
                 QByteArray("text/plain; version=0.0.4; charset=utf-8"));
    }

    void formatsValues_data()
    {
        QTest::addColumn<double>("value");
        QTest::addColumn<QByteArray>("expected");
        QTest::newRow("zero") << 0.0 << QByteArray("0");
        QTest::newRow("negative zero") << -0.0 << QByteArray("-0");
        QTest::newRow("one") << 1.0 << QByteArray("1");
        QTest::newRow("integer") << 2000000.0 << QByteArray("2000000");
        QTest::newRow("negative integer") << -42.0 << QByteArray("-42");
        QTest::newRow("2^53 - 1") << 9007199254740991.0 << QByteArray("9007199254740991");
        QTest::newRow("2^53 uses shortest") << 9007199254740992.0 << QByteArray("9007199254740992");
        QTest::newRow("1e21") << 1e21 << QByteArray("1e+21");
        QTest::newRow("one tenth") << 0.1 << QByteArray("0.1");
        QTest::newRow("sum noise kept") << 0.1 + 0.2 << QByteArray("0.30000000000000004");
        QTest::newRow("5 ms") << 0.005 << QByteArray("0.005");
        QTest::newRow("small") << 1e-7 << QByteArray("1e-07");
        QTest::newRow("denormal") << 5e-324 << QByteArray("5e-324");
        QTest::newRow("max") << 1.7976931348623157e308 << QByteArray("1.7976931348623157e+308");
        QTest::newRow("fraction") << 2.5 << QByteArray("2.5");
        QTest::newRow("+Inf") << kInf << QByteArray("+Inf");
        QTest::newRow("-Inf") << -kInf << QByteArray("-Inf");
        QTest::newRow("NaN") << kNaN << QByteArray("NaN");
    }

    void formatsValues()
    {
        QFETCH(double, value);
        QFETCH(QByteArray, expected);
        const std::string text = sluice::metrics::formatValue(value);
        QCOMPARE(bytes(text), expected);
        const auto back = sluice::metrics::parseValue(text);
        QVERIFY(back.has_value());
        if (std::isnan(value)) {
            QVERIFY(std::isnan(*back));
        } else {
            QCOMPARE(*back, value);
            QCOMPARE(std::signbit(*back), std::signbit(value));
        }
    }

    void parsesValues_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<bool>("valid");
        QTest::addColumn<double>("expected");
        QTest::newRow("integer") << QByteArray("42") << true << 42.0;
        QTest::newRow("plus sign") << QByteArray("+42") << true << 42.0;
        QTest::newRow("minus sign") << QByteArray("-1.5") << true << -1.5;
        QTest::newRow("leading dot") << QByteArray(".5") << true << 0.5;
        QTest::newRow("trailing dot") << QByteArray("5.") << true << 5.0;
        QTest::newRow("exponent") << QByteArray("1.5e3") << true << 1500.0;
        QTest::newRow("capital exponent") << QByteArray("1E-3") << true << 0.001;
        QTest::newRow("exponent sign") << QByteArray("2e+2") << true << 200.0;
        QTest::newRow("leading zeros") << QByteArray("007") << true << 7.0;
        QTest::newRow("+Inf") << QByteArray("+Inf") << true << kInf;
        QTest::newRow("-Inf") << QByteArray("-Inf") << true << -kInf;
        QTest::newRow("Inf") << QByteArray("Inf") << true << kInf;
        QTest::newRow("inf lower") << QByteArray("inf") << true << kInf;
        QTest::newRow("Infinity") << QByteArray("-Infinity") << true << -kInf;
        QTest::newRow("underflow to zero") << QByteArray("1e-400") << true << 0.0;
        QTest::newRow("long underflow") << QByteArray("0." + QByteArray(400, '0') + "1") << true << 0.0;
        QTest::newRow("overflow") << QByteArray("1e400") << false << 0.0;
        QTest::newRow("long overflow") << QByteArray("1" + QByteArray(400, '0')) << false << 0.0;
        QTest::newRow("empty") << QByteArray() << false << 0.0;
        QTest::newRow("sign only") << QByteArray("-") << false << 0.0;
        QTest::newRow("dot only") << QByteArray(".") << false << 0.0;
        QTest::newRow("exponent without digits") << QByteArray("1e") << false << 0.0;
        QTest::newRow("double sign") << QByteArray("--1") << false << 0.0;
        QTest::newRow("hex") << QByteArray("0x10") << false << 0.0;
        QTest::newRow("hex float") << QByteArray("0x1p-2") << false << 0.0;
        QTest::newRow("underscore") << QByteArray("1_000") << false << 0.0;
        QTest::newRow("signed NaN") << QByteArray("-NaN") << false << 0.0;
        QTest::newRow("NaN payload") << QByteArray("nan(1)") << false << 0.0;
        QTest::newRow("trailing junk") << QByteArray("1.5x") << false << 0.0;
        QTest::newRow("comma decimal") << QByteArray("1,5") << false << 0.0;
        QTest::newRow("blank") << QByteArray(" 1") << false << 0.0;
        QTest::newRow("two dots") << QByteArray("1.2.3") << false << 0.0;
    }

    void parsesValues()
    {
        QFETCH(QByteArray, text);
        QFETCH(bool, valid);
        QFETCH(double, expected);
        const auto value = sluice::metrics::parseValue(text.toStdString());
        QCOMPARE(value.has_value(), valid);
        if (valid)
            QCOMPARE(*value, expected);
    }

    void parsesNaN()
    {
        for (const char *text : {"NaN", "nan", "NAN"}) {
            const auto value = sluice::metrics::parseValue(text);
            QVERIFY2(value && std::isnan(*value), text);
        }
    }

    void escapesHelp_data()
    {
        QTest::addColumn<QByteArray>("help");
        QTest::addColumn<QByteArray>("expected");
        QTest::newRow("plain") << QByteArray("Requests handled.") << QByteArray("Requests handled.");
        QTest::newRow("backslash") << QByteArray("a\\b") << QByteArray("a\\\\b");
        QTest::newRow("newline") << QByteArray("one\ntwo") << QByteArray("one\\ntwo");
        QTest::newRow("quotes untouched") << QByteArray("say \"hi\"") << QByteArray("say \"hi\"");
        QTest::newRow("backslash n literal") << QByteArray("\\n") << QByteArray("\\\\n");
        QTest::newRow("UTF-8") << QByteArray("caf\xc3\xa9 \xe2\x82\xac") << QByteArray("caf\xc3\xa9 \xe2\x82\xac");
    }

    void escapesHelp()
    {
        QFETCH(QByteArray, help);
        QFETCH(QByteArray, expected);
        std::string out;
        sluice::metrics::appendEscapedHelp(out, help.toStdString());
        QCOMPARE(bytes(out), expected);

        Registry registry;
        QVERIFY(registry.gauge("sluice_x", help.toStdString()).ok());
        const std::string text = registry.exposition();
        QVERIFY2(text.find("# HELP sluice_x " + expected.toStdString() + "\n# TYPE sluice_x gauge\n") !=
                     std::string::npos,
                 text.c_str());
    }

    void escapesLabelValues_data()
    {
        QTest::addColumn<QByteArray>("value");
        QTest::addColumn<QByteArray>("expected");
        QTest::newRow("plain") << QByteArray("gpt-4o") << QByteArray("gpt-4o");
        QTest::newRow("empty") << QByteArray() << QByteArray();
        QTest::newRow("quote") << QByteArray("a\"b") << QByteArray("a\\\"b");
        QTest::newRow("backslash") << QByteArray("C:\\dir") << QByteArray("C:\\\\dir");
        QTest::newRow("newline") << QByteArray("a\nb") << QByteArray("a\\nb");
        QTest::newRow("all three") << QByteArray("\\\"\n") << QByteArray("\\\\\\\"\\n");
        QTest::newRow("tab and braces kept") << QByteArray("a\t{b}=,") << QByteArray("a\t{b}=,");
        QTest::newRow("UTF-8") << QByteArray("\xe6\xa8\xa1\xe5\x9e\x8b") << QByteArray("\xe6\xa8\xa1\xe5\x9e\x8b");
    }

    void escapesLabelValues()
    {
        QFETCH(QByteArray, value);
        QFETCH(QByteArray, expected);
        std::string out;
        sluice::metrics::appendEscapedLabelValue(out, value.toStdString());
        QCOMPARE(bytes(out), expected);

        Registry registry;
        auto family = registry.counterFamily("sluice_x_total", "X.", {"model"});
        QVERIFY(family.ok());
        (*family)->labels({value.toStdString()}).inc(3);
        const std::string text = registry.exposition();
        QVERIFY2(text.find("sluice_x_total{model=\"" + expected.toStdString() + "\"} 3\n") != std::string::npos,
                 text.c_str());
    }

    void writesTheWholeRegistryInOrder()
    {
        Registry registry;
        auto requests = registry.counterFamily("sluice_requests_total", "Requests handled.", {"route", "status"});
        auto inFlight = registry.gauge("sluice_in_flight_requests", "Requests in flight.\nPer instance \\ total.");
        auto latency = registry.histogramFamily("sluice_request_duration_seconds", "Time to the last byte.",
                                                {"model"}, {0.125, 1, 8});
        auto empty = registry.gaugeFamily("sluice_breaker_open", "Open breakers.", {"upstream"});
        auto cacheEntries = registry.gaugeCallback("sluice_cache_entries", "Entries.", [] { return 12.0; });
        QVERIFY(requests.ok() && inFlight.ok() && latency.ok() && empty.ok() && cacheEntries.ok());

        // Created out of order on purpose: output is sorted by label values.
        (*requests)->labels({"chat", "429"}).inc();
        (*requests)->labels({"chat", "200"}).inc(3);
        (*requests)->labels({"anthropic", "200"}).add(2.5);
        (*inFlight)->set(4);
        for (const double seconds : {0.0625, 0.125, 0.5, 4.0, 32.0})
            (*latency)->labels({"gpt"}).observe(seconds);
        (*latency)->labels({"claude"});

        const std::string expected = "# HELP sluice_breaker_open Open breakers.\n"
                                     "# TYPE sluice_breaker_open gauge\n"
                                     "# HELP sluice_cache_entries Entries.\n"
                                     "# TYPE sluice_cache_entries gauge\n"
                                     "sluice_cache_entries 12\n"
                                     "# HELP sluice_in_flight_requests Requests in flight.\\nPer instance \\\\ total.\n"
                                     "# TYPE sluice_in_flight_requests gauge\n"
                                     "sluice_in_flight_requests 4\n"
                                     "# HELP sluice_metrics_series_overflow_total Label sets sent to a family's "
                                     "\"__overflow__\" series because the family had reached its maximum number of "
                                     "series.\n"
                                     "# TYPE sluice_metrics_series_overflow_total counter\n"
                                     "sluice_metrics_series_overflow_total 0\n"
                                     "# HELP sluice_request_duration_seconds Time to the last byte.\n"
                                     "# TYPE sluice_request_duration_seconds histogram\n"
                                     "sluice_request_duration_seconds_bucket{model=\"claude\",le=\"0.125\"} 0\n"
                                     "sluice_request_duration_seconds_bucket{model=\"claude\",le=\"1\"} 0\n"
                                     "sluice_request_duration_seconds_bucket{model=\"claude\",le=\"8\"} 0\n"
                                     "sluice_request_duration_seconds_bucket{model=\"claude\",le=\"+Inf\"} 0\n"
                                     "sluice_request_duration_seconds_sum{model=\"claude\"} 0\n"
                                     "sluice_request_duration_seconds_count{model=\"claude\"} 0\n"
                                     "sluice_request_duration_seconds_bucket{model=\"gpt\",le=\"0.125\"} 2\n"
                                     "sluice_request_duration_seconds_bucket{model=\"gpt\",le=\"1\"} 3\n"
                                     "sluice_request_duration_seconds_bucket{model=\"gpt\",le=\"8\"} 4\n"
                                     "sluice_request_duration_seconds_bucket{model=\"gpt\",le=\"+Inf\"} 5\n"
                                     "sluice_request_duration_seconds_sum{model=\"gpt\"} 36.6875\n"
                                     "sluice_request_duration_seconds_count{model=\"gpt\"} 5\n"
                                     "# HELP sluice_requests_total Requests handled.\n"
                                     "# TYPE sluice_requests_total counter\n"
                                     "sluice_requests_total{route=\"anthropic\",status=\"200\"} 2.5\n"
                                     "sluice_requests_total{route=\"chat\",status=\"200\"} 3\n"
                                     "sluice_requests_total{route=\"chat\",status=\"429\"} 1\n";
        QCOMPARE(bytes(registry.exposition()), bytes(expected));

        std::string reused = "previous scrape";
        reused.clear();
        registry.appendExposition(reused);
        QCOMPARE(bytes(reused), bytes(expected));
    }

    void histogramBucketLabelsAndOrder_data()
    {
        QTest::addColumn<QList<double>>("bounds");
        QTest::addColumn<QByteArray>("expectedLe"); // comma-separated, as written
        QTest::newRow("latency defaults")
            << QList<double>{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60}
            << QByteArray("0.005,0.01,0.025,0.05,0.1,0.25,0.5,1,2.5,5,10,20,30,60,+Inf");
        QTest::newRow("tokens") << QList<double>{16, 1024, 1048576} << QByteArray("16,1024,1048576,+Inf");
        QTest::newRow("negative bounds") << QList<double>{-1, -0.5, 0} << QByteArray("-1,-0.5,0,+Inf");
        QTest::newRow("only +Inf") << QList<double>{} << QByteArray("+Inf");
        QTest::newRow("tiny and huge") << QList<double>{1e-9, 1e300} << QByteArray("1e-09,1e+300,+Inf");
    }

    void histogramBucketLabelsAndOrder()
    {
        QFETCH(QList<double>, bounds);
        QFETCH(QByteArray, expectedLe);
        Registry registry;
        auto histogram =
            registry.histogram("sluice_x_seconds", "X.", std::vector<double>(bounds.begin(), bounds.end()));
        QVERIFY(histogram.ok());
        (*histogram)->observe(1e301);
        std::string expected;
        const QList<QByteArray> les = expectedLe.split(',');
        for (const QByteArray &le : les) {
            expected += "sluice_x_seconds_bucket{le=\"" + le.toStdString() + "\"} " + (le == "+Inf" ? "1" : "0") +
                        "\n";
        }
        expected += "sluice_x_seconds_sum 1e+301\nsluice_x_seconds_count 1\n";
        const std::string text = registry.exposition();
        QVERIFY2(text.find(expected) != std::string::npos, text.c_str());
    }

    void overflowSeriesSortsWithTheOthers()
    {
        Registry registry;
        auto family = registry.counterFamily("sluice_x_total", "X.", {"key"}, 2);
        QVERIFY(family.ok());
        (*family)->labels({"b"}).inc();
        (*family)->labels({"a"}).inc();
        (*family)->labels({"c"}).inc();
        (*family)->labels({"d"}).inc();
        const std::string text = registry.exposition();
        QVERIFY2(text.find("sluice_x_total{key=\"__overflow__\"} 2\n"
                           "sluice_x_total{key=\"a\"} 1\n"
                           "sluice_x_total{key=\"b\"} 1\n") != std::string::npos,
                 text.c_str());
    }
};

QTEST_APPLESS_MAIN(TestExposition)
#include "tst_exposition.moc"
