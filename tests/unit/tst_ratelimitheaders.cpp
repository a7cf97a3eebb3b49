#include <QTest>

#include "gateway/ratelimitheaders.h"
#include "policy/retryafter.h"

using namespace sluice::gateway;
using namespace std::chrono_literals;
using sluice::policy::Nanoseconds;

class TestRateLimitHeaders : public QObject {
    Q_OBJECT
private slots:
    void goDurations_data()
    {
        QTest::addColumn<qint64>("nanoseconds");
        QTest::addColumn<QByteArray>("text");
        QTest::newRow("zero") << qint64(0) << QByteArray("0s");
        QTest::newRow("negative clamps") << qint64(-5) << QByteArray("0s");
        QTest::newRow("ns") << qint64(999) << QByteArray("999ns");
        QTest::newRow("µs") << qint64(1500) << QByteArray("1.5µs");
        QTest::newRow("ms") << qint64(17'000'000) << QByteArray("17ms");
        QTest::newRow("fractional ms") << qint64(1'250'000) << QByteArray("1.25ms");
        QTest::newRow("1s") << qint64(1'000'000'000) << QByteArray("1s");
        QTest::newRow("fractional s") << qint64(1'250'000'000) << QByteArray("1.25s");
        QTest::newRow("6m0s") << qint64(360'000'000'000) << QByteArray("6m0s");
        QTest::newRow("1m30.5s") << qint64(90'500'000'000) << QByteArray("1m30.5s");
        QTest::newRow("1h0m0s") << qint64(3'600'000'000'000) << QByteArray("1h0m0s");
        QTest::newRow("1h2m3s") << qint64(3'723'000'000'000) << QByteArray("1h2m3s");
    }

    void goDurations()
    {
        QFETCH(qint64, nanoseconds);
        QFETCH(QByteArray, text);
        QCOMPARE(formatGoDuration(Nanoseconds{nanoseconds}), text);
        const auto parsed = sluice::policy::parseResetDuration(text.toStdString());
        QVERIFY(parsed.has_value());
        QCOMPARE(parsed->count(), std::max<qint64>(0, nanoseconds));
    }

    void openAIHeaders()
    {
        RateLimitState state;
        state.requests = RateLimitBucket{60, 59, 1s};
        state.tokens = RateLimitBucket{150000, 149984, 6ms};
        state.inputTokens = RateLimitBucket{1, 1, 1s};
        const HeaderList headers = rateLimitHeaders(ProviderKind::OpenAI, state, 0);
        const HeaderList expected{
            {"x-ratelimit-limit-requests", "60"},       {"x-ratelimit-remaining-requests", "59"},
            {"x-ratelimit-reset-requests", "1s"},       {"x-ratelimit-limit-tokens", "150000"},
            {"x-ratelimit-remaining-tokens", "149984"}, {"x-ratelimit-reset-tokens", "6ms"},
        };
        QCOMPARE(headers, expected);
    }

    void anthropicHeaders()
    {
        RateLimitState state;
        state.requests = RateLimitBucket{50, 49, 1200ms};
        state.inputTokens = RateLimitBucket{30000, -3, 60s};
        const qint64 now = 1'714'564'800'000; // 2024-05-01T12:00:00Z
        const HeaderList headers = rateLimitHeaders(ProviderKind::Anthropic, state, now);
        const HeaderList expected{
            {"anthropic-ratelimit-requests-limit", "50"},
            {"anthropic-ratelimit-requests-remaining", "49"},
            {"anthropic-ratelimit-requests-reset", "2024-05-01T12:00:02Z"},
            {"anthropic-ratelimit-input-tokens-limit", "30000"},
            {"anthropic-ratelimit-input-tokens-remaining", "0"},
            {"anthropic-ratelimit-input-tokens-reset", "2024-05-01T12:01:00Z"},
        };
        QCOMPARE(headers, expected);
    }

    void retryAfter()
    {
        QCOMPARE(retryAfterSeconds(0ns), QByteArray("1"));
        QCOMPARE(retryAfterSeconds(12s), QByteArray("12"));
        QCOMPARE(retryAfterSeconds(12s + 1ns), QByteArray("13"));
    }
};

QTEST_APPLESS_MAIN(TestRateLimitHeaders)
#include "tst_ratelimitheaders.moc"
