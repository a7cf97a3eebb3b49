// sluice-gateway as operators run it: --config, --demo and simulate as real processes,
// SIGHUP reload, SIGTERM drain, and the exit codes and messages of bad starts.
#include <QTest>

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTcpServer>
#include <QTemporaryDir>

#include "config/apikeyhash.h"
#include "config/configwriter.h"
#include "gateway/demosetup.h"
#include "gatewayharness.h"

#include <csignal>

using namespace sluice;
using namespace sluice::test;

namespace {

const QString kGateway = QStringLiteral(SLUICE_BINARY_DIR "/app/gateway/sluice-gateway");

// Waits until the process printed a line matching `pattern` on stdout; returns the match.
QRegularExpressionMatch waitForOutput(QProcess &process, QByteArray &seen, const QRegularExpression &pattern)
{
    QRegularExpressionMatch match;
    (void)QTest::qWaitFor(
        [&] {
            seen += process.readAllStandardOutput();
            match = pattern.match(QString::fromUtf8(seen));
            return match.hasMatch() || process.state() == QProcess::NotRunning;
        },
        20000);
    return match;
}

quint16 freePort()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    return probe.serverPort();
}

bool writeFile(const QString &path, const QByteArray &bytes)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly | QIODevice::Truncate) && file.write(bytes) == bytes.size();
}

} // namespace

class TestGatewayCli : public QObject {
    Q_OBJECT

private slots:
    void demoServesAndDrainsOnSigterm();
    void configFileServesAndReloadsOnSighup();
    void invalidConfigExitsWithFieldErrors();
    void busyPortExitsWithMessage();
    void simulateServesProviderShapes();
    void simulateRejectsBadOptions();
};

void TestGatewayCli::demoServesAndDrainsOnSigterm()
{
    QProcess process;
    process.start(kGateway, {QStringLiteral("--demo"), QStringLiteral("--port"), QStringLiteral("0"),
                             QStringLiteral("--admin-port"), QStringLiteral("0")});
    QVERIFY(process.waitForStarted());
    QByteArray out;
    const auto url = waitForOutput(process, out, QRegularExpression(QStringLiteral("OpenAI base URL: +http://127\\.0\\.0\\.1:(\\d+)/v1")));
    QVERIFY2(url.hasMatch(), out.constData());
    const auto token = waitForOutput(process, out, QRegularExpression(QStringLiteral("admin token: +(\\S+)")));
    QVERIFY(token.hasMatch());
    const auto admin = waitForOutput(process, out, QRegularExpression(QStringLiteral("admin API: +http://127\\.0\\.0\\.1:(\\d+)/")));
    QVERIFY(admin.hasMatch());
    const quint16 port = quint16(url.captured(1).toUInt());

    const auto answer = exchange(port, "POST", "/v1/chat/completions",
                                 chatBody(QStringLiteral("gpt-4o-mini"), QStringLiteral("hello")), bearer());
    QCOMPARE(answer.status, 200);
    const auto stats = exchange(quint16(admin.captured(1).toUInt()), "GET", "/admin/v1/stats", {},
                                {{"Authorization", "Bearer " + token.captured(1).toLatin1()}});
    QCOMPARE(stats.status, 200);
    QCOMPARE(jsonOf(stats).value(QStringLiteral("requests")).toObject().value(QStringLiteral("total")).toDouble(), 1.0);

    ::kill(pid_t(process.processId()), SIGTERM);
    QVERIFY(process.waitForFinished(15000));
    QCOMPARE(process.exitStatus(), QProcess::NormalExit);
    QCOMPARE(process.exitCode(), 0);
    const QByteArray log = process.readAllStandardError();
    QVERIFY2(log.contains("event=shutdown") && log.contains("event=drained"), log.constData());
    // One structured line per request, without the key.
    QVERIFY(log.contains("event=request"));
    QVERIFY(!log.contains(gateway::kDemoClientKey));
}

