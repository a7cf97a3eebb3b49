#include "consoleapp.h"

#include "connections/secretpromptdialog.h"
#include "dashboard/dashboardcontroller.h"
#include "mainwindow.h"
#include "panels/connectionspanel.h"
#include "panels/dashboardpanel.h"
#include "panels/redispanel.h"
#include "panels/sandboxpanel.h"
#include "panels/storetiles.h"
#include "statusbar/consolestatusbar.h"
#include "theme.h"

#include <QMessageBox>

namespace sluice::ui {

namespace {

// Whatever polls follows the window: paused (Ctrl+P), hidden or minimised (no polling),
// refresh now (F5), and reports its sources to the status bar.
template <typename Live>
void followLiveView(MainWindow *window, Live *target)
{
    QObject::connect(window, &MainWindow::liveUpdatesPausedChanged, target, &Live::setLiveUpdatesPaused);
    QObject::connect(window, &MainWindow::liveViewVisibilityChanged, target, &Live::setLiveViewVisible);
    QObject::connect(target, &Live::sourceStatusChanged, window->consoleStatusBar(), &ConsoleStatusBar::updateSource);
    target->setLiveUpdatesPaused(window->liveUpdatesPaused());
    target->setLiveViewVisible(window->liveViewVisible());
}

} // namespace

ConsoleApp::ConsoleApp(const ConsoleOptions &options, QObject *parent)
    : ConsoleApp(options, DeploymentControllerOptions{}, true, parent)
{
}

ConsoleApp::ConsoleApp(const ConsoleOptions &options, DeploymentControllerOptions controllerOptions, bool showWindow,
                       QObject *parent)
    : QObject(parent)
{
    m_window = std::make_unique<MainWindow>(options);
    if (controllerOptions.settingsDirectory.isEmpty())
        controllerOptions.settingsDirectory = m_window->settingsDirectory();
    m_controller = std::make_unique<DeploymentController>(std::move(controllerOptions));
    // Used only while secrets do not persist (no keychain, or it turned out unusable).
    m_controller->setSecretPrompt(SecretPromptDialog::promptFor(m_window.get()));

    m_window->connectionsPanel()->setController(m_controller.get());
    m_window->sandboxPanel()->setController(m_controller.get());
    MainWindow *window = m_window.get();
    DashboardPanel *dashboard = window->dashboardPanel();
    m_storeTiles = new StoreTiles;
    dashboard->setStoreTiles(m_storeTiles); // the panel owns it
    followLiveView(window, dashboard);
    followLiveView(window, m_storeTiles);
    connect(window, &MainWindow::refreshRequested, dashboard, &DashboardPanel::refreshNow);
    connect(window, &MainWindow::refreshRequested, m_storeTiles, &StoreTiles::refresh);
    connect(dashboard, &DashboardPanel::pauseToggled, window, &MainWindow::setLiveUpdatesPaused);
    connect(window->theme(), &Theme::darkChanged, dashboard, &DashboardPanel::setDark);
    RedisPanel *redis = window->redisPanel();
    connect(window, &MainWindow::liveUpdatesPausedChanged, redis, &RedisPanel::setLiveUpdatesPaused);
    connect(window, &MainWindow::liveViewVisibilityChanged, redis, &RedisPanel::setLiveViewVisible);
    connect(window, &MainWindow::refreshRequested, redis, &RedisPanel::refresh);
    redis->setLiveUpdatesPaused(window->liveUpdatesPaused());
    redis->setLiveViewVisible(window->liveViewVisible());

    connect(m_controller.get(), &DeploymentController::deploymentActivated, this, &ConsoleApp::onDeploymentActivated);
    connect(m_controller.get(), &DeploymentController::errorOccurred, this, &ConsoleApp::showError);
    connect(m_controller.get(), &DeploymentController::sandboxStopped, this, [this] {
        // Stopped from the Sandbox panel while it was the deployment: nothing is shown now.
        if (m_controller->activeDeployment().sandbox)
            m_window->consoleStatusBar()->setSandboxActive(false);
    });

    m_window->restoreSettings();
    if (showWindow)
        m_window->show();
    m_controller->startUp(options);
}

ConsoleApp::~ConsoleApp()
{
    m_window.reset();
    m_controller.reset();
}

void ConsoleApp::onDeploymentActivated(const ActiveDeployment &deployment)
{
    ConsoleStatusBar *status = m_window->consoleStatusBar();
    status->setDeployment(deployment.name, deployment.environmentLabel);
    status->setSandboxActive(deployment.sandbox);
    // The previous deployment's sources go; the panels announce the new ones as they
    // connect (sourceStatusChanged → updateSource).
    status->setSources({});
    DashboardPanel *dashboard = m_window->dashboardPanel();
    dashboard->setDeployment(deployment);
    if (DashboardController *live = dashboard->controller()) {
        status->setSources(live->sourceStatuses());
        keepAlertRules(*live, deployment);
    }
    m_storeTiles->setDeployment(deployment);
    m_window->redisPanel()->setDeployment(deployment);
    if (!deployment.sandbox)
        m_window->setLastProfileName(deployment.name);
}

void ConsoleApp::keepAlertRules(DashboardController &live, const ActiveDeployment &deployment)
{
    disconnect(m_alertRulesSaver);
    if (deployment.sandbox)
        return; // the sandbox keeps the default rules
    models::ProfileStore &store = m_controller->profileStore();
    const QList<models::AlertRule> saved = store.alertRules(deployment.name);
    if (!saved.isEmpty()) {
        live.alertRuleModel()->setRules(saved);
        live.alertEvaluator()->setRules(saved);
    }
    const QString profile = deployment.name;
    m_alertRulesSaver = connect(live.alertRuleModel(), &models::AlertRuleModel::rulesEdited, this,
                                [this, profile, model = live.alertRuleModel()] {
                                    m_controller->profileStore().setAlertRules(profile, model->rules());
                                });
}

void ConsoleApp::showError(const QString &message)
{
    m_window->consoleStatusBar()->showMessage(message, 15'000);
    if (!m_window->isVisible())
        return;
    auto *box = new QMessageBox(QMessageBox::Warning, tr("Sluice"), message, QMessageBox::Ok, m_window.get());
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
}

} // namespace sluice::ui
