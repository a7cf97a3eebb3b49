#include <cstdio>

#include <QApplication>

#include "consoleapp.h"
#include "consoleoptions.h"

int main(int argc, char *argv[])
{
    // QApplication first: it removes Qt's own options (-platform, -style ...) from the
    // argument list before ours are parsed.
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("Sluice"));
    QApplication::setOrganizationName(QStringLiteral("Sluice"));
    QApplication::setApplicationVersion(sluice::ui::consoleVersion());
    QGuiApplication::setDesktopFileName(QStringLiteral("sluice"));

    const sluice::ui::ConsoleOptions options = sluice::ui::parseConsoleArguments(QApplication::arguments());
    if (options.action != sluice::ui::ConsoleOptions::Action::Run) {
        FILE *stream = options.action == sluice::ui::ConsoleOptions::Action::Fail ? stderr : stdout;
        std::fputs(qUtf8Printable(options.message), stream);
        if (!options.message.endsWith(QLatin1Char('\n')))
            std::fputc('\n', stream);
        return options.exitCode();
    }

    // Restores and shows the window, then opens the last profile, --profile or the sandbox.
    sluice::ui::ConsoleApp console(options);
    return app.exec();
}
