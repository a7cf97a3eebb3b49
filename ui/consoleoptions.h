#pragma once

#include <QString>
#include <QStringList>

namespace sluice::ui {

// What the `sluice` command line asked for. Parsing never exits the process and never
// prints: the caller prints `message` (stdout for help and version, stderr for Fail)
// and returns exitCode() when action is not Run.
struct ConsoleOptions {
    enum class Action {
        Run,         // start the console with the options below
        ShowHelp,    // message holds the help text
        ShowVersion, // message holds "sluice <version>"
        Fail,        // message holds the error and a hint to --help; exit code 2
    };

    Action action = Action::Run;
    // --profile NAME: the connection profile to open at start. Empty: the last one used,
    // or the sandbox when there is none.
    QString profileName;
    // --settings-dir DIR, made absolute. Empty: defaultSettingsDirectory().
    QString settingsDirectory;
    // --sandbox: start the embedded sandbox even if a profile was used last time.
    bool forceSandbox = false;
    QString message;

    int exitCode() const { return action == Action::Fail ? 2 : 0; }
};

// Parses a full argument list as QCoreApplication::arguments() gives it: the first
// element is the program name and is skipped. Qt's own options (-platform, -style ...)
// must already be removed, as QApplication does. Relative directories are resolved
// against the current directory. Needs no QCoreApplication.
ConsoleOptions parseConsoleArguments(const QStringList &arguments);

// "0.1.0": the project version the library was built from.
QString consoleVersion();

// Where settings live when --settings-dir is not given:
// QStandardPaths::AppConfigLocation, so the application and organisation names must be
// set first.
QString defaultSettingsDirectory();

} // namespace sluice::ui
