// The embedded sandbox: simulated provider + demo gateway + simulated users in one
// process, scraped like any deployment, and its ports freed on stop().
#include <QTest>

#include "gateway/gateway.h"
#include "gateway/sandboxdeployment.h"
#include "gatewayharness.h"

#include <QSignalSpy>
#include <QTcpServer>

using namespace sluice;
using namespace sluice::gateway;
using namespace sluice::test;

namespace {

constexpr int kTimeoutMs = 30'000; // only guards against hangs

// Sum of every sample of `name` in a Prometheus text exposition.
double sampleSum(const QByteArray &exposition, const QByteArray &name)
{
    double sum = 0;
    for (const QByteArray &line : exposition.split('\n')) {
        if (!line.startsWith(name) || (line.size() > name.size() && line[name.size()] != '{' && line[name.size()] != ' '))
            continue;
        sum += line.mid(line.lastIndexOf(' ') + 1).toDouble();
    }
    return sum;
}

// Quicker answers than the realistic default, so the test needs few seconds.
SandboxOptions quickSandbox()
{
    SandboxOptions options;
    options.simulator.timeToFirstTokenMilliseconds = {Distribution::Shape::Fixed, 20, 0};
    options.simulator.tokensPerSecond = 500;
    options.simulator.outputTokens = {Distribution::Shape::Fixed, 10, 0};
    options.load.thinkTimeMs = {Distribution::Shape::Normal, 100, 20};
    return options;
}

bool portIsFree(quint16 port)
{
    QTcpServer probe;
    return probe.listen(QHostAddress::LocalHost, port);
}

} // namespace

class TestSandboxDeployment : public QObject {
    Q_OBJECT

private slots:
    void defaultsAreTheBriefsModestLoad();
    void servesTrafficAndMetrics();
    void stopFreesThePorts();
    void busyPortFails();
};

void TestSandboxDeployment::defaultsAreTheBriefsModestLoad()
{
    const SandboxOptions options;
    QCOMPARE(options.load.users, 8);
    QCOMPARE(options.load.thinkTimeMs.mean, 1500.0);
    QCOMPARE(options.load.repeatShare, 0.3);
    QCOMPARE(options.load.streamShare, 0.5);
    QCOMPARE(options.simulator.models, demoModels());
    SandboxDeployment sandbox;
    QVERIFY(!sandbox.isRunning());
    QVERIFY(sandbox.gatewayUrl().isEmpty());
    QVERIFY(!sandbox.generator());
    sandbox.stop(); // not running: nothing happens
}

void TestSandboxDeployment::servesTrafficAndMetrics()
{
    SandboxDeployment sandbox(quickSandbox());
    QSignalSpy started(&sandbox, &SandboxDeployment::started);
    QSignalSpy stopped(&sandbox, &SandboxDeployment::stopped);
    const auto url = sandbox.start();
    QVERIFY2(url.ok(), url.ok() ? "" : qPrintable(url.error()));
    QCOMPARE(started.count(), 1);
    QVERIFY(sandbox.isRunning());
    QCOMPARE(*url, sandbox.gatewayUrl());
    QCOMPARE(sandbox.metricsUrl().path(), QStringLiteral("/metrics"));
    QVERIFY(sandbox.generator());
    QCOMPARE(sandbox.generator()->stats().users, 8);
    QVERIFY(!sandbox.start().ok()); // already running

    QTRY_VERIFY_WITH_TIMEOUT(sandbox.generator()->stats().completed >= 5, kTimeoutMs);
    const LoadStats stats = sandbox.generator()->stats();
    QVERIFY(stats.statusCount(200) >= 5);
    QCOMPARE(stats.failed, quint64(0));

    const auto metrics = exchange(quint16(sandbox.gatewayUrl().port()), "GET", "/metrics", {});
    QCOMPARE(metrics.status, 200);
    QVERIFY2(sampleSum(metrics.body, "sluice_requests_total") >= 5, metrics.body.left(2000).constData());

    // The admin API answers with the sandbox's token.
    const auto admin = exchange(quint16(sandbox.adminUrl().port()), "GET", "/admin/v1/stats", {},
                                {{"Authorization", "Bearer " + sandbox.adminToken()}});
    QCOMPARE(admin.status, 200);

    // Users are live.
    sandbox.generator()->setUsers(2);
    QCOMPARE(sandbox.generator()->stats().users, 2);

    sandbox.stop();
    QCOMPARE(stopped.count(), 1);
    QVERIFY(!sandbox.isRunning());
    QVERIFY(!sandbox.generator());
    QVERIFY(sandbox.gatewayUrl().isEmpty());
}

void TestSandboxDeployment::stopFreesThePorts()
{
    SandboxDeployment first(quickSandbox());
    QVERIFY(first.start().ok());
    const quint16 port = quint16(first.gatewayUrl().port());
    const quint16 adminPort = quint16(first.adminUrl().port());
    QVERIFY(!portIsFree(port));
    QTRY_VERIFY_WITH_TIMEOUT(first.generator()->stats().completed >= 1, kTimeoutMs);
    first.stop();
    QVERIFY(portIsFree(port));
    QVERIFY(portIsFree(adminPort));

    // A second sandbox takes the same ports at once.
    SandboxOptions options = quickSandbox();
    options.gatewayPort = port;
    options.adminPort = adminPort;
    SandboxDeployment second(options);
    const auto url = second.start();
    QVERIFY2(url.ok(), url.ok() ? "" : qPrintable(url.error()));
    QCOMPARE(url->port(), int(port));
    QTRY_VERIFY_WITH_TIMEOUT(second.generator()->stats().completed >= 1, kTimeoutMs);

    // And the first can start again once the second is gone.
    second.stop();
    QVERIFY(first.start().ok());
    QTRY_VERIFY_WITH_TIMEOUT(first.generator()->stats().completed >= 1, kTimeoutMs);
}

void TestSandboxDeployment::busyPortFails()
{
    QTcpServer squatter;
    QVERIFY(squatter.listen(QHostAddress::LocalHost, 0));
    SandboxOptions options = quickSandbox();
    options.gatewayPort = squatter.serverPort();
    SandboxDeployment sandbox(options);
    QSignalSpy failed(&sandbox, &SandboxDeployment::failed);
    const auto url = sandbox.start();
    QVERIFY(!url.ok());
    QVERIFY2(url.error().contains(QString::number(squatter.serverPort())), qPrintable(url.error()));
    QCOMPARE(failed.count(), 1);
    QVERIFY(!sandbox.isRunning());
    QVERIFY(!sandbox.generator());
    QVERIFY(sandbox.simulatorUrl().isEmpty()); // nothing left running
}

QTEST_GUILESS_MAIN(TestSandboxDeployment)
#include "tst_sandboxdeployment.moc"
