#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStandardPaths>
#include <QTest>

#include <atomic>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gateway/gatewaymetrics.h"
#include "metrics/promparser.h"
#include "metrics/registry.h"

using sluice::gateway::CacheResult;
using sluice::gateway::GatewayMetrics;
using sluice::gateway::LimitDimension;
using sluice::gateway::QueueRejection;
using sluice::gateway::QuotaResource;
using sluice::metrics::Registry;
using BreakerState = sluice::policy::CircuitBreaker::State;

using Action = std::function<void(GatewayMetrics &)>;
Q_DECLARE_METATYPE(Action)

namespace {

std::unique_ptr<GatewayMetrics> makeMetrics(Registry &registry)
{
    auto created = GatewayMetrics::create(registry, QStringLiteral("1.2.3"));
    if (!created.ok())
        qFatal("GatewayMetrics::create failed: %s", created.error().message.c_str());
    return std::move(*created);
}

std::vector<sluice::metrics::ParsedFamily> scrape(const Registry &registry)
{
    auto parsed = sluice::metrics::parseExposition(registry.exposition());
    if (!parsed.ok())
        qFatal("exposition does not parse: line %d: %s", parsed.error().line, parsed.error().message.c_str());
    return std::move(*parsed);
}

// "k=v" pairs as parser labels.
std::vector<sluice::metrics::Label> toLabels(const QStringList &pairs)
{
    std::vector<sluice::metrics::Label> labels;
    for (const QString &pair : pairs) {
        const qsizetype equals = pair.indexOf(QLatin1Char('='));
        labels.emplace_back(pair.left(equals).toStdString(), pair.mid(equals + 1).toStdString());
    }
    return labels;
}

// The sample's value, or NaN if there is no such sample.
double sampleValue(const Registry &registry, const QByteArray &name, const QStringList &labels)
{
    const auto families = scrape(registry);
    const auto *sample = sluice::metrics::findSample(families, name.toStdString(), toLabels(labels));
    return sample != nullptr ? sample->value : std::numeric_limits<double>::quiet_NaN();
}

QString runPromtool(const QString &promtool, const std::string &text, int *exitCode)
{
    QProcess process;
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.start(promtool, {"check", "metrics"});
    if (!process.waitForStarted(10000))
        return process.errorString();
    process.write(QByteArray::fromStdString(text));
    process.closeWriteChannel();
    if (!process.waitForFinished(60000))
        return QStringLiteral("promtool did not finish");
    *exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    return QString::fromUtf8(process.readAll().trimmed());
}

// A little of everything, as a busy gateway would record it.
void recordTraffic(GatewayMetrics &metrics)
{
    const QString chat = QStringLiteral("/v1/chat/completions");
    metrics.addInFlight(3);
    metrics.addInFlight(-1);
    metrics.requestFinished(chat, u"gpt-4o", 200, 0.8, 0.0004);
    metrics.requestFinished(chat, u"gpt-4o", 200, 1.2, 0.0006);
    metrics.requestFinished(chat, u"claude-sonnet", 429, 0.001, 0.001);
    metrics.requestFinished(u"/v1/messages", u"claude-sonnet", 503, 0.02, 0.0002);
    metrics.requestFinished(chat, u"", 400, 0.0005, 0.0005);
    metrics.timeToFirstToken(u"gpt-4o", 0.35);
    metrics.tokens(u"gpt-4o", {100, 50, 20, 0}, 0.0125);
    metrics.tokens(u"claude-sonnet", {10, 5, 0, 30}, 0.5);
    metrics.clientError(u"bad_json");
    metrics.clientError(u"bad_json");
    metrics.clientError(u"unknown_model");
    metrics.cacheResult(CacheResult::Hit);
    metrics.cacheResult(CacheResult::Miss);
    metrics.cacheResult(CacheResult::Miss);
    metrics.cacheResult(CacheResult::Miss);
    metrics.cacheResult(CacheResult::Stored);
    metrics.rateLimitDecision(u"per-key-rpm", LimitDimension::Requests, true);
    metrics.rateLimitDecision(u"per-key-rpm", LimitDimension::Requests, false);
    metrics.rateLimitDecision(u"ip", LimitDimension::Tokens, false);
    metrics.setConcurrencyLimit(16);
    metrics.setUpstreamInFlight(4);
    metrics.setQueueDepth(2);
    metrics.queueWait(0.0);
    metrics.queueWait(0.25);
    metrics.queueRejected(QueueRejection::Full);
    metrics.queueRejected(QueueRejection::Timeout);
    metrics.queueRejected(QueueRejection::Timeout);
    metrics.singleFlightJoined();
    metrics.upstreamAttempt(u"openai-main", 200, 0.7);
    metrics.upstreamAttempt(u"openai-main", 0, 30);
    metrics.upstreamError(u"openai-main", u"read_timeout");
    metrics.retry(u"openai-main");
    metrics.fallback(u"openai-main");
    metrics.upstreamAttempt(u"anthropic", 429, 0.1);
    metrics.upstreamError(u"anthropic", u"status_429");
    metrics.upstreamPaused(u"anthropic", 2.5);
    metrics.breakerState(u"openai-main", BreakerState::Closed);
    metrics.breakerTransition(u"anthropic", BreakerState::Open);
    metrics.providerQuota(u"anthropic", QuotaResource::Tokens, 1200, 80000);
    metrics.providerQuota(u"anthropic", QuotaResource::Requests, 49, 50);
    metrics.setConfigVersion(7);
    metrics.configReload(true);
    metrics.configReload(false);
    metrics.setCacheStatsSource([] {
        sluice::policy::CacheStats stats;
        stats.entries = 12;
        stats.sizeBytes = 4096;
        stats.evictions = 3;
        return stats;
    });
}

} // namespace

