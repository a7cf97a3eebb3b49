#include "gateway/gatewaymetrics.h"

#include "metrics/promparser.h"

#include <QDateTime>
#include <QStringEncoder>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::gateway {

namespace {

using metrics::CallbackFamily;
using metrics::Counter;
using metrics::CounterFamily;
using metrics::Gauge;
using metrics::GaugeFamily;
using metrics::Histogram;
using metrics::HistogramFamily;
using metrics::MetricFamily;

constexpr std::string_view kNoneLabel = "none";

constexpr std::array<std::string_view, 5> kCacheResultNames{"hit", "miss", "bypass", "stored", "not_stored"};
constexpr std::array<std::string_view, 3> kDimensionNames{"requests", "tokens", "parallel"};
constexpr std::array<std::string_view, 2> kQueueRejectionNames{"full", "timeout"};
constexpr std::array<std::string_view, 4> kQuotaResourceNames{"requests", "tokens", "input_tokens", "output_tokens"};
// Indexed by the sluice_breaker_state value.
constexpr std::array<std::string_view, 3> kBreakerStateNames{"closed", "half_open", "open"};

// UTF-8 of a label value, on the stack when it fits: the request path calls this
// for every route, model and upstream label and must not allocate for it.
class Utf8Label {
public:
    explicit Utf8Label(QStringView text)
    {
        if (text.isEmpty()) {
            m_view = kNoneLabel;
            return;
        }
        QStringEncoder encoder(QStringEncoder::Utf8);
        if (encoder.requiredSpace(text.size()) <= static_cast<qsizetype>(m_buffer.size())) {
            const char *end = encoder.appendToBuffer(m_buffer.data(), text);
            m_view = std::string_view(m_buffer.data(), static_cast<std::size_t>(end - m_buffer.data()));
        } else {
            m_heap = text.toUtf8().toStdString();
            m_view = m_heap;
        }
    }
    Utf8Label(const Utf8Label &) = delete;
    Utf8Label &operator=(const Utf8Label &) = delete;

    operator std::string_view() const { return m_view; }

private:
    std::array<char, GatewayMetrics::kInlineLabelBytes> m_buffer;
    std::string m_heap;
    std::string_view m_view;
};

std::string_view statusClass(int status)
{
    static constexpr std::array<std::string_view, 5> names{"1xx", "2xx", "3xx", "4xx", "5xx"};
    if (status >= 100 && status <= 599)
        return names[static_cast<std::size_t>(status / 100 - 1)];
    return "error";
}

int breakerValue(policy::CircuitBreaker::State state)
{
    switch (state) {
    case policy::CircuitBreaker::State::Closed:
        return 0;
    case policy::CircuitBreaker::State::HalfOpen:
        return 1;
    case policy::CircuitBreaker::State::Open:
        return 2;
    }
    return 0;
}

template <typename Enum, std::size_t N>
std::string_view nameOf(const std::array<std::string_view, N> &names, Enum value)
{
    const auto index = static_cast<std::size_t>(value);
    return index < N ? names[index] : names[0];
}

void observeSeconds(Histogram &histogram, double seconds)
{
    if (seconds >= 0)
        histogram.observe(seconds);
}

// Registers families until the first failure, then does nothing and keeps
// that failure: create() reports the first metric that could not be added.
class Registrar {
public:
    explicit Registrar(metrics::Registry &registry) : m_registry(registry) {}

