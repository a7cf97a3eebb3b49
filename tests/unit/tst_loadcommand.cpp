// `sluice-gateway load` as a real process against `sluice-gateway simulate` in another:
// the JSON report, the exit codes, and the report after SIGINT.
#include <QTest>

#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTcpServer>

#include <csignal>

namespace {

const QString kGateway = QStringLiteral(SLUICE_BINARY_DIR "/app/gateway/sluice-gateway");
constexpr int kTimeoutMs = 30'000; // only guards against hangs

quint16 refusedPort()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    return probe.serverPort(); // closed when probe goes
}

// The single JSON object a --json run printed; an empty object if stdout is not
// exactly one.
QJsonObject reportOf(const QByteArray &stdoutBytes)
{
    const QByteArray trimmed = stdoutBytes.trimmed();
    if (trimmed.contains('\n'))
        return {};
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(trimmed, &error);
    return error.error == QJsonParseError::NoError ? document.object() : QJsonObject();
}

} // namespace

class TestLoadCommand : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void jsonReportCountsEveryRequest();
    void textReportByDefault();
    void badArgumentsExitWithTwo();
    void unreachableUrlExitsWithOne();
    void sigintStillPrintsTheReport();

private:
    QProcess m_simulator;
    QString m_simulatorUrl;
};

void TestLoadCommand::initTestCase()
{
    QVERIFY2(QFile::exists(kGateway), qPrintable(kGateway));
    m_simulator.start(kGateway, {"simulate", "--listen", "127.0.0.1:0", "--ttft-ms", "0", "--output-tokens", "1",
                                 "--tokens-per-second", "0", "--threads", "2"});
    QVERIFY(m_simulator.waitForStarted());
    QByteArray seen;
    const QRegularExpression pattern(QStringLiteral("listening on (http://127\\.0\\.0\\.1:\\d+)"));
    QRegularExpressionMatch match;
    QVERIFY(QTest::qWaitFor(
        [&] {
            seen += m_simulator.readAllStandardOutput();
            match = pattern.match(QString::fromUtf8(seen));
            return match.hasMatch() || m_simulator.state() == QProcess::NotRunning;
        },
        kTimeoutMs));
    QVERIFY2(match.hasMatch(), seen.constData());
    m_simulatorUrl = match.captured(1);
}

void TestLoadCommand::cleanupTestCase()
{
    if (m_simulator.state() != QProcess::NotRunning) {
        ::kill(pid_t(m_simulator.processId()), SIGTERM);
        QVERIFY(m_simulator.waitForFinished(kTimeoutMs));
    }
}

void TestLoadCommand::jsonReportCountsEveryRequest()
{
    QProcess load;
    load.start(kGateway, {"load", "--url", m_simulatorUrl, "--requests", "20", "--json", "--users", "4", "--think-ms",
                          "0", "--stream-share", "0.5", "--seed", "3"});
    QVERIFY(load.waitForFinished(kTimeoutMs));
    QCOMPARE(load.exitStatus(), QProcess::NormalExit);
    const QByteArray out = load.readAllStandardOutput();
    QVERIFY2(load.exitCode() == 0, load.readAllStandardError().constData());
    const QJsonObject report = reportOf(out);
    QVERIFY2(!report.isEmpty(), out.constData());
    QCOMPARE(report.value("sent").toInteger(), 20);
    QCOMPARE(report.value("completed").toInteger(), 20);
    QCOMPARE(report.value("status").toObject().value("200").toInteger(), 20);
    QCOMPARE(report.value("status").toObject().size(), 1);
    QVERIFY(report.value("transport_errors").toObject().isEmpty());
    QCOMPARE(report.value("latency_seconds").toObject().value("count").toInteger(), 20);
    QCOMPARE(report.value("tokens").toObject().value("output").toInteger(), 20);
    QVERIFY(report.value("tokens").toObject().value("input").toInteger() > 0);
    QVERIFY(report.value("duration_seconds").toDouble() > 0);
    QVERIFY(report.value("requests_per_second").toDouble() > 0);
    for (const char *key : {"cache_hits", "ttft_seconds"})
        QVERIFY2(report.contains(key), key);
}

