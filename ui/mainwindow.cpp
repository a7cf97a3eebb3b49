#include "mainwindow.h"

#include "consolesettings.h"
#include "panels/connectionspanel.h"
#include "panels/costcapacitypanel.h"
#include "panels/dashboardpanel.h"
#include "panels/redispanel.h"
#include "panels/sandboxpanel.h"
#include "panels/tuningpanel.h"
#include "panels/usagepanel.h"
#include "shortcutsdialog.h"
#include "statusbar/consolestatusbar.h"
#include "theme.h"

#include <QAction>
#include <QActionGroup>
#include <QCloseEvent>
#include <QCoreApplication>
#include <QHBoxLayout>
#include <QListWidget>
#include <QMenuBar>
#include <QScreen>
#include <QSignalBlocker>
#include <QStackedWidget>

namespace sluice::ui {

namespace {

constexpr std::array<PanelId, kPanelCount> kPanels = {PanelId::Dashboard, PanelId::Tuning, PanelId::CostCapacity,
                                                      PanelId::Sandbox,   PanelId::Redis,  PanelId::Usage,
                                                      PanelId::Connections};

int indexOf(PanelId panel)
{
    return int(panel);
}

// Action texts treat '&' as a mnemonic marker.
QString actionText(PanelId panel)
{
    return panelTitle(panel).replace(QLatin1Char('&'), QStringLiteral("&&"));
}

} // namespace

QString panelTitle(PanelId panel)
{
    switch (panel) {
    case PanelId::Dashboard:
        return MainWindow::tr("Dashboard");
    case PanelId::Tuning:
        return MainWindow::tr("Tuning");
    case PanelId::CostCapacity:
        return MainWindow::tr("Cost & capacity");
    case PanelId::Sandbox:
        return MainWindow::tr("Sandbox");
    case PanelId::Redis:
        return MainWindow::tr("Redis");
    case PanelId::Usage:
        return MainWindow::tr("Usage");
    case PanelId::Connections:
        return MainWindow::tr("Connections");
    }
    return {};
}

MainWindow::MainWindow(const ConsoleOptions &options, QWidget *parent)
    : QMainWindow(parent),
      m_options(options),
      m_settingsDirectory(options.settingsDirectory.isEmpty() ? defaultSettingsDirectory() : options.settingsDirectory),
      m_settings(std::make_unique<ConsoleSettings>(m_settingsDirectory)),
      m_theme(new Theme(this))
{
    setObjectName(QStringLiteral("mainWindow"));
    setWindowTitle(tr("Sluice"));

    m_statusBar = new ConsoleStatusBar(this);
    m_statusBar->setObjectName(QStringLiteral("statusBar"));
    setStatusBar(m_statusBar);

    createPanels();
    createActions();
    createMenus();

    const QSize preferred(1200, 780);
    const QRect available = screen() ? screen()->availableGeometry() : QRect(QPoint(0, 0), preferred);
    resize(preferred.boundedTo(available.size() * 9 / 10));
}

// Saving here as well as in closeEvent keeps the layout when the window is destroyed
// without being closed (main returning early, a test).
MainWindow::~MainWindow()
{
    if (m_everShown)
        saveSettings();
}

void MainWindow::createPanels()
{
    m_dashboard = new DashboardPanel;
    m_tuning = new TuningPanel;
    m_costCapacity = new CostCapacityPanel;
    m_sandbox = new SandboxPanel;
    m_redis = new RedisPanel;
    m_usage = new UsagePanel;
    m_connections = new ConnectionsPanel;
    m_panels = {m_dashboard, m_tuning, m_costCapacity, m_sandbox, m_redis, m_usage, m_connections};

    m_navigation = new QListWidget;
    m_navigation->setObjectName(QStringLiteral("navigation"));
    m_navigation->setAccessibleName(tr("Panels"));
    m_navigation->setSelectionMode(QAbstractItemView::SingleSelection);
    m_navigation->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_navigation->setSizePolicy(QSizePolicy::Fixed, QSizePolicy::Expanding);
    m_stack = new QStackedWidget;
    m_stack->setObjectName(QStringLiteral("panelStack"));
    int navigationWidth = 0;
    const int rowHeight = m_navigation->fontMetrics().height() * 2;
    m_navigation->setSpacing(1);
    for (PanelId panel : kPanels) {
        auto *item = new QListWidgetItem(panelTitle(panel), m_navigation);
        item->setSizeHint(QSize(0, rowHeight));
        m_stack->addWidget(m_panels[indexOf(panel)]);
        navigationWidth = qMax(navigationWidth, m_navigation->fontMetrics().horizontalAdvance(panelTitle(panel)));
    }
    m_navigation->setFixedWidth(navigationWidth + 4 * m_navigation->fontMetrics().averageCharWidth() + 16);
    m_navigation->setCurrentRow(indexOf(m_currentPanel));
    connect(m_navigation, &QListWidget::currentRowChanged, this, [this](int row) {
        if (row >= 0 && row < kPanelCount)
            setCurrentPanel(kPanels[row]);
    });

    auto *central = new QWidget;
    auto *layout = new QHBoxLayout(central);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addWidget(m_navigation);
    layout->addWidget(m_stack, 1);
    setCentralWidget(central);
}

void MainWindow::createActions()
{
    m_panelGroup = new QActionGroup(this);
    m_panelGroup->setExclusive(true);
    for (PanelId panel : kPanels) {
        auto *action = new QAction(actionText(panel), this);
        action->setObjectName(QStringLiteral("show%1Action").arg(m_panels[indexOf(panel)]->objectName()));
        action->setCheckable(true);
        action->setChecked(panel == m_currentPanel);
        action->setShortcut(QKeySequence(Qt::CTRL | Qt::Key(Qt::Key_1 + indexOf(panel))));
        action->setStatusTip(tr("Show the %1 panel").arg(panelTitle(panel)));
        m_panelGroup->addAction(action);
        connect(action, &QAction::triggered, this, [this, panel] { setCurrentPanel(panel); });
        m_panelActions[indexOf(panel)] = action;
    }

    m_refreshAction = new QAction(tr("&Refresh now"), this);
    m_refreshAction->setObjectName(QStringLiteral("refreshAction"));
    m_refreshAction->setShortcut(QKeySequence(Qt::Key_F5));
    m_refreshAction->setStatusTip(tr("Fetch every source once, now, even while live updates are paused"));
    connect(m_refreshAction, &QAction::triggered, this, &MainWindow::refreshRequested);

    m_pauseAction = new QAction(tr("&Pause live updates"), this);
    m_pauseAction->setObjectName(QStringLiteral("pauseAction"));
    m_pauseAction->setCheckable(true);
    m_pauseAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_P));
    m_pauseAction->setStatusTip(tr("Stop or resume polling the connected sources"));
    connect(m_pauseAction, &QAction::toggled, this, [this](bool paused) {
        m_statusBar->setLiveUpdatesPaused(paused);
        emit liveUpdatesPausedChanged(paused);
    });

    m_quitAction = new QAction(tr("&Quit"), this);
    m_quitAction->setObjectName(QStringLiteral("quitAction"));
    m_quitAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Q));
    m_quitAction->setMenuRole(QAction::QuitRole);
    // Closing first saves the layout (closeEvent); quit() then also ends the application
    // if other top-level windows are open.
    connect(m_quitAction, &QAction::triggered, this, [this] {
        if (close())
            QCoreApplication::quit();
    });

    m_shortcutsAction = new QAction(tr("&Keyboard shortcuts"), this);
    m_shortcutsAction->setObjectName(QStringLiteral("shortcutsAction"));
    m_shortcutsAction->setShortcuts({QKeySequence(Qt::Key_F1), QKeySequence(Qt::CTRL | Qt::Key_Slash)});
    connect(m_shortcutsAction, &QAction::triggered, this, &MainWindow::showShortcuts);
}

