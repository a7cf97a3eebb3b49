#include <QTest>

#include <cmath>
#include <limits>

#include "policy/costmodel.h"
#include "policy/costprojection.h"
#include "policy/pricetable.h"
#include "policy/tokenusage.h"

using namespace std::chrono_literals;
using sluice::policy::AnthropicUsageFields;
using sluice::policy::ModelPrice;
using sluice::policy::OpenAiUsageFields;
using sluice::policy::PriceTable;
using sluice::policy::TokenUsage;

Q_DECLARE_METATYPE(sluice::policy::ModelPrice)
Q_DECLARE_METATYPE(sluice::policy::TokenUsage)
Q_DECLARE_METATYPE(sluice::policy::OpenAiUsageFields)
Q_DECLARE_METATYPE(sluice::policy::AnthropicUsageFields)

namespace sluice::policy {
char *toString(const TokenUsage &usage)
{
    return QTest::toString(QStringLiteral("{input %1, output %2, cachedInput %3, cacheWrite %4}")
                               .arg(usage.inputTokens)
                               .arg(usage.outputTokens)
                               .arg(usage.cachedInputTokens)
                               .arg(usage.cacheWriteTokens));
}
} // namespace sluice::policy

namespace {

// All five fields, so no call site leaves one to a default by accident.
ModelPrice price(double inputPerMTokUsd, double outputPerMTokUsd, std::optional<double> cachedInputPerMTokUsd = {},
                 std::optional<double> cacheWritePerMTokUsd = {}, double perRequestUsd = 0.0)
{
    ModelPrice result;
    result.inputPerMTokUsd = inputPerMTokUsd;
    result.outputPerMTokUsd = outputPerMTokUsd;
    result.cachedInputPerMTokUsd = cachedInputPerMTokUsd;
    result.cacheWritePerMTokUsd = cacheWritePerMTokUsd;
    result.perRequestUsd = perRequestUsd;
    return result;
}

const ModelPrice gpt4o = price(2.5, 10.0, 1.25);
const ModelPrice sonnet = price(3.0, 15.0, 0.3, 3.75);
const ModelPrice noCachePrices = price(0.5, 1.5);
const ModelPrice withRequestFee = price(1.0, 2.0, {}, {}, 0.005);

TokenUsage usage(std::int64_t input, std::int64_t output, std::int64_t cachedInput = 0, std::int64_t cacheWrite = 0)
{
    return TokenUsage{input, output, cachedInput, cacheWrite};
}

PriceTable lookupTable()
{
    PriceTable table;
    table.asOf = "2025-08-15";
    table.models = {
        {"gpt-4", price(30.0, 60.0)},
        {"gpt-4o", price(2.5, 10.0)},
        {"gpt-4o-2024-05-13", price(5.0, 15.0)},
        {"gpt-4o-mini", price(0.15, 0.6)},
        {"claude-3-5-sonnet", price(3.0, 15.0)},
        {"o1", price(15.0, 60.0)},
    };
    return table;
}

} // namespace

class TestCostModel : public QObject {
    Q_OBJECT
private slots:
    void costUsd_data()
    {
        QTest::addColumn<ModelPrice>("price");
        QTest::addColumn<TokenUsage>("usage");
        QTest::addColumn<double>("expectedUsd");

        // Expected = (Σ tokens × $/MTok) / 1e6 + per-request price, by hand.
        QTest::newRow("input and output") << gpt4o << usage(1000, 500) << 0.0075;    // 2500 + 5000
        QTest::newRow("cache read at cached price") << gpt4o << usage(200, 100, 800) // 500 + 1000 + 1000
                                                    << 0.0025;
        QTest::newRow("anthropic cache write") << sonnet << usage(100, 300, 0, 2000) // 300 + 4500 + 7500
                                               << 0.0123;
        QTest::newRow("anthropic cache read") << sonnet << usage(50, 200, 2000) // 150 + 3000 + 600
                                              << 0.00375;
        QTest::newRow("read and write together") << sonnet << usage(10, 10, 1000, 1000) // 30 + 150 + 300 + 3750
                                                 << 0.00423;
        QTest::newRow("no cached price bills cache reads at input") << noCachePrices << usage(0, 0, 1000) << 0.0005;
        QTest::newRow("no write price bills cache writes at input") << noCachePrices << usage(0, 0, 0, 1000)
                                                                    << 0.0005;
        QTest::newRow("per-request price added once") << withRequestFee << usage(1000, 1000) // 1000 + 2000
                                                      << 0.008;
        QTest::newRow("zero usage costs nothing") << gpt4o << usage(0, 0) << 0.0;
        QTest::newRow("zero usage still pays per request") << withRequestFee << usage(0, 0) << 0.005;
        QTest::newRow("one million of each") << gpt4o << usage(1'000'000, 1'000'000, 1'000'000) << 13.75;
        QTest::newRow("negative counts are zero") << gpt4o << usage(-100, 1000, -5, -5) << 0.01;
    }

