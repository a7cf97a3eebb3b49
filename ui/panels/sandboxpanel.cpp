#include "panels/sandboxpanel.h"

#include "deploymentcontroller.h"
#include "gateway/loadgenerator.h"
#include "gateway/sandboxdeployment.h"
#include "panels/emptystate.h"
#include "theme.h"

#include <QClipboard>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QStackedWidget>
#include <QVBoxLayout>

namespace sluice::ui {

using gateway::Distribution;

namespace {

QLabel *selectableLabel(const QString &objectName)
{
    auto *label = new QLabel;
    label->setObjectName(objectName);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    return label;
}

QDoubleSpinBox *shareSpin(const QString &objectName)
{
    auto *spin = new QDoubleSpinBox;
    spin->setObjectName(objectName);
    spin->setRange(0, 100);
    spin->setDecimals(0);
    spin->setSuffix(QStringLiteral(" %"));
    return spin;
}

} // namespace

SandboxPanel::SandboxPanel(QWidget *parent)
    : QWidget(parent),
      m_emptyState(new EmptyState(tr("The sandbox is not running"),
                                  tr("A local gateway with a simulated provider and simulated users will run here, "
                                     "so policies can be tried safely."),
                                  this))
{
    setObjectName(QStringLiteral("sandboxPanel"));
    m_stack = new QStackedWidget(this);
    m_stack->addWidget(m_emptyState);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_stack);
}

SandboxPanel::~SandboxPanel() = default;

DeploymentController *SandboxPanel::controller() const
{
    return m_controller;
}

