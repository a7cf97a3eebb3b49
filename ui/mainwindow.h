#pragma once

#include "consoleoptions.h"

#include <QList>
#include <QMainWindow>
#include <QPointer>

#include <array>
#include <memory>

class QAction;
class QActionGroup;
class QListWidget;
class QStackedWidget;

namespace sluice::ui {

class ConnectionsPanel;
class ConsoleSettings;
class ConsoleStatusBar;
class CostCapacityPanel;
class DashboardPanel;
class RedisPanel;
class SandboxPanel;
class ShortcutsDialog;
class Theme;
class TuningPanel;
class UsagePanel;

// The panels in navigation order; Ctrl+1 .. Ctrl+7 follow it.
enum class PanelId { Dashboard, Tuning, CostCapacity, Sandbox, Redis, Usage, Connections };
inline constexpr int kPanelCount = 7;

// "Dashboard", "Tuning", "Cost & capacity", "Sandbox", "Redis", "Usage", "Connections".
QString panelTitle(PanelId panel);

// The console's main window: a navigation list on the left over the seven panels, a
// menu bar whose actions carry every keyboard shortcut, and the ConsoleStatusBar.
//
// Keys: Ctrl+1..7 panels, F5 refresh now (refreshRequested), Ctrl+P pause/resume live
// updates (liveUpdatesPausedChanged), Ctrl+Q quit (closes the window, then the
// application), F1 and Ctrl+/
// the shortcuts dialog, generated from the window's QActions.
//
// Settings (ConsoleSettings in options.settingsDirectory, else
// defaultSettingsDirectory()): the constructor only opens them; restoreSettings()
// applies geometry, dock/toolbar state and the last panel without triggering any
// action or emitting refreshRequested / liveUpdatesPausedChanged. They are saved when
// the window closes and when it is destroyed, but only once it has been shown, so a
// window that never appeared does not overwrite a layout.
//
// Live view: liveViewVisible() is true while the window is shown and not minimised;
// whatever polls for the console (the dashboard's scrapers) should stop while it is
// false and while liveUpdatesPaused().
//
// Owns its panels, status bar, Theme and settings. Thread affinity: GUI thread.
class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(const ConsoleOptions &options, QWidget *parent = nullptr);
    ~MainWindow() override;

    // Applies saved geometry, window state and last panel. Call once, before show().
    void restoreSettings();
    // Writes geometry, window state and current panel now.
    void saveSettings();
    QString settingsDirectory() const { return m_settingsDirectory; }

    PanelId currentPanel() const { return m_currentPanel; }
    void setCurrentPanel(PanelId panel);
    QWidget *panelWidget(PanelId panel) const;
    QWidget *currentPanelWidget() const { return panelWidget(m_currentPanel); }
    DashboardPanel *dashboardPanel() const { return m_dashboard; }
    TuningPanel *tuningPanel() const { return m_tuning; }
    CostCapacityPanel *costCapacityPanel() const { return m_costCapacity; }
    SandboxPanel *sandboxPanel() const { return m_sandbox; }
    RedisPanel *redisPanel() const { return m_redis; }
    UsagePanel *usagePanel() const { return m_usage; }
    ConnectionsPanel *connectionsPanel() const { return m_connections; }

    ConsoleStatusBar *consoleStatusBar() const { return m_statusBar; }
    Theme *theme() const { return m_theme; }

    bool liveViewVisible() const { return m_liveViewVisible; }
    bool liveUpdatesPaused() const;
    // As Ctrl+P does: emits liveUpdatesPausedChanged when the state changes.
    void setLiveUpdatesPaused(bool paused);

    // The profile to open at start: --profile, else the last one remembered; empty
    // with --sandbox or when none was ever opened. Reading it connects nothing.
    QString startupProfileName() const;
    // True with --sandbox or when there is no startup profile (the first start).
    bool startsInSandbox() const { return startupProfileName().isEmpty(); }
    // Remembers the profile now open (empty: none) for the next start.
    void setLastProfileName(const QString &profileName);
    QString lastProfileName() const;

    QAction *panelAction(PanelId panel) const;
    QAction *refreshAction() const { return m_refreshAction; }
    QAction *pauseAction() const { return m_pauseAction; }
    QAction *quitAction() const { return m_quitAction; }
    QAction *shortcutsAction() const { return m_shortcutsAction; }
    // Every QAction in the window (menus, panels) that has a shortcut, in creation order:
    // what the shortcuts dialog lists.
    QList<QAction *> shortcutActions() const;

    // Opens a freshly generated shortcuts dialog (window-modal, without blocking), closing
    // an open one first.
    void showShortcuts();
    // The open shortcuts dialog, or nullptr.
    ShortcutsDialog *shortcutsDialog() const;

signals:
    // F5 / View > Refresh now: fetch everything once, now, even while paused.
    void refreshRequested();
    void liveUpdatesPausedChanged(bool paused);
    void liveViewVisibilityChanged(bool visible);
    void currentPanelChanged(sluice::ui::PanelId panel);

protected:
    void closeEvent(QCloseEvent *event) override;
    void showEvent(QShowEvent *event) override;
    void hideEvent(QHideEvent *event) override;
    void changeEvent(QEvent *event) override;

private:
    void createPanels();
    void createActions();
    void createMenus();
    void setLiveViewVisible(bool visible);

    ConsoleOptions m_options;
    QString m_settingsDirectory;
    std::unique_ptr<ConsoleSettings> m_settings;
    Theme *m_theme = nullptr;

    QListWidget *m_navigation = nullptr;
    QStackedWidget *m_stack = nullptr;
    DashboardPanel *m_dashboard = nullptr;
    TuningPanel *m_tuning = nullptr;
    CostCapacityPanel *m_costCapacity = nullptr;
    SandboxPanel *m_sandbox = nullptr;
    RedisPanel *m_redis = nullptr;
    UsagePanel *m_usage = nullptr;
    ConnectionsPanel *m_connections = nullptr;
    std::array<QWidget *, kPanelCount> m_panels{};
    ConsoleStatusBar *m_statusBar = nullptr;

    QActionGroup *m_panelGroup = nullptr;
    std::array<QAction *, kPanelCount> m_panelActions{};
    QAction *m_refreshAction = nullptr;
    QAction *m_pauseAction = nullptr;
    QAction *m_quitAction = nullptr;
    QAction *m_shortcutsAction = nullptr;
    QPointer<ShortcutsDialog> m_shortcutsDialog;

    PanelId m_currentPanel = PanelId::Dashboard;
    bool m_liveViewVisible = false;
    bool m_everShown = false;
};

} // namespace sluice::ui

Q_DECLARE_METATYPE(sluice::ui::PanelId)
