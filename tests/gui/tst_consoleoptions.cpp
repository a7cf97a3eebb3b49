#include "consoleoptions.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using sluice::ui::ConsoleOptions;
using sluice::ui::parseConsoleArguments;

Q_DECLARE_METATYPE(ConsoleOptions::Action)

class TestConsoleOptions : public QObject {
    Q_OBJECT
private slots:
    void parsesRunOptions_data();
    void parsesRunOptions();
    void rejectsBadArguments_data();
    void rejectsBadArguments();
    void helpAndVersion_data();
    void helpAndVersion();
    void relativeSettingsDirectoryBecomesAbsolute();
    void settingsDirectoryThatIsAFileIsRejected();
};

void TestConsoleOptions::parsesRunOptions_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("profile");
    QTest::addColumn<QString>("settingsDirectory");
    QTest::addColumn<bool>("sandbox");

    QTest::newRow("nothing") << QStringList{} << QString() << QString() << false;
    QTest::newRow("profile") << QStringList{"--profile", "prod-eu"} << "prod-eu" << QString() << false;
    QTest::newRow("profile=") << QStringList{"--profile=staging"} << "staging" << QString() << false;
    QTest::newRow("profile trimmed") << QStringList{"--profile", "  prod  "} << "prod" << QString() << false;
    QTest::newRow("settings dir") << QStringList{"--settings-dir", "/tmp/sluice-settings-test"} << QString()
                                  << "/tmp/sluice-settings-test" << false;
    QTest::newRow("settings dir cleaned") << QStringList{"--settings-dir=/tmp//a/../b/"} << QString() << "/tmp/b"
                                          << false;
    QTest::newRow("sandbox") << QStringList{"--sandbox"} << QString() << QString() << true;
    QTest::newRow("sandbox and settings") << QStringList{"--sandbox", "--settings-dir", "/tmp/x"} << QString()
                                          << "/tmp/x" << true;
}

void TestConsoleOptions::parsesRunOptions()
{
    QFETCH(QStringList, arguments);
    QFETCH(QString, profile);
    QFETCH(QString, settingsDirectory);
    QFETCH(bool, sandbox);

    const ConsoleOptions options = parseConsoleArguments(QStringList{"sluice"} + arguments);
    QCOMPARE(options.action, ConsoleOptions::Action::Run);
    QCOMPARE(options.exitCode(), 0);
    QVERIFY2(options.message.isEmpty(), qPrintable(options.message));
    QCOMPARE(options.profileName, profile);
    QCOMPARE(options.settingsDirectory, settingsDirectory);
    QCOMPARE(options.forceSandbox, sandbox);
}

void TestConsoleOptions::rejectsBadArguments_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("expectedInMessage");

    QTest::newRow("unknown option") << QStringList{"--frobnicate"} << "frobnicate";
    QTest::newRow("unknown short option") << QStringList{"-x"} << "'x'";
    QTest::newRow("profile without value") << QStringList{"--profile"} << "profile";
    QTest::newRow("settings dir without value") << QStringList{"--settings-dir"} << "settings-dir";
    QTest::newRow("empty profile") << QStringList{"--profile="} << "--profile";
    QTest::newRow("blank profile") << QStringList{"--profile", "   "} << "--profile";
    QTest::newRow("empty settings dir") << QStringList{"--settings-dir="} << "--settings-dir";
    QTest::newRow("profile twice") << QStringList{"--profile", "a", "--profile", "b"} << "more than once";
    QTest::newRow("settings dir twice") << QStringList{"--settings-dir", "/a", "--settings-dir", "/b"}
                                        << "more than once";
    QTest::newRow("profile and sandbox") << QStringList{"--profile", "prod", "--sandbox"} << "--sandbox";
    QTest::newRow("positional") << QStringList{"prod"} << "'prod'";
    QTest::newRow("value for a flag") << QStringList{"--sandbox=yes"} << "sandbox";
}

