#include "statusbar/consolestatusbar.h"

#include "statusbar/sourceindicator.h"
#include "theme.h"

#include <QHBoxLayout>
#include <QLabel>

namespace sluice::ui {

namespace {

QString tagStyle(const QColor &background, const QColor &text)
{
    return QStringLiteral("QLabel { background-color: %1; color: %2; border-radius: 3px; padding: 1px 6px; "
                          "font-weight: bold; }")
        .arg(background.name(), text.name());
}

} // namespace

ConsoleStatusBar::ConsoleStatusBar(QWidget *parent)
    : QStatusBar(parent),
      m_environment(new QLabel(this)),
      m_deployment(new QLabel(this)),
      m_sandbox(new QLabel(tr("Sandbox"), this)),
      m_paused(new QLabel(tr("Live updates paused"), this)),
      m_sourceBox(new QWidget(this)),
      m_sourceLayout(new QHBoxLayout(m_sourceBox))
{
    m_environment->setObjectName(QStringLiteral("environmentTag"));
    m_deployment->setObjectName(QStringLiteral("deploymentLabel"));
    m_sandbox->setObjectName(QStringLiteral("sandboxTag"));
    m_paused->setObjectName(QStringLiteral("pausedLabel"));
    m_sandbox->setStyleSheet(tagStyle(Theme::environmentColor(QStringLiteral("sandbox")),
                                      Theme::environmentTextColor(QStringLiteral("sandbox"))));
    m_sandbox->setToolTip(tr("The console is showing its embedded sandbox gateway, not a real deployment"));
    m_paused->setToolTip(tr("Live updates are paused (Ctrl+P resumes); F5 refreshes once"));
    m_sourceLayout->setContentsMargins(0, 0, 0, 0);
    m_sourceLayout->setSpacing(0);

    addWidget(m_environment);
    addWidget(m_deployment);
    addWidget(m_sandbox);
    addWidget(m_paused);
    addPermanentWidget(m_sourceBox);

    m_sandbox->hide();
    m_paused->hide();
    clearDeployment();
}

void ConsoleStatusBar::setSources(const QList<SourceStatus> &sources)
{
    for (SourceIndicator *indicator : std::as_const(m_indicators))
        delete indicator;
    m_indicators.clear();
    for (const SourceStatus &status : sources)
        updateSource(status);
}

void ConsoleStatusBar::updateSource(const SourceStatus &status)
{
    if (SourceIndicator *existing = indicator(status.id)) {
        existing->setStatus(status);
        return;
    }
    auto *created = new SourceIndicator(status, m_sourceBox);
    m_sourceLayout->addWidget(created);
    m_indicators.append(created);
}

bool ConsoleStatusBar::removeSource(const QString &id)
{
    SourceIndicator *found = indicator(id);
    if (!found)
        return false;
    m_indicators.removeOne(found);
    delete found;
    return true;
}

QList<SourceStatus> ConsoleStatusBar::sources() const
{
    QList<SourceStatus> result;
    result.reserve(m_indicators.size());
    for (const SourceIndicator *indicator : m_indicators)
        result.append(indicator->status());
    return result;
}

SourceIndicator *ConsoleStatusBar::indicator(const QString &id) const
{
    for (SourceIndicator *indicator : m_indicators) {
        if (indicator->status().id == id)
            return indicator;
    }
    return nullptr;
}

void ConsoleStatusBar::setDeployment(const QString &name, const QString &environment)
{
    m_deploymentName = name;
    m_environmentName = environment.trimmed();
    m_deployment->setText(name);
    m_deployment->setToolTip(tr("Deployment: %1").arg(name));
    applyEnvironmentStyle();
}

void ConsoleStatusBar::clearDeployment()
{
    m_deploymentName.clear();
    m_environmentName.clear();
    m_deployment->setText(tr("No deployment connected"));
    m_deployment->setToolTip(tr("Open a connection profile, or start the sandbox"));
    applyEnvironmentStyle();
}

QString ConsoleStatusBar::deploymentText() const
{
    return m_deployment->text();
}

QString ConsoleStatusBar::environmentText() const
{
    return m_environment->isHidden() ? QString() : m_environment->text();
}

void ConsoleStatusBar::setSandboxActive(bool active)
{
    m_sandboxActive = active;
    m_sandbox->setVisible(active);
}

void ConsoleStatusBar::setLiveUpdatesPaused(bool paused)
{
    m_livePaused = paused;
    m_paused->setVisible(paused);
}

void ConsoleStatusBar::applyEnvironmentStyle()
{
    if (m_environmentName.isEmpty()) {
        m_environment->clear();
        m_environment->hide();
        return;
    }
    m_environment->setText(m_environmentName);
    m_environment->setStyleSheet(
        tagStyle(Theme::environmentColor(m_environmentName), Theme::environmentTextColor(m_environmentName)));
    m_environment->setToolTip(tr("Environment: %1").arg(m_environmentName));
    m_environment->show();
}

} // namespace sluice::ui