class TestGatewayMetrics : public QObject {
    Q_OBJECT
private slots:
    void registersEveryFamily()
    {
        Registry registry;
        auto metrics = makeMetrics(registry);
        const std::vector<std::string> expected{
            "sluice_requests_total",
            "sluice_request_duration_seconds",
            "sluice_upstream_duration_seconds",
            "sluice_time_to_first_token_seconds",
            "sluice_gateway_overhead_seconds",
            "sluice_tokens_total",
            "sluice_cost_usd_total",
            "sluice_cache_saved_tokens_total",
            "sluice_cache_saved_usd_total",
            "sluice_cache_requests_total",
            "sluice_cache_evictions_total",
            "sluice_cache_entries",
            "sluice_cache_bytes",
            "sluice_rate_limit_decisions_total",
            "sluice_in_flight_requests",
            "sluice_upstream_in_flight",
            "sluice_concurrency_limit",
            "sluice_queue_depth",
            "sluice_queue_wait_seconds",
            "sluice_queue_rejections_total",
            "sluice_upstream_requests_total",
            "sluice_upstream_errors_total",
            "sluice_retries_total",
            "sluice_fallbacks_total",
            "sluice_singleflight_joined_total",
            "sluice_breaker_state",
            "sluice_breaker_transitions_total",
            "sluice_provider_quota_remaining",
            "sluice_provider_quota_limit",
            "sluice_upstream_paused_seconds_total",
            "sluice_client_errors_total",
            "sluice_config_version",
            "sluice_config_reloads_total",
            "sluice_build_info",
            "sluice_start_time_seconds",
        };
        for (const std::string &name : expected)
            QVERIFY2(registry.find(name) != nullptr, name.c_str());
        // Plus the registry's own overflow counter, and nothing else.
        QCOMPARE(registry.familyNames().size(), expected.size() + 1);
        QCOMPARE(registry.find("sluice_requests_total")->labelNames(),
                 (std::vector<std::string>{"route", "model", "code"}));
        QCOMPARE(registry.find("sluice_rate_limit_decisions_total")->labelNames(),
                 (std::vector<std::string>{"scope", "dimension", "result"}));
        QCOMPARE(registry.find("sluice_fallbacks_total")->labelNames(), (std::vector<std::string>{"from_upstream"}));
    }

    void secondInstanceOnOneRegistryFails()
    {
        Registry registry;
        auto first = makeMetrics(registry);
        const auto second = GatewayMetrics::create(registry, QStringLiteral("1.2.3"));
        QVERIFY(!second.ok());
        QVERIFY2(second.error().message.find("sluice_") != std::string::npos, second.error().message.c_str());
        QVERIFY(second.error().message.find("already registered") != std::string::npos);
    }

    void fixedSeriesStartAtZero()
    {
        Registry registry;
        auto metrics = makeMetrics(registry);
        for (const QString result : {"hit", "miss", "bypass", "stored", "not_stored"})
            QCOMPARE(sampleValue(registry, "sluice_cache_requests_total", {"result=" + result}), 0.0);
        QCOMPARE(sampleValue(registry, "sluice_queue_rejections_total", {"reason=full"}), 0.0);
        QCOMPARE(sampleValue(registry, "sluice_queue_rejections_total", {"reason=timeout"}), 0.0);
        QCOMPARE(sampleValue(registry, "sluice_config_reloads_total", {"result=ok"}), 0.0);
        QCOMPARE(sampleValue(registry, "sluice_config_reloads_total", {"result=error"}), 0.0);
        QCOMPARE(sampleValue(registry, "sluice_in_flight_requests", {}), 0.0);
        QCOMPARE(sampleValue(registry, "sluice_singleflight_joined_total", {}), 0.0);
        QCOMPARE(sampleValue(registry, "sluice_queue_wait_seconds_count", {}), 0.0);
        QCOMPARE(sampleValue(registry, "sluice_build_info", {"version=1.2.3"}), 1.0);
        // Started just now (2020-01-01 < start < a day from now).
        const double start = sampleValue(registry, "sluice_start_time_seconds", {});
        QVERIFY(start > 1577836800.0);
        QVERIFY(start < QDateTime::currentSecsSinceEpoch() + 86400.0);
        // Cache callbacks have no source yet: the families are empty.
        QVERIFY(std::isnan(sampleValue(registry, "sluice_cache_entries", {})));
    }