void TestGatewayCli::configFileServesAndReloadsOnSighup()
{
    gateway::SimulatorServerOptions simulatorOptions;
    simulatorOptions.simulator = GatewayHarness::defaultSimulator();
    gateway::SimulatorServer simulator(simulatorOptions);
    QVERIFY(bool(simulator.listen()));
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("gateway.json"));
    config::GatewayConfig config = gateway::demoConfig(simulator.baseUrl(), freePort(), freePort());
    config.apiKeys[0].requestsPerMinute = 1000;
    QVERIFY(writeFile(path, config::saveConfig(config)));

    QProcess process;
    process.start(kGateway, {QStringLiteral("--config"), path});
    QVERIFY(process.waitForStarted());
    const quint16 port = quint16(config.server.listeners[0].port);
    QTRY_COMPARE_WITH_TIMEOUT(exchange(port, "GET", "/healthz", {}, {}, 500).status, 200, 15000);
    QCOMPARE(exchange(port, "POST", "/v1/chat/completions", chatBody(QStringLiteral("gpt-4o"), QStringLiteral("a")), bearer()).status,
             200);

    // Tighten the key's limit in the file and send SIGHUP: the next request is limited.
    config.apiKeys[0].requestsPerMinute = 1;
    QVERIFY(writeFile(path, config::saveConfig(config)));
    ::kill(pid_t(process.processId()), SIGHUP);
    QTRY_COMPARE_WITH_TIMEOUT(exchange(quint16(config.admin.port), "GET", "/admin/v1/instance", {})
                                  .body.contains("\"config_version\":2"),
                              true, 10000);
    QCOMPARE(exchange(port, "POST", "/v1/chat/completions", chatBody(QStringLiteral("gpt-4o"), QStringLiteral("b")), bearer()).status,
             429);

    // A broken file on SIGHUP changes nothing and says why.
    QVERIFY(writeFile(path, "{\"cache\": {\"ttl_seconds\": -5}}"));
    ::kill(pid_t(process.processId()), SIGHUP);
    QByteArray log;
    QTRY_VERIFY_WITH_TIMEOUT((log += process.readAllStandardError()).contains("cache.ttl_seconds"), 10000);
    QVERIFY(exchange(quint16(config.admin.port), "GET", "/admin/v1/instance", {}).body.contains("\"config_version\":2"));

    ::kill(pid_t(process.processId()), SIGTERM);
    QVERIFY(process.waitForFinished(15000));
    QCOMPARE(process.exitCode(), 0);
}

void TestGatewayCli::invalidConfigExitsWithFieldErrors()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("bad.json"));
    QVERIFY(writeFile(path, "{\"concurrency\": {\"max_in_flight\": 0}, \"cache\": {\"ttl_seconds\": \"soon\"}}"));
    QProcess process;
    process.start(kGateway, {QStringLiteral("--config"), path});
    QVERIFY(process.waitForFinished(15000));
    QCOMPARE(process.exitCode(), 1);
    const QString errors = QString::fromUtf8(process.readAllStandardError());
    QVERIFY2(errors.contains(QStringLiteral("concurrency.max_in_flight: ")), qPrintable(errors));
    QVERIFY2(errors.contains(QStringLiteral("cache.ttl_seconds: ")), qPrintable(errors));
}

void TestGatewayCli::busyPortExitsWithMessage()
{
    QTcpServer holder;
    QVERIFY(holder.listen(QHostAddress::LocalHost, 0));
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("gateway.json"));
    config::GatewayConfig config = gateway::demoConfig(QStringLiteral("http://127.0.0.1:9"), holder.serverPort(), 0);
    QVERIFY(writeFile(path, config::saveConfig(config)));
    QProcess process;
    process.start(kGateway, {QStringLiteral("--config"), path});
    QVERIFY(process.waitForFinished(15000));
    QCOMPARE(process.exitCode(), 1);
    const QString message = QString::fromUtf8(process.readAllStandardError());
    QVERIFY2(message.contains(QStringLiteral("cannot listen on 127.0.0.1:%1").arg(holder.serverPort())), qPrintable(message));
}

void TestGatewayCli::simulateServesProviderShapes()
{
    QProcess process;
    process.start(kGateway, {QStringLiteral("simulate"), QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0"),
                             QStringLiteral("--seed"), QStringLiteral("7"), QStringLiteral("--rpm"), QStringLiteral("2")});
    QVERIFY(process.waitForStarted());
    QByteArray out;
    const auto url = waitForOutput(process, out, QRegularExpression(QStringLiteral("listening on http://127\\.0\\.0\\.1:(\\d+)")));
    QVERIFY2(url.hasMatch(), out.constData());
    const quint16 port = quint16(url.captured(1).toUInt());
    const QByteArray body = chatBody(QStringLiteral("gpt-4o"), QStringLiteral("x"));
    QCOMPARE(exchange(port, "POST", "/v1/chat/completions", body, bearer("anything")).status, 200);
    QCOMPARE(exchange(port, "POST", "/v1/chat/completions", body, bearer("anything")).status, 200);
    const auto limited = exchange(port, "POST", "/v1/chat/completions", body, bearer("anything"));
    QCOMPARE(limited.status, 429);
    QVERIFY(!limited.header("retry-after").isEmpty());
    QCOMPARE(limited.header("x-ratelimit-limit-requests"), QByteArray("2"));
    ::kill(pid_t(process.processId()), SIGTERM);
    QVERIFY(process.waitForFinished(15000));
    QCOMPARE(process.exitCode(), 0);
}

void TestGatewayCli::simulateRejectsBadOptions()
{
    QProcess process;
    process.start(kGateway, {QStringLiteral("simulate"), QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0"),
                             QStringLiteral("--rpm"), QStringLiteral("abc")});
    QVERIFY(process.waitForFinished(15000));
    QCOMPARE(process.exitCode(), 2);
    QVERIFY(QString::fromUtf8(process.readAllStandardError()).contains(QStringLiteral("--rpm")));
}

QTEST_GUILESS_MAIN(TestGatewayCli)
#include "tst_gatewaycli.moc"
