#pragma once

#include "metrics/registry.h"
#include "policy/circuitbreaker.h"
#include "policy/responsecache.h"
#include "policy/result.h"
#include "policy/tokenusage.h"

#include <QJsonObject>
#include <QString>
#include <QStringView>

#include <cstdint>
#include <functional>
#include <memory>

namespace sluice::gateway {

// What a cache lookup or store did for one request (sluice_cache_requests_total{result}).
enum class CacheResult {
    Hit,       // answered from the cache
    Miss,      // looked up, not found
    Bypass,    // not looked up: the request or route is not cacheable
    Stored,    // the answer was put into the cache
    NotStored, // the answer was cacheable but refused (too large, error status, ttl 0)
};

// What a rate-limit decision counted (sluice_rate_limit_decisions_total{dimension}).
enum class LimitDimension { Requests, Tokens, Parallel };

// Why the concurrency queue turned a request away (sluice_queue_rejections_total{reason}).
enum class QueueRejection { Full, Timeout };

// A provider quota bucket as its rate-limit headers report it
// (sluice_provider_quota_{remaining,limit}{resource}).
enum class QuotaResource { Requests, Tokens, InputTokens, OutputTokens };

// Every metric family of the gateway, registered in a metrics::Registry, with one
// typed method per event so the pipeline never spells a metric name or a label.
//
// Thread-safe: every method may be called from any thread at once. Series whose
// labels come from small fixed sets (cache results, queue rejections, config
// reloads) and the label-free series are looked up once and cached;
// series labelled by route, model, upstream, rule or reason are found with the
// family's shared-lock lookup, which does not allocate once the series exists
// (label text of up to kInlineLabelBytes / 3 UTF-16 code units is converted to
// UTF-8 on the stack).
//
// Label values must come from bounded sets: routes from config::knownRoutes(),
// models and upstreams as named in the configuration (never a client's raw model
// string for an unknown model: pass an empty model instead), rule names from the
// configuration, reasons and error kinds from the caller's own vocabulary. Each
// family also has a maxSeries bound (kMax* below); label sets beyond it go to the
// family's "__overflow__" series. An empty label value (route, model, upstream,
// scope, reason, kind) is recorded as "none".
//
// Units are base units: seconds (double) and US dollars. Negative or NaN
// durations and amounts are not recorded, except that a negative overhead is
// recorded as 0 (it can only be clock jitter).
//
// The Registry must outlive this object. Families cannot be unregistered, so a
// Registry holds at most one GatewayMetrics for its whole life; the callback
// series (cache stats) are removed when this object is destroyed.
class GatewayMetrics {
public:
    // Label text converted without allocating; longer values still work.
    static constexpr std::size_t kInlineLabelBytes = 256;
    static constexpr std::size_t kMaxRoutes = 32;
    static constexpr std::size_t kMaxModels = 256;
    static constexpr std::size_t kMaxUpstreams = 64;
    static constexpr std::size_t kMaxRateLimitScopes = 128;
    static constexpr std::size_t kMaxReasons = 64;
    // sluice_requests_total{route,model,code}: routes x models x status classes
    // actually seen together.
    static constexpr std::size_t kMaxRequestSeries = 4000;

    // Returns the cache's current statistics; see setCacheStatsSource().
    using CacheStatsFunction = std::function<policy::CacheStats()>;

    // Registers every family in `registry`, exposes sluice_build_info{version=
    // buildVersion} = 1 and sets sluice_start_time_seconds to the current wall
    // time. Fails with the registry's error (naming the metric) if a family cannot
    // be registered, typically because this registry already holds a
    // GatewayMetrics; families registered before the failure stay registered.
    static Result<std::unique_ptr<GatewayMetrics>> create(metrics::Registry &registry, const QString &buildVersion);

    ~GatewayMetrics();
    GatewayMetrics(const GatewayMetrics &) = delete;
    GatewayMetrics &operator=(const GatewayMetrics &) = delete;

    // --- Client requests ---------------------------------------------------------

