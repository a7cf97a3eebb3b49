#include "statusbar/consolestatusbar.h"
#include "statusbar/sourceindicator.h"
#include "theme.h"

#include <QApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHelpEvent>
#include <QLabel>
#include <QSignalSpy>
#include <QTest>
#include <QToolTip>

using namespace sluice::ui;

class TestConsoleStatusBar : public QObject {
    Q_OBJECT
private slots:
    void formatsAge_data();
    void formatsAge();
    void stateTexts();
    void setSourcesReplacesAndKeepsOrder();
    void removeSource();
    void dotColourFollowsState();
    void toolTipIsComposedWhenShown();
    void deploymentTagAndSandbox();
    void writesScreenshot();
};

void TestConsoleStatusBar::formatsAge_data()
{
    QTest::addColumn<qint64>("secondsAgo");
    QTest::addColumn<QString>("text");

    QTest::newRow("now") << qint64(0) << "just now";
    QTest::newRow("future") << qint64(-30) << "just now";
    QTest::newRow("1 s") << qint64(1) << "1 s ago";
    QTest::newRow("119 s") << qint64(119) << "119 s ago";
    QTest::newRow("2 min") << qint64(120) << "2 min ago";
    QTest::newRow("119 min") << qint64(2 * 3600 - 1) << "119 min ago";
    QTest::newRow("2 h") << qint64(2 * 3600) << "2 h ago";
    QTest::newRow("2 days") << qint64(48 * 3600) << "48 h ago";
}