void TestLoadCommand::textReportByDefault()
{
    QProcess load;
    load.start(kGateway, {"load", "--url=" + m_simulatorUrl, "--requests=5", "--users=1", "--think-ms=0",
                          "--protocol=anthropic"});
    QVERIFY(load.waitForFinished(kTimeoutMs));
    QCOMPARE(load.exitCode(), 0);
    const QString out = QString::fromUtf8(load.readAllStandardOutput());
    QVERIFY2(out.contains("/v1/messages") && out.contains(QRegularExpression("sent +5 ")) && out.contains("200: 5"),
             qPrintable(out));
}

void TestLoadCommand::badArgumentsExitWithTwo()
{
    QProcess load;
    load.start(kGateway, {"load", "--url", m_simulatorUrl, "--users", "many"});
    QVERIFY(load.waitForFinished(kTimeoutMs));
    QCOMPARE(load.exitCode(), 2);
    const QByteArray err = load.readAllStandardError();
    QVERIFY2(err.contains("--users") && err.contains("\"many\""), err.constData());
    QVERIFY(load.readAllStandardOutput().isEmpty());

    QProcess help;
    help.start(kGateway, {"load", "--help"});
    QVERIFY(help.waitForFinished(kTimeoutMs));
    QCOMPARE(help.exitCode(), 0);
    QVERIFY(help.readAllStandardOutput().contains("--repeat-share"));
}

void TestLoadCommand::unreachableUrlExitsWithOne()
{
    QProcess load;
    load.start(kGateway, {"load", "--url", QStringLiteral("http://127.0.0.1:%1").arg(refusedPort()), "--json",
                          "--users", "2", "--think-ms", "0"});
    // No cap: it gives up on its own.
    QVERIFY(load.waitForFinished(kTimeoutMs));
    QCOMPARE(load.exitCode(), 1);
    const QJsonObject report = reportOf(load.readAllStandardOutput());
    QVERIFY(report.value("sent").toInteger() > 0);
    QCOMPARE(report.value("completed").toInteger(), 0);
    QVERIFY(report.value("transport_errors").toObject().value("connection_refused").toInteger() > 0);
    QVERIFY(load.readAllStandardError().contains("could not reach"));
}

void TestLoadCommand::sigintStillPrintsTheReport()
{
    QProcess load;
    load.start(kGateway, {"load", "--url", m_simulatorUrl, "--json", "--users", "3", "--think-ms", "20",
                          "--report-every", "0.1"});
    QVERIFY(load.waitForStarted());
    // Progress lines go to stderr with --json; wait for one showing answers.
    QByteArray err;
    QVERIFY(QTest::qWaitFor(
        [&] {
            err += load.readAllStandardError();
            return QRegularExpression(QStringLiteral("done [1-9]")).match(QString::fromUtf8(err)).hasMatch()
                   || load.state() == QProcess::NotRunning;
        },
        kTimeoutMs));
    QVERIFY(load.state() == QProcess::Running);
    ::kill(pid_t(load.processId()), SIGINT);
    QVERIFY(load.waitForFinished(kTimeoutMs));
    QCOMPARE(load.exitStatus(), QProcess::NormalExit);
    QCOMPARE(load.exitCode(), 0);
    const QJsonObject report = reportOf(load.readAllStandardOutput());
    QVERIFY(!report.isEmpty());
    const qint64 sent = report.value("sent").toInteger();
    QVERIFY(sent > 0);
    // Stopped gracefully: every request sent was answered.
    QCOMPARE(report.value("completed").toInteger(), sent);
    QCOMPARE(report.value("in_flight").toInteger(), 0);
    QCOMPARE(report.value("status").toObject().value("200").toInteger(), sent);
}

QTEST_GUILESS_MAIN(TestLoadCommand)
#include "tst_loadcommand.moc"
