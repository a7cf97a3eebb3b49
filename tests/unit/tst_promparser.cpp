#include <QTest>

#include <cmath>
#include <limits>
#include <string>

#include "metrics/exposition.h"
#include "metrics/parsedfamily.h"
#include "metrics/promparser.h"

using sluice::metrics::MetricType;
using sluice::metrics::ParsedFamily;
using sluice::metrics::parseExposition;

namespace {

// One line per family ("F name type") and per sample ("S name{labels} value
// [@timestamp]"), labels escaped as in the text format.
QByteArray dump(const std::vector<ParsedFamily> &families)
{
    std::string out;
    for (const ParsedFamily &family : families) {
        out += "F " + family.name + ' ' + std::string(sluice::metrics::metricTypeName(family.type)) + '\n';
        for (const auto &sample : family.samples) {
            out += "S " + sample.name;
            for (std::size_t index = 0; index < sample.labels.size(); ++index)
                sluice::metrics::appendLabel(out, index == 0, sample.labels[index].first, sample.labels[index].second);
            if (!sample.labels.empty())
                out += '}';
            out += ' ' + sluice::metrics::formatValue(sample.value);
            if (sample.timestampMs)
                out += " @" + std::to_string(*sample.timestampMs);
            out += '\n';
        }
    }
    return QByteArray::fromStdString(out);
}

} // namespace

class TestPromParser : public QObject {
    Q_OBJECT
private slots:
    void parsesValidText_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QByteArray>("expected");

