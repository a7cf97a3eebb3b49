#pragma once

#include <QString>

namespace sluice::clients {

// The PromQL behind each value of DashboardFrame, for charts over Prometheus history:
// the one place in the console that knows these expressions. They read the families
// of gateway/gatewaymetrics.h the same way DashboardFrame reads two scrapes, summed
// over every instance Prometheus scrapes (restricted by `matchers`), and follow the
// conventions of installer/deploy/prometheus/sluice-rules.yml (ratios are 0, not
// absent, while there is traffic but nothing to count).
//
// Results: instant vectors; "by (x)" in a comment means one series per x, otherwise
// one series without labels. Units as in DashboardFrame (per second unless named).
// Per-upstream token rates have no query: tokens are labelled by model, and the
// model → upstream routing lives in the configuration (see FrameOptions).
//
// A value type; pure string building.
class PromQueries {
public:
    // `matchers`: label matchers added to every selector, e.g. `job="sluice-gateway"`
    // or `job="sluice", instance=~"10\\.0\\.0\\..*"` (empty: none); PromQL text, not
    // escaped here. `window`: the range of rate() and friends, a PromQL duration
    // ("1m"); it needs at least two scrapes inside, so make it ≥ 4× the scrape interval.
    explicit PromQueries(QString matchers = {}, QString window = QStringLiteral("1m"));

    const QString &matchers() const { return m_matchers; }
    const QString &window() const { return m_window; }

    // --- Traffic ---
    QString requestsPerSecond() const;
    QString requestsPerSecondByClass() const; // by (code): 2xx, 4xx, ...
    QString errorRatio() const;               // 5xx share of requests
    // --- Latency (seconds); q in [0, 1] ---
    QString requestDurationQuantile(double q) const;
    QString upstreamDurationQuantile(double q) const;
    QString upstreamDurationQuantileByUpstream(double q) const; // by (upstream)
    QString gatewayOverheadQuantile(double q) const;
    QString timeToFirstTokenQuantile(double q) const;
    // --- 429s: Sluice's own limits vs the provider's (see DashboardFrame) ---
    QString ownLimit429PerSecond() const;
    QString providerQuota429PerSecond() const;
    QString provider429PerSecond() const;
    QString provider429PerSecondByUpstream() const; // by (upstream)
    QString ownLimit429Ratio() const;
    QString providerQuota429Ratio() const;
    QString limitedPerSecondByScope() const; // by (scope)
    // --- Cache ---
    QString cacheHitRatio() const;
    QString cacheSavedTokensPerSecond() const;
    QString cacheSavedTokensPerHour() const;
    QString cacheSavedUsdPerHour() const;
    // --- Concurrency ---
    QString inFlight() const;
    QString upstreamInFlight() const;
    QString concurrencyLimit() const;
    QString concurrencyUtilisation() const; // upstream in flight / limit
    QString queueDepth() const;
    QString meanQueueWaitSeconds() const;
    QString queueRejectionsPerSecond() const;
    // --- Tokens and cost ---
    QString tokensPerSecond() const;
    QString tokensPerSecondByType() const;   // by (type)
    QString tokensPerMinuteByModel() const;  // by (model)
    QString costUsdPerHour() const;
    QString costUsdPerDay() const;
    QString costUsdPerMonth() const; // 30 days
    QString costUsdPerHourByModel() const; // by (model)
    // --- Upstreams and provider quotas ---
    QString upstreamRequestsPerMinute() const;     // by (upstream)
    QString upstreamErrorsPerSecond() const;       // by (upstream)
    QString providerQuotaLimit() const;            // by (upstream, resource): highest reported
    QString providerQuotaRemaining() const;        // by (upstream, resource): lowest reported
    QString providerRequestQuotaPercentUsed() const; // by (upstream): attempts/min ÷ request quota × 100
    // by (upstream): seconds until the request quota is used up at the current rate,
    // only where the rate exceeds the limit (absent otherwise).
    QString providerRequestQuotaSecondsToExhaustion() const;
    QString breakerState() const; // by (upstream): the worst over instances, 0 closed .. 2 open
    // --- Instances ---
    QString uptimeSecondsByInstance() const;  // by (instance)
    QString configVersionByInstance() const;  // by (instance)
    QString buildInfoByInstance() const;      // by (instance, version), value 1

private:
    // `metric{matchers, extra}`.
    QString selector(const char *metric, const QString &extra = {}) const;
    // `rate(metric{...}[window])`.
    QString rate(const char *metric, const QString &extra = {}) const;
    QString quantile(double q, const char *histogram, const QString &by = {}) const;
    // `(numerator or 0 * denominator) / denominator`.
    QString ratioOr0(const QString &numerator, const QString &denominator) const;

    QString m_matchers;
    QString m_window;
};

} // namespace sluice::clients
