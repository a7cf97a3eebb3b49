#include <cstdio>

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QRandomGenerator>

#include "config/configcheck.h"
#include "config/configloader.h"
#include "config/configwriter.h"
#include "config/gatewayconfig.h"
#include "gateway/demosetup.h"
#include "gateway/gateway.h"
#include "gateway/loadcommand.h"
#include "gateway/simulatorcommandline.h"
#include "gateway/simulatorserver.h"
#include "gateway/unixsignals.h"

namespace {

using namespace sluice;

void printLine(FILE *stream, const QString &line)
{
    std::fputs(qUtf8Printable(line + QLatin1Char('\n')), stream);
    std::fflush(stream);
}

QByteArray generatedToken()
{
    QByteArray bytes(24, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(bytes.data()), bytes.size() / 4);
    return "sluice-admin-" + bytes.toHex();
}

std::optional<config::LogLevel> parseLevel(const QString &text)
{
    for (std::size_t i = 0; i < config::kLogLevelNames.size(); ++i) {
        if (text == QLatin1String(config::kLogLevelNames[i].data(), qsizetype(config::kLogLevelNames[i].size())))
            return config::LogLevel(i);
    }
    return std::nullopt;
}

// Runs until SIGTERM/SIGINT, draining the gateway first; SIGHUP reloads its config file.
int serve(QCoreApplication &app, gateway::Gateway &gateway, std::chrono::seconds drain)
{
    gateway::UnixSignals signalWatcher;
    QObject::connect(&signalWatcher, &gateway::UnixSignals::terminateRequested, &gateway,
                     [&gateway, drain](int) { gateway.shutdown(drain); });
    QObject::connect(&signalWatcher, &gateway::UnixSignals::reloadRequested, &gateway, [&gateway] {
        auto reloaded = gateway.reload();
        (void)reloaded; // logged by the gateway either way
    });
    QObject::connect(&gateway, &gateway::Gateway::drained, &app, &QCoreApplication::quit);
    return app.exec();
}

int runSimulate(QCoreApplication &app, const QStringList &arguments)
{
    if (arguments.contains(QStringLiteral("--help")) || arguments.contains(QStringLiteral("-h"))) {
        printLine(stdout, gateway::simulatorUsage());
        return 0;
    }
    auto options = gateway::parseSimulatorArguments(arguments);
    if (!options) {
        printLine(stderr, QStringLiteral("sluice-gateway simulate: ") + options.error());
        return 2;
    }
    gateway::SimulatorServer server(*options);
    auto port = server.listen();
    if (!port) {
        printLine(stderr, QStringLiteral("sluice-gateway simulate: cannot listen: ") + port.error().message);
        return 1;
    }
    printLine(stdout, QStringLiteral("simulated provider listening on %1 (OpenAI: %1/v1/chat/completions, "
                                     "Anthropic: %1/v1/messages)")
                          .arg(server.baseUrl()));
    gateway::UnixSignals signalWatcher;
    QObject::connect(&signalWatcher, &gateway::UnixSignals::terminateRequested, &app, &QCoreApplication::quit);
    return app.exec();
}

// `load`: simulated chat users against URL; prints the report, also after SIGINT/SIGTERM.
int runLoad(QCoreApplication &app, const QStringList &arguments)
{
    gateway::LoadCommand command([](const QString &line) { printLine(stdout, line); },
                                 [](const QString &line) { printLine(stderr, line); });
    if (const std::optional<int> exitCode = command.start(arguments))
        return *exitCode;
    gateway::UnixSignals signalWatcher;
    QObject::connect(&signalWatcher, &gateway::UnixSignals::terminateRequested, &command,
                     [&command](int) { command.interrupt(); });
    QObject::connect(&command, &gateway::LoadCommand::finished, &app, &QCoreApplication::exit);
    return app.exec();
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("sluice-gateway"));
    QCoreApplication::setApplicationVersion(QStringLiteral(SLUICE_VERSION));