    // Each method moves exactly the sample it documents.
    void eachEventChangesItsSample_data()
    {
        QTest::addColumn<Action>("action");
        QTest::addColumn<QByteArray>("sample");
        QTest::addColumn<QStringList>("labels");
        QTest::addColumn<double>("expected");

        const QString chat = "route=/v1/chat/completions";
        QTest::newRow("request 200") << Action([](GatewayMetrics &m) {
            m.requestFinished(u"/v1/chat/completions", u"gpt-4o", 200, 0.2, 0.001);
        }) << QByteArray("sluice_requests_total") << QStringList{chat, "model=gpt-4o", "code=2xx"} << 1.0;
        QTest::newRow("request 429 is 4xx") << Action([](GatewayMetrics &m) {
            m.requestFinished(u"/v1/chat/completions", u"gpt-4o", 429, 0.2, 0.001);
            m.requestFinished(u"/v1/chat/completions", u"gpt-4o", 404, 0.2, 0.001);
        }) << QByteArray("sluice_requests_total") << QStringList{chat, "model=gpt-4o", "code=4xx"} << 2.0;
        QTest::newRow("request without status") << Action([](GatewayMetrics &m) {
            m.requestFinished(u"/v1/chat/completions", u"gpt-4o", 0, 0.2, 0.001);
        }) << QByteArray("sluice_requests_total") << QStringList{chat, "model=gpt-4o", "code=error"} << 1.0;
        QTest::newRow("request without model") << Action([](GatewayMetrics &m) {
            m.requestFinished(u"/v1/chat/completions", u"", 400, 0.2, 0.001);
        }) << QByteArray("sluice_requests_total") << QStringList{chat, "model=none", "code=4xx"} << 1.0;
        QTest::newRow("request duration bucket") << Action([](GatewayMetrics &m) {
            m.requestFinished(u"/v1/chat/completions", u"gpt-4o", 200, 0.2, 0.001);
            m.requestFinished(u"/v1/chat/completions", u"gpt-4o", 200, 0.3, 0.001);
        }) << QByteArray("sluice_request_duration_seconds_bucket") << QStringList{chat, "le=0.25"} << 1.0;
        QTest::newRow("request duration sum") << Action([](GatewayMetrics &m) {
            m.requestFinished(u"/v1/chat/completions", u"gpt-4o", 200, 0.5, 0.001);
            m.requestFinished(u"/v1/chat/completions", u"gpt-4o", 200, 0.25, 0.001);
        }) << QByteArray("sluice_request_duration_seconds_sum") << QStringList{chat} << 0.75;
        QTest::newRow("negative duration ignored") << Action([](GatewayMetrics &m) {
            m.requestFinished(u"/v1/chat/completions", u"gpt-4o", 200, -1, 0.001);
        }) << QByteArray("sluice_request_duration_seconds_count") << QStringList{chat} << 0.0;
        QTest::newRow("overhead fine bucket") << Action([](GatewayMetrics &m) {
            m.requestFinished(u"/v1/chat/completions", u"gpt-4o", 200, 1.0, 0.00004);
            m.requestFinished(u"/v1/chat/completions", u"gpt-4o", 200, 1.0, 0.0002);
        }) << QByteArray("sluice_gateway_overhead_seconds_bucket") << QStringList{chat, "le=5e-05"} << 1.0;
        QTest::newRow("overhead top bucket") << Action([](GatewayMetrics &m) {
            m.requestFinished(u"/v1/chat/completions", u"gpt-4o", 200, 1.0, 0.9);
        }) << QByteArray("sluice_gateway_overhead_seconds_bucket") << QStringList{chat, "le=1"} << 1.0;
        QTest::newRow("negative overhead is 0") << Action([](GatewayMetrics &m) {
            m.requestFinished(u"/v1/chat/completions", u"gpt-4o", 200, 1.0, -0.0001);
        }) << QByteArray("sluice_gateway_overhead_seconds_bucket") << QStringList{chat, "le=5e-05"} << 1.0;
        QTest::newRow("time to first token")
            << Action([](GatewayMetrics &m) { m.timeToFirstToken(u"gpt-4o", 0.35); })
            << QByteArray("sluice_time_to_first_token_seconds_sum") << QStringList{"model=gpt-4o"} << 0.35;
        QTest::newRow("input tokens")
            << Action([](GatewayMetrics &m) { m.tokens(u"gpt-4o", {100, 50, 20, 7}, 0.01); })
            << QByteArray("sluice_tokens_total") << QStringList{"model=gpt-4o", "type=input"} << 100.0;
        QTest::newRow("output tokens")
            << Action([](GatewayMetrics &m) { m.tokens(u"gpt-4o", {100, 50, 20, 7}, 0.01); })
            << QByteArray("sluice_tokens_total") << QStringList{"model=gpt-4o", "type=output"} << 50.0;
        QTest::newRow("cached input tokens")
            << Action([](GatewayMetrics &m) { m.tokens(u"gpt-4o", {100, 50, 20, 7}, 0.01); })
            << QByteArray("sluice_tokens_total") << QStringList{"model=gpt-4o", "type=cached_input"} << 20.0;
        QTest::newRow("cache write tokens")
            << Action([](GatewayMetrics &m) { m.tokens(u"gpt-4o", {100, 50, 20, 7}, 0.01); })
            << QByteArray("sluice_tokens_total") << QStringList{"model=gpt-4o", "type=cache_write"} << 7.0;
        QTest::newRow("cost") << Action([](GatewayMetrics &m) {
            m.tokens(u"gpt-4o", {1, 1, 0, 0}, 0.25);
            m.tokens(u"gpt-4o", {1, 1, 0, 0}, 0.5);
            m.tokens(u"gpt-4o", {1, 1, 0, 0}, -3); // ignored
        }) << QByteArray("sluice_cost_usd_total") << QStringList{"model=gpt-4o"} << 0.75;
        QTest::newRow("cache saved tokens")
            << Action([](GatewayMetrics &m) { m.cacheSaved(u"gpt-4o", {100, 50, 20, 7}, 0.01); })
            << QByteArray("sluice_cache_saved_tokens_total") << QStringList{"model=gpt-4o"} << 177.0;
        QTest::newRow("cache saved usd")
            << Action([](GatewayMetrics &m) { m.cacheSaved(u"gpt-4o", {100, 50, 20, 7}, 0.25); })
            << QByteArray("sluice_cache_saved_usd_total") << QStringList{"model=gpt-4o"} << 0.25;
        QTest::newRow("client error")
            << Action([](GatewayMetrics &m) { m.clientError(u"body_too_large"); })
            << QByteArray("sluice_client_errors_total") << QStringList{"reason=body_too_large"} << 1.0;
        QTest::newRow("cache hit") << Action([](GatewayMetrics &m) { m.cacheResult(CacheResult::Hit); })
                                   << QByteArray("sluice_cache_requests_total") << QStringList{"result=hit"} << 1.0;
        QTest::newRow("cache miss") << Action([](GatewayMetrics &m) { m.cacheResult(CacheResult::Miss); })
                                    << QByteArray("sluice_cache_requests_total") << QStringList{"result=miss"} << 1.0;
        QTest::newRow("cache bypass")
            << Action([](GatewayMetrics &m) { m.cacheResult(CacheResult::Bypass); })
            << QByteArray("sluice_cache_requests_total") << QStringList{"result=bypass"} << 1.0;
        QTest::newRow("cache stored")
            << Action([](GatewayMetrics &m) { m.cacheResult(CacheResult::Stored); })
            << QByteArray("sluice_cache_requests_total") << QStringList{"result=stored"} << 1.0;
        QTest::newRow("cache not stored")
            << Action([](GatewayMetrics &m) { m.cacheResult(CacheResult::NotStored); })
            << QByteArray("sluice_cache_requests_total") << QStringList{"result=not_stored"} << 1.0;
        QTest::newRow("rate limit allowed")
            << Action([](GatewayMetrics &m) { m.rateLimitDecision(u"key", LimitDimension::Requests, true); })
            << QByteArray("sluice_rate_limit_decisions_total")
            << QStringList{"scope=key", "dimension=requests", "result=allowed"} << 1.0;
        QTest::newRow("rate limit limited tokens")
            << Action([](GatewayMetrics &m) { m.rateLimitDecision(u"team-tpm", LimitDimension::Tokens, false); })
            << QByteArray("sluice_rate_limit_decisions_total")
            << QStringList{"scope=team-tpm", "dimension=tokens", "result=limited"} << 1.0;
        QTest::newRow("rate limit parallel")
            << Action([](GatewayMetrics &m) {
                   m.rateLimitDecision(u"upstream_quota", LimitDimension::Parallel, false);
               })
            << QByteArray("sluice_rate_limit_decisions_total")
            << QStringList{"scope=upstream_quota", "dimension=parallel", "result=limited"} << 1.0;
        QTest::newRow("in flight") << Action([](GatewayMetrics &m) {
            m.addInFlight(5);
            m.addInFlight(-2);
        }) << QByteArray("sluice_in_flight_requests") << QStringList{} << 3.0;
        QTest::newRow("in flight set") << Action([](GatewayMetrics &m) {
            m.addInFlight(5);
            m.setInFlight(1);
        }) << QByteArray("sluice_in_flight_requests") << QStringList{} << 1.0;
        QTest::newRow("upstream in flight") << Action([](GatewayMetrics &m) {
            m.setUpstreamInFlight(2);
            m.addUpstreamInFlight(3);
            m.addUpstreamInFlight(-1);
        }) << QByteArray("sluice_upstream_in_flight") << QStringList{} << 4.0;
        QTest::newRow("concurrency limit") << Action([](GatewayMetrics &m) { m.setConcurrencyLimit(64); })
                                           << QByteArray("sluice_concurrency_limit") << QStringList{} << 64.0;
        QTest::newRow("queue depth") << Action([](GatewayMetrics &m) { m.setQueueDepth(9); })
                                     << QByteArray("sluice_queue_depth") << QStringList{} << 9.0;
        QTest::newRow("queue wait") << Action([](GatewayMetrics &m) {
            m.queueWait(0);
            m.queueWait(0.5);
        }) << QByteArray("sluice_queue_wait_seconds_count") << QStringList{} << 2.0;
        QTest::newRow("queue full") << Action([](GatewayMetrics &m) { m.queueRejected(QueueRejection::Full); })
                                    << QByteArray("sluice_queue_rejections_total") << QStringList{"reason=full"}
                                    << 1.0;
        QTest::newRow("queue timeout")
            << Action([](GatewayMetrics &m) { m.queueRejected(QueueRejection::Timeout); })
            << QByteArray("sluice_queue_rejections_total") << QStringList{"reason=timeout"} << 1.0;
        QTest::newRow("single-flight") << Action([](GatewayMetrics &m) {
            m.singleFlightJoined();
            m.singleFlightJoined();
        }) << QByteArray("sluice_singleflight_joined_total") << QStringList{} << 2.0;
        QTest::newRow("upstream 200")
            << Action([](GatewayMetrics &m) { m.upstreamAttempt(u"openai", 200, 0.4); })
            << QByteArray("sluice_upstream_requests_total") << QStringList{"upstream=openai", "code=2xx"} << 1.0;
        QTest::newRow("upstream error")
            << Action([](GatewayMetrics &m) { m.upstreamAttempt(u"openai", 0, 30); })
            << QByteArray("sluice_upstream_requests_total") << QStringList{"upstream=openai", "code=error"} << 1.0;
        QTest::newRow("upstream duration")
            << Action([](GatewayMetrics &m) { m.upstreamAttempt(u"openai", 502, 1.5); })
            << QByteArray("sluice_upstream_duration_seconds_bucket") << QStringList{"upstream=openai", "le=2.5"}
            << 1.0;
        QTest::newRow("upstream error kind")
            << Action([](GatewayMetrics &m) { m.upstreamError(u"openai", u"connection_reset"); })
            << QByteArray("sluice_upstream_errors_total") << QStringList{"upstream=openai", "kind=connection_reset"}
            << 1.0;
        QTest::newRow("retry") << Action([](GatewayMetrics &m) { m.retry(u"openai"); })
                               << QByteArray("sluice_retries_total") << QStringList{"upstream=openai"} << 1.0;
        QTest::newRow("fallback") << Action([](GatewayMetrics &m) { m.fallback(u"openai"); })
                                  << QByteArray("sluice_fallbacks_total") << QStringList{"from_upstream=openai"}
                                  << 1.0;
        QTest::newRow("breaker half-open")
            << Action([](GatewayMetrics &m) { m.breakerState(u"openai", BreakerState::HalfOpen); })
            << QByteArray("sluice_breaker_state") << QStringList{"upstream=openai"} << 1.0;
        QTest::newRow("breaker open")
            << Action([](GatewayMetrics &m) { m.breakerTransition(u"openai", BreakerState::Open); })
            << QByteArray("sluice_breaker_state") << QStringList{"upstream=openai"} << 2.0;
        QTest::newRow("breaker closed again") << Action([](GatewayMetrics &m) {
            m.breakerTransition(u"openai", BreakerState::Open);
            m.breakerTransition(u"openai", BreakerState::Closed);
        }) << QByteArray("sluice_breaker_state") << QStringList{"upstream=openai"} << 0.0;
        QTest::newRow("breaker transitions") << Action([](GatewayMetrics &m) {
            m.breakerTransition(u"openai", BreakerState::Open);
            m.breakerTransition(u"openai", BreakerState::HalfOpen);
            m.breakerTransition(u"openai", BreakerState::Open);
        }) << QByteArray("sluice_breaker_transitions_total") << QStringList{"upstream=openai", "to=open"} << 2.0;
        QTest::newRow("breaker transition to half-open") << Action([](GatewayMetrics &m) {
            m.breakerTransition(u"openai", BreakerState::HalfOpen);
        }) << QByteArray("sluice_breaker_transitions_total") << QStringList{"upstream=openai", "to=half_open"} << 1.0;
        QTest::newRow("quota remaining")
            << Action([](GatewayMetrics &m) {
                   m.providerQuota(u"openai", QuotaResource::InputTokens, 1500, 200000);
               })
            << QByteArray("sluice_provider_quota_remaining") << QStringList{"upstream=openai", "resource=input_tokens"}
            << 1500.0;
        QTest::newRow("quota limit")
            << Action([](GatewayMetrics &m) {
                   m.providerQuota(u"openai", QuotaResource::OutputTokens, 1500, 200000);
               })
            << QByteArray("sluice_provider_quota_limit") << QStringList{"upstream=openai", "resource=output_tokens"}
            << 200000.0;
        QTest::newRow("quota limit kept when absent") << Action([](GatewayMetrics &m) {
            m.providerQuota(u"openai", QuotaResource::Requests, 10, 100);
            m.providerQuota(u"openai", QuotaResource::Requests, 9, -1);
        }) << QByteArray("sluice_provider_quota_limit") << QStringList{"upstream=openai", "resource=requests"} << 100.0;
        QTest::newRow("paused") << Action([](GatewayMetrics &m) {
            m.upstreamPaused(u"openai", 1.5);
            m.upstreamPaused(u"openai", 2);
        }) << QByteArray("sluice_upstream_paused_seconds_total") << QStringList{"upstream=openai"} << 3.5;
        QTest::newRow("config version") << Action([](GatewayMetrics &m) { m.setConfigVersion(42); })
                                        << QByteArray("sluice_config_version") << QStringList{} << 42.0;
        QTest::newRow("reload ok") << Action([](GatewayMetrics &m) { m.configReload(true); })
                                   << QByteArray("sluice_config_reloads_total") << QStringList{"result=ok"} << 1.0;
        QTest::newRow("reload error")
            << Action([](GatewayMetrics &m) { m.configReload(false); })
            << QByteArray("sluice_config_reloads_total") << QStringList{"result=error"} << 1.0;
        QTest::newRow("start time") << Action([](GatewayMetrics &m) { m.setStartTime(1700000000.5); })
                                    << QByteArray("sluice_start_time_seconds") << QStringList{} << 1700000000.5;
        const QString accented = QString::fromUtf8("mod\xc3\xa8le-\xe2\x82\xac");
        QTest::newRow("non-ASCII label")
            << Action([accented](GatewayMetrics &m) { m.timeToFirstToken(accented, 1); })
            << QByteArray("sluice_time_to_first_token_seconds_count") << QStringList{"model=" + accented} << 1.0;
        // Longer than the on-stack buffer: converted on the heap, same result.
        const QString longName(200, QLatin1Char('m'));
        QTest::newRow("long label") << Action([longName](GatewayMetrics &m) { m.retry(longName); })
                                    << QByteArray("sluice_retries_total") << QStringList{"upstream=" + longName}
                                    << 1.0;
    }