    CounterFamily *counters(std::string name, std::string help, std::vector<std::string> labels,
                            std::size_t maxSeries)
    {
        if (m_error)
            return nullptr;
        return take(m_registry.counterFamily(std::move(name), std::move(help), std::move(labels), maxSeries));
    }
    GaugeFamily *gauges(std::string name, std::string help, std::vector<std::string> labels, std::size_t maxSeries)
    {
        if (m_error)
            return nullptr;
        return take(m_registry.gaugeFamily(std::move(name), std::move(help), std::move(labels), maxSeries));
    }
    HistogramFamily *histograms(std::string name, std::string help, std::vector<std::string> labels,
                                std::vector<double> bounds, std::size_t maxSeries)
    {
        if (m_error)
            return nullptr;
        return take(m_registry.histogramFamily(std::move(name), std::move(help), std::move(labels),
                                               std::move(bounds), maxSeries));
    }
    CallbackFamily *counterCallbacks(std::string name, std::string help)
    {
        if (m_error)
            return nullptr;
        return take(m_registry.counterCallbackFamily(std::move(name), std::move(help), {}, 1));
    }
    CallbackFamily *gaugeCallbacks(std::string name, std::string help)
    {
        if (m_error)
            return nullptr;
        return take(m_registry.gaugeCallbackFamily(std::move(name), std::move(help), {}, 1));
    }

    const std::optional<Error> &error() const { return m_error; }
    const std::vector<const MetricFamily *> &registered() const { return m_registered; }

private:
    template <typename FamilyType>
    FamilyType *take(Result<FamilyType *> result)
    {
        if (!result) {
            m_error = std::move(result).error();
            return nullptr;
        }
        m_registered.push_back(*result);
        return *result;
    }

    metrics::Registry &m_registry;
    std::optional<Error> m_error;
    std::vector<const MetricFamily *> m_registered;
};

// Sums over the samples of one scrape of this object's families.
class ParsedTotals {
public:
    explicit ParsedTotals(const std::vector<metrics::ParsedFamily> &families) : m_families(families) {}

    template <typename Visit>
    void forEach(std::string_view sampleName, Visit visit) const
    {
        for (const metrics::ParsedFamily &family : m_families) {
            for (const metrics::ParsedSample &sample : family.samples) {
                if (sample.name == sampleName)
                    visit(sample);
            }
        }
    }

    double total(std::string_view sampleName) const
    {
        double sum = 0;
        forEach(sampleName, [&](const metrics::ParsedSample &sample) { sum += sample.value; });
        return sum;
    }

    double where(std::string_view sampleName, std::string_view label, std::string_view value) const
    {
        double sum = 0;
        forEach(sampleName, [&](const metrics::ParsedSample &sample) {
            if (sample.label(label) == value)
                sum += sample.value;
        });
        return sum;
    }

    // {label value: sum of the samples with it}.
    QJsonObject by(std::string_view sampleName, std::string_view label) const
    {
        std::map<std::string, double> sums;
        forEach(sampleName, [&](const metrics::ParsedSample &sample) {
            sums[std::string(sample.label(label).value_or(std::string_view{}))] += sample.value;
        });
        QJsonObject object;
        for (const auto &[key, sum] : sums)
            object.insert(QString::fromStdString(key), sum);
        return object;
    }

private:
    const std::vector<metrics::ParsedFamily> &m_families;
};

QString labelString(const metrics::ParsedSample &sample, std::string_view label)
{
    return QString::fromStdString(std::string(sample.label(label).value_or(std::string_view{})));
}

} // namespace

struct GatewayMetrics::Families {
    CounterFamily *requests = nullptr;
    HistogramFamily *requestDuration = nullptr;
    HistogramFamily *gatewayOverhead = nullptr;
    HistogramFamily *timeToFirstToken = nullptr;
    CounterFamily *tokens = nullptr;
    CounterFamily *cost = nullptr;
    CounterFamily *cacheSavedTokens = nullptr;
    CounterFamily *cacheSavedCost = nullptr;
    CounterFamily *clientErrors = nullptr;
    Gauge *inFlight = nullptr;

    std::array<Counter *, kCacheResultNames.size()> cacheResults{};
    CallbackFamily *cacheEvictions = nullptr;
    CallbackFamily *cacheEntries = nullptr;
    CallbackFamily *cacheBytes = nullptr;

    CounterFamily *rateLimitDecisions = nullptr;
    Gauge *concurrencyLimit = nullptr;
    Gauge *upstreamInFlight = nullptr;
    Gauge *queueDepth = nullptr;
    Histogram *queueWait = nullptr;
    std::array<Counter *, kQueueRejectionNames.size()> queueRejections{};
    Counter *singleFlightJoined = nullptr;