void MainWindow::createMenus()
{
    QMenu *file = menuBar()->addMenu(tr("&File"));
    file->addAction(m_quitAction);

    QMenu *view = menuBar()->addMenu(tr("&View"));
    for (QAction *action : m_panelActions)
        view->addAction(action);
    view->addSeparator();
    view->addAction(m_refreshAction);
    view->addAction(m_pauseAction);

    QMenu *help = menuBar()->addMenu(tr("&Help"));
    help->addAction(m_shortcutsAction);

    // Shortcuts of actions that live only in menus stop working if the menu bar is
    // hidden (or native); adding them to the window keeps them active regardless.
    addActions(QList<QAction *>(m_panelActions.begin(), m_panelActions.end()));
    addActions({m_refreshAction, m_pauseAction, m_quitAction, m_shortcutsAction});
}

void MainWindow::restoreSettings()
{
    const QByteArray geometry = m_settings->windowGeometry();
    if (!geometry.isEmpty())
        restoreGeometry(geometry);
    const QByteArray state = m_settings->windowState();
    if (!state.isEmpty())
        restoreState(state);
    const QString panelName = m_settings->lastPanel();
    for (PanelId panel : kPanels) {
        if (m_panels[indexOf(panel)]->objectName() == panelName) {
            setCurrentPanel(panel);
            break;
        }
    }
}

