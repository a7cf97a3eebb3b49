#include "consoleoptions.h"
#include "mainwindow.h"
#include "panels/dashboardpanel.h"
#include "panels/emptystate.h"
#include "shortcutsdialog.h"
#include "statusbar/consolestatusbar.h"
#include "statusbar/sourceindicator.h"

#include <QAbstractButton>
#include <QAction>
#include <QApplication>
#include <QDir>
#include <QFileInfo>
#include <QLabel>
#include <QListWidget>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QStackedWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeWidget>

#include <memory>
#include <vector>

using namespace sluice::ui;

namespace {

QString withoutMnemonic(QString text)
{
    return text.replace(QStringLiteral("&&"), QStringLiteral("\x01")).remove(QLatin1Char('&')).replace(
        QStringLiteral("\x01"), QStringLiteral("&"));
}

QString stackedPanelName(const MainWindow &window)
{
    const auto *stack = window.findChild<QStackedWidget *>(QStringLiteral("panelStack"));
    return stack && stack->currentWidget() ? stack->currentWidget()->objectName() : QString();
}

} // namespace

class TestMainWindow : public QObject {
    Q_OBJECT
private slots:
    void init();
    void cleanup();

    void switchesPanelsWithShortcuts_data();
    void switchesPanelsWithShortcuts();
    void navigationListSwitchesPanel();
    void panelsShowHonestEmptyStates();
    void shortcutsDialogListsEveryShortcut();
    void refreshAndPauseEmitSignals();
    void quitShortcutClosesAndSaves();
    void restoresSettingsWithoutRunningActions();
    void freshSettingsStartOnDashboard();
    void neverShownWindowDoesNotOverwriteSettings();
    void startupProfile();
    void statusBarShowsUpdatedSource();
    void liveViewFollowsWindowVisibility();
    void writesScreenshot();

private:
    ConsoleOptions options() const;
    std::unique_ptr<QTemporaryDir> m_settings;
};

void TestMainWindow::init()
{
    m_settings = std::make_unique<QTemporaryDir>();
    QVERIFY(m_settings->isValid());
}

void TestMainWindow::cleanup()
{
    m_settings.reset();
}

ConsoleOptions TestMainWindow::options() const
{
    ConsoleOptions result;
    result.settingsDirectory = m_settings->path();
    return result;
}

void TestMainWindow::switchesPanelsWithShortcuts_data()
{
    QTest::addColumn<int>("digit");
    QTest::addColumn<PanelId>("panel");
    QTest::addColumn<QString>("objectName");

    QTest::newRow("Ctrl+1 dashboard") << 1 << PanelId::Dashboard << "dashboardPanel";
    QTest::newRow("Ctrl+2 tuning") << 2 << PanelId::Tuning << "tuningPanel";
    QTest::newRow("Ctrl+3 cost & capacity") << 3 << PanelId::CostCapacity << "costCapacityPanel";
    QTest::newRow("Ctrl+4 sandbox") << 4 << PanelId::Sandbox << "sandboxPanel";
    QTest::newRow("Ctrl+5 redis") << 5 << PanelId::Redis << "redisPanel";
    QTest::newRow("Ctrl+6 usage") << 6 << PanelId::Usage << "usagePanel";
    QTest::newRow("Ctrl+7 connections") << 7 << PanelId::Connections << "connectionsPanel";
}

