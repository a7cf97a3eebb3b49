#include <QTest>

#include "gateway/sharedlimits.h"

using namespace std::chrono_literals;
using namespace sluice;
using gateway::LimitDimension;
using gateway::PlannedCheck;
using store::AdmissionCheck;
using store::AdmissionSettlement;
using store::AdmissionVerdict;

namespace {

policy::RateRule perMinute(qint64 limit)
{
    policy::RateRule rule;
    rule.limit = limit;
    rule.period = 1min;
    return rule;
}

std::vector<PlannedCheck> plan()
{
    return {{QStringLiteral("key:demo"), LimitDimension::Requests, "demo", perMinute(600), 0},
            {QStringLiteral("key:demo"), LimitDimension::Tokens, "demo", perMinute(30'000), 0},
            {QStringLiteral("key:demo"), LimitDimension::Parallel, "demo", {}, 4},
            {QStringLiteral("team"), LimitDimension::Requests, "demo|gpt-4o", perMinute(60), 0}};
}

policy::RateLimitDecision decision(bool allowed, qint64 limit, qint64 remaining)
{
    policy::RateLimitDecision result;
    result.allowed = allowed;
    result.limit = limit;
    result.remaining = remaining;
    result.retryAfter = allowed ? 0ms : 1500ms;
    return result;
}

} // namespace

// The translation between the gateway's limit rules and the Redis admission script.
class TestSharedLimits : public QObject {
    Q_OBJECT
private slots:
    void checksCarryKeysCostsAndRules()
    {
        const auto checks = gateway::admissionChecks(plan(), "prod", 1234);
        QCOMPARE(checks.size(), std::size_t(4));
        QCOMPARE(checks[0].key, QByteArray("sluice:prod:ratelimit:key:demo|r|demo"));
        QCOMPARE(checks[0].kind, AdmissionCheck::Kind::Rate);
        QCOMPARE(checks[0].cost, 1);
        QCOMPARE(checks[0].rule.limit, 600);
        QCOMPARE(checks[1].key, QByteArray("sluice:prod:ratelimit:key:demo|t|demo"));
        QCOMPARE(checks[1].kind, AdmissionCheck::Kind::Tokens);
        QCOMPARE(checks[1].cost, 1234);
        QCOMPARE(checks[2].key, QByteArray("sluice:prod:ratelimit:key:demo|p|demo"));
        QCOMPARE(checks[2].kind, AdmissionCheck::Kind::Lease);
        QCOMPARE(checks[2].maxParallel, 4);
        QCOMPARE(checks[3].key, QByteArray("sluice:prod:ratelimit:team|r|demo|gpt-4o"));
        // Distinct keys: the script decides them one after another without seeing each other.
        for (std::size_t i = 0; i < checks.size(); ++i)
            for (std::size_t j = i + 1; j < checks.size(); ++j)
                QVERIFY(checks[i].key != checks[j].key);
    }

    void refusalNamesTheRuleAndDimension()
    {
        const auto planned = plan();
        const auto checks = gateway::admissionChecks(planned, "prod", 100);
        AdmissionVerdict verdict;
        verdict.allowed = false;
        verdict.refusedIndex = 3;
        verdict.decisions = {decision(true, 600, 10), decision(true, 30'000, 500), decision(true, 4, 2),
                             decision(false, 60, 0)};
        const auto result = gateway::holdsFromVerdict(planned, checks, verdict, "lease");
        QVERIFY(!result);
        QCOMPARE(result.error().rule, QStringLiteral("team"));
        QCOMPARE(result.error().dimension, LimitDimension::Requests);
        QCOMPARE(result.error().decision.limit, 60);
        QCOMPARE(result.error().decision.retryAfter, policy::Nanoseconds(1500ms));
        QVERIFY(!result.error().decision.allowed);
    }

    void admissionHoldsWhatMustBeGivenBack()
    {
        const auto planned = plan();
        const auto checks = gateway::admissionChecks(planned, "prod", 700);
        AdmissionVerdict verdict;
        verdict.allowed = true;
        verdict.decisions = {decision(true, 600, 10), decision(true, 30'000, 500), decision(true, 4, 2),
                             decision(true, 60, 3)};
        auto holds = gateway::holdsFromVerdict(planned, checks, verdict, "gw-1/req_1");
        QVERIFY(holds);
        QCOMPARE(holds->redisLeaseId, QByteArray("gw-1/req_1"));
        // The tightest request decision (lowest remaining) fills the headers.
        QCOMPARE(holds->requests->remaining, 3);
        QCOMPARE(holds->tokensDecision->remaining, 500);
        QCOMPARE(holds->decided.size(), std::size_t(4));
        QVERIFY(holds->tokens.empty());
        QVERIFY(holds->parallel.empty());
        // A token reservation and a lease to settle; request buckets have nothing to return.
        QCOMPARE(holds->redis.size(), std::size_t(2));
        QCOMPARE(holds->redis[0].kind, AdmissionSettlement::Kind::Tokens);
        QCOMPARE(holds->redis[0].reserved, 700);
        QCOMPARE(holds->redis[0].key, checks[1].key);
        QCOMPARE(holds->redis[1].kind, AdmissionSettlement::Kind::Lease);
        QCOMPARE(holds->redis[1].key, checks[2].key);

        // Answered from the shared cache: nothing was reserved or leased, nothing to settle.
        AdmissionVerdict hit = verdict;
        hit.cachedValue = QByteArray("{}");
        const auto hitHolds = gateway::holdsFromVerdict(planned, checks, hit, "gw-1/req_2");
        QVERIFY(hitHolds);
        QVERIFY(hitHolds->redis.empty());
        QCOMPARE(hitHolds->decided.size(), std::size_t(4));

        const auto used = gateway::settlementsFor(*holds, 420);
        QCOMPARE(used[0].actual, 420);
        const auto refunded = gateway::settlementsFor(*holds, std::nullopt);
        QCOMPARE(refunded[0].actual, 0);
        QCOMPARE(refunded[0].reserved, 700);
    }

    void leaseLifetimeCoversTheLongestRequest()
    {
        config::GatewayConfig config;
        config.timeouts.total = 600s;
        config.concurrency.queueTimeout = 10s;
        QCOMPARE(gateway::leaseLifetime(config), std::chrono::milliseconds(670s));
        config.timeouts.total = 0ms;
        QCOMPARE(gateway::leaseLifetime(config), std::chrono::milliseconds(1h));
    }
};

QTEST_GUILESS_MAIN(TestSharedLimits)
#include "tst_sharedlimits.moc"