    CounterFamily *upstreamRequests = nullptr;
    HistogramFamily *upstreamDuration = nullptr;
    CounterFamily *upstreamErrors = nullptr;
    CounterFamily *retries = nullptr;
    CounterFamily *fallbacks = nullptr;
    GaugeFamily *breakerState = nullptr;
    CounterFamily *breakerTransitions = nullptr;
    GaugeFamily *quotaRemaining = nullptr;
    GaugeFamily *quotaLimit = nullptr;
    CounterFamily *upstreamPaused = nullptr;

    Gauge *configVersion = nullptr;
    Counter *configReloadsOk = nullptr;
    Counter *configReloadsError = nullptr;
    Gauge *startTime = nullptr;
    QString buildVersion;

    // Every family above, for snapshot().
    std::vector<const MetricFamily *> all;
};

Result<std::unique_ptr<GatewayMetrics>> GatewayMetrics::create(metrics::Registry &registry,
                                                               const QString &buildVersion)
{
    auto families = std::make_unique<Families>();
    Families &f = *families;
    Registrar add(registry);
    const auto latency = metrics::defaultLatencyBucketsSeconds;
    // Sluice's own work is micro- to milliseconds; the request buckets start at 5 ms.
    const std::vector<double> overheadBuckets{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                              0.01,    0.025,  0.05,    0.1,    0.25,   0.5,    1};

    f.requests = add.counters("sluice_requests_total", "Client requests answered, by route, model and status class.",
                              {"route", "model", "code"}, kMaxRequestSeries);
    f.requestDuration = add.histograms("sluice_request_duration_seconds",
                                       "Client request duration from acceptance to the last byte sent, by route.",
                                       {"route"}, latency(), kMaxRoutes);
    f.gatewayOverhead = add.histograms(
        "sluice_gateway_overhead_seconds",
        "Time spent in Sluice itself per request: duration minus upstream and queue wait time, by route.", {"route"},
        overheadBuckets, kMaxRoutes);
    f.timeToFirstToken = add.histograms("sluice_time_to_first_token_seconds",
                                        "Streamed requests: time from acceptance to the first content byte sent.",
                                        {"model"}, latency(), kMaxModels);
    f.tokens = add.counters("sluice_tokens_total",
                            "Tokens reported by providers, by model and type (input, output, cached_input, "
                            "cache_write).",
                            {"model", "type"}, kMaxModels * 4);
    f.cost = add.counters("sluice_cost_usd_total", "Upstream cost in US dollars, by model.", {"model"}, kMaxModels);
    f.cacheSavedTokens = add.counters("sluice_cache_saved_tokens_total",
                                      "Tokens not sent to a provider because the answer came from the cache, by model.",
                                      {"model"}, kMaxModels);
    f.cacheSavedCost = add.counters("sluice_cache_saved_usd_total",
                                    "US dollars not spent because the answer came from the cache, by model.", {"model"},
                                    kMaxModels);
    f.clientErrors = add.counters("sluice_client_errors_total",
                                  "Requests refused before reaching an upstream, by reason.", {"reason"}, kMaxReasons);
    auto *inFlight = add.gauges("sluice_in_flight_requests", "Client requests inside the gateway.", {}, 1);

    auto *cacheRequests = add.counters("sluice_cache_requests_total",
                                       "Response cache lookups (hit, miss, bypass) and stores (stored, not_stored).",
                                       {"result"}, kCacheResultNames.size());
    f.cacheEvictions = add.counterCallbacks("sluice_cache_evictions_total",
                                            "Response cache entries evicted to respect its entry and byte limits.");
    f.cacheEntries = add.gaugeCallbacks("sluice_cache_entries", "Entries in the response cache.");
    f.cacheBytes = add.gaugeCallbacks("sluice_cache_bytes", "Bytes held by the response cache.");

    f.rateLimitDecisions = add.counters("sluice_rate_limit_decisions_total",
                                        "Rate-limit decisions by scope (rule name, key, ip, upstream_quota), "
                                        "dimension (requests, tokens, parallel) and result (allowed, limited).",
                                        {"scope", "dimension", "result"},
                                        kMaxRateLimitScopes * kDimensionNames.size() * 2);
    auto *concurrencyLimit =
        add.gauges("sluice_concurrency_limit", "Concurrency permits for upstream calls (max in flight).", {}, 1);
    auto *upstreamInFlight =
        add.gauges("sluice_upstream_in_flight", "Requests holding a concurrency permit.", {}, 1);
    auto *queueDepth = add.gauges("sluice_queue_depth", "Requests waiting for a concurrency permit.", {}, 1);
    auto *queueWait = add.histograms("sluice_queue_wait_seconds",
                                     "Time requests waited for a concurrency permit (0 when granted at once).", {},
                                     latency(), 1);
    auto *queueRejections = add.counters("sluice_queue_rejections_total",
                                         "Requests turned away by the concurrency queue, by reason (full, timeout).",
                                         {"reason"}, kQueueRejectionNames.size());
    auto *singleFlight = add.counters("sluice_singleflight_joined_total",
                                      "Requests that joined an identical in-flight request.", {}, 1);

    f.upstreamRequests = add.counters("sluice_upstream_requests_total",
                                      "Upstream attempts by upstream and status class (error: no status).",
                                      {"upstream", "code"}, kMaxUpstreams * 6);
    f.upstreamDuration = add.histograms("sluice_upstream_duration_seconds",
                                        "Duration of one upstream attempt, to its last byte or failure.",
                                        {"upstream"}, latency(), kMaxUpstreams);
    f.upstreamErrors = add.counters("sluice_upstream_errors_total", "Failed upstream attempts by upstream and kind.",
                                    {"upstream", "kind"}, kMaxUpstreams * kMaxReasons);
    f.retries = add.counters("sluice_retries_total", "Retries of failed upstream attempts, by upstream.",
                             {"upstream"}, kMaxUpstreams);
    f.fallbacks = add.counters("sluice_fallbacks_total",
                               "Requests moved on to the next upstream of their route, by the upstream left.",
                               {"from_upstream"}, kMaxUpstreams);
    f.breakerState = add.gauges("sluice_breaker_state",
                                "Circuit breaker state per upstream: 0 closed, 1 half-open, 2 open.", {"upstream"},
                                kMaxUpstreams);
    f.breakerTransitions = add.counters("sluice_breaker_transitions_total",
                                        "Circuit breaker state changes by upstream and new state.", {"upstream", "to"},
                                        kMaxUpstreams * kBreakerStateNames.size());
    f.quotaRemaining = add.gauges("sluice_provider_quota_remaining",
                                  "Provider quota remaining as its rate-limit headers last reported it.",
                                  {"upstream", "resource"}, kMaxUpstreams * kQuotaResourceNames.size());
    f.quotaLimit = add.gauges("sluice_provider_quota_limit",
                              "Provider quota limit as its rate-limit headers last reported it.",
                              {"upstream", "resource"}, kMaxUpstreams * kQuotaResourceNames.size());
    f.upstreamPaused = add.counters("sluice_upstream_paused_seconds_total",
                                    "Seconds upstreams were paused by provider 429 answers.", {"upstream"},
                                    kMaxUpstreams);

    auto *configVersion = add.gauges("sluice_config_version", "Version of the configuration in force.", {}, 1);
    auto *configReloads = add.counters("sluice_config_reloads_total",
                                       "Configuration reload attempts by result (ok, error).", {"result"}, 2);
    auto *buildInfo = add.gauges("sluice_build_info", "Always 1; the version label is the gateway's build.",
                                 {"version"}, 1);
    auto *startTime = add.gauges("sluice_start_time_seconds", "Start time of the gateway, Unix seconds.", {}, 1);

    if (add.error())
        return unexpected(*add.error());

    // The fixed series exist from the start, so they are exposed as 0 before
    // their first event and rate() sees their first increment.
    f.inFlight = &inFlight->labels({});
    for (std::size_t index = 0; index < kCacheResultNames.size(); ++index)
        f.cacheResults[index] = &cacheRequests->labels({kCacheResultNames[index]});
    f.concurrencyLimit = &concurrencyLimit->labels({});
    f.upstreamInFlight = &upstreamInFlight->labels({});
    f.queueDepth = &queueDepth->labels({});
    f.queueWait = &queueWait->labels({});
    for (std::size_t index = 0; index < kQueueRejectionNames.size(); ++index)
        f.queueRejections[index] = &queueRejections->labels({kQueueRejectionNames[index]});
    f.singleFlightJoined = &singleFlight->labels({});
    f.configVersion = &configVersion->labels({});
    f.configReloadsOk = &configReloads->labels({"ok"});
    f.configReloadsError = &configReloads->labels({"error"});
    f.buildVersion = buildVersion.isEmpty() ? QStringLiteral("unknown") : buildVersion;
    buildInfo->labels({f.buildVersion.toStdString()}).set(1);
    f.startTime = &startTime->labels({});
    f.startTime->set(static_cast<double>(QDateTime::currentMSecsSinceEpoch()) / 1000.0);
    f.all = add.registered();

    return std::unique_ptr<GatewayMetrics>(new GatewayMetrics(std::move(families)));
}