    void eachEventChangesItsSample()
    {
        QFETCH(Action, action);
        QFETCH(QByteArray, sample);
        QFETCH(QStringList, labels);
        QFETCH(double, expected);
        Registry registry;
        auto metrics = makeMetrics(registry);
        action(*metrics);
        const double value = sampleValue(registry, sample, labels);
        QVERIFY2(!std::isnan(value), qPrintable("no sample " + sample + " {" + labels.join(',') + "}"));
        QCOMPARE(value, expected);
    }

    void cacheStatsComeFromTheSource()
    {
        Registry registry;
        auto metrics = makeMetrics(registry);
        std::atomic<std::uint64_t> evictions{5};
        metrics->setCacheStatsSource([&evictions] {
            sluice::policy::CacheStats stats;
            stats.entries = 3;
            stats.sizeBytes = 2048;
            stats.evictions = evictions.load();
            return stats;
        });
        QCOMPARE(sampleValue(registry, "sluice_cache_entries", {}), 3.0);
        QCOMPARE(sampleValue(registry, "sluice_cache_bytes", {}), 2048.0);
        QCOMPARE(sampleValue(registry, "sluice_cache_evictions_total", {}), 5.0);
        evictions = 8;
        QCOMPARE(sampleValue(registry, "sluice_cache_evictions_total", {}), 8.0);

        metrics->setCacheStatsSource([] {
            sluice::policy::CacheStats stats;
            stats.entries = 100;
            return stats;
        });
        QCOMPARE(sampleValue(registry, "sluice_cache_entries", {}), 100.0);

        metrics->setCacheStatsSource({});
        QVERIFY(std::isnan(sampleValue(registry, "sluice_cache_entries", {})));
        QVERIFY(std::isnan(sampleValue(registry, "sluice_cache_evictions_total", {})));
    }