    void costUsd()
    {
        QFETCH(ModelPrice, price);
        QFETCH(TokenUsage, usage);
        QFETCH(double, expectedUsd);
        QCOMPARE(sluice::policy::costUsd(price, usage), expectedUsd);
    }

    void fromOpenAiUsage_data()
    {
        QTest::addColumn<OpenAiUsageFields>("fields");
        QTest::addColumn<TokenUsage>("expected");

        QTest::newRow("no cache") << OpenAiUsageFields{1200, 0, 300} << usage(1200, 300);
        QTest::newRow("cached tokens are inside prompt_tokens") << OpenAiUsageFields{2006, 1920, 300}
                                                                << usage(86, 300, 1920);
        QTest::newRow("whole prompt cached") << OpenAiUsageFields{1024, 1024, 7} << usage(0, 7, 1024);
        QTest::newRow("cached above prompt is clamped") << OpenAiUsageFields{100, 150, 5} << usage(0, 5, 100);
        QTest::newRow("negative counts are zero") << OpenAiUsageFields{-5, -1, -3} << usage(0, 0);
        QTest::newRow("negative cached is zero") << OpenAiUsageFields{500, -20, 10} << usage(500, 10);
    }

    void fromOpenAiUsage()
    {
        QFETCH(OpenAiUsageFields, fields);
        QFETCH(TokenUsage, expected);
        const TokenUsage normalised = sluice::policy::fromOpenAiUsage(fields);
        QCOMPARE(normalised, expected);
        QCOMPARE(normalised.cacheWriteTokens, std::int64_t{0});
    }

    void fromAnthropicUsage_data()
    {
        QTest::addColumn<AnthropicUsageFields>("fields");
        QTest::addColumn<TokenUsage>("expected");

        QTest::newRow("plain") << AnthropicUsageFields{2095, 0, 0, 503} << usage(2095, 503);
        QTest::newRow("cache write excluded from input_tokens") << AnthropicUsageFields{21, 0, 188086, 393}
                                                                << usage(21, 393, 0, 188086);
        QTest::newRow("cache read excluded from input_tokens") << AnthropicUsageFields{21, 188086, 0, 393}
                                                               << usage(21, 393, 188086, 0);
        QTest::newRow("read and write") << AnthropicUsageFields{3, 1000, 250, 40} << usage(3, 40, 1000, 250);
        QTest::newRow("negative counts are zero") << AnthropicUsageFields{-1, -2, -3, -4} << usage(0, 0);
    }

    void fromAnthropicUsage()
    {
        QFETCH(AnthropicUsageFields, fields);
        QFETCH(TokenUsage, expected);
        QCOMPARE(sluice::policy::fromAnthropicUsage(fields), expected);
    }

    // One request (1000 prompt tokens, 800 of them cached, 50 out) as each
    // provider reports it must normalise to the same usage and the same bill.
    void providersAgreeOnTheSameRequest()
    {
        const TokenUsage openAi = sluice::policy::fromOpenAiUsage({.promptTokens = 1000,
                                                                   .cachedTokens = 800,
                                                                   .completionTokens = 50});
        const TokenUsage anthropic = sluice::policy::fromAnthropicUsage({.inputTokens = 200,
                                                                         .cacheReadInputTokens = 800,
                                                                         .cacheCreationInputTokens = 0,
                                                                         .outputTokens = 50});
        QCOMPARE(openAi, anthropic);
        QCOMPARE(openAi.promptTokens(), std::int64_t{1000});
        // 200 × 2.5 + 800 × 1.25 + 50 × 10 = 2000 → $0.002, not 0.003 as double billing would give.
        QCOMPARE(sluice::policy::costUsd(gpt4o, openAi), 0.002);
    }

