#include "gateway/loadcommand.h"

#include "gateway/loadreport.h"

#include <QJsonDocument>

#include <algorithm>
#include <cmath>

namespace sluice::gateway {

LoadCommand::LoadCommand(LineWriter out, LineWriter err, QObject *parent)
    : QObject(parent)
    , m_out(std::move(out))
    , m_err(std::move(err))
{
    connect(&m_progressTimer, &QTimer::timeout, this, &LoadCommand::printProgress);
}

LoadCommand::~LoadCommand() = default;

std::optional<int> LoadCommand::start(const QStringList &arguments)
{
    if (arguments.contains(QStringLiteral("--help")) || arguments.contains(QStringLiteral("-h"))) {
        QString usage = loadUsage();
        if (usage.endsWith(QLatin1Char('\n')))
            usage.chop(1);
        m_out(usage);
        return 0;
    }
    auto options = parseLoadArguments(arguments);
    if (!options) {
        m_err(QStringLiteral("sluice-gateway load: ") + options.error());
        return 2;
    }
    m_generator = std::make_unique<LoadGenerator>(*options);
    connect(m_generator.get(), &LoadGenerator::finished, this, &LoadCommand::onFinished);
    if (!options->json) {
        m_out(QStringLiteral("sluice-gateway load: %1 users -> %2 (%3)")
                  .arg(options->users)
                  .arg(options->endpointUrl().toString(), providerName(options->protocol)));
    }
    if (options->reportEverySeconds > 0)
        m_progressTimer.start(int(std::clamp(std::round(options->reportEverySeconds * 1000.0), 1.0, 86'400'000.0)));
    m_generator->start();
    return std::nullopt;
}

void LoadCommand::interrupt()
{
    if (!m_generator)
        return;
    if (++m_interrupts == 1)
        m_generator->stop();
    else
        m_generator->abort();
}

void LoadCommand::printProgress()
{
    if (!m_generator)
        return;
    const QString line = formatLoadProgress(m_generator->stats());
    if (m_generator->options().json)
        m_err(line);
    else
        m_out(line);
}

void LoadCommand::onFinished(const LoadStats &stats)
{
    m_progressTimer.stop();
    const LoadOptions &options = m_generator->options();
    if (options.json) {
        m_out(QString::fromUtf8(QJsonDocument(loadStatsJson(stats)).toJson(QJsonDocument::Compact)));
    } else {
        QString report = formatLoadReport(stats, QStringLiteral("sluice-gateway load report"));
        if (report.endsWith(QLatin1Char('\n')))
            report.chop(1);
        m_out(report);
    }
    int exitCode = 0;
    if (!stats.reachedServer && stats.failed > 0) {
        QStringList kinds;
        for (const auto &[kind, count] : stats.transportErrors)
            kinds.append(kind);
        m_err(QStringLiteral("sluice-gateway load: could not reach %1 (%2)")
                  .arg(options.endpointUrl().toString(), kinds.join(QStringLiteral(", "))));
        exitCode = 1;
    }
    emit finished(exitCode);
}

} // namespace sluice::gateway
