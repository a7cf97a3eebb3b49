#pragma once

#include "metrics/parsedfamily.h"
#include "policy/result.h"

#include <QDateTime>
#include <QString>

#include <string_view>
#include <vector>

namespace sluice::clients {

// One reading of one gateway's /metrics: the parsed families and when they were read.
// A plain value; rates between two of them come from DashboardFrame.
struct ScrapeSnapshot {
    // Which instance this is, as the console names it ("127.0.0.1:8081" by default);
    // two snapshots are only compared when their instances are equal.
    QString instance;
    std::vector<metrics::ParsedFamily> families;
    // steadyNowMs() at the midpoint between sending the request and receiving the whole
    // answer: the best estimate of when the gateway rendered it. Rates divide by the
    // difference of two of these, never by a nominal interval.
    qint64 steadyMs = 0;
    // Wall time (UTC) at the same moment, for display and for uptime.
    QDateTime wallTimeUtc;
    // How long the scrape took, request to complete answer.
    qint64 durationMs = 0;

    const metrics::ParsedFamily *family(std::string_view name) const
    {
        return metrics::findFamily(families, name);
    }
};

// Parses /metrics text into a snapshot with the given stamps; the parser's error
// ("line 3: expected a metric name") when the text is not the Prometheus format.
Result<ScrapeSnapshot, QString> snapshotFromText(std::string_view text, QString instance, qint64 steadyMs,
                                                 QDateTime wallTimeUtc);

} // namespace sluice::clients
