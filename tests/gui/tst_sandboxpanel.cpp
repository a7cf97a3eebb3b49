// SandboxPanel bound to a DeploymentController: the running sandbox's URLs and token,
// live controls that change the LoadGenerator, live statistics, and the stopped state
// while a real profile is the deployment.
#include "deploymentcontroller.h"
#include "gateway/loadgenerator.h"
#include "gateway/sandboxdeployment.h"
#include "models/profilestore.h"
#include "panels/emptystate.h"
#include "panels/sandboxpanel.h"

#include <QDir>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace sluice;
using namespace sluice::ui;

namespace {
constexpr int kWaitMs = 20'000;
}

class TestSandboxPanel : public QObject {
    Q_OBJECT

private slots:
    void init();
    void cleanup();
    void emptyStateWithoutController();
    void showsTheRunningSandbox();
    void controlsChangeTheGenerator();
    void liveStatistics();
    void stoppedWhileAProfileIsActive();
    void startButtonStartsTheSandbox();

private:
    std::unique_ptr<QTemporaryDir> m_directory;
    std::unique_ptr<DeploymentController> m_controller;
    std::unique_ptr<SandboxPanel> m_panel;
};

void TestSandboxPanel::init()
{
    m_directory = std::make_unique<QTemporaryDir>();
    DeploymentControllerOptions options;
    options.settingsDirectory = m_directory->path();
    options.useKeychain = false;
    m_controller = std::make_unique<DeploymentController>(options);
    m_panel = std::make_unique<SandboxPanel>();
    m_panel->setController(m_controller.get());
    m_panel->show();
}

void TestSandboxPanel::cleanup()
{
    m_panel.reset();
    m_controller.reset();
    m_directory.reset();
}

void TestSandboxPanel::emptyStateWithoutController()
{
    SandboxPanel bare;
    QCOMPARE(bare.objectName(), QStringLiteral("sandboxPanel"));
    QVERIFY(bare.emptyState());
    QVERIFY(!bare.showsRunningSandbox());
}

void TestSandboxPanel::showsTheRunningSandbox()
{
    QVERIFY(!m_panel->showsRunningSandbox());
    m_controller->activateSandbox();
    QVERIFY(m_panel->showsRunningSandbox());
    gateway::SandboxDeployment *sandbox = m_controller->sandbox();
    QVERIFY(sandbox);
    QCOMPARE(m_panel->findChild<QLabel *>(QStringLiteral("sandboxAdminUrl"))->text(), sandbox->adminUrl().toString());
    QCOMPARE(m_panel->findChild<QLabel *>(QStringLiteral("sandboxGatewayUrl"))->text(), sandbox->gatewayUrl().toString());
    QCOMPARE(m_panel->findChild<QLineEdit *>(QStringLiteral("sandboxAdminToken"))->text().toUtf8(), sandbox->adminToken());
    QCOMPARE(m_panel->findChild<QLabel *>(QStringLiteral("sandboxTag"))->text(), QStringLiteral("SANDBOX"));
    // The controls start from the generator's settings.
    QCOMPARE(m_panel->usersSpin()->value(), sandbox->generator()->options().users);
    QCOMPARE(m_panel->rateSpin()->value(), sandbox->generator()->options().requestsPerSecond);
}

void TestSandboxPanel::controlsChangeTheGenerator()
{
    m_controller->activateSandbox();
    gateway::LoadGenerator *generator = m_controller->sandbox()->generator();
    QVERIFY(generator);
    QVERIFY(generator->options().users != 3);
    m_panel->usersSpin()->setValue(3);
    QCOMPARE(generator->options().users, 3);
    QTRY_COMPARE_WITH_TIMEOUT(generator->stats().users, 3, kWaitMs);
    m_panel->rateSpin()->setValue(2.5);
    QCOMPARE(generator->options().requestsPerSecond, 2.5);
    m_panel->thinkTimeSpin()->setValue(900);
    QCOMPARE(generator->options().thinkTimeMs.mean, 900.0);
    m_panel->repeatShareSpin()->setValue(70);
    QCOMPARE(generator->options().repeatShare, 0.7);
    m_panel->streamShareSpin()->setValue(10);
    QCOMPARE(generator->options().streamShare, 0.1);
    m_panel->promptTokensSpin()->setValue(321);
    QCOMPARE(generator->options().promptTokens.mean, 321.0);
    m_panel->answerTokensSpin()->setValue(77);
    QCOMPARE(generator->options().maxTokens.mean, 77.0);
}

void TestSandboxPanel::liveStatistics()
{
    m_controller->activateSandbox();
    m_panel->rateSpin()->setValue(0);
    m_panel->thinkTimeSpin()->setValue(50);
    QTRY_VERIFY_WITH_TIMEOUT(m_controller->sandbox()->generator()->stats().completed > 0, kWaitMs);
    // The text follows statsUpdated: some requests sent, a status 200 count.
    QTRY_VERIFY_WITH_TIMEOUT(m_panel->statsText().contains(QStringLiteral("200: ")), kWaitMs);
    QVERIFY(m_panel->statsText().contains(QStringLiteral(" sent")));
    m_panel->resize(900, 700);
    QDir().mkpath(QStringLiteral(SLUICE_TEST_ARTIFACTS_DIR));
    QVERIFY(m_panel->grab().save(QStringLiteral(SLUICE_TEST_ARTIFACTS_DIR "/sandboxpanel.png")));
}

void TestSandboxPanel::stoppedWhileAProfileIsActive()
{
    m_controller->activateSandbox();
    models::ConnectionProfile profile;
    profile.name = QStringLiteral("prod");
    profile.environment = models::EnvironmentTag::Production;
    profile.adminUrls = {QStringLiteral("http://10.9.9.9:9090")};
    profile.adminToken = QString();
    profile.redisPassword = QString();
    profile.postgresConnection = QString();
    QVERIFY(m_controller->profileStore().save(profile).ok());
    QSignalSpy activated(m_controller.get(), &DeploymentController::deploymentActivated);
    m_controller->activateProfile(QStringLiteral("prod"));
    QTRY_COMPARE_WITH_TIMEOUT(activated.count(), 1, kWaitMs);
    QVERIFY(!m_panel->showsRunningSandbox());
    QVERIFY2(m_panel->stateText().contains(QStringLiteral("stopped")), qPrintable(m_panel->stateText()));
    QVERIFY2(m_panel->stateText().contains(QStringLiteral("\"prod\"")), qPrintable(m_panel->stateText()));
    QVERIFY(m_panel->findChild<QPushButton *>(QStringLiteral("startSandboxButton"))->isEnabled());
    QVERIFY(!m_panel->findChild<QPushButton *>(QStringLiteral("stopSandboxButton"))->isEnabled());
    QVERIFY(!m_panel->usersSpin()->isEnabled());
}

void TestSandboxPanel::startButtonStartsTheSandbox()
{
    QSignalSpy activated(m_controller.get(), &DeploymentController::deploymentActivated);
    m_panel->findChild<QPushButton *>(QStringLiteral("startSandboxButton"))->click();
    QCOMPARE(activated.count(), 1);
    QVERIFY(m_controller->sandbox());
    QVERIFY(m_panel->showsRunningSandbox());
    m_panel->findChild<QPushButton *>(QStringLiteral("stopSandboxButton"))->click();
    QVERIFY(!m_controller->sandbox());
    QVERIFY(!m_panel->showsRunningSandbox());
    QVERIFY(m_panel->stateText().contains(QStringLiteral("stopped")));
}

QTEST_MAIN(TestSandboxPanel)
#include "tst_sandboxpanel.moc"
