#include "gateway/loadreport.h"

#include <QStringList>

namespace sluice::gateway {

namespace {

QJsonObject quantilesJson(const LoadQuantiles &quantiles)
{
    return {{QStringLiteral("count"), qint64(quantiles.count)},
            {QStringLiteral("p50"), quantiles.p50},
            {QStringLiteral("p95"), quantiles.p95},
            {QStringLiteral("p99"), quantiles.p99},
            {QStringLiteral("max"), quantiles.max}};
}

QString statusList(const LoadStats &stats)
{
    QStringList parts;
    for (const auto &[status, count] : stats.statusCounts)
        parts.append(QStringLiteral("%1: %2").arg(status).arg(count));
    return parts.isEmpty() ? QStringLiteral("-") : parts.join(QStringLiteral("  "));
}

QString errorList(const LoadStats &stats)
{
    QStringList parts;
    for (const auto &[kind, count] : stats.transportErrors)
        parts.append(QStringLiteral("%1 %2").arg(kind).arg(count));
    return parts.join(QStringLiteral(", "));
}

QString seconds(double value)
{
    return QString::number(value, 'f', 3);
}

QString quantileLine(const LoadQuantiles &quantiles)
{
    if (quantiles.count == 0)
        return QStringLiteral("-");
    return QStringLiteral("p50 %1  p95 %2  p99 %3  max %4  (%5 samples)")
        .arg(seconds(quantiles.p50), seconds(quantiles.p95), seconds(quantiles.p99), seconds(quantiles.max))
        .arg(quantiles.count);
}

QString row(const QString &label, const QString &value)
{
    return QStringLiteral("  %1 %2\n").arg(label.leftJustified(16), value);
}

} // namespace

QJsonObject loadStatsJson(const LoadStats &stats)
{
    QJsonObject status;
    for (const auto &[code, count] : stats.statusCounts)
        status.insert(QString::number(code), qint64(count));
    QJsonObject errors;
    for (const auto &[kind, count] : stats.transportErrors)
        errors.insert(kind, qint64(count));
    return {{QStringLiteral("sent"), qint64(stats.sent)},
            {QStringLiteral("completed"), qint64(stats.completed)},
            {QStringLiteral("failed"), qint64(stats.failed)},
            {QStringLiteral("aborted"), qint64(stats.aborted)},
            {QStringLiteral("in_flight"), qint64(stats.inFlight)},
            {QStringLiteral("status"), status},
            {QStringLiteral("transport_errors"), errors},
            {QStringLiteral("cache_hits"), qint64(stats.cacheHits)},
            {QStringLiteral("stream_errors"), qint64(stats.streamErrors)},
            {QStringLiteral("duration_seconds"), stats.elapsedSeconds},
            {QStringLiteral("requests_per_second"), stats.requestsPerSecond},
            {QStringLiteral("completed_per_second"), stats.completedPerSecond},
            {QStringLiteral("latency_seconds"), quantilesJson(stats.latencySeconds)},
            {QStringLiteral("ttft_seconds"), quantilesJson(stats.ttftSeconds)},
            {QStringLiteral("tokens"),
             QJsonObject{{QStringLiteral("input"), stats.inputTokens}, {QStringLiteral("output"), stats.outputTokens}}},
            {QStringLiteral("users"), stats.users},
            {QStringLiteral("reached_server"), stats.reachedServer},
            {QStringLiteral("gave_up"), stats.gaveUp},
            {QStringLiteral("skipped_rate_slots"), qint64(stats.skippedRateSlots)}};
}

QString formatLoadReport(const LoadStats &stats, const QString &title)
{
    QString text;
    if (!title.isEmpty())
        text += title + QLatin1Char('\n');
    const double hitPercent = stats.completed > 0 ? 100.0 * double(stats.cacheHits) / double(stats.completed) : 0.0;
    text += row(QStringLiteral("duration"), QStringLiteral("%1 s").arg(stats.elapsedSeconds, 0, 'f', 1));
    text += row(QStringLiteral("sent"), QStringLiteral("%1  (%2 req/s)").arg(stats.sent).arg(stats.requestsPerSecond, 0, 'f', 2));
    text += row(QStringLiteral("completed"),
                QStringLiteral("%1  (%2 /s)").arg(stats.completed).arg(stats.completedPerSecond, 0, 'f', 2));
    const QString errors = errorList(stats);
    text += row(QStringLiteral("failed"), errors.isEmpty() ? QString::number(stats.failed)
                                                           : QStringLiteral("%1  (%2)").arg(stats.failed).arg(errors));
    if (stats.aborted > 0)
        text += row(QStringLiteral("aborted"), QString::number(stats.aborted));
    if (stats.inFlight > 0)
        text += row(QStringLiteral("in flight"), QString::number(stats.inFlight));
    text += row(QStringLiteral("status"), statusList(stats));
    text += row(QStringLiteral("cache hits"), QStringLiteral("%1  (%2 %)").arg(stats.cacheHits).arg(hitPercent, 0, 'f', 1));
    if (stats.streamErrors > 0)
        text += row(QStringLiteral("stream errors"), QString::number(stats.streamErrors));
    text += row(QStringLiteral("latency (s)"), quantileLine(stats.latencySeconds));
    text += row(QStringLiteral("ttft (s)"), quantileLine(stats.ttftSeconds));
    text += row(QStringLiteral("tokens"), QStringLiteral("input %1  output %2").arg(stats.inputTokens).arg(stats.outputTokens));
    if (stats.skippedRateSlots > 0)
        text += row(QStringLiteral("rate slots"), QStringLiteral("%1 skipped (no free user)").arg(stats.skippedRateSlots));
    if (stats.gaveUp)
        text += row(QStringLiteral("note"), QStringLiteral("gave up: the URL could not be reached"));
    return text;
}

QString formatLoadProgress(const LoadStats &stats)
{
    QStringList statuses;
    for (const auto &[status, count] : stats.statusCounts)
        statuses.append(QStringLiteral("%1=%2").arg(status).arg(count));
    return QStringLiteral("[%1 s] sent %2  done %3  in-flight %4  status %5  errors %6  hits %7  p50 %8 s  p95 %9 s  %10 req/s")
        .arg(stats.elapsedSeconds, 6, 'f', 1)
        .arg(stats.sent)
        .arg(stats.completed)
        .arg(stats.inFlight)
        .arg(statuses.isEmpty() ? QStringLiteral("-") : statuses.join(QLatin1Char(',')))
        .arg(stats.failed)
        .arg(stats.cacheHits)
        .arg(seconds(stats.latencySeconds.p50))
        .arg(seconds(stats.latencySeconds.p95))
        .arg(stats.requestsPerSecond, 0, 'f', 2);
}

} // namespace sluice::gateway