    void destructionRemovesTheCacheCallbacks()
    {
        Registry registry;
        {
            auto cacheAlive = std::make_shared<int>(7);
            auto metrics = makeMetrics(registry);
            metrics->setCacheStatsSource([cache = cacheAlive.get()] {
                sluice::policy::CacheStats stats;
                stats.entries = static_cast<std::size_t>(*cache);
                return stats;
            });
            QCOMPARE(sampleValue(registry, "sluice_cache_entries", {}), 7.0);
        } // the cache and the metrics object go; the registry stays
        QVERIFY(std::isnan(sampleValue(registry, "sluice_cache_entries", {})));
        QVERIFY(registry.find("sluice_cache_entries") != nullptr);
    }

    void labelCardinalityIsBounded()
    {
        Registry registry;
        auto metrics = makeMetrics(registry);
        const std::size_t tooMany = GatewayMetrics::kMaxModels + 20;
        for (std::size_t index = 0; index < tooMany; ++index)
            metrics->timeToFirstToken(QStringLiteral("model-%1").arg(index), 0.1);
        const auto *family = registry.find("sluice_time_to_first_token_seconds");
        QVERIFY(family != nullptr);
        QCOMPARE(family->seriesCount(), GatewayMetrics::kMaxModels + 1);
        QCOMPARE(sampleValue(registry, "sluice_time_to_first_token_seconds_count", {"model=__overflow__"}), 20.0);
        QCOMPARE(registry.seriesOverflowCount(), std::uint64_t{20});
    }