GatewayMetrics::GatewayMetrics(std::unique_ptr<Families> families) : m_families(std::move(families)) {}

GatewayMetrics::~GatewayMetrics()
{
    // The registry outlives us; the cache the callbacks read may not.
    setCacheStatsSource({});
}

void GatewayMetrics::addInFlight(int delta)
{
    m_families->inFlight->add(delta);
}

void GatewayMetrics::setInFlight(int requests)
{
    m_families->inFlight->set(requests);
}

void GatewayMetrics::requestFinished(QStringView route, QStringView model, int httpStatus, double durationSeconds,
                                     double overheadSeconds)
{
    const Utf8Label routeLabel(route);
    const Utf8Label modelLabel(model);
    m_families->requests->labels({routeLabel, modelLabel, statusClass(httpStatus)}).inc();
    observeSeconds(m_families->requestDuration->labels({routeLabel}), durationSeconds);
    // Upstream and queue times are measured separately from the total, so the
    // difference can come out a hair below zero.
    if (!std::isnan(overheadSeconds))
        m_families->gatewayOverhead->labels({routeLabel}).observe(std::max(overheadSeconds, 0.0));
}

void GatewayMetrics::timeToFirstToken(QStringView model, double seconds)
{
    observeSeconds(m_families->timeToFirstToken->labels({Utf8Label(model)}), seconds);
}

