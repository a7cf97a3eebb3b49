#include <QTest>

#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>

#include "config/configloader.h"
#include "config/configwriter.h"
#include "config/gatewayconfig.h"

using namespace sluice::config;

namespace {

const QString kGateway = QStringLiteral(SLUICE_BINARY_DIR "/app/gateway/sluice-gateway");
const QString kExamplePath = QStringLiteral(SLUICE_SOURCE_DIR "/resources/examples/gateway.json");

struct Run {
    int exitCode = -1;
    QString out;
    QString err;
};

Run runGateway(const QStringList &arguments)
{
    QProcess process;
    process.start(kGateway, arguments);
    Run run;
    if (!process.waitForFinished(30'000) || process.exitStatus() != QProcess::NormalExit)
        return run;
    run.exitCode = process.exitCode();
    run.out = QString::fromUtf8(process.readAllStandardOutput());
    run.err = QString::fromUtf8(process.readAllStandardError());
    return run;
}

QString exampleSummary()
{
    const ConfigResult example = loadConfigFile(kExamplePath);
    return example ? kExamplePath + QStringLiteral(": ok (version 1, hash %1)\n").arg(contentHash(*example).left(12))
                   : QString();
}

} // namespace

// Runs the built sluice-gateway; the sluice-gateway target must be built first.
class TestConfigCheckCli : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        QVERIFY2(QFile::exists(kGateway), qPrintable(kGateway + QStringLiteral(" is missing: build sluice-gateway")));
        QVERIFY(m_files.isValid());
    }

    void checksConfig_data()
    {
        QTest::addColumn<QStringList>("arguments"); // %DIR% is a scratch directory
        QTest::addColumn<QByteArray>("fileContent"); // written to %DIR%/gateway.json unless empty
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QString>("out");
        QTest::addColumn<QString>("err");

        QTest::newRow("example is ok") << QStringList{"--check-config", kExamplePath} << QByteArray() << 0
                                       << exampleSummary() << QString();
        QTest::newRow("default is ok") << QStringList{"--check-config", "%DIR%/gateway.json"}
                                       << saveConfig(defaultConfig()) << 0
                                       << QStringLiteral("%DIR%/gateway.json: ok (version 0, hash %1)\n")
                                              .arg(contentHash(defaultConfig()).left(12))
                                       << QString();
        QTest::newRow("errors, one per line")
            << QStringList{"--check-config", "%DIR%/gateway.json"}
            << QByteArray(R"({"cache": {"ttl_seconds": -5, "ttl_secnds": 5}, "logging": {"level": "loud"}})") << 1
            << QString()
            << QStringLiteral("cache.ttl_seconds: must be ≥ 0, got -5\n"
                              "cache.ttl_secnds: unknown field (did you mean \"ttl_seconds\"?)\n"
                              "logging.level: must be one of \"debug\", \"info\", \"warn\", \"error\", got \"loud\"\n");
        QTest::newRow("syntax error") << QStringList{"--check-config", "%DIR%/gateway.json"}
                                      << QByteArray("{\n  \"version\": 1,\n  \"comment\": \"abc\n}\n") << 1 << QString()
                                      << QStringLiteral("line 3, column 14: unterminated string\n");
        QTest::newRow("missing file") << QStringList{"--check-config", "%DIR%/absent.json"} << QByteArray() << 1
                                      << QString()
                                      << QStringLiteral("%DIR%/absent.json: cannot read: No such file or directory\n");
        QTest::newRow("no action") << QStringList{} << QByteArray() << 2 << QString()
                                   << QStringLiteral("sluice-gateway: nothing to do; use --config FILE, --demo or "
                                                     "simulate (see --help)\n");
        QTest::newRow("two actions") << QStringList{"--print-default-config", "--check-config", kExamplePath}
                                     << QByteArray() << 2 << QString()
                                     << QStringLiteral("sluice-gateway: use one of --config, --demo, --check-config, "
                                                       "--print-default-config\n");
    }

    void checksConfig()
    {
        QFETCH(QStringList, arguments);
        QFETCH(QByteArray, fileContent);
        QFETCH(int, exitCode);
        QFETCH(QString, out);
        QFETCH(QString, err);
        const QString dir = m_files.path();
        if (!fileContent.isEmpty()) {
            QFile file(dir + QStringLiteral("/gateway.json"));
            QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
            file.write(fileContent);
        }
        for (QString &argument : arguments)
            argument.replace(QStringLiteral("%DIR%"), dir);
        const Run run = runGateway(arguments);
        QCOMPARE(run.err, QString(err).replace(QStringLiteral("%DIR%"), dir));
        QCOMPARE(run.out, QString(out).replace(QStringLiteral("%DIR%"), dir));
        QCOMPARE(run.exitCode, exitCode);
    }

    void printsTheDefaultConfig()
    {
        const Run run = runGateway({QStringLiteral("--print-default-config")});
        QCOMPARE(run.exitCode, 0);
        QCOMPARE(run.err, QString());
        QCOMPARE(run.out.toUtf8(), saveConfig(defaultConfig()));
        const ConfigResult printed = loadConfig(run.out.toUtf8());
        QVERIFY(printed.ok());
        QVERIFY(*printed == defaultConfig());
    }

    void printsItsVersion()
    {
        const Run run = runGateway({QStringLiteral("--version")});
        QCOMPARE(run.exitCode, 0);
        QVERIFY2(QRegularExpression(QStringLiteral("^sluice-gateway \\d+\\.\\d+\\.\\d+\n$")).match(run.out).hasMatch(),
                 qPrintable(run.out));
    }

    void helpListsTheOptions()
    {
        const Run run = runGateway({QStringLiteral("--help")});
        QCOMPARE(run.exitCode, 0);
        QVERIFY(run.out.contains(QStringLiteral("--check-config <file>")));
        QVERIFY(run.out.contains(QStringLiteral("--print-default-config")));
    }

private:
    QTemporaryDir m_files;
};

QTEST_GUILESS_MAIN(TestConfigCheckCli)
#include "tst_configcheckcli.moc"