    void find_data()
    {
        QTest::addColumn<QString>("modelName");
        QTest::addColumn<QString>("expectedKey"); // empty: unpriced
        QTest::addColumn<double>("expectedInputPerMTokUsd");

        QTest::newRow("exact") << "gpt-4o" << "gpt-4o" << 2.5;
        QTest::newRow("exact beats prefix") << "gpt-4o-2024-05-13" << "gpt-4o-2024-05-13" << 5.0;
        QTest::newRow("dated name finds family") << "gpt-4o-2024-08-06" << "gpt-4o" << 2.5;
        QTest::newRow("longest prefix wins") << "gpt-4o-mini-2024-07-18" << "gpt-4o-mini" << 0.15;
        QTest::newRow("exact longer family") << "gpt-4o-mini" << "gpt-4o-mini" << 0.15;
        QTest::newRow("anthropic dated") << "claude-3-5-sonnet-20241022" << "claude-3-5-sonnet" << 3.0;
        QTest::newRow("vertex @ version") << "claude-3-5-sonnet@20240620" << "claude-3-5-sonnet" << 3.0;
        QTest::newRow("colon version") << "claude-3-5-sonnet:beta" << "claude-3-5-sonnet" << 3.0;
        QTest::newRow("short family") << "gpt-4-0613" << "gpt-4" << 30.0;
        QTest::newRow("short key with suffix") << "o1-preview" << "o1" << 15.0;
        QTest::newRow("prefix inside a segment does not match") << "gpt-4.1" << "" << 0.0;
        QTest::newRow("gpt-4 does not price gpt-4omni") << "gpt-4omni" << "" << 0.0;
        QTest::newRow("unknown") << "llama-3-70b" << "" << 0.0;
        QTest::newRow("case-sensitive") << "GPT-4o" << "" << 0.0;
        QTest::newRow("empty name") << "" << "" << 0.0;
        QTest::newRow("leading separator") << "-gpt-4o" << "" << 0.0;
    }

    void find()
    {
        QFETCH(QString, modelName);
        QFETCH(QString, expectedKey);
        QFETCH(double, expectedInputPerMTokUsd);

        const PriceTable table = lookupTable();
        const auto match = table.find(modelName.toStdString());
        if (expectedKey.isEmpty()) {
            QVERIFY(!match.has_value());
            return;
        }
        QVERIFY(match.has_value());
        QCOMPARE(QString::fromStdString(std::string(match->key)), expectedKey);
        QCOMPARE(match->price.inputPerMTokUsd, expectedInputPerMTokUsd);
    }

    void projectCost_data()
    {
        QTest::addColumn<double>("spentUsd");
        QTest::addColumn<double>("intervalSeconds");
        QTest::addColumn<bool>("valid");
        QTest::addColumn<double>("perHourUsd");
        QTest::addColumn<double>("perDayUsd");
        QTest::addColumn<double>("perMonthUsd");

        const double nan = std::numeric_limits<double>::quiet_NaN();
        const double inf = std::numeric_limits<double>::infinity();
        QTest::newRow("50 cents a minute") << 0.5 << 60.0 << true << 30.0 << 720.0 << 21600.0;
        QTest::newRow("2 dollars an hour") << 2.0 << 3600.0 << true << 2.0 << 48.0 << 1440.0;
        QTest::newRow("15 s sample") << 0.01 << 15.0 << true << 2.4 << 57.6 << 1728.0;
        QTest::newRow("nothing spent") << 0.0 << 10.0 << true << 0.0 << 0.0 << 0.0;
        QTest::newRow("zero interval") << 1.0 << 0.0 << false << 0.0 << 0.0 << 0.0;
        QTest::newRow("negative interval") << 1.0 << -5.0 << false << 0.0 << 0.0 << 0.0;
        QTest::newRow("NaN interval") << 1.0 << nan << false << 0.0 << 0.0 << 0.0;
        QTest::newRow("negative spend") << -1.0 << 60.0 << false << 0.0 << 0.0 << 0.0;
        QTest::newRow("NaN spend") << nan << 60.0 << false << 0.0 << 0.0 << 0.0;
        QTest::newRow("infinite spend") << inf << 60.0 << false << 0.0 << 0.0 << 0.0;
        QTest::newRow("overflowing rate") << 1.0 << 1e-320 << false << 0.0 << 0.0 << 0.0;
    }

    void projectCost()
    {
        QFETCH(double, spentUsd);
        QFETCH(double, intervalSeconds);
        QFETCH(bool, valid);

        const auto projection =
            sluice::policy::projectCost(spentUsd, std::chrono::duration<double>(intervalSeconds));
        QCOMPARE(projection.has_value(), valid);
        if (!valid)
            return;
        QTEST(projection->perHourUsd, "perHourUsd");
        QTEST(projection->perDayUsd, "perDayUsd");
        QTEST(projection->perMonthUsd, "perMonthUsd");
    }

    void projectCostTakesAnyDuration()
    {
        const auto projection = sluice::policy::projectCost(0.25, 30s);
        QVERIFY(projection.has_value());
        QCOMPARE(projection->perHourUsd, 30.0);
    }
};

QTEST_APPLESS_MAIN(TestCostModel)
#include "tst_costmodel.moc"
