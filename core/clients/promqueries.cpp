#include "clients/promqueries.h"

#include <QStringList>

namespace sluice::clients {

namespace {

QString number(double value)
{
    return QString::number(value, 'g', 6);
}

} // namespace

PromQueries::PromQueries(QString matchers, QString window)
    : m_matchers(std::move(matchers).trimmed()), m_window(std::move(window).trimmed())
{
    if (m_window.isEmpty())
        m_window = QStringLiteral("1m");
}

QString PromQueries::selector(const char *metric, const QString &extra) const
{
    QStringList parts;
    if (!m_matchers.isEmpty())
        parts.append(m_matchers);
    if (!extra.isEmpty())
        parts.append(extra);
    const QString name = QString::fromLatin1(metric);
    return parts.isEmpty() ? name : QStringLiteral("%1{%2}").arg(name, parts.join(QStringLiteral(", ")));
}

QString PromQueries::rate(const char *metric, const QString &extra) const
{
    return QStringLiteral("rate(%1[%2])").arg(selector(metric, extra), m_window);
}

QString PromQueries::quantile(double q, const char *histogram, const QString &by) const
{
    const QString bucket = QString::fromLatin1(histogram) + QStringLiteral("_bucket");
    const QString groups = by.isEmpty() ? QStringLiteral("le") : by + QStringLiteral(", le");
    return QStringLiteral("histogram_quantile(%1, sum by (%2) (%3))")
        .arg(number(q), groups, rate(bucket.toLatin1().constData()));
}

QString PromQueries::ratioOr0(const QString &numerator, const QString &denominator) const
{
    return QStringLiteral("(%1 or 0 * %2) / %2").arg(numerator, denominator);
}

QString PromQueries::requestsPerSecond() const
{
    return QStringLiteral("sum(%1)").arg(rate("sluice_requests_total"));
}

QString PromQueries::requestsPerSecondByClass() const
{
    return QStringLiteral("sum by (code) (%1)").arg(rate("sluice_requests_total"));
}

QString PromQueries::errorRatio() const
{
    return ratioOr0(QStringLiteral("sum(%1)").arg(rate("sluice_requests_total", QStringLiteral("code=\"5xx\""))),
                    requestsPerSecond());
}

QString PromQueries::requestDurationQuantile(double q) const
{
    return quantile(q, "sluice_request_duration_seconds");
}

QString PromQueries::upstreamDurationQuantile(double q) const
{
    return quantile(q, "sluice_upstream_duration_seconds");
}

QString PromQueries::upstreamDurationQuantileByUpstream(double q) const
{
    return quantile(q, "sluice_upstream_duration_seconds", QStringLiteral("upstream"));
}

QString PromQueries::gatewayOverheadQuantile(double q) const
{
    return quantile(q, "sluice_gateway_overhead_seconds");
}

QString PromQueries::timeToFirstTokenQuantile(double q) const
{
    return quantile(q, "sluice_time_to_first_token_seconds");
}

QString PromQueries::ownLimit429PerSecond() const
{
    return QStringLiteral("sum(%1)").arg(rate("sluice_client_errors_total", QStringLiteral("reason=\"rate_limited\"")));
}

QString PromQueries::providerQuota429PerSecond() const
{
    return QStringLiteral("sum(%1)").arg(
        rate("sluice_client_errors_total", QStringLiteral("reason=\"provider_quota\"")));
}

QString PromQueries::provider429PerSecond() const
{
    return QStringLiteral("sum(%1)").arg(rate("sluice_upstream_errors_total", QStringLiteral("kind=\"status_429\"")));
}

QString PromQueries::provider429PerSecondByUpstream() const
{
    return QStringLiteral("sum by (upstream) (%1)")
        .arg(rate("sluice_upstream_errors_total", QStringLiteral("kind=\"status_429\"")));
}

QString PromQueries::ownLimit429Ratio() const
{
    return ratioOr0(ownLimit429PerSecond(), requestsPerSecond());
}

QString PromQueries::providerQuota429Ratio() const
{
    return ratioOr0(providerQuota429PerSecond(), requestsPerSecond());
}

QString PromQueries::limitedPerSecondByScope() const
{
    return QStringLiteral("sum by (scope) (%1)")
        .arg(rate("sluice_rate_limit_decisions_total", QStringLiteral("result=\"limited\"")));
}

QString PromQueries::cacheHitRatio() const
{
    const QString hits = QStringLiteral("sum(%1)").arg(rate("sluice_cache_requests_total", QStringLiteral("result=\"hit\"")));
    const QString lookups =
        QStringLiteral("sum(%1)").arg(rate("sluice_cache_requests_total", QStringLiteral("result=~\"hit|miss\"")));
    return QStringLiteral("%1 / %2").arg(hits, lookups);
}

QString PromQueries::cacheSavedTokensPerSecond() const
{
    return QStringLiteral("sum(%1)").arg(rate("sluice_cache_saved_tokens_total"));
}

QString PromQueries::cacheSavedTokensPerHour() const
{
    return QStringLiteral("3600 * %1").arg(cacheSavedTokensPerSecond());
}

QString PromQueries::cacheSavedUsdPerHour() const
{
    return QStringLiteral("3600 * sum(%1)").arg(rate("sluice_cache_saved_usd_total"));
}

QString PromQueries::inFlight() const
{
    return QStringLiteral("sum(%1)").arg(selector("sluice_in_flight_requests"));
}

QString PromQueries::upstreamInFlight() const
{
    return QStringLiteral("sum(%1)").arg(selector("sluice_upstream_in_flight"));
}

QString PromQueries::concurrencyLimit() const
{
    return QStringLiteral("sum(%1)").arg(selector("sluice_concurrency_limit"));
}

QString PromQueries::concurrencyUtilisation() const
{
    return QStringLiteral("%1 / (%2 > 0)").arg(upstreamInFlight(), concurrencyLimit());
}

QString PromQueries::queueDepth() const
{
    return QStringLiteral("sum(%1)").arg(selector("sluice_queue_depth"));
}

QString PromQueries::meanQueueWaitSeconds() const
{
    return QStringLiteral("sum(%1) / sum(%2)")
        .arg(rate("sluice_queue_wait_seconds_sum"), rate("sluice_queue_wait_seconds_count"));
}

QString PromQueries::queueRejectionsPerSecond() const
{
    return QStringLiteral("sum(%1)").arg(rate("sluice_queue_rejections_total"));
}

QString PromQueries::tokensPerSecond() const
{
    return QStringLiteral("sum(%1)").arg(rate("sluice_tokens_total"));
}

QString PromQueries::tokensPerSecondByType() const
{
    return QStringLiteral("sum by (type) (%1)").arg(rate("sluice_tokens_total"));
}

QString PromQueries::tokensPerMinuteByModel() const
{
    return QStringLiteral("60 * sum by (model) (%1)").arg(rate("sluice_tokens_total"));
}

QString PromQueries::costUsdPerHour() const
{
    return QStringLiteral("3600 * sum(%1)").arg(rate("sluice_cost_usd_total"));
}

QString PromQueries::costUsdPerDay() const
{
    return QStringLiteral("86400 * sum(%1)").arg(rate("sluice_cost_usd_total"));
}

QString PromQueries::costUsdPerMonth() const
{
    return QStringLiteral("2592000 * sum(%1)").arg(rate("sluice_cost_usd_total"));
}

QString PromQueries::costUsdPerHourByModel() const
{
    return QStringLiteral("3600 * sum by (model) (%1)").arg(rate("sluice_cost_usd_total"));
}

QString PromQueries::upstreamRequestsPerMinute() const
{
    return QStringLiteral("60 * sum by (upstream) (%1)").arg(rate("sluice_upstream_requests_total"));
}

QString PromQueries::upstreamErrorsPerSecond() const
{
    return QStringLiteral("sum by (upstream) (%1)").arg(rate("sluice_upstream_errors_total"));
}

QString PromQueries::providerQuotaLimit() const
{
    return QStringLiteral("max by (upstream, resource) (%1)").arg(selector("sluice_provider_quota_limit"));
}

QString PromQueries::providerQuotaRemaining() const
{
    return QStringLiteral("min by (upstream, resource) (%1)").arg(selector("sluice_provider_quota_remaining"));
}

QString PromQueries::providerRequestQuotaPercentUsed() const
{
    return QStringLiteral("100 * %1 / on (upstream) (max by (upstream) (%2) > 0)")
        .arg(upstreamRequestsPerMinute(),
             selector("sluice_provider_quota_limit", QStringLiteral("resource=\"requests\"")));
}

QString PromQueries::providerRequestQuotaSecondsToExhaustion() const
{
    const QString limit = QStringLiteral("max by (upstream) (%1)")
                              .arg(selector("sluice_provider_quota_limit", QStringLiteral("resource=\"requests\"")));
    const QString remaining =
        QStringLiteral("clamp_min(min by (upstream) (%1), 0)")
            .arg(selector("sluice_provider_quota_remaining", QStringLiteral("resource=\"requests\"")));
    // The bucket drains by (use − limit) per minute while use exceeds the limit.
    const QString drainPerSecond =
        QStringLiteral("((%1 - on (upstream) %2) / 60 > 0)").arg(upstreamRequestsPerMinute(), limit);
    return QStringLiteral("%1 / on (upstream) %2").arg(remaining, drainPerSecond);
}

QString PromQueries::breakerState() const
{
    return QStringLiteral("max by (upstream) (%1)").arg(selector("sluice_breaker_state"));
}

QString PromQueries::uptimeSecondsByInstance() const
{
    return QStringLiteral("max by (instance) (time() - %1)").arg(selector("sluice_start_time_seconds"));
}

QString PromQueries::configVersionByInstance() const
{
    return QStringLiteral("max by (instance) (%1)").arg(selector("sluice_config_version"));
}

QString PromQueries::buildInfoByInstance() const
{
    return QStringLiteral("max by (instance, version) (%1)").arg(selector("sluice_build_info"));
}

} // namespace sluice::clients