    void concurrentUpdatesAreAllCounted()
    {
        Registry registry;
        auto metrics = makeMetrics(registry);
        constexpr int kThreads = 4;
        constexpr int kEvents = 2000;
        std::vector<std::thread> threads;
        for (int thread = 0; thread < kThreads; ++thread) {
            threads.emplace_back([&metrics, thread] {
                const QString model = QStringLiteral("model-%1").arg(thread % 2);
                for (int event = 0; event < kEvents; ++event) {
                    metrics->addInFlight(1);
                    metrics->requestFinished(u"/v1/chat/completions", model, 200, 0.01, 0.0001);
                    metrics->tokens(model, {1, 2, 0, 0}, 0.5);
                    metrics->cacheResult(CacheResult::Miss);
                    metrics->addInFlight(-1);
                }
            });
        }
        // A scrape and a snapshot while the writers run must be harmless.
        const QJsonObject during = metrics->snapshot();
        QVERIFY(during.contains("requests"));
        for (std::thread &thread : threads)
            thread.join();
        const QJsonObject snapshot = metrics->snapshot();
        QCOMPARE(snapshot["requests"].toObject()["total"].toDouble(), double(kThreads * kEvents));
        QCOMPARE(snapshot["tokens"].toObject()["output"].toDouble(), double(2 * kThreads * kEvents));
        QCOMPARE(snapshot["cost_usd"].toObject()["total"].toDouble(), 0.5 * kThreads * kEvents);
        QCOMPARE(snapshot["cache"].toObject()["miss"].toDouble(), double(kThreads * kEvents));
        QCOMPARE(snapshot["in_flight"].toDouble(), 0.0);
        QCOMPARE(sampleValue(registry, "sluice_request_duration_seconds_count", {"route=/v1/chat/completions"}),
                 double(kThreads * kEvents));
    }