        QTest::newRow("empty") << QByteArray() << QByteArray();
        QTest::newRow("blank lines and comments")
            << QByteArray("\n   \n# just a comment\n#\n# HELP\n# TYPE\n# EOF\n# HELPX x y\n\t\n") << QByteArray();
        QTest::newRow("counter") << QByteArray("# HELP x_total Requests.\n# TYPE x_total counter\nx_total 3\n")
                                 << QByteArray("F x_total counter\nS x_total 3\n");
        QTest::newRow("untyped without TYPE") << QByteArray("a 1\nb{x=\"y\"} 2\n")
                                              << QByteArray("F a untyped\nS a 1\nF b untyped\nS b{x=\"y\"} 2\n");
        QTest::newRow("explicit untyped") << QByteArray("# TYPE a untyped\na 1\n")
                                          << QByteArray("F a untyped\nS a 1\n");
        QTest::newRow("blanks around labels") << QByteArray("x { a = \"1\" ,\tb=\"2\", } 4\n")
                                              << QByteArray("F x untyped\nS x{a=\"1\",b=\"2\"} 4\n");
        QTest::newRow("no blank before value") << QByteArray("x{a=\"1\"}4\n")
                                               << QByteArray("F x untyped\nS x{a=\"1\"} 4\n");
        QTest::newRow("empty label set") << QByteArray("x{} 1\n") << QByteArray("F x untyped\nS x 1\n");
        QTest::newRow("empty label value") << QByteArray("x{a=\"\"} 1\n")
                                           << QByteArray("F x untyped\nS x{a=\"\"} 1\n");
        QTest::newRow("tabs and timestamp") << QByteArray("x\t5\t123\n")
                                            << QByteArray("F x untyped\nS x 5 @123\n");
        QTest::newRow("timestamps") << QByteArray("x 1 -5\nx 2 +7\nx 3 9223372036854775807\nx 4 0  \n")
                                    << QByteArray("F x untyped\nS x 1 @-5\nS x 2 @7\nS x 3 @9223372036854775807\n"
                                                  "S x 4 @0\n");
        QTest::newRow("special and exponent values")
            << QByteArray("a +Inf\nb -Inf\nc NaN\nd 1.5e-3\ne -0\nf 1E6\ng .25\nh Inf\n")
            << QByteArray("F a untyped\nS a +Inf\nF b untyped\nS b -Inf\nF c untyped\nS c NaN\nF d untyped\n"
                          "S d 0.0015\nF e untyped\nS e -0\nF f untyped\nS f 1000000\nF g untyped\nS g 0.25\n"
                          "F h untyped\nS h +Inf\n");
        QTest::newRow("histogram grouping")
            << QByteArray("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n")
            << QByteArray("F h histogram\nS h_bucket{le=\"1\"} 1\nS h_bucket{le=\"+Inf\"} 2\nS h_sum 3\n"
                          "S h_count 2\n");
        QTest::newRow("summary grouping")
            << QByteArray("# TYPE s summary\ns{quantile=\"0.5\"} 1\ns{quantile=\"0.99\"} 4\ns_sum 3\ns_count 2\n")
            << QByteArray("F s summary\nS s{quantile=\"0.5\"} 1\nS s{quantile=\"0.99\"} 4\nS s_sum 3\n"
                          "S s_count 2\n");
        QTest::newRow("summary does not take _bucket")
            << QByteArray("# TYPE s summary\ns_bucket{le=\"1\"} 1\n")
            << QByteArray("F s summary\nF s_bucket untyped\nS s_bucket{le=\"1\"} 1\n");
        QTest::newRow("gauge does not take _sum") << QByteArray("# TYPE g gauge\ng_sum 1\n")
                                                  << QByteArray("F g gauge\nF g_sum untyped\nS g_sum 1\n");
        QTest::newRow("suffix before the family exists")
            << QByteArray("h_count 1\n# TYPE h histogram\nh_count 2\n")
            << QByteArray("F h_count untyped\nS h_count 1\nS h_count 2\nF h histogram\n");
        QTest::newRow("exact family wins") << QByteArray("# TYPE h histogram\n# TYPE h_count gauge\nh_count 5\n")
                                           << QByteArray("F h histogram\nF h_count gauge\nS h_count 5\n");
        QTest::newRow("no final newline") << QByteArray("x 1") << QByteArray("F x untyped\nS x 1\n");
        QTest::newRow("interleaved families") << QByteArray("a 1\nb 2\na 3\n")
                                              << QByteArray("F a untyped\nS a 1\nS a 3\nF b untyped\nS b 2\n");
        QTest::newRow("TYPE in any case") << QByteArray("# TYPE x COUNTER\n# TYPE y Gauge  \n")
                                          << QByteArray("F x counter\nF y gauge\n");
        QTest::newRow("HELP after samples") << QByteArray("x 1\n# HELP x late\n")
                                            << QByteArray("F x untyped\nS x 1\n");
        QTest::newRow("leading blanks") << QByteArray("  x 1\n\t# TYPE y gauge\n")
                                        << QByteArray("F x untyped\nS x 1\nF y gauge\n");
        QTest::newRow("#TYPE without blank") << QByteArray("#TYPE x gauge\n") << QByteArray("F x gauge\n");
        QTest::newRow("colons in names") << QByteArray("job:rate:5m{a=\"b\"} 1\n")
                                         << QByteArray("F job:rate:5m untyped\nS job:rate:5m{a=\"b\"} 1\n");
        QTest::newRow("label value escapes") << QByteArray("x{a=\"q\\\"b\\\\n\\n\"} 1\n")
                                             << QByteArray("F x untyped\nS x{a=\"q\\\"b\\\\n\\n\"} 1\n");
        QTest::newRow("label value with braces and blanks") << QByteArray("x{a=\" }{ =, \"} 1\n")
                                                            << QByteArray("F x untyped\nS x{a=\" }{ =, \"} 1\n");
        QTest::newRow("UTF-8 label value") << QByteArray("x{model=\"\xe6\xa8\xa1\xe5\x9e\x8b\"} 1\n")
                                           << QByteArray("F x untyped\nS x{model=\"\xe6\xa8\xa1\xe5\x9e\x8b\"} 1\n");
        QTest::newRow("label names order kept") << QByteArray("x{b=\"1\",a=\"2\",_c=\"3\"} 1\n")
                                                << QByteArray("F x untyped\nS x{b=\"1\",a=\"2\",_c=\"3\"} 1\n");
        QTest::newRow("reserved-looking label") << QByteArray("x{__meta=\"1\"} 1\n")
                                                << QByteArray("F x untyped\nS x{__meta=\"1\"} 1\n");
    }

    void parsesValidText()
    {
        QFETCH(QByteArray, text);
        QFETCH(QByteArray, expected);
        const auto parsed = parseExposition(text.toStdString());
        QVERIFY2(parsed.ok(),
                 parsed.ok() ? "" : qPrintable(QString("line %1: %2").arg(parsed.error().line).arg(
                                        QString::fromStdString(parsed.error().message))));
        QCOMPARE(dump(*parsed), expected);
    }

    void readsHelp_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QByteArray>("expectedHelp");
        QTest::newRow("plain") << QByteArray("# HELP x Requests handled.\n") << QByteArray("Requests handled.");
        QTest::newRow("escapes") << QByteArray("# HELP x a\\\\b\\nc\n") << QByteArray("a\\b\nc");
        QTest::newRow("quote not escaped") << QByteArray("# HELP x say \"hi\"\n") << QByteArray("say \"hi\"");
        QTest::newRow("leading blanks dropped, inner kept") << QByteArray("# HELP x \t  two  words \n")
                                                            << QByteArray("two  words ");
        QTest::newRow("empty") << QByteArray("# HELP x\n") << QByteArray();
        QTest::newRow("UTF-8") << QByteArray("# HELP x \xe2\x82\xac\n") << QByteArray("\xe2\x82\xac");
    }

    void readsHelp()
    {
        QFETCH(QByteArray, text);
        QFETCH(QByteArray, expectedHelp);
        const auto parsed = parseExposition(text.toStdString());
        QVERIFY(parsed.ok());
        QCOMPARE(parsed->size(), std::size_t(1));
        QCOMPARE(QByteArray::fromStdString(parsed->front().help), expectedHelp);
    }

    void rejectsMalformedText_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<int>("line");
        QTest::addColumn<QByteArray>("message");

        QTest::newRow("leading digit") << QByteArray("1x 1\n") << 1 << QByteArray("invalid metric name \"1x\"");
        QTest::newRow("dash in name") << QByteArray("ok 1\nfoo-bar 1\n") << 2
                                      << QByteArray("invalid metric name \"foo-bar\"");
        QTest::newRow("NUL in name") << QByteArray("x\0 1\n", 5) << 1 << QByteArray("invalid metric name \"x\\x00\"");
        QTest::newRow("label set only") << QByteArray("{a=\"b\"} 1\n") << 1 << QByteArray("invalid metric name \"\"");
        QTest::newRow("missing value") << QByteArray("x\n") << 1 << QByteArray("missing value for sample \"x\"");
        QTest::newRow("missing value after labels") << QByteArray("x{a=\"b\"}   \n") << 1
                                                    << QByteArray("missing value for sample \"x\"");
        QTest::newRow("bad value") << QByteArray("x abc\n") << 1
                                   << QByteArray("invalid value \"abc\" for sample \"x\" (expected a float, +Inf, "
                                                 "-Inf or NaN)");
        QTest::newRow("carriage return is not a blank")
            << QByteArray("x 1\r\n") << 1
            << QByteArray("invalid value \"1\\x0d\" for sample \"x\" (expected a float, +Inf, -Inf or NaN)");
        QTest::newRow("value out of range") << QByteArray("x 1e999\n") << 1
                                            << QByteArray("invalid value \"1e999\" for sample \"x\" (expected a "
                                                          "float, +Inf, -Inf or NaN)");
        QTest::newRow("float timestamp") << QByteArray("x 1 12.5\n") << 1
                                         << QByteArray("invalid timestamp \"12.5\" for sample \"x\" (expected "
                                                       "integer milliseconds)");
        QTest::newRow("timestamp overflow") << QByteArray("x 1 99999999999999999999\n") << 1
                                            << QByteArray("invalid timestamp \"99999999999999999999\" for sample "
                                                          "\"x\" (expected integer milliseconds)");
        QTest::newRow("timestamp two signs") << QByteArray("x 1 +-5\n") << 1
                                             << QByteArray("invalid timestamp \"+-5\" for sample \"x\" (expected "
                                                           "integer milliseconds)");
        QTest::newRow("text after timestamp") << QByteArray("x 1 2 3\n") << 1
                                              << QByteArray("unexpected text \"3\" after the timestamp of sample "
                                                            "\"x\"");
        QTest::newRow("unclosed label set") << QByteArray("x{a=\"b\"\n") << 1
                                            << QByteArray("label set of sample \"x\" is not closed with '}'");
        QTest::newRow("unclosed after comma") << QByteArray("x{a=\"b\",") << 1
                                              << QByteArray("label set of sample \"x\" is not closed with '}'");
        QTest::newRow("unclosed label value") << QByteArray("x{a=\"b} 1\n") << 1
                                              << QByteArray("value of label \"a\" is not closed with '\"'");
        QTest::newRow("backslash at end of line") << QByteArray("x{a=\"b\\") << 1
                                                  << QByteArray("value of label \"a\" is not closed with '\"'");
        QTest::newRow("missing equals") << QByteArray("x{a \"b\"} 1\n") << 1
                                        << QByteArray("expected '=' after label name \"a\", found '\"'");
        QTest::newRow("label name at end") << QByteArray("x{a") << 1
                                           << QByteArray("expected '=' after label name \"a\", found end of line");
        QTest::newRow("unquoted value") << QByteArray("x{a=b} 1\n") << 1
                                        << QByteArray("expected '\"' to open the value of label \"a\", found 'b'");
        QTest::newRow("single-quoted value") << QByteArray("x{a='b'} 1\n") << 1
                                             << QByteArray("expected '\"' to open the value of label \"a\", found "
                                                           "'''");
        QTest::newRow("bad escape") << QByteArray("x{a=\"\\t\"} 1\n") << 1
                                    << QByteArray("invalid escape sequence \"\\t\" in the value of label \"a\" (only "
                                                  "\\\\, \\\" and \\n are allowed)");
        QTest::newRow("missing comma") << QByteArray("x{a=\"1\" b=\"2\"} 1\n") << 1
                                       << QByteArray("expected ',' or '}' after the value of label \"a\", found 'b'");
        QTest::newRow("label name starts with digit")
            << QByteArray("x{1a=\"1\"} 1\n") << 1
            << QByteArray("expected a label name or '}' in sample \"x\", found \"1a\"");
        QTest::newRow("double comma") << QByteArray("x{a=\"1\",,} 1\n") << 1
                                      << QByteArray("expected a label name or '}' in sample \"x\", found ','");
        QTest::newRow("control byte in label set") << QByteArray("x{\x01} 1\n") << 1
                                                   << QByteArray("expected a label name or '}' in sample \"x\", "
                                                                 "found byte 0x01");
        QTest::newRow("__name__ label") << QByteArray("x{__name__=\"y\"} 1\n") << 1
                                        << QByteArray("label name \"__name__\" is reserved (sample \"x\")");
        QTest::newRow("duplicate label") << QByteArray("x{a=\"1\",a=\"2\"} 1\n") << 1
                                         << QByteArray("duplicate label \"a\" in sample \"x\"");
        QTest::newRow("label value not UTF-8") << QByteArray("x{a=\"\xff\"} 1\n") << 1
                                               << QByteArray("value of label \"a\" is not valid UTF-8");
        QTest::newRow("overlong UTF-8") << QByteArray("x{a=\"\xc0\xaf\"} 1\n") << 1
                                        << QByteArray("value of label \"a\" is not valid UTF-8");
        QTest::newRow("HELP bad escape") << QByteArray("# HELP x a\\tb\n") << 1
                                         << QByteArray("invalid escape sequence \"\\t\" in HELP text of \"x\" (only "
                                                       "\\\\ and \\n are allowed)");
        QTest::newRow("HELP lone backslash") << QByteArray("# HELP x a\\\n") << 1
                                             << QByteArray("HELP text of \"x\" ends in a lone backslash");
        QTest::newRow("HELP not UTF-8") << QByteArray("# HELP x \xed\xa0\x80\n") << 1
                                        << QByteArray("HELP text of \"x\" is not valid UTF-8");
        QTest::newRow("second HELP") << QByteArray("# HELP x a\nx 1\n# HELP x b\n") << 3
                                     << QByteArray("second HELP line for metric \"x\"");
        QTest::newRow("second TYPE") << QByteArray("# TYPE x gauge\n# TYPE x gauge\n") << 2
                                     << QByteArray("second TYPE line for metric \"x\"");
        QTest::newRow("TYPE after samples") << QByteArray("x 1\n# TYPE x gauge\n") << 2
                                            << QByteArray("TYPE line for metric \"x\" comes after its samples");
        QTest::newRow("unknown type") << QByteArray("# TYPE x gauges\n") << 1
                                      << QByteArray("unknown metric type \"gauges\" for metric \"x\" (expected "
                                                    "counter, gauge, histogram, summary or untyped)");
        QTest::newRow("two types") << QByteArray("# TYPE x gauge counter\n") << 1
                                   << QByteArray("unknown metric type \"gauge counter\" for metric \"x\" (expected "
                                                 "counter, gauge, histogram, summary or untyped)");
        QTest::newRow("TYPE without type") << QByteArray("# TYPE x  \n") << 1
                                           << QByteArray("TYPE line for metric \"x\" names no type");
        QTest::newRow("invalid name in TYPE") << QByteArray("# TYPE 1x counter\n") << 1
                                              << QByteArray("invalid metric name \"1x\" in TYPE line");
        QTest::newRow("junk after name in HELP") << QByteArray("# HELP x{ y\n") << 1
                                                 << QByteArray("invalid metric name \"x{\" in HELP line");
        QTest::newRow("histogram without suffix") << QByteArray("# TYPE h histogram\nh 1\n") << 2
                                                  << QByteArray("histogram \"h\" has a sample without the _bucket, "
                                                                "_sum or _count suffix");
        QTest::newRow("bucket without le") << QByteArray("# TYPE h histogram\nh_bucket 1\n") << 2
                                           << QByteArray("histogram sample \"h_bucket\" has no \"le\" label");
        QTest::newRow("bucket with bad le") << QByteArray("# TYPE h histogram\nh_bucket{le=\"x\"} 1\n") << 2
                                            << QByteArray("invalid \"le\" label value \"x\" in sample \"h_bucket\"");
        QTest::newRow("summary without quantile") << QByteArray("# TYPE s summary\ns 1\n") << 2
                                                  << QByteArray("summary sample \"s\" has no \"quantile\" label");
        QTest::newRow("summary with bad quantile") << QByteArray("# TYPE s summary\ns{quantile=\"\"} 1\n") << 2
                                                   << QByteArray("invalid \"quantile\" label value \"\" in sample "
                                                                 "\"s\"");
        QTest::newRow("line counted past blanks and comments") << QByteArray("\n\n# c\nx 1\n\ny z\n") << 6
                                                               << QByteArray("invalid value \"z\" for sample \"y\" "
                                                                             "(expected a float, +Inf, -Inf or NaN)");
    }

    void rejectsMalformedText()
    {
        QFETCH(QByteArray, text);
        QFETCH(int, line);
        QFETCH(QByteArray, message);
        const auto parsed = parseExposition(std::string_view(text.constData(), std::size_t(text.size())));
        QVERIFY(!parsed.ok());
        QCOMPARE(QByteArray::fromStdString(parsed.error().message), message);
        QCOMPARE(parsed.error().line, line);
    }

    void findsSamplesAndFamilies()
    {
        const auto parsed = parseExposition("# HELP r_total Requests.\n"
                                            "# TYPE r_total counter\n"
                                            "r_total{route=\"chat\",status=\"200\"} 5\n"
                                            "r_total{route=\"chat\",status=\"429\"} 2\n"
                                            "r_total{route=\"chat\"} 9\n"
                                            "up 1\n");
        QVERIFY(parsed.ok());
        const auto *family = sluice::metrics::findFamily(*parsed, "r_total");
        QVERIFY(family != nullptr);
        QCOMPARE(family->type, MetricType::Counter);
        QCOMPARE(QByteArray::fromStdString(family->help), QByteArray("Requests."));
        QVERIFY(sluice::metrics::findFamily(*parsed, "r") == nullptr);

        const auto *sample = sluice::metrics::findSample(*parsed, "r_total", {{"status", "429"}, {"route", "chat"}});
        QVERIFY(sample != nullptr);
        QCOMPARE(sample->value, 2.0);
        QCOMPARE(sample->label("status").value_or(""), std::string_view("429"));
        QVERIFY(!sample->label("model").has_value());
        const auto *subset = sluice::metrics::findSample(*parsed, "r_total", {{"route", "chat"}});
        QVERIFY(subset != nullptr);
        QCOMPARE(subset->value, 9.0);
        QVERIFY(sluice::metrics::findSample(*parsed, "r_total", {{"route", "chat"}, {"status", "500"}}) == nullptr);
        QVERIFY(sluice::metrics::findSample(*parsed, "r_total", {}) == nullptr);
        const auto *up = sluice::metrics::findSample(*parsed, "up", {});
        QVERIFY(up != nullptr);
        QCOMPARE(up->value, 1.0);
        const std::vector<sluice::metrics::Label> owned{{"route", "chat"}, {"status", "200"}};
        QCOMPARE(sluice::metrics::findSample(*parsed, "r_total", owned)->value, 5.0);
    }

    void collectsHistogramBuckets()
    {
        const auto parsed = parseExposition("# TYPE d histogram\n"
                                            "d_bucket{model=\"a\",le=\"+Inf\"} 10\n"
                                            "d_bucket{model=\"a\",le=\"0.5\"} 4\n"
                                            "d_bucket{model=\"a\",le=\"1e-1\"} 1\n"
                                            "d_bucket{model=\"b\",le=\"0.1\"} 7\n"
                                            "d_bucket{model=\"b\",le=\"+Inf\"} 7\n"
                                            "d_sum{model=\"a\"} 12\n"
                                            "d_count{model=\"a\"} 10\n");
        QVERIFY(parsed.ok());
        const auto *family = sluice::metrics::findFamily(*parsed, "d");
        QVERIFY(family != nullptr);
        const auto buckets = sluice::metrics::histogramBuckets(*family, {{"model", "a"}});
        const std::vector<std::pair<double, double>> expected{
            {0.1, 1}, {0.5, 4}, {std::numeric_limits<double>::infinity(), 10}};
        QCOMPARE(buckets, expected);
        QCOMPARE(sluice::metrics::histogramBuckets(*family, {{"model", "b"}}).size(), std::size_t(2));
        QVERIFY(sluice::metrics::histogramBuckets(*family, {{"model", "c"}}).empty());
        QVERIFY(sluice::metrics::histogramBuckets(*family, {}).empty());
    }

    void formatsParsedFamiliesBack_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QByteArray>("expected");
        QTest::newRow("canonical") << QByteArray("# HELP x_total X.\n# TYPE x_total counter\nx_total{a=\"1\"} 2\n")
                                   << QByteArray("# HELP x_total X.\n# TYPE x_total counter\nx_total{a=\"1\"} 2\n");
        QTest::newRow("normalised") << QByteArray("x { a = \"\\\"\" , } +1.50E+1  +0012\n#HELP x  h\\\\\n")
                                    << QByteArray("# HELP x h\\\\\n# TYPE x untyped\nx{a=\"\\\"\"} 15 12\n");
        QTest::newRow("grouped") << QByteArray("a 1\nb 2\na NaN\n")
                                 << QByteArray("# TYPE a untyped\na 1\na NaN\n# TYPE b untyped\nb 2\n");
    }

    void formatsParsedFamiliesBack()
    {
        QFETCH(QByteArray, text);
        QFETCH(QByteArray, expected);
        const auto parsed = parseExposition(text.toStdString());
        QVERIFY(parsed.ok());
        const std::string formatted = sluice::metrics::formatExposition(*parsed);
        QCOMPARE(QByteArray::fromStdString(formatted), expected);
        const auto again = parseExposition(formatted);
        QVERIFY(again.ok());
        QCOMPARE(dump(*again), dump(*parsed));
    }
};

QTEST_APPLESS_MAIN(TestPromParser)
#include "tst_promparser.moc"