void TestMainWindow::switchesPanelsWithShortcuts()
{
    QFETCH(int, digit);
    QFETCH(PanelId, panel);
    QFETCH(QString, objectName);

    MainWindow window(options());
    window.show();
    QVERIFY(QTest::qWaitForWindowActive(&window));
    // Start elsewhere so the shortcut has to change something.
    const PanelId other = panel == PanelId::Connections ? PanelId::Dashboard : PanelId::Connections;
    window.setCurrentPanel(other);
    QCOMPARE(window.currentPanel(), other);
    QSignalSpy changed(&window, &MainWindow::currentPanelChanged);

    QTest::keyClick(&window, Qt::Key(Qt::Key_0 + digit), Qt::ControlModifier);

    QCOMPARE(window.currentPanel(), panel);
    QCOMPARE(window.currentPanelWidget()->objectName(), objectName);
    QCOMPARE(stackedPanelName(window), objectName);
    QCOMPARE(window.findChild<QListWidget *>(QStringLiteral("navigation"))->currentRow(), digit - 1);
    QVERIFY(window.panelAction(panel)->isChecked());
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed.at(0).at(0).value<PanelId>(), panel);
}

void TestMainWindow::navigationListSwitchesPanel()
{
    MainWindow window(options());
    auto *navigation = window.findChild<QListWidget *>(QStringLiteral("navigation"));
    QVERIFY(navigation);
    QCOMPARE(navigation->count(), kPanelCount);
    const QStringList expectedTitles{"Dashboard", "Tuning", "Cost & capacity", "Sandbox", "Redis", "Usage",
                                     "Connections"};
    for (int row = 0; row < navigation->count(); ++row)
        QCOMPARE(navigation->item(row)->text(), expectedTitles.at(row));

    navigation->setCurrentRow(2);
    QCOMPARE(window.currentPanel(), PanelId::CostCapacity);
    QCOMPARE(stackedPanelName(window), QStringLiteral("costCapacityPanel"));
    QVERIFY(window.panelAction(PanelId::CostCapacity)->isChecked());
    QVERIFY(!window.panelAction(PanelId::Dashboard)->isChecked());
}

void TestMainWindow::panelsShowHonestEmptyStates()
{
    MainWindow window(options());
    const QRegularExpression digits(QStringLiteral("\\d"));
    for (int index = 0; index < kPanelCount; ++index) {
        QWidget *panel = window.panelWidget(PanelId(index));
        QVERIFY(panel);
        const auto *empty = panel->findChild<EmptyState *>();
        QVERIFY2(empty, qPrintable(panel->objectName()));
        QVERIFY(!empty->title().isEmpty());
        QVERIFY(!empty->message().isEmpty());
        // No fake numbers and no buttons that do nothing.
        QVERIFY2(!empty->title().contains(digits) && !empty->message().contains(digits),
                 qPrintable(empty->message()));
        QVERIFY2(panel->findChildren<QAbstractButton *>().isEmpty(), qPrintable(panel->objectName()));
    }
    QVERIFY(window.dashboardPanel()->findChild<EmptyState *>()->message().contains(QLatin1String("Prometheus")));
}