    void snapshotSumsTheFamilies()
    {
        Registry registry;
        auto metrics = makeMetrics(registry);
        recordTraffic(*metrics);
        const QJsonObject snapshot = metrics->snapshot();

        const QJsonObject requests = snapshot["requests"].toObject();
        QCOMPARE(requests["total"].toDouble(), 5.0);
        QCOMPARE(requests["by_code"].toObject(), (QJsonObject{{"2xx", 2.0}, {"4xx", 2.0}, {"5xx", 1.0}}));
        QCOMPARE(requests["by_model"].toObject(),
                 (QJsonObject{{"gpt-4o", 2.0}, {"claude-sonnet", 2.0}, {"none", 1.0}}));
        QCOMPARE(requests["by_route"].toObject(),
                 (QJsonObject{{"/v1/chat/completions", 4.0}, {"/v1/messages", 1.0}}));
        QCOMPARE(snapshot["in_flight"].toDouble(), 2.0);
        QCOMPARE(snapshot["client_errors"].toObject(), (QJsonObject{{"bad_json", 2.0}, {"unknown_model", 1.0}}));

        QCOMPARE(snapshot["tokens"].toObject(),
                 (QJsonObject{{"input", 110.0}, {"output", 55.0}, {"cached_input", 20.0}, {"cache_write", 30.0}}));
        const QJsonObject cost = snapshot["cost_usd"].toObject();
        QCOMPARE(cost["total"].toDouble(), 0.5125);
        QCOMPARE(cost["by_model"].toObject(), (QJsonObject{{"gpt-4o", 0.0125}, {"claude-sonnet", 0.5}}));

        const QJsonObject cache = snapshot["cache"].toObject();
        QCOMPARE(cache["hit"].toDouble(), 1.0);
        QCOMPARE(cache["miss"].toDouble(), 3.0);
        QCOMPARE(cache["bypass"].toDouble(), 0.0);
        QCOMPARE(cache["stored"].toDouble(), 1.0);
        QCOMPARE(cache["not_stored"].toDouble(), 0.0);
        QCOMPARE(cache["hit_ratio"].toDouble(), 0.25);
        QCOMPARE(cache["entries"].toDouble(), 12.0);
        QCOMPARE(cache["bytes"].toDouble(), 4096.0);
        QCOMPARE(cache["evictions"].toDouble(), 3.0);

        const QJsonObject rateLimit = snapshot["rate_limit"].toObject();
        QCOMPARE(rateLimit["allowed"].toDouble(), 1.0);
        QCOMPARE(rateLimit["limited"].toDouble(), 2.0);
        QCOMPARE(rateLimit["limited_by_scope"].toObject(), (QJsonObject{{"per-key-rpm", 1.0}, {"ip", 1.0}}));

        const QJsonObject queue = snapshot["queue"].toObject();
        QCOMPARE(queue["depth"].toDouble(), 2.0);
        QCOMPARE(queue["concurrency_limit"].toDouble(), 16.0);
        QCOMPARE(queue["upstream_in_flight"].toDouble(), 4.0);
        QCOMPARE(queue["rejected_full"].toDouble(), 1.0);
        QCOMPARE(queue["rejected_timeout"].toDouble(), 2.0);
        QCOMPARE(queue["waits"].toDouble(), 2.0);
        QCOMPARE(queue["wait_seconds_sum"].toDouble(), 0.25);
        QCOMPARE(snapshot["singleflight_joined"].toDouble(), 1.0);

        const QJsonObject upstreams = snapshot["upstreams"].toObject();
        QCOMPARE(upstreams.keys(), (QStringList{"anthropic", "openai-main"}));
        const QJsonObject openai = upstreams["openai-main"].toObject();
        QCOMPARE(openai["requests"].toDouble(), 2.0);
        QCOMPARE(openai["errors"].toDouble(), 1.0);
        QCOMPARE(openai["errors_by_kind"].toObject(), (QJsonObject{{"read_timeout", 1.0}}));
        QCOMPARE(openai["retries"].toDouble(), 1.0);
        QCOMPARE(openai["fallbacks"].toDouble(), 1.0);
        QCOMPARE(openai["paused_seconds"].toDouble(), 0.0);
        QCOMPARE(openai["breaker_state"].toString(), QStringLiteral("closed"));
        QCOMPARE(openai["quota_remaining"].toObject(), QJsonObject{});
        const QJsonObject anthropic = upstreams["anthropic"].toObject();
        QCOMPARE(anthropic["requests"].toDouble(), 1.0);
        QCOMPARE(anthropic["errors_by_kind"].toObject(), (QJsonObject{{"status_429", 1.0}}));
        QCOMPARE(anthropic["retries"].toDouble(), 0.0);
        QCOMPARE(anthropic["paused_seconds"].toDouble(), 2.5);
        QCOMPARE(anthropic["breaker_state"].toString(), QStringLiteral("open"));
        QCOMPARE(anthropic["quota_remaining"].toObject(), (QJsonObject{{"tokens", 1200.0}, {"requests", 49.0}}));
        QCOMPARE(anthropic["quota_limit"].toObject(), (QJsonObject{{"tokens", 80000.0}, {"requests", 50.0}}));

        QCOMPARE(snapshot["config"].toObject(),
                 (QJsonObject{{"version", 7.0}, {"reloads_ok", 1.0}, {"reloads_error", 1.0}}));
        QCOMPARE(snapshot["build_version"].toString(), QStringLiteral("1.2.3"));
        QVERIFY(snapshot["start_time_seconds"].toDouble() > 1577836800.0);
    }

