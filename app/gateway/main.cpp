#include <QCommandLineParser>
#include <QCoreApplication>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("sluice-gateway"));
    QCoreApplication::setApplicationVersion(QStringLiteral(SLUICE_VERSION));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Sluice LLM API gateway"));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.process(app);
    return 0;
}