void GatewayMetrics::tokens(QStringView model, const policy::TokenUsage &usage, double costUsd)
{
    const Utf8Label modelLabel(model);
    const auto count = [](std::int64_t tokens) {
        return static_cast<std::uint64_t>(std::max<std::int64_t>(tokens, 0));
    };
    m_families->tokens->labels({modelLabel, "input"}).inc(count(usage.inputTokens));
    m_families->tokens->labels({modelLabel, "output"}).inc(count(usage.outputTokens));
    m_families->tokens->labels({modelLabel, "cached_input"}).inc(count(usage.cachedInputTokens));
    m_families->tokens->labels({modelLabel, "cache_write"}).inc(count(usage.cacheWriteTokens));
    m_families->cost->labels({modelLabel}).add(costUsd);
}

void GatewayMetrics::cacheSaved(QStringView model, const policy::TokenUsage &usage, double costUsd)
{
    const Utf8Label modelLabel(model);
    m_families->cacheSavedTokens->labels({modelLabel}).inc(
        static_cast<std::uint64_t>(std::max<std::int64_t>(usage.totalTokens(), 0)));
    m_families->cacheSavedCost->labels({modelLabel}).add(costUsd);
}

void GatewayMetrics::clientError(QStringView reason)
{
    m_families->clientErrors->labels({Utf8Label(reason)}).inc();
}

void GatewayMetrics::cacheResult(CacheResult result)
{
    const auto index = static_cast<std::size_t>(result);
    if (index < m_families->cacheResults.size())
        m_families->cacheResults[index]->inc();
}