void MainWindow::saveSettings()
{
    m_settings->setWindowGeometry(saveGeometry());
    m_settings->setWindowState(saveState());
    m_settings->setLastPanel(currentPanelWidget()->objectName());
    if (!m_settings->sync())
        qWarning("sluice: cannot write settings to %s", qUtf8Printable(m_settings->filePath()));
}

void MainWindow::setCurrentPanel(PanelId panel)
{
    const int index = indexOf(panel);
    {
        const QSignalBlocker blocker(m_navigation);
        m_navigation->setCurrentRow(index);
    }
    m_panelActions[index]->setChecked(true);
    m_stack->setCurrentIndex(index);
    if (panel == m_currentPanel)
        return;
    m_currentPanel = panel;
    emit currentPanelChanged(panel);
}

QWidget *MainWindow::panelWidget(PanelId panel) const
{
    return m_panels[indexOf(panel)];
}

QAction *MainWindow::panelAction(PanelId panel) const
{
    return m_panelActions[indexOf(panel)];
}

bool MainWindow::liveUpdatesPaused() const
{
    return m_pauseAction->isChecked();
}

void MainWindow::setLiveUpdatesPaused(bool paused)
{
    m_pauseAction->setChecked(paused);
}

QString MainWindow::startupProfileName() const
{
    if (m_options.forceSandbox)
        return {};
    if (!m_options.profileName.isEmpty())
        return m_options.profileName;
    return m_settings->lastProfileName();
}

void MainWindow::setLastProfileName(const QString &profileName)
{
    m_settings->setLastProfileName(profileName);
    m_settings->sync();
}

QString MainWindow::lastProfileName() const
{
    return m_settings->lastProfileName();
}

QList<QAction *> MainWindow::shortcutActions() const
{
    QList<QAction *> result;
    const QList<QAction *> all = findChildren<QAction *>();
    for (QAction *action : all) {
        if (!action->shortcuts().isEmpty() && !result.contains(action))
            result.append(action);
    }
    return result;
}

void MainWindow::showShortcuts()
{
    if (m_shortcutsDialog) {
        m_shortcutsDialog->close();
        delete m_shortcutsDialog;
    }
    m_shortcutsDialog = new ShortcutsDialog(shortcutActions(), this);
    m_shortcutsDialog->setAttribute(Qt::WA_DeleteOnClose);
    m_shortcutsDialog->open();
}

ShortcutsDialog *MainWindow::shortcutsDialog() const
{
    return m_shortcutsDialog;
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    if (m_everShown)
        saveSettings();
    QMainWindow::closeEvent(event);
}

void MainWindow::showEvent(QShowEvent *event)
{
    QMainWindow::showEvent(event);
    m_everShown = true;
    setLiveViewVisible(!isMinimized());
}

void MainWindow::hideEvent(QHideEvent *event)
{
    QMainWindow::hideEvent(event);
    setLiveViewVisible(false);
}

void MainWindow::changeEvent(QEvent *event)
{
    QMainWindow::changeEvent(event);
    if (event->type() == QEvent::WindowStateChange)
        setLiveViewVisible(isVisible() && !isMinimized());
}

void MainWindow::setLiveViewVisible(bool visible)
{
    if (visible == m_liveViewVisible)
        return;
    m_liveViewVisible = visible;
    emit liveViewVisibilityChanged(visible);
}

} // namespace sluice::ui