void TestConsoleStatusBar::formatsAge()
{
    QFETCH(qint64, secondsAgo);
    QFETCH(QString, text);
    const QDateTime now = QDateTime::fromSecsSinceEpoch(1'700'000'000, Qt::UTC);
    QCOMPARE(formatUpdateAge(now.addSecs(-secondsAgo), now), text);
}

void TestConsoleStatusBar::stateTexts()
{
    QCOMPARE(sourceStateText(SourceStatus::State::Connected), QStringLiteral("connected"));
    QCOMPARE(sourceStateText(SourceStatus::State::Connecting), QStringLiteral("connecting"));
    QCOMPARE(sourceStateText(SourceStatus::State::Disconnected), QStringLiteral("disconnected"));
    QCOMPARE(sourceStateText(SourceStatus::State::Error), QStringLiteral("error"));
    QCOMPARE(formatUpdateAge(QDateTime(), QDateTime::currentDateTimeUtc()), QStringLiteral("never"));
}

void TestConsoleStatusBar::setSourcesReplacesAndKeepsOrder()
{
    ConsoleStatusBar bar;
    bar.updateSource({"old", "Old", SourceStatus::State::Connected, {}, {}});
    QPointer<SourceIndicator> old = bar.indicator("old");
    QVERIFY(old);

    const QList<SourceStatus> sources{
        {"admin:gw-1", "gw-1 admin", SourceStatus::State::Connected, {}, {}},
        {"admin:gw-2", "gw-2 admin", SourceStatus::State::Error, "timed out", {}},
        {"prometheus", "Prometheus", SourceStatus::State::Connecting, {}, {}},
        {"redis", "Redis", SourceStatus::State::Disconnected, {}, {}},
        {"postgres", "PostgreSQL", SourceStatus::State::Disconnected, {}, {}},
        {"sandbox", "Sandbox", SourceStatus::State::Connected, {}, {}},
    };
    bar.setSources(sources);
    QVERIFY(!old);
    QCOMPARE(bar.sources(), sources);
    QVERIFY(!bar.indicator("old"));
    QCOMPARE(bar.indicator("admin:gw-2")->stateText(), QStringLiteral("error"));
    QCOMPARE(bar.indicator("redis")->nameText(), QStringLiteral("Redis"));

    // Ids are unique: a repeated id keeps the last entry, in the first one's place.
    bar.setSources({{"a", "A", SourceStatus::State::Connected, {}, {}},
                    {"b", "B", SourceStatus::State::Connected, {}, {}},
                    {"a", "A2", SourceStatus::State::Error, {}, {}}});
    QCOMPARE(bar.sources().size(), 2);
    QCOMPARE(bar.sources().at(0).name, QStringLiteral("A2"));
}

void TestConsoleStatusBar::removeSource()
{
    ConsoleStatusBar bar;
    bar.updateSource({"redis", "Redis", SourceStatus::State::Connected, {}, {}});
    QVERIFY(!bar.removeSource("postgres"));
    QVERIFY(bar.removeSource("redis"));
    QVERIFY(bar.sources().isEmpty());
    QVERIFY(!bar.indicator("redis"));
}

void TestConsoleStatusBar::dotColourFollowsState()
{
    ConsoleStatusBar bar;
    bar.updateSource({"redis", "Redis", SourceStatus::State::Connected, {}, {}});
    auto *dot = bar.indicator("redis")->findChild<StatusDot *>();
    QVERIFY(dot);
    const bool dark = Theme::isDarkPalette(dot->palette());
    QCOMPARE(dot->color(), Theme::toneColor(Theme::Tone::Good, dark));
    bar.updateSource({"redis", "Redis", SourceStatus::State::Error, "NOAUTH", {}});
    QCOMPARE(dot->state(), SourceStatus::State::Error);
    QCOMPARE(dot->color(), Theme::toneColor(Theme::Tone::Bad, dark));
}

void TestConsoleStatusBar::toolTipIsComposedWhenShown()
{
    ConsoleStatusBar bar;
    bar.updateSource({"postgres", "PostgreSQL", SourceStatus::State::Error, "password authentication failed",
                      QDateTime::currentDateTimeUtc().addSecs(-3600)});
    bar.updateSource({"redis", "Redis", SourceStatus::State::Connecting, {}, {}});
    bar.show();
    QVERIFY(QTest::qWaitForWindowExposed(&bar));

    SourceIndicator *indicator = bar.indicator("postgres");
    QCOMPARE(indicator->toolTipText(QDateTime::currentDateTimeUtc()),
             QStringLiteral("PostgreSQL: error\nLast error: password authentication failed\nUpdated 60 min ago"));
    QCOMPARE(bar.indicator("redis")->toolTipText(QDateTime::currentDateTimeUtc()),
             QStringLiteral("Redis: connecting\nNo answer yet"));

    const QPoint local = indicator->rect().center();
    QHelpEvent help(QEvent::ToolTip, local, indicator->mapToGlobal(local));
    QApplication::sendEvent(indicator, &help);
    QTRY_VERIFY(QToolTip::isVisible());
    QVERIFY2(QToolTip::text().contains(QLatin1String("password authentication failed")), qPrintable(QToolTip::text()));
    QVERIFY(QToolTip::text().contains(QLatin1String("Updated ")));
    QToolTip::hideText();
}

void TestConsoleStatusBar::deploymentTagAndSandbox()
{
    ConsoleStatusBar bar;
    bar.show();
    QVERIFY(QTest::qWaitForWindowExposed(&bar));
    auto *tag = bar.findChild<QLabel *>("environmentTag");
    auto *sandbox = bar.findChild<QLabel *>("sandboxTag");
    QVERIFY(tag && sandbox);
    QVERIFY(!bar.hasDeployment());
    QVERIFY(!tag->isVisible());
    QVERIFY(!sandbox->isVisible());

    bar.setDeployment("eu-west", "production");
    QVERIFY(bar.hasDeployment());
    QCOMPARE(bar.deploymentText(), QStringLiteral("eu-west"));
    QCOMPARE(bar.environmentText(), QStringLiteral("production"));
    QVERIFY(tag->isVisible());
    QVERIFY(tag->styleSheet().contains(Theme::environmentColor("production").name()));

    bar.setDeployment("eu-west-staging", "staging");
    QVERIFY(tag->styleSheet().contains(Theme::environmentColor("staging").name()));
    QVERIFY(!tag->styleSheet().contains(Theme::environmentColor("production").name()));

    bar.setDeployment("no-tag", QString());
    QVERIFY(!tag->isVisible());
    QCOMPARE(bar.environmentText(), QString());

    bar.setSandboxActive(true);
    QVERIFY(sandbox->isVisible());
    QCOMPARE(sandbox->text(), QStringLiteral("Sandbox"));
    bar.setSandboxActive(false);
    QVERIFY(!sandbox->isVisible());

    bar.clearDeployment();
    QVERIFY(!bar.hasDeployment());
    QCOMPARE(bar.deploymentText(), QStringLiteral("No deployment connected"));
}

// For review of the indicator design: every state, a production tag and the sandbox tag.
void TestConsoleStatusBar::writesScreenshot()
{
    const QString directory = QStringLiteral(SLUICE_TEST_ARTIFACTS_DIR);
    QVERIFY(QDir().mkpath(directory));
    const QString path = QDir(directory).filePath(QStringLiteral("statusbar.png"));
    QFile::remove(path);

    ConsoleStatusBar bar;
    const QDateTime now = QDateTime::currentDateTimeUtc();
    bar.setDeployment("eu-west", "production");
    bar.setLiveUpdatesPaused(true);
    bar.setSources({{"admin:gw-1", "gw-1 admin", SourceStatus::State::Connected, {}, now},
                    {"admin:gw-2", "gw-2 admin", SourceStatus::State::Error, "connection refused", now},
                    {"prometheus", "Prometheus", SourceStatus::State::Connecting, {}, {}},
                    {"redis", "Redis", SourceStatus::State::Connected, {}, now},
                    {"postgres", "PostgreSQL", SourceStatus::State::Disconnected, {}, {}}});
    bar.resize(1000, bar.sizeHint().height());
    bar.show();
    QVERIFY(QTest::qWaitForWindowExposed(&bar));
    QVERIFY(bar.grab().save(path));
    QVERIFY(QFileInfo(path).size() > 0);
}

QTEST_MAIN(TestConsoleStatusBar)
#include "tst_consolestatusbar.moc"
