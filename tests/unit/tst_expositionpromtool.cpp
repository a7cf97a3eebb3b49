#include <QProcess>
#include <QStandardPaths>
#include <QTest>

#include <limits>
#include <string>

#include "metrics/registry.h"

using sluice::metrics::Registry;

namespace {

// Every kind of family the registry can write, with the awkward cases:
// escapes, special values, an empty family, an overflow series.
std::string gatewayExposition(Registry &registry)
{
    auto requests = registry.counterFamily("sluice_requests_total", "Requests answered, by route and status.",
                                           {"route", "status"}, 3);
    auto spend = registry.counter("sluice_spend_dollars_total", "Upstream spend in US dollars.");
    auto queued = registry.gaugeFamily("sluice_queued_requests", "Requests waiting for a permit.", {"upstream"});
    auto temperature = registry.gauge("sluice_pacing_ratio", "Share of the provider quota in use \\ per \"minute\".\n"
                                                             "Second line.");
    auto latency = registry.histogramFamily("sluice_request_duration_seconds", "Time to the last byte.", {"model"});
    auto tokens = registry.histogramFamily("sluice_completion_tokens", "Completion size in tokens.", {"model"},
                                           sluice::metrics::tokenCountBuckets());
    auto entries = registry.gaugeCallback("sluice_cache_entries", "Entries in the response cache.",
                                          [] { return 1234.0; });
    auto hits = registry.counterCallbackFamily("sluice_cache_hits_total", "Cache hits by tier.", {"tier"});
    auto unused = registry.gaugeFamily("sluice_breaker_open", "Open circuit breakers.", {"upstream"});
    if (!(requests.ok() && spend.ok() && queued.ok() && temperature.ok() && latency.ok() && tokens.ok() &&
          entries.ok() && hits.ok() && unused.ok()))
        return {};
    (void)(*hits)->set({"memory"}, [] { return 10.0; });
    (void)(*hits)->set({"redis"}, [] { return 5.0; });

    (*requests)->labels({"/v1/chat/completions", "200"}).inc(100);
    (*requests)->labels({"/v1/messages", "429"}).inc(3);
    (*requests)->labels({"/v1/embeddings", "200"}).inc();
    (*requests)->labels({"/v1/other", "404"}).inc(); // over the limit of 3
    (*spend)->add(12.345);
    (*queued)->labels({"openai \"east\"\nbackup\\1"}).set(4);
    (*queued)->labels({"anthropic"}).set(std::numeric_limits<double>::quiet_NaN());
    (*temperature)->set(std::numeric_limits<double>::infinity());
    for (const double seconds : {0.003, 0.2, 1.5, 75.0})
        (*latency)->labels({"gpt-4o"}).observe(seconds);
    (*tokens)->labels({"claude-sonnet"}).observe(900);
    return registry.exposition();
}

} // namespace

class TestExpositionPromtool : public QObject {
    Q_OBJECT
private slots:
    void promtoolChecksMetrics_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<bool>("expectClean");
        Registry registry;
        const std::string gateway = gatewayExposition(registry);
        QVERIFY(!gateway.empty());
        QVERIFY(gateway.find("__overflow__") != std::string::npos);
        QTest::newRow("gateway registry") << QByteArray::fromStdString(gateway) << true;
        // Negative control: the check is live and would catch a bad name.
        QTest::newRow("milliseconds are refused")
            << QByteArray("# HELP sluice_latency_milliseconds L.\n# TYPE sluice_latency_milliseconds gauge\n"
                          "sluice_latency_milliseconds 1\n")
            << false;
    }

    void promtoolChecksMetrics()
    {
        QFETCH(QByteArray, text);
        QFETCH(bool, expectClean);
        const QString promtool = QStandardPaths::findExecutable("promtool");
        if (promtool.isEmpty())
            QSKIP("promtool is not on PATH (Debian: apt install prometheus); cannot lint the exposition");

        QProcess process;
        process.setProcessChannelMode(QProcess::MergedChannels);
        process.start(promtool, {"check", "metrics"});
        QVERIFY2(process.waitForStarted(10000), qPrintable(process.errorString()));
        process.write(text);
        process.closeWriteChannel();
        QVERIFY(process.waitForFinished(60000));
        const QByteArray output = process.readAll().trimmed();
        if (expectClean) {
            QVERIFY2(output.isEmpty(), output.constData());
            QCOMPARE(process.exitStatus(), QProcess::NormalExit);
            QCOMPARE(process.exitCode(), 0);
        } else {
            QVERIFY(output.contains("base unit"));
            QVERIFY(process.exitCode() != 0);
        }
    }
};

// QProcess needs a QCoreApplication.
QTEST_GUILESS_MAIN(TestExpositionPromtool)
#include "tst_expositionpromtool.moc"