void SandboxPanel::setController(DeploymentController *controller)
{
    if (m_controller || !controller)
        return;
    m_controller = controller;

    auto *content = new QWidget;
    auto *layout = new QVBoxLayout(content);

    auto *header = new QHBoxLayout;
    auto *tag = new QLabel(tr("SANDBOX"));
    tag->setObjectName(QStringLiteral("sandboxTag"));
    const QColor tagColour = Theme::environmentColor(QStringLiteral("sandbox"));
    tag->setStyleSheet(QStringLiteral("QLabel { background-color: %1; color: %2; font-weight: bold; padding: 2px 8px; "
                                      "border-radius: 4px; }")
                           .arg(tagColour.name(), Theme::environmentTextColor(QStringLiteral("sandbox")).name()));
    auto *title = new QLabel(tr("<b>Embedded sandbox</b> — a local gateway, a simulated provider and simulated users; "
                                "nothing here reaches a real provider."));
    title->setWordWrap(true);
    header->addWidget(tag);
    header->addWidget(title, 1);
    layout->addLayout(header);

    m_state = new QLabel;
    m_state->setObjectName(QStringLiteral("sandboxState"));
    m_state->setWordWrap(true);
    m_start = new QPushButton(tr("Start sandbox"));
    m_start->setObjectName(QStringLiteral("startSandboxButton"));
    m_stop = new QPushButton(tr("Stop sandbox"));
    m_stop->setObjectName(QStringLiteral("stopSandboxButton"));
    auto *stateRow = new QHBoxLayout;
    stateRow->addWidget(m_state, 1);
    stateRow->addWidget(m_start);
    stateRow->addWidget(m_stop);
    layout->addLayout(stateRow);

    m_endpoints = new QGroupBox(tr("Endpoints"));
    auto *endpoints = new QFormLayout(m_endpoints);
    m_gatewayUrl = selectableLabel(QStringLiteral("sandboxGatewayUrl"));
    m_adminUrl = selectableLabel(QStringLiteral("sandboxAdminUrl"));
    m_metricsUrl = selectableLabel(QStringLiteral("sandboxMetricsUrl"));
    m_token = new QLineEdit;
    m_token->setObjectName(QStringLiteral("sandboxAdminToken"));
    m_token->setReadOnly(true);
    m_copyToken = new QPushButton(tr("Copy"));
    m_copyToken->setObjectName(QStringLiteral("copyTokenButton"));
    auto *tokenRow = new QWidget;
    auto *tokenLayout = new QHBoxLayout(tokenRow);
    tokenLayout->setContentsMargins(0, 0, 0, 0);
    tokenLayout->addWidget(m_token, 1);
    tokenLayout->addWidget(m_copyToken);
    endpoints->addRow(tr("Gateway (OpenAI base: + /v1)"), m_gatewayUrl);
    endpoints->addRow(tr("Admin API"), m_adminUrl);
    endpoints->addRow(tr("Metrics"), m_metricsUrl);
    endpoints->addRow(tr("Admin token"), tokenRow);
    layout->addWidget(m_endpoints);

    m_usersBox = new QGroupBox(tr("Simulated users (live)"));
    auto *users = new QFormLayout(m_usersBox);
    m_users = new QSpinBox;
    m_users->setObjectName(QStringLiteral("sandboxUsers"));
    m_users->setRange(0, 10000);
    m_rate = new QDoubleSpinBox;
    m_rate->setObjectName(QStringLiteral("sandboxRate"));
    m_rate->setRange(0, 10000);
    m_rate->setDecimals(1);
    m_rate->setSpecialValueText(tr("unlimited"));
    m_rate->setSuffix(tr(" req/s"));
    m_thinkMs = new QSpinBox;
    m_thinkMs->setObjectName(QStringLiteral("sandboxThinkTime"));
    m_thinkMs->setRange(0, 600'000);
    m_thinkMs->setSingleStep(100);
    m_thinkMs->setSuffix(tr(" ms"));
    m_repeatShare = shareSpin(QStringLiteral("sandboxRepeatShare"));
    m_streamShare = shareSpin(QStringLiteral("sandboxStreamShare"));
    m_promptTokens = new QSpinBox;
    m_promptTokens->setObjectName(QStringLiteral("sandboxPromptTokens"));
    m_promptTokens->setRange(1, 200'000);
    m_answerTokens = new QSpinBox;
    m_answerTokens->setObjectName(QStringLiteral("sandboxAnswerTokens"));
    m_answerTokens->setRange(1, 100'000);
    users->addRow(tr("Users"), m_users);
    users->addRow(tr("Request rate cap"), m_rate);
    users->addRow(tr("Think time (mean)"), m_thinkMs);
    users->addRow(tr("Repeated prompts"), m_repeatShare);
    users->addRow(tr("Streamed answers"), m_streamShare);
    users->addRow(tr("Prompt tokens (mean)"), m_promptTokens);
    users->addRow(tr("Answer tokens (mean max_tokens)"), m_answerTokens);
    m_stats = new QLabel;
    m_stats->setObjectName(QStringLiteral("sandboxStats"));
    m_stats->setWordWrap(true);
    m_stats->setTextInteractionFlags(Qt::TextSelectableByMouse);
    users->addRow(tr("Traffic"), m_stats);
    layout->addWidget(m_usersBox);
    layout->addStretch();

    m_stack->addWidget(content);
    m_stack->setCurrentWidget(content);

    connect(m_start, &QPushButton::clicked, controller, &DeploymentController::activateSandbox);
    connect(m_stop, &QPushButton::clicked, controller, &DeploymentController::stopSandbox);
    connect(m_copyToken, &QPushButton::clicked, this, [this] {
        if (QClipboard *clipboard = QGuiApplication::clipboard())
            clipboard->setText(m_token->text());
    });
    connect(m_users, &QSpinBox::valueChanged, this, &SandboxPanel::applyUsers);
    connect(m_rate, &QDoubleSpinBox::valueChanged, this, &SandboxPanel::applyRate);
    connect(m_thinkMs, &QSpinBox::valueChanged, this, &SandboxPanel::applyThinkTime);
    connect(m_repeatShare, &QDoubleSpinBox::valueChanged, this, &SandboxPanel::applyRepeatShare);
    connect(m_streamShare, &QDoubleSpinBox::valueChanged, this, &SandboxPanel::applyStreamShare);
    connect(m_promptTokens, &QSpinBox::valueChanged, this, &SandboxPanel::applyPromptTokens);
    connect(m_answerTokens, &QSpinBox::valueChanged, this, &SandboxPanel::applyAnswerTokens);

    connect(controller, &DeploymentController::sandboxStarted, this, &SandboxPanel::attach);
    connect(controller, &DeploymentController::sandboxStopped, this, &SandboxPanel::detach);
    connect(controller, &DeploymentController::deploymentActivated, this, &SandboxPanel::showActiveDeployment);

    if (controller->sandbox())
        attach(controller->sandbox());
    else
        detach();
}

bool SandboxPanel::showsRunningSandbox() const
{
    return m_sandbox != nullptr;
}

QString SandboxPanel::statsText() const
{
    return m_stats ? m_stats->text() : QString();
}

QString SandboxPanel::stateText() const
{
    return m_state ? m_state->text() : QString();
}

void SandboxPanel::attach(gateway::SandboxDeployment *sandbox)
{
    detach();
    m_sandbox = sandbox;
    if (!sandbox || !sandbox->generator())
        return;
    m_state->setText(tr("The sandbox is running and is the deployment the console shows."));
    m_start->setText(tr("Restart sandbox"));
    m_stop->setEnabled(true);
    m_endpoints->setEnabled(true);
    m_usersBox->setEnabled(true);
    m_gatewayUrl->setText(sandbox->gatewayUrl().toString());
    m_adminUrl->setText(sandbox->adminUrl().toString());
    m_metricsUrl->setText(sandbox->metricsUrl().toString());
    m_token->setText(QString::fromUtf8(sandbox->adminToken()));

    const gateway::LoadOptions &load = sandbox->generator()->options();
    m_filling = true;
    m_users->setValue(load.users);
    m_rate->setValue(load.requestsPerSecond);
    m_thinkMs->setValue(int(load.thinkTimeMs.mean));
    m_repeatShare->setValue(load.repeatShare * 100);
    m_streamShare->setValue(load.streamShare * 100);
    m_promptTokens->setValue(int(load.promptTokens.mean));
    m_answerTokens->setValue(int(load.maxTokens.mean));
    m_filling = false;
    m_stats->setText(tr("starting…"));
    connect(sandbox->generator(), &gateway::LoadGenerator::statsUpdated, this, &SandboxPanel::showStats);
}

void SandboxPanel::detach()
{
    if (m_sandbox && m_sandbox->generator())
        disconnect(m_sandbox->generator(), nullptr, this, nullptr);
    m_sandbox = nullptr;
    if (!m_state)
        return;
    const ActiveDeployment &active = m_controller ? m_controller->activeDeployment() : ActiveDeployment{};
    m_state->setText(active.isValid() && !active.sandbox
                         ? tr("The sandbox is stopped: the console shows \"%1\". Start it to try policies on a "
                              "simulated deployment (the console switches to it).")
                               .arg(active.name)
                         : tr("The sandbox is stopped."));
    m_start->setText(tr("Start sandbox"));
    m_stop->setEnabled(false);
    m_endpoints->setEnabled(false);
    m_usersBox->setEnabled(false);
    m_gatewayUrl->clear();
    m_adminUrl->clear();
    m_metricsUrl->clear();
    m_token->clear();
    m_stats->setText(tr("no traffic: the sandbox is stopped"));
}

void SandboxPanel::showActiveDeployment(const ActiveDeployment &deployment)
{
    if (!deployment.sandbox && !m_sandbox)
        detach(); // refreshes the "stopped" text with the profile's name
}

void SandboxPanel::showStats(const gateway::LoadStats &stats)
{
    QStringList statuses;
    for (const auto &[status, count] : stats.statusCounts)
        statuses.append(QStringLiteral("%1: %2").arg(status).arg(count));
    QString text = tr("%1 sent · %2 req/s · %3 in flight · %4 users\nstatus %5 · cache hits %6 · failed %7")
                       .arg(stats.sent)
                       .arg(stats.requestsPerSecond, 0, 'f', 1)
                       .arg(stats.inFlight)
                       .arg(stats.users)
                       .arg(statuses.isEmpty() ? tr("none yet") : statuses.join(QStringLiteral(", ")))
                       .arg(stats.cacheHits)
                       .arg(stats.failed);
    m_stats->setText(text);
}

void SandboxPanel::applyUsers()
{
    if (!m_filling && m_sandbox && m_sandbox->generator())
        m_sandbox->generator()->setUsers(m_users->value());
}

void SandboxPanel::applyRate()
{
    if (!m_filling && m_sandbox && m_sandbox->generator())
        m_sandbox->generator()->setRequestsPerSecond(m_rate->value());
}

void SandboxPanel::applyThinkTime()
{
    if (!m_filling && m_sandbox && m_sandbox->generator()) {
        const double mean = m_thinkMs->value();
        m_sandbox->generator()->setThinkTimeMs({Distribution::Shape::Normal, mean, mean / 3});
    }
}

void SandboxPanel::applyRepeatShare()
{
    if (!m_filling && m_sandbox && m_sandbox->generator())
        m_sandbox->generator()->setRepeatShare(m_repeatShare->value() / 100);
}

void SandboxPanel::applyStreamShare()
{
    if (!m_filling && m_sandbox && m_sandbox->generator())
        m_sandbox->generator()->setStreamShare(m_streamShare->value() / 100);
}

void SandboxPanel::applyPromptTokens()
{
    if (!m_filling && m_sandbox && m_sandbox->generator()) {
        const double mean = m_promptTokens->value();
        m_sandbox->generator()->setPromptTokens({Distribution::Shape::Normal, mean, mean / 2});
    }
}

void SandboxPanel::applyAnswerTokens()
{
    if (!m_filling && m_sandbox && m_sandbox->generator()) {
        const double mean = m_answerTokens->value();
        m_sandbox->generator()->setMaxTokens({Distribution::Shape::Normal, mean, mean / 3});
    }
}

} // namespace sluice::ui
