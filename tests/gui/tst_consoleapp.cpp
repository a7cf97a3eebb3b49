// The console as the README's run command starts it: a fresh settings directory opens
// the embedded sandbox, and within seconds the Dashboard shows the traffic the sandbox
// gateway really served, the status bar shows its source connected, and the Redis
// panel says honestly that the sandbox has no Redis.

#include <QDir>
#include <QTemporaryDir>
#include <QTest>

#include "consoleapp.h"
#include "dashboard/dashboardcontroller.h"
#include "deploymentcontroller.h"
#include "models/alertrule.h"
#include "models/profilestore.h"
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

// Without a keychain the console asks for secrets on each run (a dialog): answer it
// from the test and activate again.
void activateAnswering(DeploymentController &controller, const QString &profile, const QByteArray &token)
{
    controller.setSecretPrompt([token](const SecretRequest &, std::function<void(std::optional<SecretAnswer>)> answer) {
        SecretAnswer secrets;
        secrets.adminToken = QString::fromLatin1(token);
        answer(secrets);
    });
    controller.activateProfile(profile);
}

} // namespace

class TestConsoleApp : public QObject {
    Q_OBJECT
private slots:
    void firstStartShowsTheLiveSandbox();
    void profileAlertRulesAreKept();
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

void TestConsoleApp::profileAlertRulesAreKept()
{
    test::GatewayHarness harness;
    QVERIFY2(harness.startError.isEmpty(), qPrintable(harness.startError));
    QTemporaryDir settings;
    QVERIFY(settings.isValid());
    const QString profileName = QStringLiteral("staging-eu");
    {
        DeploymentControllerOptions controllerOptions;
        controllerOptions.useKeychain = false;
        controllerOptions.settingsDirectory = settings.path();
        DeploymentController setup(controllerOptions);
        models::ConnectionProfile profile;
        profile.name = profileName;
        profile.environment = models::EnvironmentTag::Staging;
        profile.adminUrls = {QStringLiteral("http://127.0.0.1:%1").arg(harness.adminPort)};
        profile.adminToken = QString::fromLatin1(harness.adminToken);
        bool saved = false;
        QObject context;
        QVERIFY(setup.profileStore().save(profile, {}, &context, [&saved](QStringList) { saved = true; }).ok());
        QTRY_VERIFY_WITH_TIMEOUT(saved, kWaitMs);
    }
    const QStringList arguments{QStringLiteral("sluice"), QStringLiteral("--settings-dir"), settings.path(),
                                QStringLiteral("--profile"), profileName};
    models::AlertRule rule;
    rule.name = QStringLiteral("slow answers");
    rule.valueKey = QString::fromLatin1(models::kLatencyP95SecondsKey);
    rule.comparator = models::AlertComparator::Greater;
    rule.threshold = 2.5;
    rule.forSeconds = 60;
    {
        DeploymentControllerOptions controllerOptions;
        controllerOptions.useKeychain = false;
        ConsoleApp console(parseConsoleArguments(arguments), controllerOptions, false);
        activateAnswering(*console.controller(), profileName, harness.adminToken);
        QTRY_COMPARE_WITH_TIMEOUT(console.controller()->activeDeployment().name, profileName, kWaitMs);
        DashboardController *live = console.mainWindow()->dashboardPanel()->controller();
        QVERIFY(live);
        QVERIFY(live->alertRuleModel()->addRule(rule) >= 0);
    }
    // The next start of that profile has the rule the operator added.
    DeploymentControllerOptions controllerOptions;
    controllerOptions.useKeychain = false;
    ConsoleApp again(parseConsoleArguments(arguments), controllerOptions, false);
    activateAnswering(*again.controller(), profileName, harness.adminToken);
    QTRY_COMPARE_WITH_TIMEOUT(again.controller()->activeDeployment().name, profileName, kWaitMs);
    DashboardController *live = again.mainWindow()->dashboardPanel()->controller();
    QVERIFY(live);
    QVERIFY(live->alertRuleModel()->rowOf(rule.name) >= 0);
    const auto rules = live->alertEvaluator()->rules();
    QVERIFY(std::any_of(rules.begin(), rules.end(), [&rule](const models::AlertRule &r) {
        return r.name == rule.name && r.threshold == rule.threshold;
    }));
}

QTEST_MAIN(TestConsoleApp)
#include "tst_consoleapp.moc"
