#include "clients/dashboardframe.h"

#include "metrics/exposition.h"
#include "metrics/histogramquantile.h"
#include "metrics/metrictype.h"
#include "policy/costprojection.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <string_view>

namespace sluice::clients {

namespace {

using metrics::Label;
using metrics::LabelView;
using metrics::MetricType;
using metrics::ParsedFamily;
using metrics::ParsedSample;

constexpr double kSecondsPerMinute = 60;
constexpr double kSecondsPerHour = 3600;

QString qstring(std::string_view text)
{
    return QString::fromUtf8(text.data(), qsizetype(text.size()));
}

std::string stdString(const QString &text)
{
    return text.toStdString();
}

// One counter series' increase per second over an interval (summed over instances
// once merged).
struct SeriesRate {
    std::string name;
    std::vector<Label> labels;
    double perSecond = 0;

    std::optional<std::string_view> label(std::string_view labelName) const
    {
        for (const auto &[name, value] : labels) {
            if (name == labelName)
                return std::string_view(value);
        }
        return std::nullopt;
    }
};

using RateMap = std::map<std::string, SeriesRate>;

std::string seriesKey(const std::string &name, std::vector<Label> labels)
{
    std::sort(labels.begin(), labels.end());
    std::string key = name;
    for (const auto &[labelName, value] : labels) {
        key += '\x1f';
        key += labelName;
        key += '=';
        key += value;
    }
    return key;
}

bool endsWith(std::string_view text, std::string_view suffix)
{
    return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// Samples that only ever grow while the process lives: counters, and the bucket, sum
// and count series of histograms and summaries.
bool isCounterSample(const ParsedFamily &family, const ParsedSample &sample)
{
    switch (family.type) {
    case MetricType::Counter:
        return true;
    case MetricType::Histogram:
        return endsWith(sample.name, "_bucket") || endsWith(sample.name, "_sum") || endsWith(sample.name, "_count");
    case MetricType::Summary:
        return endsWith(sample.name, "_sum") || endsWith(sample.name, "_count");
    case MetricType::Gauge:
    case MetricType::Untyped:
        return false;
    }
    return false;
}

template <typename Visit>
void forEachSample(const ScrapeSnapshot &snapshot, std::string_view sampleName, Visit visit)
{
    for (const ParsedFamily &family : snapshot.families) {
        for (const ParsedSample &sample : family.samples) {
            if (sample.name == sampleName && !std::isnan(sample.value))
                visit(sample);
        }
    }
}

std::optional<double> gaugeSum(const ScrapeSnapshot &snapshot, std::string_view name)
{
    std::optional<double> sum;
    forEachSample(snapshot, name, [&](const ParsedSample &sample) { sum = sum.value_or(0) + sample.value; });
    return sum;
}

bool matches(const SeriesRate &series, std::initializer_list<LabelView> where)
{
    return std::all_of(where.begin(), where.end(),
                       [&](const LabelView &label) { return series.label(label.first) == label.second; });
}

struct InstanceInterval {
    InstanceFacts facts;
    const ScrapeSnapshot *current = nullptr;
    RateMap rates;
};

Result<InstanceInterval, QString> intervalOf(const ScrapeSnapshot &previous, const ScrapeSnapshot &current)
{
    if (previous.instance != current.instance) {
        return unexpected(QStringLiteral("the snapshots are of different instances (%1, %2)")
                              .arg(previous.instance, current.instance));
    }
    const qint64 intervalMs = current.steadyMs - previous.steadyMs;
    if (intervalMs <= 0) {
        return unexpected(QStringLiteral("the snapshots of %1 are not in time order (%2 ms apart)")
                              .arg(current.instance)
                              .arg(intervalMs));
    }
    InstanceInterval interval;
    interval.current = &current;
    InstanceFacts &facts = interval.facts;
    facts.instance = current.instance;
    facts.intervalSeconds = double(intervalMs) / 1000.0;

    const std::optional<double> startedBefore = gaugeSum(previous, "sluice_start_time_seconds");
    const std::optional<double> startedNow = gaugeSum(current, "sluice_start_time_seconds");
    facts.restarted = startedBefore && startedNow && *startedBefore != *startedNow;
    if (startedNow && current.wallTimeUtc.isValid())
        facts.uptimeSeconds = std::max(0.0, double(current.wallTimeUtc.toMSecsSinceEpoch()) / 1000.0 - *startedNow);
    if (const auto version = gaugeSum(current, "sluice_config_version"))
        facts.configVersion = qint64(std::llround(*version));
    forEachSample(current, "sluice_build_info", [&](const ParsedSample &sample) {
        if (const auto version = sample.label("version"))
            facts.version = qstring(*version);
    });

    std::map<std::string, double> before;
    if (!facts.restarted) {
        for (const ParsedFamily &family : previous.families) {
            for (const ParsedSample &sample : family.samples) {
                if (isCounterSample(family, sample) && !std::isnan(sample.value))
                    before[seriesKey(sample.name, sample.labels)] = sample.value;
            }
        }
    }
    for (const ParsedFamily &family : current.families) {
        for (const ParsedSample &sample : family.samples) {
            if (!isCounterSample(family, sample) || std::isnan(sample.value))
                continue;
            std::string key = seriesKey(sample.name, sample.labels);
            const auto earlier = before.find(key);
            // A lower value than before is a reset: the counter restarted from 0.
            const double increase = earlier == before.end() || sample.value < earlier->second
                                        ? sample.value
                                        : sample.value - earlier->second;
            interval.rates.emplace(std::move(key),
                                   SeriesRate{sample.name, sample.labels, increase / facts.intervalSeconds});
        }
    }
    return interval;
}

// Sums, groupings and quantiles over merged rates.
class Rates {
public:
    explicit Rates(const RateMap &rates) : m_rates(rates) {}

    template <typename Visit>
    void forEach(std::string_view name, std::initializer_list<LabelView> where, Visit visit) const
    {
        for (const auto &entry : m_rates) {
            const SeriesRate &series = entry.second;
            if (series.name == name && matches(series, where))
                visit(series);
        }
    }

    double sum(std::string_view name, std::initializer_list<LabelView> where = {}) const
    {
        double total = 0;
        forEach(name, where, [&](const SeriesRate &series) { total += series.perSecond; });
        return total;
    }

    std::map<QString, double> sumBy(std::string_view name, std::string_view label,
                                    std::initializer_list<LabelView> where = {}, double scale = 1) const
    {
        std::map<QString, double> sums;
        forEach(name, where, [&](const SeriesRate &series) {
            sums[qstring(series.label(label).value_or(std::string_view{}))] += series.perSecond * scale;
        });
        return sums;
    }

    LatencyQuantiles quantiles(std::string_view histogram, std::initializer_list<LabelView> where = {}) const
    {
        const std::string bucketName = std::string(histogram) + "_bucket";
        std::map<double, double> byBound;
        forEach(bucketName, where, [&](const SeriesRate &series) {
            const auto le = series.label("le");
            if (!le)
                return;
            const auto bound = metrics::parseValue(*le);
            if (bound && !std::isnan(*bound))
                byBound[*bound] += series.perSecond;
        });
        const std::vector<std::pair<double, double>> buckets(byBound.begin(), byBound.end());
        const auto infinite = byBound.find(std::numeric_limits<double>::infinity());
        LatencyQuantiles result;
        if (infinite == byBound.end() || infinite->second <= 0)
            return result;
        const auto quantile = [&](double q) -> std::optional<double> {
            const double value = metrics::histogramQuantile(q, buckets);
            return std::isnan(value) ? std::nullopt : std::optional<double>(value);
        };
        result.p50 = quantile(0.5);
        result.p95 = quantile(0.95);
        result.p99 = quantile(0.99);
        return result;
    }

private:
    const RateMap &m_rates;
};

std::optional<double> ratio(double part, double whole)
{
    return whole > 0 ? std::optional<double>(part / whole) : std::nullopt;
}

std::optional<BreakerState> breakerFrom(double value)
{
    if (std::isnan(value))
        return std::nullopt;
    if (value >= 2)
        return BreakerState::Open;
    if (value >= 1)
        return BreakerState::HalfOpen;
    return BreakerState::Closed;
}

DashboardFrame buildFrame(const std::vector<InstanceInterval> &intervals, const FrameOptions &options)
{
    DashboardFrame frame;
    RateMap merged;
    for (const InstanceInterval &interval : intervals) {
        frame.instances.push_back(interval.facts);
        frame.intervalSeconds = std::max(frame.intervalSeconds, interval.facts.intervalSeconds);
        if (!frame.wallTimeUtc.isValid() || interval.current->wallTimeUtc > frame.wallTimeUtc)
            frame.wallTimeUtc = interval.current->wallTimeUtc;
        for (const auto &[key, series] : interval.rates) {
            auto [position, inserted] = merged.try_emplace(key, series);
            if (!inserted)
                position->second.perSecond += series.perSecond;
        }
    }
    const Rates rates(merged);

    // Traffic.
    frame.requestsPerSecond = rates.sum("sluice_requests_total");
    frame.requestsPerSecondByClass = {{QStringLiteral("2xx"), 0}, {QStringLiteral("3xx"), 0},
                                      {QStringLiteral("4xx"), 0}, {QStringLiteral("5xx"), 0}};
    for (const auto &[code, perSecond] : rates.sumBy("sluice_requests_total", "code"))
        frame.requestsPerSecondByClass[code] += perSecond;
    frame.errorRatio = ratio(frame.requestsPerSecondByClass[QStringLiteral("5xx")], frame.requestsPerSecond);

    // Latency.
    frame.requestDuration = rates.quantiles("sluice_request_duration_seconds");
    frame.upstreamDuration = rates.quantiles("sluice_upstream_duration_seconds");
    frame.gatewayOverhead = rates.quantiles("sluice_gateway_overhead_seconds");
    frame.timeToFirstToken = rates.quantiles("sluice_time_to_first_token_seconds");

    // 429s.
    frame.ownLimit429PerSecond = rates.sum("sluice_client_errors_total", {{"reason", "rate_limited"}});
    frame.providerQuota429PerSecond = rates.sum("sluice_client_errors_total", {{"reason", "provider_quota"}});
    frame.provider429PerSecond = rates.sum("sluice_upstream_errors_total", {{"kind", "status_429"}});
    frame.ownLimit429Ratio = ratio(frame.ownLimit429PerSecond, frame.requestsPerSecond);
    frame.providerQuota429Ratio = ratio(frame.providerQuota429PerSecond, frame.requestsPerSecond);
    frame.limitedPerSecondByScope = rates.sumBy("sluice_rate_limit_decisions_total", "scope", {{"result", "limited"}});

    // Cache.
    frame.cacheHitsPerSecond = rates.sum("sluice_cache_requests_total", {{"result", "hit"}});
    frame.cacheLookupsPerSecond =
        frame.cacheHitsPerSecond + rates.sum("sluice_cache_requests_total", {{"result", "miss"}});
    frame.cacheHitRatio = ratio(frame.cacheHitsPerSecond, frame.cacheLookupsPerSecond);
    frame.cacheSavedTokensPerSecond = rates.sum("sluice_cache_saved_tokens_total");
    frame.cacheSavedTokensPerHour = frame.cacheSavedTokensPerSecond * kSecondsPerHour;
    frame.cacheSavedUsdPerSecond = rates.sum("sluice_cache_saved_usd_total");
    frame.cacheSavedUsdPerHour = frame.cacheSavedUsdPerSecond * kSecondsPerHour;

    // Concurrency: gauges of every instance's current snapshot.
    for (const InstanceInterval &interval : intervals) {
        const ScrapeSnapshot &snapshot = *interval.current;
        frame.inFlight += gaugeSum(snapshot, "sluice_in_flight_requests").value_or(0);
        frame.upstreamInFlight += gaugeSum(snapshot, "sluice_upstream_in_flight").value_or(0);
        frame.queueDepth += gaugeSum(snapshot, "sluice_queue_depth").value_or(0);
        if (const auto limit = gaugeSum(snapshot, "sluice_concurrency_limit"))
            frame.concurrencyLimit = frame.concurrencyLimit.value_or(0) + *limit;
    }
    if (frame.concurrencyLimit && *frame.concurrencyLimit > 0)
        frame.concurrencyUtilisation = frame.upstreamInFlight / *frame.concurrencyLimit;
    frame.meanQueueWaitSeconds =
        ratio(rates.sum("sluice_queue_wait_seconds_sum"), rates.sum("sluice_queue_wait_seconds_count"));
    frame.queueRejectionsPerSecond = rates.sum("sluice_queue_rejections_total");

    // Tokens and cost.
    frame.tokensPerSecond = rates.sum("sluice_tokens_total");
    frame.tokensPerSecondByType = rates.sumBy("sluice_tokens_total", "type");
    frame.tokensPerMinuteByModel = rates.sumBy("sluice_tokens_total", "model", {}, kSecondsPerMinute);
    if (const auto projection = policy::projectCost(rates.sum("sluice_cost_usd_total"), std::chrono::seconds(1))) {
        frame.costUsdPerHour = projection->perHourUsd;
        frame.costUsdPerDay = projection->perDayUsd;
        frame.costUsdPerMonth = projection->perMonthUsd;
    }
    frame.costUsdPerHourByModel = rates.sumBy("sluice_cost_usd_total", "model", {}, kSecondsPerHour);

    // Upstreams: every name any upstream series mentions.
    std::set<QString> names;
    for (const char *family : {"sluice_upstream_requests_total", "sluice_upstream_errors_total",
                               "sluice_upstream_duration_seconds_count"}) {
        rates.forEach(family, {}, [&](const SeriesRate &series) {
            if (const auto upstream = series.label("upstream"))
                names.insert(qstring(*upstream));
        });
    }
    // Gauges: breaker (worst), quota limit (highest) and remaining (lowest).
    std::map<QString, double> breakers;
    std::map<std::pair<QString, QString>, double> quotaLimits;
    std::map<std::pair<QString, QString>, double> quotaRemaining;
    for (const InstanceInterval &interval : intervals) {
        const ScrapeSnapshot &snapshot = *interval.current;
        forEachSample(snapshot, "sluice_breaker_state", [&](const ParsedSample &sample) {
            const QString upstream = qstring(sample.label("upstream").value_or(std::string_view{}));
            names.insert(upstream);
            auto [position, inserted] = breakers.try_emplace(upstream, sample.value);
            if (!inserted)
                position->second = std::max(position->second, sample.value);
        });
        const auto quota = [&](const char *name, auto &target, auto pick) {
            forEachSample(snapshot, name, [&](const ParsedSample &sample) {
                const QString upstream = qstring(sample.label("upstream").value_or(std::string_view{}));
                const QString resource = qstring(sample.label("resource").value_or(std::string_view{}));
                names.insert(upstream);
                auto [position, inserted] = target.try_emplace({upstream, resource}, sample.value);
                if (!inserted)
                    position->second = pick(position->second, sample.value);
            });
        };
        quota("sluice_provider_quota_limit", quotaLimits, [](double a, double b) { return std::max(a, b); });
        quota("sluice_provider_quota_remaining", quotaRemaining, [](double a, double b) { return std::min(a, b); });
    }

    // Token use per upstream and type (per minute), through the model → upstream map.
    std::map<QString, std::map<QString, double>> upstreamTokens;
    const bool tokensKnown = !options.modelUpstreams.empty();
    if (tokensKnown) {
        rates.forEach("sluice_tokens_total", {}, [&](const SeriesRate &series) {
            const QString model = qstring(series.label("model").value_or(std::string_view{}));
            const auto route = options.modelUpstreams.find(model);
            if (route == options.modelUpstreams.end())
                return;
            upstreamTokens[route->second][qstring(series.label("type").value_or(std::string_view{}))] +=
                series.perSecond * kSecondsPerMinute;
        });
    }

    for (const QString &name : names) {
        UpstreamFrame upstream;
        upstream.upstream = name;
        const std::string label = stdString(name);
        const LabelView selector{"upstream", label};
        upstream.requestsPerMinute = rates.sum("sluice_upstream_requests_total", {selector}) * kSecondsPerMinute;
        upstream.errorsPerSecond = rates.sum("sluice_upstream_errors_total", {selector});
        upstream.provider429PerSecond =
            rates.sum("sluice_upstream_errors_total", {selector, {"kind", "status_429"}});
        upstream.duration = rates.quantiles("sluice_upstream_duration_seconds", {selector});
        if (const auto breaker = breakers.find(name); breaker != breakers.end())
            upstream.breaker = breakerFrom(breaker->second);

        std::optional<std::map<QString, double>> tokens;
        if (tokensKnown) {
            tokens = upstreamTokens[name];
            double total = 0;
            for (const auto &entry : *tokens)
                total += entry.second;
            upstream.tokensPerMinute = total;
        }
        const auto tokensOf = [&](std::initializer_list<const char *> types) -> std::optional<double> {
            if (!tokens)
                return std::nullopt;
            double total = 0;
            for (const char *type : types) {
                const auto found = tokens->find(QString::fromLatin1(type));
                total += found == tokens->end() ? 0 : found->second;
            }
            return total;
        };
        for (const auto &[key, limit] : quotaLimits) {
            if (key.first != name)
                continue;
            QuotaFrame quota;
            quota.resource = key.second;
            quota.limit = limit;
            if (const auto remaining = quotaRemaining.find(key); remaining != quotaRemaining.end())
                quota.remaining = remaining->second;
            if (quota.resource == u"requests")
                quota.usedPerMinute = upstream.requestsPerMinute;
            else if (quota.resource == u"tokens")
                quota.usedPerMinute = upstream.tokensPerMinute;
            else if (quota.resource == u"input_tokens")
                quota.usedPerMinute = tokensOf({"input", "cache_write"});
            else if (quota.resource == u"output_tokens")
                quota.usedPerMinute = tokensOf({"output"});
            if (quota.usedPerMinute && quota.limit > 0) {
                quota.percentOfLimit = *quota.usedPerMinute / quota.limit * 100;
                const double drainPerSecond = (*quota.usedPerMinute - quota.limit) / kSecondsPerMinute;
                if (drainPerSecond > 0 && quota.remaining)
                    quota.secondsToExhaustion = std::max(0.0, *quota.remaining) / drainPerSecond;
            }
            upstream.quotas.push_back(std::move(quota));
        }
        frame.upstreams.push_back(std::move(upstream));
    }
    return frame;
}

} // namespace

std::map<QString, QString> modelUpstreamMap(const config::GatewayConfig &config)
{
    std::vector<const config::Upstream *> ordered;
    for (const config::Upstream &upstream : config.upstreams)
        ordered.push_back(&upstream);
    std::stable_sort(ordered.begin(), ordered.end(),
                     [](const config::Upstream *a, const config::Upstream *b) { return a->priority < b->priority; });
    std::map<QString, QString> routes;
    for (const config::Upstream *upstream : ordered) {
        for (const QString &model : upstream->models)
            routes.try_emplace(model, upstream->name);
        for (const auto &alias : upstream->aliases)
            routes.try_emplace(alias.first, upstream->name);
    }
    return routes;
}

const UpstreamFrame *DashboardFrame::upstream(const QString &name) const
{
    for (const UpstreamFrame &frame : upstreams) {
        if (frame.upstream == name)
            return &frame;
    }
    return nullptr;
}

Result<DashboardFrame, QString> DashboardFrame::between(const ScrapeSnapshot &previous, const ScrapeSnapshot &current,
                                                        const FrameOptions &options)
{
    return aggregate({SnapshotPair{&previous, &current}}, options);
}

Result<DashboardFrame, QString> DashboardFrame::aggregate(const std::vector<SnapshotPair> &instances,
                                                          const FrameOptions &options)
{
    if (instances.empty())
        return unexpected(QStringLiteral("no instances to aggregate"));
    std::vector<InstanceInterval> intervals;
    intervals.reserve(instances.size());
    for (const SnapshotPair &pair : instances) {
        if (!pair.previous || !pair.current)
            return unexpected(QStringLiteral("a snapshot pair is incomplete"));
        auto interval = intervalOf(*pair.previous, *pair.current);
        if (!interval)
            return unexpected(interval.error());
        intervals.push_back(std::move(*interval));
    }
    return buildFrame(intervals, options);
}

} // namespace sluice::clients
