#include <QTest>

#include "gateway/simulatorcommandline.h"

#include <QMap>

using namespace sluice::gateway;

namespace {

QString shapeName(Distribution::Shape shape)
{
    switch (shape) {
    case Distribution::Shape::Fixed: return QStringLiteral("fixed");
    case Distribution::Shape::Uniform: return QStringLiteral("uniform");
    case Distribution::Shape::Normal: return QStringLiteral("normal");
    case Distribution::Shape::LogNormal: return QStringLiteral("lognormal");
    }
    return {};
}

QString distribution(const Distribution &value)
{
    return QStringLiteral("%1:%2,%3").arg(shapeName(value.shape)).arg(value.mean).arg(value.spread);
}

// Every field the parser can set, as text, so a table row can name what it expects.
QMap<QString, QString> describe(const SimulatorServerOptions &options)
{
    const SimulatorOptions &simulator = options.simulator;
    return {
        {"address", options.address.toString()},
        {"port", QString::number(options.port)},
        {"threads", QString::number(options.threads)},
        {"apiKey", QString::fromUtf8(options.requiredApiKey)},
        {"seed", QString::number(simulator.seed)},
        {"tokensPerSecond", QString::number(simulator.tokensPerSecond)},
        {"ttft", distribution(simulator.timeToFirstTokenMilliseconds)},
        {"outputTokens", distribution(simulator.outputTokens)},
        {"rpm", QString::number(simulator.quota.requestsPerMinute)},
        {"tpm", QString::number(simulator.quota.tokensPerMinute)},
        {"models", simulator.models.join(QLatin1Char('|'))},
        {"rateLimited", QString::number(simulator.faults.rateLimited)},
        {"serverError", QString::number(simulator.faults.serverError)},
        {"overloaded", QString::number(simulator.faults.overloaded)},
        {"timeout", QString::number(simulator.faults.timeout)},
        {"connectionReset", QString::number(simulator.faults.connectionReset)},
        {"truncatedStream", QString::number(simulator.faults.truncatedStream)},
        {"retryAfterSeconds", QString::number(simulator.faults.retryAfterSeconds)},
    };
}

QStringList args(const char *text)
{
    return QString::fromUtf8(text).split(QLatin1Char(' '), Qt::SkipEmptyParts);
}

} // namespace