void TestConsoleOptions::rejectsBadArguments()
{
    QFETCH(QStringList, arguments);
    QFETCH(QString, expectedInMessage);

    const ConsoleOptions options = parseConsoleArguments(QStringList{"sluice"} + arguments);
    QCOMPARE(options.action, ConsoleOptions::Action::Fail);
    QCOMPARE(options.exitCode(), 2);
    QVERIFY2(options.message.startsWith(QLatin1String("sluice: ")), qPrintable(options.message));
    QVERIFY2(options.message.contains(expectedInMessage), qPrintable(options.message));
    QVERIFY2(options.message.contains(QLatin1String("--help")), qPrintable(options.message));
}

void TestConsoleOptions::helpAndVersion_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<ConsoleOptions::Action>("action");

    QTest::newRow("--help") << QStringList{"--help"} << ConsoleOptions::Action::ShowHelp;
    QTest::newRow("-h") << QStringList{"-h"} << ConsoleOptions::Action::ShowHelp;
    QTest::newRow("--help-all") << QStringList{"--help-all"} << ConsoleOptions::Action::ShowHelp;
    QTest::newRow("help wins over other options") << QStringList{"--profile", "x", "--help"}
                                                  << ConsoleOptions::Action::ShowHelp;
    QTest::newRow("--version") << QStringList{"--version"} << ConsoleOptions::Action::ShowVersion;
    QTest::newRow("-v") << QStringList{"-v"} << ConsoleOptions::Action::ShowVersion;
}

void TestConsoleOptions::helpAndVersion()
{
    QFETCH(QStringList, arguments);
    QFETCH(ConsoleOptions::Action, action);

    const ConsoleOptions options = parseConsoleArguments(QStringList{"sluice"} + arguments);
    QCOMPARE(options.action, action);
    QCOMPARE(options.exitCode(), 0);
    if (action == ConsoleOptions::Action::ShowHelp) {
        for (const char *option : {"--profile <name>", "--settings-dir <dir>", "--sandbox", "--help", "--version"})
            QVERIFY2(options.message.contains(QLatin1String(option)), option);
    } else {
        QCOMPARE(options.message, QStringLiteral("sluice ") + sluice::ui::consoleVersion());
        QVERIFY(!sluice::ui::consoleVersion().isEmpty());
    }
}

void TestConsoleOptions::relativeSettingsDirectoryBecomesAbsolute()
{
    QTemporaryDir base;
    QVERIFY(base.isValid());
    const QString previous = QDir::currentPath();
    QVERIFY(QDir::setCurrent(base.path()));
    const ConsoleOptions options = parseConsoleArguments({"sluice", "--settings-dir", "conf/console"});
    QVERIFY(QDir::setCurrent(previous));

    QCOMPARE(options.action, ConsoleOptions::Action::Run);
    QCOMPARE(options.settingsDirectory, QDir(base.path()).filePath("conf/console"));
    QVERIFY(QDir::isAbsolutePath(options.settingsDirectory));
}

void TestConsoleOptions::settingsDirectoryThatIsAFileIsRejected()
{
    QTemporaryDir base;
    QVERIFY(base.isValid());
    const QString filePath = base.filePath("not-a-directory");
    QFile file(filePath);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.close();

    const ConsoleOptions options = parseConsoleArguments({"sluice", "--settings-dir", filePath});
    QCOMPARE(options.action, ConsoleOptions::Action::Fail);
    QCOMPARE(options.exitCode(), 2);
    QVERIFY2(options.message.contains("not a directory"), qPrintable(options.message));

    const ConsoleOptions existing = parseConsoleArguments({"sluice", "--settings-dir", base.path()});
    QCOMPARE(existing.action, ConsoleOptions::Action::Run);
}

QTEST_GUILESS_MAIN(TestConsoleOptions)
#include "tst_consoleoptions.moc"
