#pragma once

#include "consoleoptions.h"
#include "deploymentcontroller.h"

#include <QObject>

#include <memory>

namespace sluice::ui {

class DashboardController;
class MainWindow;
class StoreTiles;

// The console put together: a MainWindow and a DeploymentController (its profiles in the
// window's settings directory), wired so that every activated deployment reaches the
// status bar (setDeployment, setSandboxActive, one indicator per source), the Dashboard
// (with the Redis/PostgreSQL tiles), the Redis, Connections and Sandbox panels and the
// remembered last profile; every polling view follows the window's pause, visibility
// and refresh-now; controller errors show in a non-blocking message box and
// the status bar. The constructor restores the window's settings, shows it (unless told
// not to) and calls DeploymentController::startUp(options): the first start shows the
// live sandbox.
//
// In "ask each time" mode (no keychain) secrets are asked for by a SecretPromptDialog.
// Owns both; the window is destroyed before the controller. Thread affinity: GUI thread.
class ConsoleApp : public QObject {
    Q_OBJECT
public:
    explicit ConsoleApp(const ConsoleOptions &options, QObject *parent = nullptr);
    // Tests: controller options of their own (settingsDirectory is filled in from the
    // window's when empty), and a window that stays hidden.
    ConsoleApp(const ConsoleOptions &options, DeploymentControllerOptions controllerOptions, bool showWindow,
               QObject *parent = nullptr);
    ~ConsoleApp() override;

    MainWindow *mainWindow() const { return m_window.get(); }
    DeploymentController *controller() const { return m_controller.get(); }

private:
    void onDeploymentActivated(const ActiveDeployment &deployment);
    void showError(const QString &message);
    // A profile's alert rules go to the dashboard when it is activated and are saved
    // with the profile whenever the operator edits them.
    void keepAlertRules(DashboardController &live, const ActiveDeployment &deployment);

    // Declared first, destroyed last: the panels refer to its profile store.
    std::unique_ptr<DeploymentController> m_controller;
    std::unique_ptr<MainWindow> m_window;
    StoreTiles *m_storeTiles = nullptr; // owned by the Dashboard panel
    QMetaObject::Connection m_alertRulesSaver;
};

} // namespace sluice::ui