void TestMainWindow::shortcutsDialogListsEveryShortcut()
{
    MainWindow window(options());
    window.show();
    QVERIFY(QTest::qWaitForWindowActive(&window));

    QTest::keyClick(&window, Qt::Key_F1);
    QTRY_VERIFY(window.shortcutsDialog() && window.shortcutsDialog()->isVisible());
    auto *list = window.shortcutsDialog()->findChild<QTreeWidget *>(QStringLiteral("shortcutList"));
    QVERIFY(list);

    QList<QPair<QString, QString>> shown;
    for (int row = 0; row < list->topLevelItemCount(); ++row)
        shown.append({list->topLevelItem(row)->text(0), list->topLevelItem(row)->text(1)});

    int withShortcut = 0;
    for (QAction *action : window.findChildren<QAction *>()) {
        if (action->shortcuts().isEmpty())
            continue;
        ++withShortcut;
        QStringList keys;
        for (const QKeySequence &sequence : action->shortcuts())
            keys << sequence.toString(QKeySequence::NativeText);
        const QPair<QString, QString> expected{withoutMnemonic(action->text()), keys.join(QStringLiteral(", "))};
        QVERIFY2(shown.contains(expected), qPrintable(expected.first + QLatin1String(" / ") + expected.second));
    }
    QCOMPARE(shown.size(), withShortcut);
    // 7 panels, refresh, pause, quit, shortcuts.
    QCOMPARE(withShortcut, 11);
    const QStringList keysShown = [&] {
        QStringList keys;
        for (const auto &row : shown)
            keys << row.second;
        return keys;
    }();
    for (const char *keys : {"Ctrl+1", "Ctrl+7", "F5", "Ctrl+P", "Ctrl+Q", "F1, Ctrl+/"})
        QVERIFY2(keysShown.contains(QLatin1String(keys)), keys);
    QVERIFY(shown.contains({QStringLiteral("Cost & capacity"), QStringLiteral("Ctrl+3")}));

    // The list is generated: an action added later (a panel's own) shows up next time.
    auto *zoom = new QAction(QStringLiteral("Reset &zoom"), window.dashboardPanel());
    zoom->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_0));
    window.shortcutsDialog()->close();
    QTRY_VERIFY(!window.shortcutsDialog());
    // The offscreen platform does not hand activation back when a dialog closes.
    window.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&window));
    QTest::keyClick(&window, Qt::Key_Slash, Qt::ControlModifier);
    QTRY_VERIFY(window.shortcutsDialog() && window.shortcutsDialog()->isVisible());
    QVERIFY(window.shortcutsDialog()->rows().contains(ShortcutRow{QStringLiteral("Reset zoom"), QStringLiteral("Ctrl+0")}));
    QCOMPARE(window.shortcutsDialog()->rows().size(), withShortcut + 1);
}

void TestMainWindow::refreshAndPauseEmitSignals()
{
    MainWindow window(options());
    window.show();
    QVERIFY(QTest::qWaitForWindowActive(&window));
    QSignalSpy refresh(&window, &MainWindow::refreshRequested);
    QSignalSpy paused(&window, &MainWindow::liveUpdatesPausedChanged);
    auto *pausedLabel = window.consoleStatusBar()->findChild<QLabel *>(QStringLiteral("pausedLabel"));
    QVERIFY(pausedLabel);
    QVERIFY(!pausedLabel->isVisible());

    QTest::keyClick(&window, Qt::Key_F5);
    QCOMPARE(refresh.count(), 1);
    QCOMPARE(paused.count(), 0);

    QTest::keyClick(&window, Qt::Key_P, Qt::ControlModifier);
    QCOMPARE(paused.count(), 1);
    QCOMPARE(paused.at(0).at(0).toBool(), true);
    QVERIFY(window.liveUpdatesPaused());
    QVERIFY(pausedLabel->isVisible());

    // Refresh still works while paused.
    QTest::keyClick(&window, Qt::Key_F5);
    QCOMPARE(refresh.count(), 2);

    QTest::keyClick(&window, Qt::Key_P, Qt::ControlModifier);
    QCOMPARE(paused.count(), 2);
    QCOMPARE(paused.at(1).at(0).toBool(), false);
    QVERIFY(!window.liveUpdatesPaused());
    QVERIFY(!pausedLabel->isVisible());
}

void TestMainWindow::quitShortcutClosesAndSaves()
{
    const QString file = QDir(m_settings->path()).filePath(QStringLiteral("console.ini"));
    MainWindow window(options());
    window.show();
    QVERIFY(QTest::qWaitForWindowActive(&window));
    window.setCurrentPanel(PanelId::Usage);
    QVERIFY(!QFileInfo::exists(file) || QFileInfo(file).size() == 0);

    QTest::keyClick(&window, Qt::Key_Q, Qt::ControlModifier);
    QVERIFY(!window.isVisible());
    QVERIFY(QFileInfo(file).size() > 0);
    MainWindow next(options());
    next.restoreSettings();
    QCOMPARE(next.currentPanel(), PanelId::Usage);
}

