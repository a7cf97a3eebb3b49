#pragma once

#include "clients/scrapesnapshot.h"
#include "config/gatewayconfig.h"
#include "policy/result.h"

#include <QDateTime>
#include <QString>

#include <map>
#include <optional>
#include <vector>

namespace sluice::clients {

// Latency quantiles in seconds over one interval, computed like PromQL's
// histogram_quantile() over the interval's bucket increases (not over the totals since
// start). nullopt when the interval saw no observation.
struct LatencyQuantiles {
    std::optional<double> p50;
    std::optional<double> p95;
    std::optional<double> p99;
};

// One provider quota bucket of one upstream (sluice_provider_quota_{limit,remaining}
// {upstream,resource}), read as a per-minute budget: the quotas providers publish
// (OpenAI, Anthropic) are per minute and refill continuously.
struct QuotaFrame {
    // "requests", "tokens", "input_tokens" or "output_tokens".
    QString resource;
    // As the provider's last rate-limit headers reported them.
    double limit = 0;
    std::optional<double> remaining;
    // This upstream's use of the resource per minute over the interval:
    //   requests      upstream attempts (sluice_upstream_requests_total{upstream})
    //   tokens        every token type (input + cached_input + cache_write + output)
    //   input_tokens  input + cache_write (what an input-tokens quota counts)
    //   output_tokens output
    // Tokens are labelled by model, not upstream, so token use needs
    // FrameOptions::modelUpstreams; nullopt without it.
    std::optional<double> usedPerMinute;
    // usedPerMinute / limit × 100; nullopt without usage or with a limit of 0.
    std::optional<double> percentOfLimit;
    // Seconds until `remaining` reaches 0 at the current rate: the bucket drains by
    // (usedPerMinute − limit) per minute, so only when usedPerMinute > limit; 0 when
    // nothing remains and it is still over the limit. nullopt when not exhausting.
    std::optional<double> secondsToExhaustion;
};

enum class BreakerState { Closed, HalfOpen, Open };

struct UpstreamFrame {
    QString upstream;
    // Upstream attempts (retries included), every status.
    double requestsPerMinute = 0;
    // Attempts that failed (sluice_upstream_errors_total, any kind), and those the
    // provider answered with 429 (kind="status_429"), per second.
    double errorsPerSecond = 0;
    double provider429PerSecond = 0;
    // Tokens of the models routed to this upstream (FrameOptions::modelUpstreams).
    std::optional<double> tokensPerMinute;
    LatencyQuantiles duration; // sluice_upstream_duration_seconds{upstream}
    std::vector<QuotaFrame> quotas; // by resource name
    // sluice_breaker_state; nullopt when the gateway exposes none for it. Over several
    // instances: the worst (Open > HalfOpen > Closed).
    std::optional<BreakerState> breaker;
};

// Facts about one instance, from its current snapshot.
struct InstanceFacts {
    QString instance;
    QString version;                     // sluice_build_info{version}
    std::optional<double> uptimeSeconds; // snapshot wall time − sluice_start_time_seconds
    std::optional<qint64> configVersion; // sluice_config_version
    // The instance restarted between the two snapshots (its start time changed): every
    // counter was read as counting from 0.
    bool restarted = false;
    double intervalSeconds = 0;
};

struct FrameOptions {
    // Client model name or alias (the `model` label of sluice_tokens_total) → upstream,
    // for per-upstream token rates. modelUpstreamMap() builds it from a configuration.
    std::map<QString, QString> modelUpstreams;
};

// Model and alias → upstream as the configuration routes them: the first upstream (in
// priority order, then list order) that serves the name, as the gateway tries them.
std::map<QString, QString> modelUpstreamMap(const config::GatewayConfig &config);

// What the Dashboard shows for one interval, derived from two scrapes of one instance
// (between()) or of several (aggregate()). Rates are per second unless the name says
// otherwise and are divided by the REAL interval between the two snapshots' steady
// stamps.
//
// Counters: an increase is current − previous; a counter that went down (the
// instance restarted) counts from 0, i.e. its increase is its current value; a series
// absent from the previous snapshot counts from 0 too (the gateway creates series at
// their first event). When sluice_start_time_seconds changed, the instance restarted
// and every counter counts from 0.
//
// 429s, as the gateway labels them (see ChatExchange):
//   own limits      sluice_client_errors_total{reason="rate_limited"}: Sluice's own rate
//                   limits (key, IP, rule; requests, tokens, parallel) refused the request
//   provider quota  sluice_client_errors_total{reason="provider_quota"}: Sluice refused
//                   because every upstream for the model is paused by its provider's
//                   quota (pacing, after a provider 429)
//   provider 429    sluice_upstream_errors_total{kind="status_429"}: attempts the
//                   provider itself answered with 429 (per upstream; retries included)
struct DashboardFrame {
    // The interval the rates are over; for an aggregate, the longest of the instances'.
    double intervalSeconds = 0;
    // The latest current snapshot's wall time.
    QDateTime wallTimeUtc;
    std::vector<InstanceFacts> instances;