    // Client requests inside the gateway (accepted, not yet answered to the last
    // byte): +1 when a request is accepted, -1 when its answer is finished or the
    // client went away. sluice_in_flight_requests.
    void addInFlight(int delta);
    void setInFlight(int requests);

    // Once per client request, when its answer has been sent to the last byte (or
    // the client went away). `httpStatus` is the status sent; 0 when none was (it
    // is then counted with code="error"), otherwise its class "1xx".."5xx".
    // `durationSeconds`: from accepting the request to the last byte.
    // `overheadSeconds`: durationSeconds minus the time spent waiting for upstream
    // attempts and in the concurrency queue, i.e. time spent in Sluice itself.
    // sluice_requests_total{route,model,code}, sluice_request_duration_seconds{route},
    // sluice_gateway_overhead_seconds{route}.
    void requestFinished(QStringView route, QStringView model, int httpStatus, double durationSeconds,
                         double overheadSeconds);

    // Streams: when the first content byte has been sent to the client, seconds
    // since the request was accepted. sluice_time_to_first_token_seconds{model}.
    void timeToFirstToken(QStringView model, double seconds);

    // Once per request that was answered by a provider, with the provider's
    // reported usage and its cost in US dollars (0 if unknown). Cache hits are not
    // counted here: no tokens were processed.
    // sluice_tokens_total{model,type}, sluice_cost_usd_total{model}.
    void tokens(QStringView model, const policy::TokenUsage &usage, double costUsd);
    // Once per request answered from the cache (or shared from an identical in-flight
    // request): the tokens and dollars the provider would have charged for it, from the
    // cached answer's usage. sluice_cache_saved_tokens_total{model},
    // sluice_cache_saved_usd_total{model}.
    void cacheSaved(QStringView model, const policy::TokenUsage &usage, double costUsd);

    // A request refused before reaching an upstream, `reason` from the pipeline's
    // vocabulary: bad_json, invalid_request, unknown_model, unauthenticated,
    // forbidden_model, body_too_large, ... sluice_client_errors_total{reason}.
    void clientError(QStringView reason);

    // --- Cache ---------------------------------------------------------------------

    // Once per lookup (Hit, Miss, Bypass) and once per store attempt (Stored,
    // NotStored). sluice_cache_requests_total{result}.
    void cacheResult(CacheResult result);

    // Installs the source of sluice_cache_evictions_total, sluice_cache_entries and
    // sluice_cache_bytes, called on the scraping thread (once per family per scrape
    // and by snapshot()). It must be thread-safe and quick and stay callable until
    // it is replaced, cleared with an empty function, or this object is destroyed;
    // once this returns, a replaced function is no longer called. Without a source
    // the three families have no series.
    void setCacheStatsSource(CacheStatsFunction source);

    // --- Rate limits, queue, single-flight ---------------------------------------

    // One decision of one limit. `scope` is the rule's name from the configuration,
    // or "key" (a key's own limits), "ip" (anonymous per-IP limits) or
    // "upstream_quota" (provider-quota pacing).
    // sluice_rate_limit_decisions_total{scope,dimension,result=allowed|limited}.
    void rateLimitDecision(QStringView scope, LimitDimension dimension, bool allowed);

    // sluice_concurrency_limit: permits available (the configured max in flight).
    void setConcurrencyLimit(int permits);
    // sluice_upstream_in_flight: requests holding a concurrency permit.
    void addUpstreamInFlight(int delta);
    void setUpstreamInFlight(int requests);
    // sluice_queue_depth: requests waiting for a permit.
    void setQueueDepth(int waiting);
    // Once per request that got a permit: seconds it waited (0 when granted at
    // once). sluice_queue_wait_seconds.
    void queueWait(double seconds);
    // A request the queue turned away (503). sluice_queue_rejections_total{reason}.
    void queueRejected(QueueRejection reason);

    // A request that joined an identical in-flight request instead of calling an
    // upstream itself. sluice_singleflight_joined_total.
    void singleFlightJoined();

    // --- Upstreams -----------------------------------------------------------------

