#include "consoleoptions.h"

#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>

namespace sluice::ui {

namespace {

ConsoleOptions failure(const QString &reason)
{
    ConsoleOptions options;
    options.action = ConsoleOptions::Action::Fail;
    options.message = QStringLiteral("sluice: %1\nTry 'sluice --help' for the options.").arg(reason);
    return options;
}

} // namespace

ConsoleOptions parseConsoleArguments(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Sluice console: watch and tune Sluice gateway deployments, or try policies in a local sandbox."));
    const QCommandLineOption helpOption = parser.addHelpOption();
    const QCommandLineOption versionOption = parser.addVersionOption();
    const QCommandLineOption profileOption(QStringLiteral("profile"),
                                           QStringLiteral("Open the connection profile <name> at start."),
                                           QStringLiteral("name"));
    const QCommandLineOption settingsOption(
        QStringLiteral("settings-dir"),
        QStringLiteral("Keep settings (window layout, last panel, last profile) in <dir> instead of the "
                       "per-user configuration directory."),
        QStringLiteral("dir"));
    const QCommandLineOption sandboxOption(
        QStringLiteral("sandbox"),
        QStringLiteral("Start the local sandbox (gateway, simulated provider and users) instead of a profile."));
    parser.addOption(profileOption);
    parser.addOption(settingsOption);
    parser.addOption(sandboxOption);

    // parse(), not process(): process() prints and exits, which a test cannot observe.
    if (!parser.parse(arguments))
        return failure(parser.errorText());

    // addHelpOption() also registers --help-all (Qt's own options too); they are
    // documented by Qt, so it shows the same text.
    if (parser.isSet(helpOption) || parser.isSet(QStringLiteral("help-all"))) {
        ConsoleOptions options;
        options.action = ConsoleOptions::Action::ShowHelp;
        options.message = parser.helpText();
        return options;
    }
    if (parser.isSet(versionOption)) {
        ConsoleOptions options;
        options.action = ConsoleOptions::Action::ShowVersion;
        options.message = QStringLiteral("sluice %1").arg(consoleVersion());
        return options;
    }
    if (!parser.positionalArguments().isEmpty())
        return failure(QStringLiteral("unexpected argument '%1'.").arg(parser.positionalArguments().constFirst()));

    ConsoleOptions options;
    options.forceSandbox = parser.isSet(sandboxOption);
    if (parser.isSet(profileOption)) {
        const QStringList values = parser.values(profileOption);
        if (values.size() > 1)
            return failure(QStringLiteral("--profile given more than once."));
        options.profileName = values.constFirst().trimmed();
        if (options.profileName.isEmpty())
            return failure(QStringLiteral("--profile needs a non-empty name."));
        if (options.forceSandbox)
            return failure(QStringLiteral("--profile and --sandbox exclude each other."));
    }
    if (parser.isSet(settingsOption)) {
        const QStringList values = parser.values(settingsOption);
        if (values.size() > 1)
            return failure(QStringLiteral("--settings-dir given more than once."));
        if (values.constFirst().isEmpty())
            return failure(QStringLiteral("--settings-dir needs a directory."));
        const QFileInfo directory(values.constFirst());
        if (directory.exists() && !directory.isDir())
            return failure(QStringLiteral("--settings-dir: '%1' exists and is not a directory.").arg(values.constFirst()));
        options.settingsDirectory = QDir::cleanPath(directory.absoluteFilePath());
    }
    return options;
}

QString consoleVersion()
{
    return QStringLiteral(SLUICE_VERSION);
}

QString defaultSettingsDirectory()
{
    return QStandardPaths::writableLocation(QStandardPaths::AppConfigLocation);
}

} // namespace sluice::ui
