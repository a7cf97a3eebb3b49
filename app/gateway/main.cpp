#include <cstdio>

#include <QCommandLineParser>
#include <QCoreApplication>

#include "config/configcheck.h"
#include "config/configwriter.h"
#include "config/gatewayconfig.h"

namespace {

void printLine(FILE *stream, const QString &line)
{
    std::fputs(qUtf8Printable(line + QLatin1Char('\n')), stream);
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("sluice-gateway"));
    QCoreApplication::setApplicationVersion(QStringLiteral(SLUICE_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Sluice LLM API gateway"));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption checkConfig(
        QStringLiteral("check-config"),
        QStringLiteral("Validate a configuration file; print one \"path: reason\" line per problem and exit 1 if invalid."),
        QStringLiteral("file"));
    const QCommandLineOption printDefaultConfig(
        QStringLiteral("print-default-config"),
        QStringLiteral("Print a complete configuration with every field at its default."));
    parser.addOption(checkConfig);
    parser.addOption(printDefaultConfig);
    parser.process(app);

    if (parser.isSet(checkConfig) && parser.isSet(printDefaultConfig)) {
        printLine(stderr, QStringLiteral("sluice-gateway: use one of --check-config, --print-default-config"));
        return 2;
    }
    if (parser.isSet(printDefaultConfig)) {
        std::fputs(sluice::config::saveConfig(sluice::config::defaultConfig()).constData(), stdout);
        return 0;
    }
    if (parser.isSet(checkConfig)) {
        const auto report = sluice::config::checkConfigFile(parser.value(checkConfig));
        if (!report.ok) {
            for (const QString &error : report.errors)
                printLine(stderr, error);
            return 1;
        }
        printLine(stdout, report.summary);
        return 0;
    }
    printLine(stderr, QStringLiteral("sluice-gateway: nothing to do (serving comes in a later version); see --help"));
    return 2;
}