    const QStringList arguments = QCoreApplication::arguments();
    if (arguments.size() >= 2 && arguments.at(1) == QLatin1String("simulate"))
        return runSimulate(app, arguments.mid(2));
    if (arguments.size() >= 2 && arguments.at(1) == QLatin1String("load"))
        return runLoad(app, arguments.mid(2));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Sluice LLM API gateway.\n\n"
                       "Also: sluice-gateway simulate --listen HOST:PORT [options]  (the simulated provider; "
                       "see simulate --help)\n"
                       "      sluice-gateway load --url URL [options]  (simulated chat users; see load --help)"));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption configOption(QStringLiteral("config"), QStringLiteral("Run the gateway with this configuration file."),
                                          QStringLiteral("file"));
    const QCommandLineOption checkConfig(
        QStringLiteral("check-config"),
        QStringLiteral("Validate a configuration file; print one \"path: reason\" line per problem and exit 1 if invalid."),
        QStringLiteral("file"));
    const QCommandLineOption printDefaultConfig(QStringLiteral("print-default-config"),
                                                QStringLiteral("Print a complete configuration with every field at its default."));
    const QCommandLineOption demo(QStringLiteral("demo"),
                                  QStringLiteral("Run the gateway in front of an in-process simulated provider on "
                                                 "127.0.0.1; prints its URLs, a client key and the admin token."));
    const QCommandLineOption portOption(QStringLiteral("port"), QStringLiteral("With --demo: the gateway's port (default 8080; 0 = any)."),
                                        QStringLiteral("port"), QStringLiteral("8080"));
    const QCommandLineOption adminPortOption(QStringLiteral("admin-port"),
                                             QStringLiteral("With --demo: the admin API's port (default 9090; 0 = any)."),
                                             QStringLiteral("port"), QStringLiteral("9090"));
    const QCommandLineOption logLevel(QStringLiteral("log-level"),
                                      QStringLiteral("debug, info, warn or error; overrides logging.level."),
                                      QStringLiteral("level"));
    for (const auto &option : {configOption, checkConfig, printDefaultConfig, demo, portOption, adminPortOption, logLevel})
        parser.addOption(option);
    parser.process(app);

    const int modes = int(parser.isSet(configOption)) + int(parser.isSet(checkConfig))
                      + int(parser.isSet(printDefaultConfig)) + int(parser.isSet(demo));
    if (modes > 1) {
        printLine(stderr, QStringLiteral("sluice-gateway: use one of --config, --demo, --check-config, --print-default-config"));
        return 2;
    }
    if (parser.isSet(printDefaultConfig)) {
        std::fputs(config::saveConfig(config::defaultConfig()).constData(), stdout);
        return 0;
    }
    if (parser.isSet(checkConfig)) {
        const auto report = config::checkConfigFile(parser.value(checkConfig));
        if (!report.ok) {
            for (const QString &error : report.errors)
                printLine(stderr, error);
            return 1;
        }
        printLine(stdout, report.summary);
        return 0;
    }
    std::optional<config::LogLevel> levelOverride;
    if (parser.isSet(logLevel)) {
        levelOverride = parseLevel(parser.value(logLevel));
        if (!levelOverride) {
            printLine(stderr, QStringLiteral("sluice-gateway: --log-level: expected debug, info, warn or error, got \"%1\"")
                                  .arg(parser.value(logLevel)));
            return 2;
        }
    }

    if (parser.isSet(configOption)) {
        auto loaded = config::loadConfigFile(parser.value(configOption));
        if (!loaded) {
            for (const QString &error : config::toStringList(loaded.error()))
                printLine(stderr, error);
            return 1;
        }
        gateway::GatewayOptions options;
        options.config = std::move(*loaded);
        if (levelOverride)
            options.config.logging.level = *levelOverride;
        options.configFile = parser.value(configOption);
        const auto drain = options.config.server.shutdownDrain;
        gateway::Gateway gateway(std::move(options));
        if (auto started = gateway.start(); !started) {
            printLine(stderr, QStringLiteral("sluice-gateway: ") + started.error());
            return 1;
        }
        return serve(app, gateway, drain);
    }

    if (parser.isSet(demo)) {
        bool portOk = false;
        bool adminOk = false;
        const int port = parser.value(portOption).toInt(&portOk);
        const int adminPort = parser.value(adminPortOption).toInt(&adminOk);
        if (!portOk || port < 0 || port > 65535 || !adminOk || adminPort < 0 || adminPort > 65535) {
            printLine(stderr, QStringLiteral("sluice-gateway: --port and --admin-port take a number 0..65535"));
            return 2;
        }
        gateway::SimulatorServerOptions simulatorOptions;
        simulatorOptions.simulator.models = gateway::demoModels();
        simulatorOptions.threads = 2;
        gateway::SimulatorServer simulator(simulatorOptions);
        if (auto listening = simulator.listen(); !listening) {
            printLine(stderr, QStringLiteral("sluice-gateway: simulated provider cannot listen: ") + listening.error().message);
            return 1;
        }
        gateway::GatewayOptions options;
        options.config = gateway::demoConfig(simulator.baseUrl(), port, adminPort);
        if (levelOverride)
            options.config.logging.level = *levelOverride;
        options.adminToken = generatedToken();
        const QByteArray adminToken = options.adminToken;
        gateway::Gateway gateway(std::move(options));
        if (auto started = gateway.start(); !started) {
            printLine(stderr, QStringLiteral("sluice-gateway: ") + started.error()
                                  + QStringLiteral(" (pick another with --port / --admin-port, 0 = any free port)"));
            return 1;
        }
        const QString url = gateway.listenUrls().value(0).toString();
        printLine(stdout, QStringLiteral("Sluice demo gateway %1 (instance %2)").arg(QStringLiteral(SLUICE_VERSION), gateway.instanceId()));
        printLine(stdout, QStringLiteral("  OpenAI base URL:    %1/v1").arg(url));
        printLine(stdout, QStringLiteral("  Anthropic base URL: %1").arg(url));
        printLine(stdout, QStringLiteral("  client API key:     %1").arg(QLatin1String(gateway::kDemoClientKey)));
        printLine(stdout, QStringLiteral("  models:             %1").arg(gateway::demoModels().join(QStringLiteral(", "))));
        printLine(stdout, QStringLiteral("  admin API:          %1/admin/v1/stats").arg(gateway.adminUrl().toString()));
        printLine(stdout, QStringLiteral("  admin token:        %1").arg(QString::fromLatin1(adminToken)));
        printLine(stdout, QStringLiteral("  metrics:            %1/metrics").arg(url));
        printLine(stdout, QStringLiteral("  simulated provider: %1").arg(simulator.baseUrl()));
        printLine(stdout, QStringLiteral("Try: curl %1/v1/chat/completions -H 'Authorization: Bearer %2' "
                                         "-H 'Content-Type: application/json' "
                                         "-d '{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}'")
                              .arg(url, QLatin1String(gateway::kDemoClientKey)));
        return serve(app, gateway, std::chrono::seconds(5));
    }

    printLine(stderr, QStringLiteral("sluice-gateway: nothing to do; use --config FILE, --demo or simulate (see --help)"));
    return 2;
}
