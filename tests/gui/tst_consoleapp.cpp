// The console as the README's run command starts it: a fresh settings directory opens
// the embedded sandbox, and within seconds the Dashboard shows the traffic the sandbox
// gateway really served, the status bar shows its source connected, and the Redis
// panel says honestly that the sandbox has no Redis.

#include <QDir>
#include <QTemporaryDir>
#include <QTest>

#include "consoleapp.h"
#include "dashboard/dashboardcontroller.h"
#include "gateway/gateway.h"
#include "gatewayharness.h"
#include "gateway/sandboxdeployment.h"
#include "mainwindow.h"
#include "panels/dashboardpanel.h"
#include "panels/redispanel.h"
#include "panels/storetiles.h"
#include "statusbar/consolestatusbar.h"

using namespace sluice;
using namespace sluice::ui;

namespace {

constexpr int kWaitMs = 30'000;

bool anySourceConnected(const ConsoleStatusBar &status)
{
    const auto sources = status.sources();
    return std::any_of(sources.begin(), sources.end(),
                       [](const SourceStatus &source) { return source.state == SourceStatus::State::Connected; });
}

double gatewayRequests(gateway::SandboxDeployment &sandbox)
{
    return test::metricSum(sandbox.gateway()->registry(), "sluice_requests_total");
}

} // namespace

class TestConsoleApp : public QObject {
    Q_OBJECT
private slots:
    void firstStartShowsTheLiveSandbox();
};

void TestConsoleApp::firstStartShowsTheLiveSandbox()
{
    QTemporaryDir settings;
    QVERIFY(settings.isValid());
    ConsoleOptions options = parseConsoleArguments({QStringLiteral("sluice"), QStringLiteral("--settings-dir"),
                                                   settings.path()});
    QCOMPARE(options.action, ConsoleOptions::Action::Run);
    DeploymentControllerOptions controllerOptions;
    controllerOptions.useKeychain = false;
    ConsoleApp console(options, controllerOptions, false);
    MainWindow *window = console.mainWindow();
    window->resize(1280, 860);
    window->show();
    QVERIFY(QTest::qWaitForWindowExposed(window));

    // No profile: the sandbox is the deployment, labelled as such.
    QTRY_VERIFY_WITH_TIMEOUT(console.controller()->activeDeployment().sandbox, kWaitMs);
    gateway::SandboxDeployment *sandbox = console.controller()->sandbox();
    QVERIFY(sandbox);
    DashboardPanel *dashboard = window->dashboardPanel();
    QVERIFY(dashboard->hasDeployment());
    QVERIFY(dashboard->controller());

    // Live within seconds: the dashboard counts what the sandbox gateway served.
    QTRY_VERIFY_WITH_TIMEOUT(anySourceConnected(*window->consoleStatusBar()), kWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(dashboard->controller()->requestsCounted() >= 3.0, kWaitMs);
    const double served = gatewayRequests(*sandbox);
    QVERIFY2(served >= dashboard->controller()->requestsCounted(),
             qPrintable(QStringLiteral("gateway %1, dashboard %2").arg(served).arg(dashboard->controller()->requestsCounted())));
    QVERIFY(dashboard->controller()->instanceModel()->rowCount() == 1);

    // The sandbox has no Redis or PostgreSQL: the tiles and the Redis panel say so.
    auto *tiles = dashboard->findChild<StoreTiles *>();
    QVERIFY(tiles);
    QCOMPARE(tiles->redisState(), StoreTiles::TileState::NotConfigured);
    QCOMPARE(tiles->postgresState(), StoreTiles::TileState::NotConfigured);
    QVERIFY(!window->redisPanel()->isShowingLiveView());

    // Pausing from the window stops the dashboard's polling.
    window->setLiveUpdatesPaused(true);
    QTRY_VERIFY_WITH_TIMEOUT(!dashboard->controller()->isPolling(), kWaitMs);
    window->setLiveUpdatesPaused(false);
    QTRY_VERIFY_WITH_TIMEOUT(dashboard->controller()->isPolling(), kWaitMs);

    const QString directory = QStringLiteral(SLUICE_TEST_ARTIFACTS_DIR);
    QVERIFY(QDir().mkpath(directory));
    QTest::qWait(1500); // one more frame of data on the charts for the picture
    QVERIFY(window->grab().save(QDir(directory).filePath(QStringLiteral("console-sandbox.png"))));
}

QTEST_MAIN(TestConsoleApp)
#include "tst_consoleapp.moc"