    // --- Traffic (sluice_requests_total) ----------------------------------------
    double requestsPerSecond = 0;
    // By status class: always "2xx", "3xx", "4xx", "5xx", plus "1xx" / "error" if seen.
    std::map<QString, double> requestsPerSecondByClass;
    // 5xx share of the requests; nullopt without requests.
    std::optional<double> errorRatio;

    // --- Latency ------------------------------------------------------------------
    LatencyQuantiles requestDuration;  // sluice_request_duration_seconds, all routes
    LatencyQuantiles upstreamDuration; // sluice_upstream_duration_seconds, all upstreams
    LatencyQuantiles gatewayOverhead;  // sluice_gateway_overhead_seconds, all routes
    LatencyQuantiles timeToFirstToken; // sluice_time_to_first_token_seconds, all models

    // --- 429s (see above) -----------------------------------------------------------
    double ownLimit429PerSecond = 0;
    double providerQuota429PerSecond = 0;
    double provider429PerSecond = 0;
    // Shares of the client requests; nullopt without requests.
    std::optional<double> ownLimit429Ratio;
    std::optional<double> providerQuota429Ratio;
    // sluice_rate_limit_decisions_total{result="limited"} by scope (rule name, "key",
    // "ip", "upstream_quota").
    std::map<QString, double> limitedPerSecondByScope;

    // --- Cache ----------------------------------------------------------------------
    // hit / (hit + miss) over the interval (bypassed requests were never looked up);
    // nullopt without lookups.
    std::optional<double> cacheHitRatio;
    double cacheHitsPerSecond = 0;
    double cacheLookupsPerSecond = 0; // hit + miss
    double cacheSavedTokensPerSecond = 0;
    double cacheSavedTokensPerHour = 0;
    double cacheSavedUsdPerSecond = 0;
    double cacheSavedUsdPerHour = 0;

    // --- Concurrency (gauges at the current snapshot; summed over instances) ----------
    double inFlight = 0;         // sluice_in_flight_requests: client requests inside
    double upstreamInFlight = 0; // sluice_upstream_in_flight: holding a permit
    std::optional<double> concurrencyLimit; // sluice_concurrency_limit
    // upstreamInFlight / concurrencyLimit; nullopt without a (positive) limit.
    std::optional<double> concurrencyUtilisation;
    double queueDepth = 0;
    // Mean wait for a permit over the interval (Δsum / Δcount of
    // sluice_queue_wait_seconds); nullopt when nothing was granted.
    std::optional<double> meanQueueWaitSeconds;
    double queueRejectionsPerSecond = 0; // sluice_queue_rejections_total, both reasons

    // --- Tokens and cost ----------------------------------------------------------------
    double tokensPerSecond = 0;
    std::map<QString, double> tokensPerSecondByType; // input, output, cached_input, cache_write
    std::map<QString, double> tokensPerMinuteByModel;
    // The spend rate over the interval, projected linearly (policy::projectCost): an
    // hour, a day, a 30-day month.
    double costUsdPerHour = 0;
    double costUsdPerDay = 0;
    double costUsdPerMonth = 0;
    std::map<QString, double> costUsdPerHourByModel;

    // --- Upstreams, sorted by name ---------------------------------------------------------
    std::vector<UpstreamFrame> upstreams;
    const UpstreamFrame *upstream(const QString &name) const;

    // The frame between two snapshots of one instance. Fails when the snapshots are of
    // different instances or not in steady-time order.
    static Result<DashboardFrame, QString> between(const ScrapeSnapshot &previous, const ScrapeSnapshot &current,
                                                   const FrameOptions &options = {});

    struct SnapshotPair {
        const ScrapeSnapshot *previous = nullptr;
        const ScrapeSnapshot *current = nullptr;
    };
    // Several instances behind one load balancer as one: rates summed (each over its
    // own interval), quantiles from the SUMMED bucket increases (like
    // histogram_quantile(sum by (le) (rate(...)))), gauges summed, except provider
    // quotas (one account shared by every instance: the lowest remaining, the highest
    // limit) and breakers (the worst). Fails if any pair fails between()'s checks.
    static Result<DashboardFrame, QString> aggregate(const std::vector<SnapshotPair> &instances,
                                                     const FrameOptions &options = {});
};

} // namespace sluice::clients
