#pragma once

#include "statusbar/sourcestatus.h"

#include <QList>
#include <QStatusBar>

class QHBoxLayout;
class QLabel;

namespace sluice::ui {

class SourceIndicator;

// The main window's status bar. Left: the deployment label (its environment as a
// coloured tag; production is red), a "Sandbox" tag while the embedded sandbox is the
// deployment, and "Live updates paused" while paused. Right: one SourceIndicator per
// data source, in the order they were first set.
//
// Only shows what it is told; it polls nothing. Thread affinity: GUI thread.
class ConsoleStatusBar : public QStatusBar {
    Q_OBJECT
public:
    explicit ConsoleStatusBar(QWidget *parent = nullptr);

    // Replaces every indicator with one per entry, in this order. Ids must be unique;
    // a repeated id keeps the last entry.
    void setSources(const QList<SourceStatus> &sources);
    // Updates the indicator with status.id, or appends one if the id is new.
    void updateSource(const SourceStatus &status);
    // Returns false if no indicator has that id.
    bool removeSource(const QString &id);

    QList<SourceStatus> sources() const;
    // nullptr if no indicator has that id.
    SourceIndicator *indicator(const QString &id) const;

    // name: the deployment or profile name; environment: "production", "staging" ...
    // (may be empty: no tag).
    void setDeployment(const QString &name, const QString &environment);
    // Back to "No deployment connected".
    void clearDeployment();
    QString deploymentText() const;
    QString environmentText() const;
    bool hasDeployment() const { return !m_deploymentName.isEmpty(); }

    void setSandboxActive(bool active);
    bool isSandboxActive() const { return m_sandboxActive; }

    void setLiveUpdatesPaused(bool paused);
    bool liveUpdatesPausedShown() const { return m_livePaused; }

private:
    void applyEnvironmentStyle();

    QLabel *m_environment = nullptr;
    QLabel *m_deployment = nullptr;
    QLabel *m_sandbox = nullptr;
    QLabel *m_paused = nullptr;
    QWidget *m_sourceBox = nullptr;
    QHBoxLayout *m_sourceLayout = nullptr;
    QList<SourceIndicator *> m_indicators;
    QString m_deploymentName;
    QString m_environmentName;
    bool m_sandboxActive = false;
    bool m_livePaused = false;
};

} // namespace sluice::ui
