#include "consoleapp.h"

#include "connections/secretpromptdialog.h"
#include "mainwindow.h"
#include "panels/connectionspanel.h"
#include "panels/sandboxpanel.h"
#include "statusbar/consolestatusbar.h"

#include <QMessageBox>

namespace sluice::ui {

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
    if (!deployment.sandbox)
        m_window->setLastProfileName(deployment.name);
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