class TestSimulatorCommandLine : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        qputenv("SLUICE_TEST_SIM_KEY", "sk-from-env");
        qunsetenv("SLUICE_TEST_SIM_UNSET");
    }

    void goodArguments_data()
    {
        QTest::addColumn<QStringList>("arguments");
        // "field=value" pairs of describe(); fields not named keep their defaults.
        QTest::addColumn<QStringList>("expectations");

        QTest::newRow("listen only, defaults")
            << args("--listen 127.0.0.1:8080")
            << QStringList{"address=127.0.0.1", "port=8080", "threads=1", "seed=1", "apiKey=", "rpm=0",
                           "tpm=0", "models=", "timeout=0", "retryAfterSeconds=1", "tokensPerSecond=50",
                           "ttft=lognormal:400,150", "outputTokens=lognormal:200,120"};
        QTest::newRow("port 0") << args("--listen 127.0.0.1:0") << QStringList{"port=0"};
        QTest::newRow("localhost") << args("--listen localhost:9000") << QStringList{"address=127.0.0.1", "port=9000"};
        QTest::newRow("any ipv4") << args("--listen 0.0.0.0:80") << QStringList{"address=0.0.0.0", "port=80"};
        QTest::newRow("ipv6 loopback") << args("--listen [::1]:8443") << QStringList{"address=::1", "port=8443"};
        QTest::newRow("ipv6 any") << args("--listen [::]:65535") << QStringList{"address=::", "port=65535"};
        QTest::newRow("equals form") << args("--listen=127.0.0.1:1 --rpm=60") << QStringList{"port=1", "rpm=60"};
        QTest::newRow("seed and threads")
            << args("--listen 127.0.0.1:1 --seed 18446744073709551615 --threads 4")
            << QStringList{"seed=18446744073709551615", "threads=4"};
        QTest::newRow("latency and length")
            << args("--listen 127.0.0.1:1 --tokens-per-second 12.5 --ttft-ms 250,40 --ttft-shape uniform "
                    "--output-tokens 80")
            << QStringList{"tokensPerSecond=12.5", "ttft=uniform:250,40", "outputTokens=lognormal:80,0"};
        QTest::newRow("shape is case-insensitive")
            << args("--listen 127.0.0.1:1 --ttft-shape Fixed --ttft-ms 100") << QStringList{"ttft=fixed:100,0"};
        QTest::newRow("quota") << args("--listen 127.0.0.1:1 --rpm 600 --tpm 90000")
                               << QStringList{"rpm=600", "tpm=90000"};
        QTest::newRow("models trimmed, duplicates dropped")
            << QStringList{"--listen", "127.0.0.1:1", "--models", "gpt-4o, claude-sonnet,gpt-4o"}
            << QStringList{"models=gpt-4o|claude-sonnet"};
        QTest::newRow("api key") << args("--listen 127.0.0.1:1 --api-key sk-test") << QStringList{"apiKey=sk-test"};
        QTest::newRow("api key from environment")
            << args("--listen 127.0.0.1:1 --api-key-env SLUICE_TEST_SIM_KEY") << QStringList{"apiKey=sk-from-env"};
        QTest::newRow("faults")
            << args("--listen 127.0.0.1:1 --rate-limited 0.1 --server-error 0.05 --overloaded 0.05 --timeout 0.01 "
                    "--connection-reset 0.02 --truncated-stream 0.03 --retry-after-seconds 7")
            << QStringList{"rateLimited=0.1", "serverError=0.05", "overloaded=0.05", "timeout=0.01",
                           "connectionReset=0.02", "truncatedStream=0.03", "retryAfterSeconds=7"};
        QTest::newRow("fault rates summing to exactly 1")
            << args("--listen 127.0.0.1:1 --timeout 0.5 --connection-reset 0.5")
            << QStringList{"timeout=0.5", "connectionReset=0.5"};
        QTest::newRow("order does not matter") << args("--rpm 5 --listen 127.0.0.1:2") << QStringList{"rpm=5", "port=2"};
    }

    void goodArguments()
    {
        QFETCH(QStringList, arguments);
        QFETCH(QStringList, expectations);
        const auto parsed = parseSimulatorArguments(arguments);
        QVERIFY2(parsed.ok(), parsed.ok() ? "" : qPrintable(parsed.error()));
        const QMap<QString, QString> fields = describe(*parsed);
        for (const QString &expectation : expectations) {
            const qsizetype equals = expectation.indexOf(QLatin1Char('='));
            const QString field = expectation.left(equals);
            QVERIFY2(fields.contains(field), qPrintable(field));
            QCOMPARE(fields.value(field), expectation.mid(equals + 1));
        }
    }

    void badArguments_data()
    {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QString>("message");

        QTest::newRow("nothing") << QStringList{} << "--listen HOST:PORT is required";
        QTest::newRow("no listen") << args("--rpm 5") << "--listen HOST:PORT is required";
        QTest::newRow("unknown option") << args("--listen 127.0.0.1:1 --rps 5") << "unknown option \"--rps\"";
        QTest::newRow("positional") << args("--listen 127.0.0.1:1 extra") << "unexpected argument \"extra\"";
        QTest::newRow("single dash") << args("-l 127.0.0.1:1") << "unexpected argument \"-l\"";
        QTest::newRow("missing value at end") << args("--listen 127.0.0.1:1 --rpm") << "--rpm: missing value";
        QTest::newRow("missing value before option")
            << args("--listen --rpm 5") << "--listen: missing value";
        QTest::newRow("given twice") << args("--listen 127.0.0.1:1 --rpm 1 --rpm 2") << "--rpm: given more than once";
        QTest::newRow("listen without port")
            << args("--listen 127.0.0.1") << "--listen: expected HOST:PORT (IPv6 as [::1]:PORT), got \"127.0.0.1\"";
        QTest::newRow("listen unbracketed ipv6")
            << args("--listen ::1:8080") << "--listen: expected HOST:PORT (IPv6 as [::1]:PORT), got \"::1:8080\"";
        QTest::newRow("listen bracket without port")
            << args("--listen [::1]") << "--listen: expected HOST:PORT (IPv6 as [::1]:PORT), got \"[::1]\"";
        QTest::newRow("listen host name")
            << args("--listen example.com:80") << "--listen: expected an IP address or localhost as HOST, got \"example.com\"";
        QTest::newRow("listen empty host")
            << args("--listen :80") << "--listen: expected an IP address or localhost as HOST, got \"\"";
        QTest::newRow("listen ipv4 in brackets")
            << args("--listen [127.0.0.1]:80") << "--listen: expected an IP address or localhost as HOST, got \"127.0.0.1\"";
        QTest::newRow("listen port too big")
            << args("--listen 127.0.0.1:65536") << "--listen: expected a port from 0 to 65535, got \"65536\"";
        QTest::newRow("listen port not a number")
            << args("--listen [::1]:http") << "--listen: expected a port from 0 to 65535, got \"http\"";
        QTest::newRow("rpm not a number")
            << args("--listen 127.0.0.1:1 --rpm abc") << "--rpm: expected a whole number >= 0, got \"abc\"";
        QTest::newRow("rpm negative")
            << args("--listen 127.0.0.1:1 --rpm -5") << "--rpm: expected a whole number >= 0, got \"-5\"";
        QTest::newRow("tpm fractional")
            << args("--listen 127.0.0.1:1 --tpm 1.5") << "--tpm: expected a whole number >= 0, got \"1.5\"";
        QTest::newRow("seed too big")
            << args("--listen 127.0.0.1:1 --seed 18446744073709551616")
            << "--seed: expected a whole number >= 0, got \"18446744073709551616\"";
        QTest::newRow("threads zero")
            << args("--listen 127.0.0.1:1 --threads 0") << "--threads: expected a whole number from 1 to 256, got \"0\"";
        QTest::newRow("threads too many")
            << args("--listen 127.0.0.1:1 --threads 257") << "--threads: expected a whole number from 1 to 256, got \"257\"";
        QTest::newRow("tokens per second negative")
            << args("--listen 127.0.0.1:1 --tokens-per-second -1")
            << "--tokens-per-second: expected a number >= 0, got \"-1\"";
        QTest::newRow("tokens per second nan")
            << args("--listen 127.0.0.1:1 --tokens-per-second nan")
            << "--tokens-per-second: expected a number >= 0, got \"nan\"";
        QTest::newRow("ttft three parts")
            << args("--listen 127.0.0.1:1 --ttft-ms 1,2,3")
            << "--ttft-ms: expected MEAN[,SPREAD] with numbers >= 0, got \"1,2,3\"";
        QTest::newRow("ttft negative spread")
            << args("--listen 127.0.0.1:1 --ttft-ms 100,-1")
            << "--ttft-ms: expected MEAN[,SPREAD] with numbers >= 0, got \"100,-1\"";
        QTest::newRow("output tokens empty spread")
            << args("--listen 127.0.0.1:1 --output-tokens 100,")
            << "--output-tokens: expected MEAN[,SPREAD] with numbers >= 0, got \"100,\"";
        QTest::newRow("ttft shape unknown")
            << args("--listen 127.0.0.1:1 --ttft-shape gauss")
            << "--ttft-shape: expected one of fixed, uniform, normal, lognormal, got \"gauss\"";
        QTest::newRow("models empty entry")
            << args("--listen 127.0.0.1:1 --models a,,b") << "--models: expected comma-separated model names, got \"a,,b\"";
        QTest::newRow("api key empty") << args("--listen 127.0.0.1:1 --api-key=") << "--api-key: expected a non-empty key";
        QTest::newRow("api key env unset")
            << args("--listen 127.0.0.1:1 --api-key-env SLUICE_TEST_SIM_UNSET")
            << "--api-key-env: environment variable \"SLUICE_TEST_SIM_UNSET\" is not set or empty";
        QTest::newRow("api key twice over")
            << args("--listen 127.0.0.1:1 --api-key k --api-key-env SLUICE_TEST_SIM_KEY")
            << "--api-key, --api-key-env: use one of them";
        QTest::newRow("probability above 1")
            << args("--listen 127.0.0.1:1 --timeout 1.5") << "--timeout: expected a probability from 0 to 1, got \"1.5\"";
        QTest::newRow("probability negative")
            << args("--listen 127.0.0.1:1 --connection-reset -0.1")
            << "--connection-reset: expected a probability from 0 to 1, got \"-0.1\"";
        QTest::newRow("probability text")
            << args("--listen 127.0.0.1:1 --truncated-stream often")
            << "--truncated-stream: expected a probability from 0 to 1, got \"often\"";
        QTest::newRow("probability inf")
            << args("--listen 127.0.0.1:1 --rate-limited inf")
            << "--rate-limited: expected a probability from 0 to 1, got \"inf\"";
        QTest::newRow("retry after negative")
            << args("--listen 127.0.0.1:1 --retry-after-seconds -1")
            << "--retry-after-seconds: expected a whole number >= 0, got \"-1\"";
        QTest::newRow("rates sum above 1 (validation)")
            << args("--listen 127.0.0.1:1 --server-error 0.6 --overloaded 0.6")
            << "faults: rates must sum to at most 1";
    }

    void badArguments()
    {
        QFETCH(QStringList, arguments);
        QFETCH(QString, message);
        const auto parsed = parseSimulatorArguments(arguments);
        QVERIFY(!parsed.ok());
        QCOMPARE(parsed.error(), message);
    }

    void usageNamesEveryOption()
    {
        const QString usage = simulatorUsage();
        QVERIFY(usage.startsWith("Usage: sluice-gateway simulate --listen HOST:PORT"));
        const QStringList options{"--listen",         "--seed",         "--threads",      "--tokens-per-second",
                                  "--ttft-ms",        "--ttft-shape",   "--output-tokens", "--rpm",
                                  "--tpm",            "--models",       "--api-key",       "--api-key-env",
                                  "--rate-limited",   "--server-error", "--overloaded",    "--timeout",
                                  "--connection-reset", "--truncated-stream", "--retry-after-seconds"};
        for (const QString &option : options) {
            QVERIFY2(usage.contains("  " + option + " "), qPrintable(option));
            // Every option the usage lists is one the parser knows.
            const auto parsed = parseSimulatorArguments({option});
            QVERIFY(!parsed.ok());
            QCOMPARE(parsed.error(), option + ": missing value");
        }
    }
};

QTEST_GUILESS_MAIN(TestSimulatorCommandLine)
#include "tst_simulatorcommandline.moc"