    void emptySnapshotHasEveryMember()
    {
        Registry registry;
        auto metrics = makeMetrics(registry);
        const QJsonObject snapshot = metrics->snapshot();
        for (const char *member : {"requests", "in_flight", "client_errors", "tokens", "cost_usd", "cache",
                                   "rate_limit", "queue", "singleflight_joined", "upstreams", "config",
                                   "build_version", "start_time_seconds"})
            QVERIFY2(snapshot.contains(QLatin1StringView(member)), member);
        QCOMPARE(snapshot["requests"].toObject()["total"].toDouble(), 0.0);
        QCOMPARE(snapshot["cache"].toObject()["hit_ratio"].toDouble(), 0.0);
        QCOMPARE(snapshot["upstreams"].toObject(), QJsonObject{});
    }

    void expositionPassesPromtool_data()
    {
        QTest::addColumn<bool>("withTraffic");
        QTest::newRow("fresh") << false;
        QTest::newRow("after traffic") << true;
    }

    void expositionPassesPromtool()
    {
        QFETCH(bool, withTraffic);
        Registry registry;
        auto metrics = makeMetrics(registry);
        if (withTraffic)
            recordTraffic(*metrics);
        const std::string text = registry.exposition();
        QVERIFY(sluice::metrics::parseExposition(text).ok());

        const QString promtool = QStandardPaths::findExecutable("promtool");
        if (promtool.isEmpty())
            QSKIP("promtool is not on PATH (Debian: apt install prometheus); cannot lint the exposition");
        int exitCode = -1;
        const QString output = runPromtool(promtool, text, &exitCode);
        QVERIFY2(output.isEmpty(), qPrintable(output));
        QCOMPARE(exitCode, 0);

        // Negative control: the same check refuses a non-base unit.
        const QString bad = runPromtool(promtool,
                                        "# HELP sluice_x_milliseconds X.\n# TYPE sluice_x_milliseconds gauge\n"
                                        "sluice_x_milliseconds 1\n",
                                        &exitCode);
        QVERIFY(bad.contains("base unit"));
        QVERIFY(exitCode != 0);
    }
};

// QProcess needs a QCoreApplication.
QTEST_GUILESS_MAIN(TestGatewayMetrics)
#include "tst_gatewaymetrics.moc"
