#include <QTest>

#include <limits>

#include "policy/capacityplanner.h"

using sluice::policy::BindingLimit;
using sluice::policy::ModelCall;
using sluice::policy::QuotaState;
using sluice::policy::TierLimits;
using sluice::policy::Workload;
using Tiers = std::vector<TierLimits>;

Q_DECLARE_METATYPE(sluice::policy::TierLimits)
Q_DECLARE_METATYPE(sluice::policy::Workload)
Q_DECLARE_METATYPE(sluice::policy::BindingLimit)
Q_DECLARE_METATYPE(sluice::policy::QuotaState)

namespace sluice::policy {
char *toString(BindingLimit binding)
{
    switch (binding) {
    case BindingLimit::None:
        return qstrdup("None");
    case BindingLimit::Requests:
        return qstrdup("Requests");
    case BindingLimit::Tokens:
        return qstrdup("Tokens");
    case BindingLimit::Both:
        return qstrdup("Both");
    }
    return qstrdup("?");
}
} // namespace sluice::policy

namespace {

constexpr double infinity = std::numeric_limits<double>::infinity();
constexpr double notANumber = std::numeric_limits<double>::quiet_NaN();

TierLimits tier(double requestsPerMinute, double tokensPerMinute)
{
    return TierLimits{"tier", requestsPerMinute, tokensPerMinute};
}

// One call of 1000 input + 500 output tokens = 1500 tokens per request.
Workload singleCall(double requestsPerSecond = 0.0)
{
    return Workload{requestsPerSecond, {ModelCall{1000, 500}}, 0.0};
}

// Classify, answer, summarise: 3 calls, 250 + 1900 + 850 = 3000 tokens per request.
Workload pipeline(double requestsPerSecond = 0.0)
{
    return Workload{requestsPerSecond, {ModelCall{200, 50}, ModelCall{1500, 400}, ModelCall{600, 250}}, 0.0};
}

// The shape of OpenAI's published usage tiers for a gpt-4o class model.
Tiers openAiLikeTiers()
{
    return {
        {"Tier 1", 500, 30'000},
        {"Tier 2", 5'000, 450'000},
        {"Tier 3", 5'000, 800'000},
        {"Tier 4", 10'000, 2'000'000},
        {"Tier 5", 10'000, 30'000'000},
    };
}

} // namespace

class TestCapacityPlanner : public QObject {
    Q_OBJECT
private slots:
    void allowedRequestsPerMinute_data()
    {
        QTest::addColumn<TierLimits>("limits");
        QTest::addColumn<Workload>("workload");
        QTest::addColumn<double>("expectedRequestsPerMinute");
        QTest::addColumn<double>("expectedRequestBound");
        QTest::addColumn<double>("expectedTokenBound");
        QTest::addColumn<BindingLimit>("expectedBinding");

        // 30000 TPM / 1500 tokens = 20 < 500 RPM.
        QTest::newRow("tokens bind") << tier(500, 30'000) << singleCall() << 20.0 << 500.0 << 20.0
                                     << BindingLimit::Tokens;
        // 2e6 / 1500 = 1333.3 > 500 RPM.
        QTest::newRow("requests bind") << tier(500, 2'000'000) << singleCall() << 500.0 << 500.0 << 2'000'000.0 / 1500
                                       << BindingLimit::Requests;
        // 3000 RPM / 3 calls = 1000; 1e6 / 3000 tokens = 333.3.
        QTest::newRow("pipeline tokens bind") << tier(3'000, 1'000'000) << pipeline() << 1'000'000.0 / 3000
                                              << 1000.0 << 1'000'000.0 / 3000 << BindingLimit::Tokens;
        // 1000 RPM / 4 calls = 250; 1e6 / (4 × 125) = 2000.
        QTest::newRow("pipeline calls bind")
            << tier(1'000, 1'000'000) << Workload{0.0, {{100, 25}, {100, 25}, {100, 25}, {100, 25}}, 0.0} << 250.0
            << 250.0 << 2000.0 << BindingLimit::Requests;
        // 100 RPM and 150000 / 1500 = 100.
        QTest::newRow("both bind") << tier(100, 150'000) << singleCall() << 100.0 << 100.0 << 100.0
                                   << BindingLimit::Both;
        QTest::newRow("unlimited tokens") << tier(60, infinity) << singleCall() << 60.0 << 60.0 << infinity
                                          << BindingLimit::Requests;
        QTest::newRow("unlimited tier") << tier(infinity, infinity) << singleCall() << infinity << infinity << infinity << BindingLimit::None;
        QTest::newRow("empty pipeline") << tier(500, 30'000) << Workload{} << infinity << infinity << infinity << BindingLimit::None;
        QTest::newRow("zero RPM allows nothing") << tier(0, 1'000'000) << singleCall() << 0.0 << 0.0
                                                 << 1'000'000.0 / 1500 << BindingLimit::Requests;
        QTest::newRow("NaN RPM allows nothing") << tier(notANumber, 1'000'000) << singleCall() << 0.0 << 0.0
                                                << 1'000'000.0 / 1500 << BindingLimit::Requests;
        QTest::newRow("negative TPM allows nothing") << tier(500, -1) << singleCall() << 0.0 << 500.0 << 0.0
                                                     << BindingLimit::Tokens;
        // -100 input counts as 0, so 500 tokens per request: 10000 / 500 = 20.
        QTest::newRow("negative tokens count as zero") << tier(1'000, 10'000) << Workload{0.0, {{-100, 500}}, 0.0}
                                                       << 20.0 << 1000.0 << 20.0 << BindingLimit::Tokens;
        QTest::newRow("tokenless call ignores TPM") << tier(100, 0) << Workload{0.0, {{0, 0}}, 0.0} << 100.0 << 100.0
                                                    << infinity << BindingLimit::Requests;
    }

    void allowedRequestsPerMinute()
    {
        QFETCH(TierLimits, limits);
        QFETCH(Workload, workload);
        const auto capacity = sluice::policy::allowedRequestsPerMinute(limits, workload);
        QTEST(capacity.requestsPerMinute, "expectedRequestsPerMinute");
        QTEST(capacity.requestBoundPerMinute, "expectedRequestBound");
        QTEST(capacity.tokenBoundPerMinute, "expectedTokenBound");
        QTEST(capacity.binding, "expectedBinding");
    }

    void utilisation_data()
    {
        QTest::addColumn<TierLimits>("limits");
        QTest::addColumn<Workload>("workload");
        QTest::addColumn<double>("expectedCallsPerMinute");
        QTest::addColumn<double>("expectedTokensPerMinute");
        QTest::addColumn<double>("expectedRequestFraction");
        QTest::addColumn<double>("expectedTokenFraction");
        QTest::addColumn<double>("expectedFraction");
        QTest::addColumn<BindingLimit>("expectedBinding");

        // 0.25 rps = 15 req/min: 15 / 500 RPM, 22500 / 30000 TPM.
        QTest::newRow("tokens bind") << tier(500, 30'000) << singleCall(0.25) << 15.0 << 22'500.0 << 0.03 << 0.75
                                     << 0.75 << BindingLimit::Tokens;
        // 2 rps = 120 req/min × 3 calls = 360 calls, × 3000 tokens = 360000.
        QTest::newRow("pipeline calls bind") << tier(500, 1'000'000) << pipeline(2) << 360.0 << 360'000.0 << 0.72
                                             << 0.36 << 0.72 << BindingLimit::Requests;
        // 60 req/min on a 30 RPM tier: twice over; 90000 / 90000 TPM exactly full.
        QTest::newRow("over the limit") << tier(30, 90'000) << singleCall(1) << 60.0 << 90'000.0 << 2.0 << 1.0 << 2.0
                                        << BindingLimit::Requests;
        QTest::newRow("both equally full") << tier(240, 360'000) << singleCall(2) << 120.0 << 180'000.0 << 0.5 << 0.5
                                           << 0.5 << BindingLimit::Both;
        QTest::newRow("no traffic") << tier(500, 30'000) << singleCall(0) << 0.0 << 0.0 << 0.0 << 0.0 << 0.0
                                    << BindingLimit::None;
        QTest::newRow("negative rate is no traffic") << tier(500, 30'000) << singleCall(-3) << 0.0 << 0.0 << 0.0
                                                     << 0.0 << 0.0 << BindingLimit::None;
        QTest::newRow("infinite rate is no traffic") << tier(500, 30'000) << singleCall(infinity) << 0.0 << 0.0 << 0.0
                                                     << 0.0 << 0.0 << BindingLimit::None;
        QTest::newRow("zero RPM with traffic") << tier(0, 90'000) << singleCall(1) << 60.0 << 90'000.0 << infinity << 1.0
                                               << infinity << BindingLimit::Requests;
        QTest::newRow("unlimited tier") << tier(infinity, infinity) << singleCall(1) << 60.0 << 90'000.0 << 0.0 << 0.0 << 0.0
                                        << BindingLimit::None;
    }

    void utilisation()
    {
        QFETCH(TierLimits, limits);
        QFETCH(Workload, workload);
        const auto result = sluice::policy::utilisation(limits, workload);
        QTEST(result.modelCallsPerMinute, "expectedCallsPerMinute");
        QTEST(result.tokensPerMinute, "expectedTokensPerMinute");
        QTEST(result.requestFraction, "expectedRequestFraction");
        QTEST(result.tokenFraction, "expectedTokenFraction");
        QTEST(result.fraction, "expectedFraction");
        QTEST(result.binding, "expectedBinding");
    }

    void smallestFittingTier_data()
    {
        QTest::addColumn<Tiers>("tiers");
        QTest::addColumn<Workload>("workload");
        QTest::addColumn<double>("headroomFactor");
        QTest::addColumn<int>("expectedIndex"); // -1: none fits

        // Single call of 1500 tokens; at r rps the demand is 60r req/min and 90000r TPM.
        const Tiers tiers = openAiLikeTiers();
        QTest::newRow("tier 1 at 75%") << tiers << singleCall(0.25) << 1.0 << 0;
        QTest::newRow("tier 1 with 25% headroom") << tiers << singleCall(0.25) << 1.25 << 0; // 28125 <= 30000
        QTest::newRow("headroom pushes to tier 2") << tiers << singleCall(0.25) << 1.5 << 1; // 33750 > 30000
        QTest::newRow("exactly at tier 2") << tiers << singleCall(5) << 1.0 << 1;            // 450000 TPM
        QTest::newRow("headroom pushes to tier 3") << tiers << singleCall(5) << 1.2 << 2;    // 540000 TPM
        QTest::newRow("only tier 5") << tiers << singleCall(25) << 1.0 << 4;                 // 2.25M TPM
        QTest::newRow("nothing fits") << tiers << singleCall(400) << 1.0 << -1;              // 24000 RPM
        QTest::newRow("no load fits the first") << tiers << singleCall(0) << 2.0 << 0;
        // 0.4 rps = 36000 TPM; a factor of 0.5 would squeeze it into tier 1.
        QTest::newRow("headroom below 1 is 1") << tiers << singleCall(0.4) << 0.5 << 1;
        QTest::newRow("NaN headroom is 1") << tiers << singleCall(0.25) << notANumber << 0;
        QTest::newRow("infinite headroom is 1") << tiers << singleCall(0.25) << infinity << 0;
        QTest::newRow("no tiers") << Tiers{} << singleCall(1) << 1.0 << -1;
    }

    void smallestFittingTier()
    {
        QFETCH(Tiers, tiers);
        QFETCH(Workload, workload);
        QFETCH(double, headroomFactor);
        QFETCH(int, expectedIndex);
        const auto index = sluice::policy::smallestFittingTier(tiers, workload, headroomFactor);
        QCOMPARE(index.has_value(), expectedIndex >= 0);
        if (index)
            QCOMPARE(static_cast<int>(*index), expectedIndex);
    }

    void concurrency_data()
    {
        QTest::addColumn<double>("requestsPerSecond");
        QTest::addColumn<double>("latencySeconds");
        QTest::addColumn<double>("expectedConcurrency");

        QTest::newRow("20 rps at 1.5 s") << 20.0 << 1.5 << 30.0;
        QTest::newRow("0.5 rps at 12 s") << 0.5 << 12.0 << 6.0;
        QTest::newRow("idle") << 0.0 << 5.0 << 0.0;
        QTest::newRow("negative rate") << -2.0 << 5.0 << 0.0;
        QTest::newRow("negative latency") << 2.0 << -5.0 << 0.0;
        QTest::newRow("NaN latency") << 2.0 << notANumber << 0.0;
        QTest::newRow("infinite rate") << infinity << 5.0 << 0.0;
    }

    void concurrency()
    {
        QFETCH(double, requestsPerSecond);
        QFETCH(double, latencySeconds);
        QFETCH(double, expectedConcurrency);
        QCOMPARE(sluice::policy::concurrency(requestsPerSecond, latencySeconds), expectedConcurrency);
        const Workload workload{requestsPerSecond, {}, latencySeconds};
        QCOMPARE(sluice::policy::concurrency(workload), expectedConcurrency);
    }

    void instancesNeeded_data()
    {
        QTest::addColumn<double>("totalConcurrency");
        QTest::addColumn<double>("concurrencyPerInstance");
        QTest::addColumn<qint64>("expectedInstances"); // -1: no answer

        QTest::newRow("rounds up") << 30.0 << 8.0 << qint64(4);
        QTest::newRow("exact") << 32.0 << 8.0 << qint64(4);
        QTest::newRow("one over") << 33.0 << 8.0 << qint64(5);
        QTest::newRow("binary rounding 3 / 0.3") << 3.0 << 0.3 << qint64(10);
        QTest::newRow("idle keeps one") << 0.0 << 8.0 << qint64(1);
        QTest::newRow("fraction keeps one") << 0.2 << 8.0 << qint64(1);
        QTest::newRow("negative total keeps one") << -5.0 << 8.0 << qint64(1);
        QTest::newRow("NaN total keeps one") << notANumber << 8.0 << qint64(1);
        QTest::newRow("zero per instance") << 10.0 << 0.0 << qint64(-1);
        QTest::newRow("negative per instance") << 10.0 << -1.0 << qint64(-1);
        QTest::newRow("NaN per instance") << 10.0 << notANumber << qint64(-1);
        QTest::newRow("infinite per instance") << 10.0 << infinity << qint64(-1);
        QTest::newRow("infinite total") << infinity << 8.0 << qint64(-1);
        QTest::newRow("beyond int64") << 1e19 << 1.0 << qint64(-1);
        QTest::newRow("ratio overflows to infinity") << 1e300 << 1e-10 << qint64(-1);
    }

    void instancesNeeded()
    {
        QFETCH(double, totalConcurrency);
        QFETCH(double, concurrencyPerInstance);
        QFETCH(qint64, expectedInstances);
        const auto instances = sluice::policy::instancesNeeded(totalConcurrency, concurrencyPerInstance);
        QCOMPARE(instances.has_value(), expectedInstances >= 0);
        if (instances)
            QCOMPARE(qint64(*instances), expectedInstances);
    }

    void timeToExhaust_data()
    {
        QTest::addColumn<QuotaState>("quota");
        QTest::addColumn<double>("expectedSeconds"); // -1: never at this rate

        // 36000 used against 30000 refilled per minute drains 6000/min: 12000 lasts 2 min.
        QTest::newRow("tokens drain") << QuotaState{30'000, 12'000, 36'000} << 120.0;
        // 1100 - 500 = 600 requests/min net: 100 left lasts 10 s.
        QTest::newRow("requests drain") << QuotaState{500, 100, 1'100} << 10.0;
        QTest::newRow("sustainable rate") << QuotaState{30'000, 12'000, 24'000} << -1.0;
        QTest::newRow("exactly the limit") << QuotaState{30'000, 12'000, 30'000} << -1.0;
        QTest::newRow("already exhausted") << QuotaState{30'000, 0, 10} << 0.0;
        QTest::newRow("overdrawn") << QuotaState{30'000, -50, 10} << 0.0;
        QTest::newRow("NaN remaining is exhausted") << QuotaState{30'000, notANumber, 10} << 0.0;
        QTest::newRow("zero limit drains at use") << QuotaState{0, 10, 60} << 10.0;
        QTest::newRow("NaN use is idle") << QuotaState{30'000, 100, notANumber} << -1.0;
        QTest::newRow("unlimited") << QuotaState{infinity, 100, 1e9} << -1.0;
        QTest::newRow("infinite remaining") << QuotaState{100, infinity, 1e9} << -1.0;
    }

    void timeToExhaust()
    {
        QFETCH(QuotaState, quota);
        QFETCH(double, expectedSeconds);
        const auto remaining = sluice::policy::timeToExhaust(quota);
        QCOMPARE(remaining.has_value(), expectedSeconds >= 0.0);
        if (remaining)
            QCOMPARE(remaining->count(), expectedSeconds);
    }
};

QTEST_APPLESS_MAIN(TestCapacityPlanner)
#include "tst_capacityplanner.moc"