    // Once per upstream attempt (retries are attempts too), when it ends: `status`
    // is the provider's HTTP status, 0 when the attempt got none (connection
    // error, timeout), counted as code="error"; `seconds` from sending the request
    // to the last byte received (or the failure).
    // sluice_upstream_requests_total{upstream,code}, sluice_upstream_duration_seconds{upstream}.
    void upstreamAttempt(QStringView upstream, int status, double seconds);
    // Why an attempt failed, `kind` from the caller's vocabulary: connect_timeout,
    // read_timeout, total_timeout, connection_reset, connection_refused,
    // status_5xx, status_429, tls, protocol, ...
    // sluice_upstream_errors_total{upstream,kind}.
    void upstreamError(QStringView upstream, QStringView kind);
    // A retry of a failed attempt against `upstream`. sluice_retries_total{upstream}.
    void retry(QStringView upstream);
    // A request moved on from `fromUpstream` to the next upstream of its route.
    // sluice_fallbacks_total{from_upstream}.
    void fallback(QStringView fromUpstream);

    // The breaker's current state, e.g. for every upstream at start-up and after a
    // config change: sluice_breaker_state{upstream} (0 closed, 1 half-open, 2 open).
    void breakerState(QStringView upstream, policy::CircuitBreaker::State state);
    // A state change: sets the state as above and counts
    // sluice_breaker_transitions_total{upstream,to=closed|half_open|open}.
    void breakerTransition(QStringView upstream, policy::CircuitBreaker::State to);

    // A provider's quota as its latest rate-limit headers report it.
    // sluice_provider_quota_remaining{upstream,resource} and
    // sluice_provider_quota_limit{upstream,resource}; a negative or NaN `limit`
    // (header absent) leaves the limit gauge as it was, a NaN `remaining` the
    // remaining gauge.
    void providerQuota(QStringView upstream, QuotaResource resource, double remaining, double limit);
    // Seconds `upstream` is paused by a provider 429 (its Retry-After), added when
    // the pause starts. sluice_upstream_paused_seconds_total{upstream}.
    void upstreamPaused(QStringView upstream, double seconds);

    // --- Configuration and process -------------------------------------------------

    // The version of the configuration in force. sluice_config_version.
    void setConfigVersion(std::int64_t version);
    // A reload attempt (admin API, file watch, Redis channel) and whether it was
    // applied. sluice_config_reloads_total{result=ok|error}.
    void configReload(bool ok);
    // Overrides the start time set by create(). sluice_start_time_seconds.
    void setStartTime(double unixSeconds);

    // --- Reading -------------------------------------------------------------------

    // The current totals, read back from the families themselves, for the admin
    // API's /admin/v1/stats. Members (absent series read as 0):
    //   requests: {total, by_code: {"2xx": n, ...}, by_model: {model: n},
    //              by_route: {route: n}},
    //   in_flight, client_errors: {reason: n},
    //   tokens: {input, output, cached_input, cache_write},
    //   cost_usd: {total, by_model: {model: usd}},
    //   cache: {hit, miss, bypass, stored, not_stored, hit_ratio (hit / (hit +
    //           miss), 0 with no lookups), entries, bytes, evictions},
    //   rate_limit: {allowed, limited, limited_by_scope: {scope: n}},
    //   queue: {depth, concurrency_limit, upstream_in_flight, rejected_full,
    //           rejected_timeout, waits, wait_seconds_sum},
    //   singleflight_joined,
    //   upstreams: {name: {requests, errors, errors_by_kind: {kind: n}, retries,
    //               fallbacks, paused_seconds, breaker_state ("closed" |
    //               "half_open" | "open"), quota_remaining: {resource: n},
    //               quota_limit: {resource: n}}} for every upstream seen,
    //   config: {version, reloads_ok, reloads_error},
    //   build_version, start_time_seconds.
    // Thread-safe; costs about one scrape of these families.
    QJsonObject snapshot() const;

private:
    struct Families;

    explicit GatewayMetrics(std::unique_ptr<Families> families);

    std::unique_ptr<Families> m_families;
};

} // namespace sluice::gateway
