// DashboardFrame as pure functions of hand-written /metrics text: rates over the real
// interval, counter resets, quantiles from bucket increases, quotas, cost, aggregation.
#include "clients/dashboardframe.h"

#include "config/gatewayconfig.h"
#include "metrics/histogramquantile.h"

#include <QTest>

#include <cmath>
#include <string>

using namespace sluice;
using namespace sluice::clients;

namespace {

const QDateTime kWallTime = QDateTime::fromSecsSinceEpoch(1'700'000'000, Qt::UTC);

ScrapeSnapshot snapshot(const std::string &text, qint64 steadyMs, const QString &instance = QStringLiteral("gw-1"),
                        QDateTime wallTime = kWallTime)
{
    auto parsed = snapshotFromText(text, instance, steadyMs, std::move(wallTime));
    if (!parsed)
        qFatal("test exposition does not parse: %s", qPrintable(parsed.error()));
    return std::move(*parsed);
}

std::string requests(double ok, double clientErrors, double serverErrors)
{
    std::string text = "# TYPE sluice_requests_total counter\n";
    text += "sluice_requests_total{route=\"chat\",model=\"gpt-4o-mini\",code=\"2xx\"} " + std::to_string(ok) + "\n";
    text += "sluice_requests_total{route=\"chat\",model=\"gpt-4o-mini\",code=\"4xx\"} " + std::to_string(clientErrors)
            + "\n";
    if (serverErrors >= 0)
        text += "sluice_requests_total{route=\"chat\",model=\"gpt-4o-mini\",code=\"5xx\"} "
                + std::to_string(serverErrors) + "\n";
    return text;
}

// Cumulative buckets of sluice_request_duration_seconds{route="chat"}: le 0.1, 0.5, 1, +Inf.
std::string durations(double le01, double le05, double le1, double total, double sum)
{
    std::string text = "# TYPE sluice_request_duration_seconds histogram\n";
    const auto bucket = [&](const char *le, double value) {
        text += std::string("sluice_request_duration_seconds_bucket{route=\"chat\",le=\"") + le + "\"} "
                + std::to_string(value) + "\n";
    };
    bucket("0.1", le01);
    bucket("0.5", le05);
    bucket("1", le1);
    bucket("+Inf", total);
    text += "sluice_request_duration_seconds_sum{route=\"chat\"} " + std::to_string(sum) + "\n";
    text += "sluice_request_duration_seconds_count{route=\"chat\"} " + std::to_string(total) + "\n";
    return text;
}

std::string startTime(double unixSeconds)
{
    return "# TYPE sluice_start_time_seconds gauge\nsluice_start_time_seconds " + std::to_string(unixSeconds) + "\n";
}

} // namespace

class TestDashboardFrame : public QObject {
    Q_OBJECT

private slots:
    void ratesAreDividedByTheRealInterval();
    void counterThatWentDownCountsFromZero();
    void restartedInstanceCountsEverythingFromZero();
    void quantilesComeFromBucketIncreases();
    void quotaTimeToExhaustion_data();
    void quotaTimeToExhaustion();
    void tokenQuotaNeedsModelRouting();
    void costIsProjectedFromTheInterval();
    void cacheQueueAnd429Split();
    void gaugesBreakersAndInstanceFacts();
    void aggregateSumsRatesAndBucketIncreases();
    void refusesMismatchedSnapshots();
    void modelUpstreamMapFollowsPriority();
};

void TestDashboardFrame::ratesAreDividedByTheRealInterval()
{
    const ScrapeSnapshot before = snapshot(requests(10, 2, -1), 1'000);
    // 2.5 s later; the 5xx series is new (created at its first event).
    const ScrapeSnapshot after = snapshot(requests(40, 5, 3), 3'500);
    const auto frame = DashboardFrame::between(before, after);
    QVERIFY2(frame.ok(), qPrintable(frame.ok() ? QString() : frame.error()));
    QCOMPARE(frame->intervalSeconds, 2.5);
    QCOMPARE(frame->requestsPerSecondByClass.at(QStringLiteral("2xx")), 12.0);
    QCOMPARE(frame->requestsPerSecondByClass.at(QStringLiteral("4xx")), 1.2);
    QCOMPARE(frame->requestsPerSecondByClass.at(QStringLiteral("5xx")), 1.2);
    QCOMPARE(frame->requestsPerSecondByClass.at(QStringLiteral("3xx")), 0.0);
    QCOMPARE(frame->requestsPerSecond, 14.4);
    QVERIFY(frame->errorRatio);
    QCOMPARE(*frame->errorRatio, 1.2 / 14.4);
}

void TestDashboardFrame::counterThatWentDownCountsFromZero()
{
    const ScrapeSnapshot before = snapshot(requests(100, 50, 9), 0);
    // 2xx went down: a reset, so its 7 are this interval's; 4xx and 5xx grew normally.
    const ScrapeSnapshot after = snapshot(requests(7, 60, 9), 10'000);
    const auto frame = DashboardFrame::between(before, after);
    QVERIFY(frame.ok());
    QCOMPARE(frame->requestsPerSecondByClass.at(QStringLiteral("2xx")), 0.7);
    QCOMPARE(frame->requestsPerSecondByClass.at(QStringLiteral("4xx")), 1.0);
    QCOMPARE(frame->requestsPerSecondByClass.at(QStringLiteral("5xx")), 0.0);
    QVERIFY(!frame->instances.at(0).restarted);
}

void TestDashboardFrame::restartedInstanceCountsEverythingFromZero()
{
    const ScrapeSnapshot before = snapshot(startTime(1000) + requests(5, 0, -1), 0);
    // The counter grew from 5 to 8, but the process is a new one: all 8 are new.
    const ScrapeSnapshot after = snapshot(startTime(2000) + requests(8, 0, -1), 4'000);
    const auto frame = DashboardFrame::between(before, after);
    QVERIFY(frame.ok());
    QVERIFY(frame->instances.at(0).restarted);
    QCOMPARE(frame->requestsPerSecondByClass.at(QStringLiteral("2xx")), 2.0);
}

void TestDashboardFrame::quantilesComeFromBucketIncreases()
{
    // Before: 100 slow requests in (0.5, 1]. During the interval: 100 fast ones, 50 of
    // them at most 0.1 s and the rest in (0.1, 0.5].
    const ScrapeSnapshot before = snapshot(durations(0, 0, 100, 100, 75), 0);
    const ScrapeSnapshot after = snapshot(durations(50, 100, 200, 200, 90), 5'000);
    const auto frame = DashboardFrame::between(before, after);
    QVERIFY(frame.ok());
    const LatencyQuantiles &latency = frame->requestDuration;
    QVERIFY(latency.p50 && latency.p95 && latency.p99);
    QCOMPARE(*latency.p50, 0.1);
    QVERIFY(std::abs(*latency.p95 - (0.1 + 0.4 * 45.0 / 50.0)) < 1e-12);
    QVERIFY(std::abs(*latency.p99 - (0.1 + 0.4 * 49.0 / 50.0)) < 1e-12);
    // The totals since start would put the median at 0.5 s: the frame must not use them.
    const double fromTotals = metrics::histogramQuantile(0.5, {{0.1, 50}, {0.5, 100}, {1, 200}, {qInf(), 200}});
    QCOMPARE(fromTotals, 0.5);
    QVERIFY(*latency.p50 != fromTotals);
    // No observation in the interval: no quantiles.
    const auto idle = DashboardFrame::between(after, snapshot(durations(50, 100, 200, 200, 90), 9'000));
    QVERIFY(idle.ok());
    QVERIFY(!idle->requestDuration.p50);
    QVERIFY(!idle->upstreamDuration.p95);
}

void TestDashboardFrame::quotaTimeToExhaustion_data()
{
    QTest::addColumn<double>("attemptsInMinute");
    QTest::addColumn<double>("limit");
    QTest::addColumn<double>("remaining");
    QTest::addColumn<double>("percent");
    QTest::addColumn<double>("secondsToExhaustion"); // < 0: nullopt

    // 300/min against 200/min drains 100/min = 5/3 per second: 50 left last 30 s.
    QTest::newRow("over the limit") << 300.0 << 200.0 << 50.0 << 150.0 << 30.0;
    QTest::newRow("under the limit") << 100.0 << 200.0 << 50.0 << 50.0 << -1.0;
    QTest::newRow("at the limit") << 200.0 << 200.0 << 10.0 << 100.0 << -1.0;
    QTest::newRow("already exhausted") << 260.0 << 200.0 << 0.0 << 130.0 << 0.0;
}

void TestDashboardFrame::quotaTimeToExhaustion()
{
    QFETCH(double, attemptsInMinute);
    QFETCH(double, limit);
    QFETCH(double, remaining);
    QFETCH(double, percent);
    QFETCH(double, secondsToExhaustion);

    const auto text = [&](double attempts) {
        std::string out = "# TYPE sluice_upstream_requests_total counter\n";
        out += "sluice_upstream_requests_total{upstream=\"openai\",code=\"2xx\"} " + std::to_string(attempts) + "\n";
        out += "# TYPE sluice_provider_quota_limit gauge\n";
        out += "sluice_provider_quota_limit{upstream=\"openai\",resource=\"requests\"} " + std::to_string(limit) + "\n";
        out += "# TYPE sluice_provider_quota_remaining gauge\n";
        out += "sluice_provider_quota_remaining{upstream=\"openai\",resource=\"requests\"} "
               + std::to_string(remaining) + "\n";
        return out;
    };
    const auto frame = DashboardFrame::between(snapshot(text(1000), 0), snapshot(text(1000 + attemptsInMinute), 60'000));
    QVERIFY(frame.ok());
    const UpstreamFrame *upstream = frame->upstream(QStringLiteral("openai"));
    QVERIFY(upstream);
    QCOMPARE(upstream->requestsPerMinute, attemptsInMinute);
    QCOMPARE(upstream->quotas.size(), std::size_t(1));
    const QuotaFrame &quota = upstream->quotas.front();
    QCOMPARE(quota.resource, QStringLiteral("requests"));
    QCOMPARE(quota.limit, limit);
    QCOMPARE(quota.remaining.value_or(-1), remaining);
    QVERIFY(quota.percentOfLimit);
    QVERIFY(std::abs(*quota.percentOfLimit - percent) < 1e-9);
    if (secondsToExhaustion < 0) {
        QVERIFY(!quota.secondsToExhaustion);
    } else {
        QVERIFY(quota.secondsToExhaustion);
        QVERIFY(std::abs(*quota.secondsToExhaustion - secondsToExhaustion) < 1e-9);
    }
}

void TestDashboardFrame::tokenQuotaNeedsModelRouting()
{
    const auto text = [](double input, double output) {
        std::string out = "# TYPE sluice_tokens_total counter\n";
        out += "sluice_tokens_total{model=\"fast\",type=\"input\"} " + std::to_string(input) + "\n";
        out += "sluice_tokens_total{model=\"fast\",type=\"output\"} " + std::to_string(output) + "\n";
        out += "sluice_tokens_total{model=\"claude-3-5-haiku-latest\",type=\"output\"} 999\n";
        out += "# TYPE sluice_provider_quota_limit gauge\n";
        out += "sluice_provider_quota_limit{upstream=\"openai\",resource=\"tokens\"} 10000\n";
        out += "# TYPE sluice_provider_quota_remaining gauge\n";
        out += "sluice_provider_quota_remaining{upstream=\"openai\",resource=\"tokens\"} 4000\n";
        return out;
    };
    // Over 30 s: 3000 input + 1500 output tokens = 9000 per minute, 90% of the quota.
    const ScrapeSnapshot before = snapshot(text(1000, 500), 0);
    const ScrapeSnapshot after = snapshot(text(4000, 2000), 30'000);

    const auto unrouted = DashboardFrame::between(before, after);
    QVERIFY(unrouted.ok());
    const UpstreamFrame *openai = unrouted->upstream(QStringLiteral("openai"));
    QVERIFY(openai);
    QVERIFY(!openai->tokensPerMinute);
    QVERIFY(!openai->quotas.at(0).usedPerMinute);
    QCOMPARE(unrouted->tokensPerMinuteByModel.at(QStringLiteral("fast")), 9000.0);

    FrameOptions options;
    options.modelUpstreams = {{QStringLiteral("fast"), QStringLiteral("openai")},
                              {QStringLiteral("claude-3-5-haiku-latest"), QStringLiteral("anthropic")}};
    const auto routed = DashboardFrame::between(before, after, options);
    QVERIFY(routed.ok());
    openai = routed->upstream(QStringLiteral("openai"));
    QVERIFY(openai);
    QCOMPARE(openai->tokensPerMinute.value_or(-1), 9000.0);
    const QuotaFrame &quota = openai->quotas.at(0);
    QCOMPARE(quota.usedPerMinute.value_or(-1), 9000.0);
    QCOMPARE(quota.percentOfLimit.value_or(-1), 90.0);
    QVERIFY(!quota.secondsToExhaustion);
}

void TestDashboardFrame::costIsProjectedFromTheInterval()
{
    const auto text = [](double usd) {
        return "# TYPE sluice_cost_usd_total counter\nsluice_cost_usd_total{model=\"gpt-4o\"} " + std::to_string(usd)
               + "\n";
    };
    // $0.50 over 30 s: $60 an hour, $1440 a day, $43200 a 30-day month.
    const auto frame = DashboardFrame::between(snapshot(text(2.0), 0), snapshot(text(2.5), 30'000));
    QVERIFY(frame.ok());
    QVERIFY(std::abs(frame->costUsdPerHour - 60) < 1e-9);
    QVERIFY(std::abs(frame->costUsdPerDay - 1440) < 1e-9);
    QVERIFY(std::abs(frame->costUsdPerMonth - 43200) < 1e-6);
    QVERIFY(std::abs(frame->costUsdPerHourByModel.at(QStringLiteral("gpt-4o")) - 60) < 1e-9);
}

void TestDashboardFrame::cacheQueueAnd429Split()
{
    const auto text = [](double hits, double misses, double savedTokens, double savedUsd, double waitSum,
                         double waits, double ownLimited, double paced, double provider429, double ok) {
        std::string out = "# TYPE sluice_cache_requests_total counter\n";
        out += "sluice_cache_requests_total{result=\"hit\"} " + std::to_string(hits) + "\n";
        out += "sluice_cache_requests_total{result=\"miss\"} " + std::to_string(misses) + "\n";
        out += "sluice_cache_requests_total{result=\"bypass\"} 1000\n";
        out += "# TYPE sluice_cache_saved_tokens_total counter\n";
        out += "sluice_cache_saved_tokens_total{model=\"gpt-4o\"} " + std::to_string(savedTokens) + "\n";
        out += "# TYPE sluice_cache_saved_usd_total counter\n";
        out += "sluice_cache_saved_usd_total{model=\"gpt-4o\"} " + std::to_string(savedUsd) + "\n";
        out += "# TYPE sluice_queue_wait_seconds histogram\n";
        out += "sluice_queue_wait_seconds_bucket{le=\"+Inf\"} " + std::to_string(waits) + "\n";
        out += "sluice_queue_wait_seconds_sum " + std::to_string(waitSum) + "\n";
        out += "sluice_queue_wait_seconds_count " + std::to_string(waits) + "\n";
        out += "# TYPE sluice_client_errors_total counter\n";
        out += "sluice_client_errors_total{reason=\"rate_limited\"} " + std::to_string(ownLimited) + "\n";
        out += "sluice_client_errors_total{reason=\"provider_quota\"} " + std::to_string(paced) + "\n";
        out += "sluice_client_errors_total{reason=\"unknown_model\"} 7\n";
        out += "# TYPE sluice_upstream_errors_total counter\n";
        out += "sluice_upstream_errors_total{upstream=\"openai\",kind=\"status_429\"} " + std::to_string(provider429)
               + "\n";
        out += "sluice_upstream_errors_total{upstream=\"openai\",kind=\"read_timeout\"} 3\n";
        out += "# TYPE sluice_rate_limit_decisions_total counter\n";
        out += "sluice_rate_limit_decisions_total{scope=\"key\",dimension=\"requests\",result=\"limited\"} "
               + std::to_string(ownLimited) + "\n";
        out += "sluice_rate_limit_decisions_total{scope=\"key\",dimension=\"requests\",result=\"allowed\"} 500\n";
        out += requests(ok, ownLimited + paced, -1);
        return out;
    };
    // Over 10 s: 30 hits, 10 misses; 6000 saved tokens and $1.20; 20 waits totalling
    // 5 s; 20 own-limit 429s, 10 pacing 429s, 4 provider 429s; 100 + 30 requests.
    const ScrapeSnapshot before = snapshot(text(10, 10, 1000, 0.3, 1, 10, 5, 0, 1, 50), 0);
    const ScrapeSnapshot after = snapshot(text(40, 20, 7000, 1.5, 6, 30, 25, 10, 5, 150), 10'000);
    const auto frame = DashboardFrame::between(before, after);
    QVERIFY(frame.ok());
    QCOMPARE(frame->cacheHitRatio.value_or(-1), 0.75);
    QCOMPARE(frame->cacheHitsPerSecond, 3.0);
    QCOMPARE(frame->cacheLookupsPerSecond, 4.0);
    QCOMPARE(frame->cacheSavedTokensPerSecond, 600.0);
    QCOMPARE(frame->cacheSavedTokensPerHour, 600.0 * 3600);
    QVERIFY(std::abs(frame->cacheSavedUsdPerHour - 0.12 * 3600) < 1e-9);
    QCOMPARE(frame->meanQueueWaitSeconds.value_or(-1), 0.25);
    QCOMPARE(frame->ownLimit429PerSecond, 2.0);
    QCOMPARE(frame->providerQuota429PerSecond, 1.0);
    QCOMPARE(frame->provider429PerSecond, 0.4);
    QCOMPARE(frame->limitedPerSecondByScope.at(QStringLiteral("key")), 2.0);
    QVERIFY(std::abs(frame->ownLimit429Ratio.value_or(-1) - 20.0 / 130.0) < 1e-12);
    QVERIFY(std::abs(frame->providerQuota429Ratio.value_or(-1) - 10.0 / 130.0) < 1e-12);
    const UpstreamFrame *openai = frame->upstream(QStringLiteral("openai"));
    QVERIFY(openai);
    QCOMPARE(openai->provider429PerSecond, 0.4);
    QCOMPARE(openai->errorsPerSecond, 0.4);
}

void TestDashboardFrame::gaugesBreakersAndInstanceFacts()
{
    std::string text = startTime(double(kWallTime.toSecsSinceEpoch()) - 3600);
    text += "# TYPE sluice_in_flight_requests gauge\nsluice_in_flight_requests 12\n";
    text += "# TYPE sluice_upstream_in_flight gauge\nsluice_upstream_in_flight 8\n";
    text += "# TYPE sluice_concurrency_limit gauge\nsluice_concurrency_limit 32\n";
    text += "# TYPE sluice_queue_depth gauge\nsluice_queue_depth 4\n";
    text += "# TYPE sluice_config_version gauge\nsluice_config_version 7\n";
    text += "# TYPE sluice_build_info gauge\nsluice_build_info{version=\"0.1.0\"} 1\n";
    text += "# TYPE sluice_breaker_state gauge\n";
    text += "sluice_breaker_state{upstream=\"openai\"} 0\nsluice_breaker_state{upstream=\"anthropic\"} 2\n";
    const auto frame = DashboardFrame::between(snapshot(text, 0), snapshot(text, 1'000));
    QVERIFY(frame.ok());
    QCOMPARE(frame->inFlight, 12.0);
    QCOMPARE(frame->upstreamInFlight, 8.0);
    QCOMPARE(frame->concurrencyLimit.value_or(-1), 32.0);
    QCOMPARE(frame->concurrencyUtilisation.value_or(-1), 0.25);
    QCOMPARE(frame->queueDepth, 4.0);
    QVERIFY(!frame->meanQueueWaitSeconds);
    QVERIFY(!frame->cacheHitRatio);
    QVERIFY(!frame->errorRatio);
    QCOMPARE(frame->upstreams.size(), std::size_t(2));
    QCOMPARE(frame->upstreams[0].upstream, QStringLiteral("anthropic")); // sorted by name
    QVERIFY(frame->upstreams[0].breaker == BreakerState::Open);
    QVERIFY(frame->upstream(QStringLiteral("openai"))->breaker == BreakerState::Closed);
    const InstanceFacts &facts = frame->instances.at(0);
    QCOMPARE(facts.version, QStringLiteral("0.1.0"));
    QCOMPARE(facts.configVersion.value_or(-1), qint64(7));
    QCOMPARE(facts.uptimeSeconds.value_or(-1), 3600.0);
}

void TestDashboardFrame::aggregateSumsRatesAndBucketIncreases()
{
    // Instance a: 100 fast requests (≤ 0.1 s) over 10 s. Instance b: 100 slow ones in
    // (0.5, 1] over 5 s. Alone, their medians are 0.05 and 0.75; together the median
    // is at the edge between them.
    const ScrapeSnapshot aBefore = snapshot(durations(0, 0, 0, 0, 0) + requests(0, 0, -1), 0, QStringLiteral("a"));
    const ScrapeSnapshot aAfter =
        snapshot(durations(100, 100, 100, 100, 5) + requests(100, 0, -1), 10'000, QStringLiteral("a"));
    const ScrapeSnapshot bBefore = snapshot(durations(0, 0, 0, 0, 0) + requests(0, 0, -1), 0, QStringLiteral("b"));
    const ScrapeSnapshot bAfter =
        snapshot(durations(0, 0, 100, 100, 75) + requests(100, 0, -1), 5'000, QStringLiteral("b"));

    const auto a = DashboardFrame::between(aBefore, aAfter);
    const auto b = DashboardFrame::between(bBefore, bAfter);
    QVERIFY(a.ok() && b.ok());
    QCOMPARE(a->requestDuration.p50.value_or(-1), 0.05);
    QCOMPARE(b->requestDuration.p50.value_or(-1), 0.75);

    const auto fleet = DashboardFrame::aggregate({{&aBefore, &aAfter}, {&bBefore, &bAfter}});
    QVERIFY(fleet.ok());
    QCOMPARE(fleet->instances.size(), std::size_t(2));
    QCOMPARE(fleet->intervalSeconds, 10.0);
    // 10/s + 20/s.
    QCOMPARE(fleet->requestsPerSecond, 30.0);
    // Summed bucket rates: 10/s ≤ 0.1 and 20/s in (0.5, 1]: 30/s in all. The median
    // rank 15 falls into (0.5, 1] at a quarter: 0.625.
    QVERIFY(std::abs(fleet->requestDuration.p50.value_or(-1) - 0.625) < 1e-12);
    // Not the mean of the two medians, nor either instance's.
    QVERIFY(std::abs(*fleet->requestDuration.p50 - 0.4) > 0.1);
}

void TestDashboardFrame::refusesMismatchedSnapshots()
{
    const ScrapeSnapshot a = snapshot(requests(1, 0, -1), 1'000, QStringLiteral("a"));
    const ScrapeSnapshot b = snapshot(requests(2, 0, -1), 2'000, QStringLiteral("b"));
    QVERIFY(!DashboardFrame::between(a, b).ok());
    const ScrapeSnapshot later = snapshot(requests(2, 0, -1), 2'000, QStringLiteral("a"));
    QVERIFY(!DashboardFrame::between(later, a).ok());
    QVERIFY(!DashboardFrame::between(a, a).ok());
    QVERIFY(!DashboardFrame::aggregate({}).ok());
}

void TestDashboardFrame::modelUpstreamMapFollowsPriority()
{
    config::GatewayConfig config;
    config::Upstream primary;
    primary.name = QStringLiteral("backup");
    primary.models = {QStringLiteral("gpt-4o")};
    primary.priority = 5;
    config::Upstream preferred;
    preferred.name = QStringLiteral("main");
    preferred.models = {QStringLiteral("gpt-4o"), QStringLiteral("gpt-4o-mini")};
    preferred.aliases = {{QStringLiteral("fast"), QStringLiteral("gpt-4o-mini")}};
    preferred.priority = 1;
    config.upstreams = {primary, preferred};
    const auto routes = modelUpstreamMap(config);
    QCOMPARE(routes.at(QStringLiteral("gpt-4o")), QStringLiteral("main"));
    QCOMPARE(routes.at(QStringLiteral("fast")), QStringLiteral("main"));
    QCOMPARE(routes.size(), std::size_t(3));
}

QTEST_GUILESS_MAIN(TestDashboardFrame)
#include "tst_dashboardframe.moc"