void GatewayMetrics::setCacheStatsSource(CacheStatsFunction source)
{
    Families &f = *m_families;
    if (!source) {
        f.cacheEvictions->remove({});
        f.cacheEntries->remove({});
        f.cacheBytes->remove({});
        return;
    }
    // Shared by the three callbacks, which own it: nothing here refers to this
    // object, so a scrape never depends on its lifetime.
    auto shared = std::make_shared<const CacheStatsFunction>(std::move(source));
    // Cannot fail: no labels, a non-empty callback, room for the one series.
    (void)f.cacheEvictions->set({}, [shared] { return static_cast<double>((*shared)().evictions); });
    (void)f.cacheEntries->set({}, [shared] { return static_cast<double>((*shared)().entries); });
    (void)f.cacheBytes->set({}, [shared] { return static_cast<double>((*shared)().sizeBytes); });
}

void GatewayMetrics::rateLimitDecision(QStringView scope, LimitDimension dimension, bool allowed)
{
    m_families->rateLimitDecisions
        ->labels({Utf8Label(scope), nameOf(kDimensionNames, dimension), allowed ? "allowed" : "limited"})
        .inc();
}

void GatewayMetrics::setConcurrencyLimit(int permits)
{
    m_families->concurrencyLimit->set(permits);
}

void GatewayMetrics::addUpstreamInFlight(int delta)
{
    m_families->upstreamInFlight->add(delta);
}

void GatewayMetrics::setUpstreamInFlight(int requests)
{
    m_families->upstreamInFlight->set(requests);
}

void GatewayMetrics::setQueueDepth(int waiting)
{
    m_families->queueDepth->set(waiting);
}

void GatewayMetrics::queueWait(double seconds)
{
    observeSeconds(*m_families->queueWait, seconds);
}

void GatewayMetrics::queueRejected(QueueRejection reason)
{
    const auto index = static_cast<std::size_t>(reason);
    if (index < m_families->queueRejections.size())
        m_families->queueRejections[index]->inc();
}

void GatewayMetrics::singleFlightJoined()
{
    m_families->singleFlightJoined->inc();
}

void GatewayMetrics::upstreamAttempt(QStringView upstream, int status, double seconds)
{
    const Utf8Label upstreamLabel(upstream);
    m_families->upstreamRequests->labels({upstreamLabel, statusClass(status)}).inc();
    observeSeconds(m_families->upstreamDuration->labels({upstreamLabel}), seconds);
}

void GatewayMetrics::upstreamError(QStringView upstream, QStringView kind)
{
    m_families->upstreamErrors->labels({Utf8Label(upstream), Utf8Label(kind)}).inc();
}

void GatewayMetrics::retry(QStringView upstream)
{
    m_families->retries->labels({Utf8Label(upstream)}).inc();
}

void GatewayMetrics::fallback(QStringView fromUpstream)
{
    m_families->fallbacks->labels({Utf8Label(fromUpstream)}).inc();
}

void GatewayMetrics::breakerState(QStringView upstream, policy::CircuitBreaker::State state)
{
    m_families->breakerState->labels({Utf8Label(upstream)}).set(breakerValue(state));
}

void GatewayMetrics::breakerTransition(QStringView upstream, policy::CircuitBreaker::State to)
{
    const Utf8Label upstreamLabel(upstream);
    const int value = breakerValue(to);
    m_families->breakerState->labels({upstreamLabel}).set(value);
    m_families->breakerTransitions->labels({upstreamLabel, kBreakerStateNames[static_cast<std::size_t>(value)]})
        .inc();
}

void GatewayMetrics::providerQuota(QStringView upstream, QuotaResource resource, double remaining, double limit)
{
    const Utf8Label upstreamLabel(upstream);
    const std::string_view resourceLabel = nameOf(kQuotaResourceNames, resource);
    if (!std::isnan(remaining))
        m_families->quotaRemaining->labels({upstreamLabel, resourceLabel}).set(remaining);
    if (limit >= 0)
        m_families->quotaLimit->labels({upstreamLabel, resourceLabel}).set(limit);
}

