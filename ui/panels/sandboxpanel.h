#pragma once

#include "activedeployment.h"

#include <QPointer>
#include <QWidget>

class QDoubleSpinBox;
class QGroupBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QStackedWidget;

namespace sluice::gateway {
class SandboxDeployment;
struct LoadStats;
} // namespace sluice::gateway

namespace sluice::ui {

class DeploymentController;
class EmptyState;

// The embedded sandbox, clearly labelled "Sandbox": its gateway, admin and metrics URLs,
// the admin token (with a copy button), live controls of the simulated users bound to
// the LoadGenerator's setters (users, request rate cap, think time, repeated-prompt
// share, stream share, prompt and answer token means), the users' live statistics
// (statsUpdated: sent, requests/s, status counts, cache hits) and Start / Stop buttons
// that go through the DeploymentController. While a real profile is the deployment it
// says the sandbox is stopped and offers to start it.
//
// Until setController() it shows an EmptyState. objectName: "sandboxPanel".
// Thread affinity: GUI thread.
class SandboxPanel : public QWidget {
    Q_OBJECT
public:
    explicit SandboxPanel(QWidget *parent = nullptr);
    ~SandboxPanel() override;

    // The controller must outlive the panel. Once.
    void setController(DeploymentController *controller);
    DeploymentController *controller() const;

    EmptyState *emptyState() const { return m_emptyState; }
    bool showsRunningSandbox() const;

    // The live controls (tests drive them like a user would).
    QSpinBox *usersSpin() const { return m_users; }
    QDoubleSpinBox *rateSpin() const { return m_rate; }
    QSpinBox *thinkTimeSpin() const { return m_thinkMs; }
    QDoubleSpinBox *repeatShareSpin() const { return m_repeatShare; }
    QDoubleSpinBox *streamShareSpin() const { return m_streamShare; }
    QSpinBox *promptTokensSpin() const { return m_promptTokens; }
    QSpinBox *answerTokensSpin() const { return m_answerTokens; }
    QString statsText() const;
    QString stateText() const;

    // What a deployment activation means for the panel (a profile: "stopped").
    void showActiveDeployment(const ActiveDeployment &deployment);

private:
    void attach(gateway::SandboxDeployment *sandbox);
    void detach();
    void showStats(const gateway::LoadStats &stats);
    void applyUsers();
    void applyRate();
    void applyThinkTime();
    void applyRepeatShare();
    void applyStreamShare();
    void applyPromptTokens();
    void applyAnswerTokens();

    QPointer<DeploymentController> m_controller;
    QPointer<gateway::SandboxDeployment> m_sandbox;
    EmptyState *m_emptyState = nullptr;
    QStackedWidget *m_stack = nullptr;
    QLabel *m_state = nullptr;
    QPushButton *m_start = nullptr;
    QPushButton *m_stop = nullptr;
    QGroupBox *m_endpoints = nullptr;
    QLabel *m_gatewayUrl = nullptr;
    QLabel *m_adminUrl = nullptr;
    QLabel *m_metricsUrl = nullptr;
    QLineEdit *m_token = nullptr;
    QPushButton *m_copyToken = nullptr;
    QGroupBox *m_usersBox = nullptr;
    QSpinBox *m_users = nullptr;
    QDoubleSpinBox *m_rate = nullptr;
    QSpinBox *m_thinkMs = nullptr;
    QDoubleSpinBox *m_repeatShare = nullptr;
    QDoubleSpinBox *m_streamShare = nullptr;
    QSpinBox *m_promptTokens = nullptr;
    QSpinBox *m_answerTokens = nullptr;
    QLabel *m_stats = nullptr;
    bool m_filling = false;
};

} // namespace sluice::ui