void TestMainWindow::restoresSettingsWithoutRunningActions()
{
    const QSize savedSize(640, 480);
    {
        MainWindow first(options());
        first.restoreSettings();
        first.show();
        QVERIFY(QTest::qWaitForWindowActive(&first));
        first.resize(savedSize);
        QTRY_COMPARE(first.size(), savedSize);
        QTest::keyClick(&first, Qt::Key_5, Qt::ControlModifier);
        QCOMPARE(first.currentPanel(), PanelId::Redis);
        first.close();
    }
    QVERIFY(QFileInfo(QDir(m_settings->path()).filePath(QStringLiteral("console.ini"))).size() > 0);

    MainWindow second(options());
    QCOMPARE(second.currentPanel(), PanelId::Dashboard); // the constructor applies nothing
    QSignalSpy refresh(&second, &MainWindow::refreshRequested);
    QSignalSpy paused(&second, &MainWindow::liveUpdatesPausedChanged);
    std::vector<std::unique_ptr<QSignalSpy>> triggered;
    const QList<QAction *> actions = second.findChildren<QAction *>();
    QVERIFY(actions.size() >= 11);
    for (QAction *action : actions)
        triggered.push_back(std::make_unique<QSignalSpy>(action, &QAction::triggered));

    second.restoreSettings();
    QCOMPARE(second.currentPanel(), PanelId::Redis);
    QCOMPARE(second.currentPanelWidget()->objectName(), QStringLiteral("redisPanel"));
    QCOMPARE(stackedPanelName(second), QStringLiteral("redisPanel"));
    second.show();
    QVERIFY(QTest::qWaitForWindowExposed(&second));
    QCOMPARE(second.size(), savedSize);
    QCoreApplication::processEvents();

    QCOMPARE(refresh.count(), 0);
    QCOMPARE(paused.count(), 0);
    QVERIFY(!second.liveUpdatesPaused());
    for (std::size_t i = 0; i < triggered.size(); ++i)
        QVERIFY2(triggered[i]->isEmpty(), qPrintable(actions.at(qsizetype(i))->text()));
}

void TestMainWindow::freshSettingsStartOnDashboard()
{
    MainWindow window(options());
    window.restoreSettings();
    QCOMPARE(window.currentPanel(), PanelId::Dashboard);
    QCOMPARE(stackedPanelName(window), QStringLiteral("dashboardPanel"));
    QVERIFY(window.startsInSandbox());
    QVERIFY(window.startupProfileName().isEmpty());
}

void TestMainWindow::neverShownWindowDoesNotOverwriteSettings()
{
    {
        MainWindow first(options());
        first.show();
        QVERIFY(QTest::qWaitForWindowExposed(&first));
        first.setCurrentPanel(PanelId::Usage);
        first.close();
    }
    {
        MainWindow hidden(options());
        hidden.setCurrentPanel(PanelId::Tuning);
    }
    MainWindow third(options());
    third.restoreSettings();
    QCOMPARE(third.currentPanel(), PanelId::Usage);
}

void TestMainWindow::startupProfile()
{
    {
        MainWindow first(options());
        QCOMPARE(first.startupProfileName(), QString());
        first.setLastProfileName(QStringLiteral("staging-eu"));
    }
    {
        MainWindow second(options());
        QCOMPARE(second.lastProfileName(), QStringLiteral("staging-eu"));
        QCOMPARE(second.startupProfileName(), QStringLiteral("staging-eu"));
        QVERIFY(!second.startsInSandbox());
    }
    {
        ConsoleOptions withProfile = options();
        withProfile.profileName = QStringLiteral("prod-us");
        MainWindow window(withProfile);
        QCOMPARE(window.startupProfileName(), QStringLiteral("prod-us"));
        QCOMPARE(window.lastProfileName(), QStringLiteral("staging-eu")); // remembered only once opened
    }
    {
        ConsoleOptions sandbox = options();
        sandbox.forceSandbox = true;
        MainWindow window(sandbox);
        QVERIFY(window.startupProfileName().isEmpty());
        QVERIFY(window.startsInSandbox());
    }
}