void GatewayMetrics::upstreamPaused(QStringView upstream, double seconds)
{
    m_families->upstreamPaused->labels({Utf8Label(upstream)}).add(seconds);
}

void GatewayMetrics::setConfigVersion(std::int64_t version)
{
    m_families->configVersion->set(static_cast<double>(version));
}

void GatewayMetrics::configReload(bool ok)
{
    (ok ? m_families->configReloadsOk : m_families->configReloadsError)->inc();
}

void GatewayMetrics::setStartTime(double unixSeconds)
{
    m_families->startTime->set(unixSeconds);
}

QJsonObject GatewayMetrics::snapshot() const
{
    // Read back through the exposition, the one public view of a family's
    // series: the numbers are by construction those /metrics serves.
    std::string text;
    for (const MetricFamily *family : m_families->all)
        family->appendExposition(text);
    const auto parsed = metrics::parseExposition(text);
    if (!parsed)
        return {}; // Cannot happen: the parser reads everything the registry writes.
    const ParsedTotals totals(*parsed);

    QJsonObject requests;
    requests.insert("total", totals.total("sluice_requests_total"));
    requests.insert("by_code", totals.by("sluice_requests_total", "code"));
    requests.insert("by_model", totals.by("sluice_requests_total", "model"));
    requests.insert("by_route", totals.by("sluice_requests_total", "route"));

    QJsonObject tokens;
    for (const char *type : {"input", "output", "cached_input", "cache_write"})
        tokens.insert(QLatin1StringView(type), totals.where("sluice_tokens_total", "type", type));

    QJsonObject cost;
    cost.insert("total", totals.total("sluice_cost_usd_total"));
    cost.insert("by_model", totals.by("sluice_cost_usd_total", "model"));
    cost.insert("saved_by_cache", totals.total("sluice_cache_saved_usd_total"));

    QJsonObject cache;
    for (const std::string_view result : kCacheResultNames) {
        cache.insert(QLatin1StringView(result.data(), static_cast<qsizetype>(result.size())),
                     totals.where("sluice_cache_requests_total", "result", result));
    }
    const double hits = totals.where("sluice_cache_requests_total", "result", "hit");
    const double misses = totals.where("sluice_cache_requests_total", "result", "miss");
    cache.insert("hit_ratio", hits + misses > 0 ? hits / (hits + misses) : 0.0);
    cache.insert("entries", totals.total("sluice_cache_entries"));
    cache.insert("bytes", totals.total("sluice_cache_bytes"));
    cache.insert("evictions", totals.total("sluice_cache_evictions_total"));
    cache.insert("saved_tokens", totals.total("sluice_cache_saved_tokens_total"));
    cache.insert("saved_usd", totals.total("sluice_cache_saved_usd_total"));

    QJsonObject rateLimit;
    rateLimit.insert("allowed", totals.where("sluice_rate_limit_decisions_total", "result", "allowed"));
    rateLimit.insert("limited", totals.where("sluice_rate_limit_decisions_total", "result", "limited"));
    QJsonObject limitedByScope;
    totals.forEach("sluice_rate_limit_decisions_total", [&](const metrics::ParsedSample &sample) {
        if (sample.label("result") != "limited")
            return;
        const QString scope = labelString(sample, "scope");
        limitedByScope.insert(scope, limitedByScope.value(scope).toDouble() + sample.value);
    });
    rateLimit.insert("limited_by_scope", limitedByScope);

    QJsonObject queue;
    queue.insert("depth", totals.total("sluice_queue_depth"));
    queue.insert("concurrency_limit", totals.total("sluice_concurrency_limit"));
    queue.insert("upstream_in_flight", totals.total("sluice_upstream_in_flight"));
    queue.insert("rejected_full", totals.where("sluice_queue_rejections_total", "reason", "full"));
    queue.insert("rejected_timeout", totals.where("sluice_queue_rejections_total", "reason", "timeout"));
    queue.insert("waits", totals.total("sluice_queue_wait_seconds_count"));
    queue.insert("wait_seconds_sum", totals.total("sluice_queue_wait_seconds_sum"));

    // Every upstream any upstream family has seen, with all members present.
    std::map<QString, QJsonObject> upstreams;
    const auto upstream = [&](const QString &name) -> QJsonObject & {
        auto [position, inserted] = upstreams.try_emplace(name);
        if (inserted) {
            QJsonObject &object = position->second;
            for (const char *member : {"requests", "errors", "retries", "fallbacks", "paused_seconds"})
                object.insert(QLatin1StringView(member), 0.0);
            object.insert("errors_by_kind", QJsonObject{});
            object.insert("breaker_state", QLatin1StringView("closed"));
            object.insert("quota_remaining", QJsonObject{});
            object.insert("quota_limit", QJsonObject{});
        }
        return position->second;
    };
    const auto addTo = [&](const char *sampleName, const char *label, const char *member) {
        totals.forEach(sampleName, [&](const metrics::ParsedSample &sample) {
            QJsonObject &object = upstream(labelString(sample, label));
            object.insert(QLatin1StringView(member), object.value(QLatin1StringView(member)).toDouble() + sample.value);
        });
    };
    const auto addByLabel = [&](const char *sampleName, const char *label, const char *member) {
        totals.forEach(sampleName, [&](const metrics::ParsedSample &sample) {
            QJsonObject &object = upstream(labelString(sample, "upstream"));
            QJsonObject inner = object.value(QLatin1StringView(member)).toObject();
            const QString key = labelString(sample, label);
            inner.insert(key, inner.value(key).toDouble() + sample.value);
            object.insert(QLatin1StringView(member), inner);
        });
    };
    addTo("sluice_upstream_requests_total", "upstream", "requests");
    addTo("sluice_upstream_errors_total", "upstream", "errors");
    addTo("sluice_retries_total", "upstream", "retries");
    addTo("sluice_fallbacks_total", "from_upstream", "fallbacks");
    addTo("sluice_upstream_paused_seconds_total", "upstream", "paused_seconds");
    addByLabel("sluice_upstream_errors_total", "kind", "errors_by_kind");
    addByLabel("sluice_provider_quota_remaining", "resource", "quota_remaining");
    addByLabel("sluice_provider_quota_limit", "resource", "quota_limit");
    totals.forEach("sluice_breaker_state", [&](const metrics::ParsedSample &sample) {
        const auto index = static_cast<std::size_t>(std::clamp(sample.value, 0.0, 2.0));
        upstream(labelString(sample, "upstream"))
            .insert("breaker_state", QString::fromLatin1(kBreakerStateNames[index].data(),
                                                         static_cast<qsizetype>(kBreakerStateNames[index].size())));
    });
    QJsonObject upstreamObject;
    for (const auto &[name, object] : upstreams)
        upstreamObject.insert(name, object);

    QJsonObject config;
    config.insert("version", totals.total("sluice_config_version"));
    config.insert("reloads_ok", totals.where("sluice_config_reloads_total", "result", "ok"));
    config.insert("reloads_error", totals.where("sluice_config_reloads_total", "result", "error"));

    QJsonObject snapshot;
    snapshot.insert("requests", requests);
    snapshot.insert("in_flight", totals.total("sluice_in_flight_requests"));
    snapshot.insert("client_errors", totals.by("sluice_client_errors_total", "reason"));
    snapshot.insert("tokens", tokens);
    snapshot.insert("cost_usd", cost);
    snapshot.insert("cache", cache);
    snapshot.insert("rate_limit", rateLimit);
    snapshot.insert("queue", queue);
    snapshot.insert("singleflight_joined", totals.total("sluice_singleflight_joined_total"));
    snapshot.insert("upstreams", upstreamObject);
    snapshot.insert("config", config);
    snapshot.insert("build_version", m_families->buildVersion);
    snapshot.insert("start_time_seconds", totals.total("sluice_start_time_seconds"));
    return snapshot;
}

} // namespace sluice::gateway
