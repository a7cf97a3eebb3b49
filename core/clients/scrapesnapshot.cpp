#include "clients/scrapesnapshot.h"

#include "metrics/promparser.h"

namespace sluice::clients {

Result<ScrapeSnapshot, QString> snapshotFromText(std::string_view text, QString instance, qint64 steadyMs,
                                                 QDateTime wallTimeUtc)
{
    auto parsed = metrics::parseExposition(text);
    if (!parsed) {
        return unexpected(QStringLiteral("line %1: %2")
                              .arg(parsed.error().line)
                              .arg(QString::fromStdString(parsed.error().message)));
    }
    ScrapeSnapshot snapshot;
    snapshot.instance = std::move(instance);
    snapshot.families = std::move(*parsed);
    snapshot.steadyMs = steadyMs;
    snapshot.wallTimeUtc = std::move(wallTimeUtc);
    return snapshot;
}

} // namespace sluice::clients