void TestMainWindow::statusBarShowsUpdatedSource()
{
    MainWindow window(options());
    ConsoleStatusBar *bar = window.consoleStatusBar();
    QCOMPARE(window.statusBar(), bar);
    QVERIFY(bar->sources().isEmpty());
    QCOMPARE(bar->deploymentText(), QStringLiteral("No deployment connected"));

    const QDateTime now = QDateTime::currentDateTimeUtc();
    bar->updateSource({QStringLiteral("prometheus"), QStringLiteral("Prometheus"), SourceStatus::State::Connecting,
                       QString(), QDateTime()});
    SourceIndicator *indicator = window.findChild<SourceIndicator *>(QStringLiteral("source:prometheus"));
    QVERIFY(indicator);
    QCOMPARE(bar->indicator(QStringLiteral("prometheus")), indicator);
    QCOMPARE(indicator->nameText(), QStringLiteral("Prometheus"));
    QCOMPARE(indicator->stateText(), QStringLiteral("connecting"));

    bar->updateSource({QStringLiteral("prometheus"), QStringLiteral("Prometheus"), SourceStatus::State::Error,
                       QStringLiteral("connection refused"), now.addSecs(-42)});
    QCOMPARE(bar->indicator(QStringLiteral("prometheus")), indicator);
    QCOMPARE(bar->sources().size(), 1);
    QCOMPARE(indicator->stateText(), QStringLiteral("error"));
    QCOMPARE(indicator->toolTipText(now),
             QStringLiteral("Prometheus: error\nLast error: connection refused\nUpdated 42 s ago"));

    bar->updateSource({QStringLiteral("admin:gw-1"), QStringLiteral("gw-1 admin"), SourceStatus::State::Connected,
                       QString(), now});
    QCOMPARE(bar->sources().size(), 2);
    QCOMPARE(bar->sources().at(1).id, QStringLiteral("admin:gw-1"));
    QCOMPARE(bar->indicator(QStringLiteral("admin:gw-1"))->stateText(), QStringLiteral("connected"));

    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QVERIFY(indicator->isVisible());
    QVERIFY(bar->indicator(QStringLiteral("admin:gw-1"))->isVisible());
}

void TestMainWindow::liveViewFollowsWindowVisibility()
{
    MainWindow window(options());
    QSignalSpy visibility(&window, &MainWindow::liveViewVisibilityChanged);
    QVERIFY(!window.liveViewVisible());

    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QVERIFY(window.liveViewVisible());
    QCOMPARE(visibility.count(), 1);
    QCOMPARE(visibility.last().at(0).toBool(), true);

    window.showMinimized();
    QTRY_VERIFY(!window.liveViewVisible());
    QCOMPARE(visibility.count(), 2);
    QCOMPARE(visibility.last().at(0).toBool(), false);

    window.showNormal();
    QTRY_VERIFY(window.liveViewVisible());
    QCOMPARE(visibility.count(), 3);
    QCOMPARE(visibility.last().at(0).toBool(), true);

    window.hide();
    QVERIFY(!window.liveViewVisible());
    QCOMPARE(visibility.count(), 4);
    QCOMPARE(visibility.last().at(0).toBool(), false);
}

void TestMainWindow::writesScreenshot()
{
    const QString directory = QStringLiteral(SLUICE_TEST_ARTIFACTS_DIR);
    QVERIFY(QDir().mkpath(directory));
    const QString path = QDir(directory).filePath(QStringLiteral("mainwindow.png"));
    QFile::remove(path);

    MainWindow window(options());
    window.resize(1000, 640);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QVERIFY(window.grab().save(path));

    const QFileInfo written(path);
    QVERIFY(written.exists());
    QVERIFY(written.size() > 0);
    const QImage image(path);
    QCOMPARE(image.size(), window.size() * window.devicePixelRatio());
}

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
