#include <QTest>

#include "policy/backoff.h"

#include <climits>
#include <cmath>
#include <optional>
#include <random>

using namespace std::chrono_literals;
using sluice::policy::Backoff;
using sluice::policy::BackoffPolicy;
using sluice::policy::Nanoseconds;
using sluice::policy::RetryDelay;

Q_DECLARE_METATYPE(Nanoseconds)
Q_DECLARE_METATYPE(std::optional<Nanoseconds>)
Q_DECLARE_METATYPE(RetryDelay::Kind)

namespace {

using Milliseconds = std::chrono::milliseconds;

std::vector<Nanoseconds> delays(const Backoff &backoff, std::uint64_t seed, int count)
{
    std::mt19937_64 rng(seed);
    std::vector<Nanoseconds> out;
    for (int i = 0; i < count; ++i)
        out.push_back(backoff.nextDelay(i % (backoff.policy().maxAttempts - 1), std::nullopt, rng).delay);
    return out;
}

} // namespace

class TestBackoff : public QObject {
    Q_OBJECT
private slots:
    void deterministicWithFixedSeed_data()
    {
        QTest::addColumn<quint64>("seed");
        QTest::newRow("0") << quint64{0};
        QTest::newRow("42") << quint64{42};
        QTest::newRow("large") << quint64{0x9e3779b97f4a7c15};
    }

    void deterministicWithFixedSeed()
    {
        QFETCH(quint64, seed);
        const Backoff backoff({100ms, 10s, 2.0, 8, 60s});
        const auto first = delays(backoff, seed, 64);
        QVERIFY(first == delays(backoff, seed, 64));
        QVERIFY(first != delays(backoff, seed + 1, 64));
    }

    void delaysWithinJitterCeiling_data()
    {
        QTest::addColumn<Nanoseconds>("base");
        QTest::addColumn<Nanoseconds>("cap");
        QTest::addColumn<double>("multiplier");
        QTest::addColumn<QList<qint64>>("ceilingsMs"); // attempts 0, 1, 2, ...
        QTest::newRow("doubling to a cap") << Nanoseconds(100ms) << Nanoseconds(1s) << 2.0
                                           << QList<qint64>{100, 200, 400, 800, 1000, 1000, 1000};
        QTest::newRow("tripling") << Nanoseconds(10ms) << Nanoseconds(1min) << 3.0
                                  << QList<qint64>{10, 30, 90, 270, 810, 2430};
        QTest::newRow("constant") << Nanoseconds(250ms) << Nanoseconds(1s) << 1.0
                                  << QList<qint64>{250, 250, 250};
        QTest::newRow("base above cap") << Nanoseconds(5s) << Nanoseconds(2s) << 2.0
                                        << QList<qint64>{2000, 2000};
        QTest::newRow("fractional growth") << Nanoseconds(1s) << Nanoseconds(10s) << 1.5
                                           << QList<qint64>{1000, 1500, 2250, 3375, 5062, 7593, 10000};
    }

    void delaysWithinJitterCeiling()
    {
        QFETCH(Nanoseconds, base);
        QFETCH(Nanoseconds, cap);
        QFETCH(double, multiplier);
        QFETCH(QList<qint64>, ceilingsMs);
        const Backoff backoff({base, cap, multiplier, 100, 1min});
        std::mt19937_64 rng(7);
        for (int attempt = 0; attempt < ceilingsMs.size(); ++attempt) {
            const Nanoseconds ceiling = backoff.ceiling(attempt);
            QCOMPARE(std::chrono::duration_cast<Milliseconds>(ceiling).count(), ceilingsMs[attempt]);
            Nanoseconds lowest = Nanoseconds::max();
            Nanoseconds highest{0};
            for (int sample = 0; sample < 2000; ++sample) {
                const RetryDelay delay = backoff.nextDelay(attempt, std::nullopt, rng);
                QVERIFY(delay.shouldRetry());
                QVERIFY(delay.delay >= 0ns);
                QVERIFY(delay.delay <= ceiling);
                lowest = std::min(lowest, delay.delay);
                highest = std::max(highest, delay.delay);
            }
            // Full jitter spreads over the whole range, not just near the ceiling.
            QVERIFY(lowest < ceiling / 20);
            QVERIFY(highest > ceiling - ceiling / 20);
        }
    }

    void hugeAttemptSaturatesAtCap_data()
    {
        QTest::addColumn<int>("attempt");
        QTest::newRow("64") << 64;
        QTest::newRow("1000") << 1000;
        QTest::newRow("last retry before INT_MAX") << INT_MAX - 2;
    }

    void hugeAttemptSaturatesAtCap()
    {
        QFETCH(int, attempt);
        const Backoff backoff({1s, 30s, 10.0, INT_MAX, 1min});
        QCOMPARE(backoff.ceiling(attempt), Nanoseconds(30s));
        std::mt19937_64 rng(1);
        const RetryDelay delay = backoff.nextDelay(attempt, std::nullopt, rng);
        QVERIFY(delay.shouldRetry());
        QVERIFY(delay.delay <= 30s);
    }

    void retryAfterHonouredAndCapped_data()
    {
        QTest::addColumn<std::optional<Nanoseconds>>("retryAfter");
        QTest::addColumn<RetryDelay::Kind>("kind");
        QTest::addColumn<Nanoseconds>("atLeast");
        QTest::addColumn<Nanoseconds>("atMost");
        // Policy: base 1 s, cap 8 s, maxRetryAfter 60 s; attempt 0, so jitter is in [0, 1 s].
        QTest::newRow("none") << std::optional<Nanoseconds>() << RetryDelay::Kind::Retry
                              << Nanoseconds(0) << Nanoseconds(1s);
        QTest::newRow("zero") << std::optional<Nanoseconds>(0ns) << RetryDelay::Kind::Retry
                              << Nanoseconds(0) << Nanoseconds(1s);
        QTest::newRow("negative counts as 0") << std::optional<Nanoseconds>(-5s) << RetryDelay::Kind::Retry
                                              << Nanoseconds(0) << Nanoseconds(1s);
        QTest::newRow("inside the jitter") << std::optional<Nanoseconds>(500ms) << RetryDelay::Kind::Retry
                                           << Nanoseconds(500ms) << Nanoseconds(1s);
        QTest::newRow("above the cap") << std::optional<Nanoseconds>(30s) << RetryDelay::Kind::Retry
                                       << Nanoseconds(30s) << Nanoseconds(30s);
        QTest::newRow("exactly maxRetryAfter") << std::optional<Nanoseconds>(60s) << RetryDelay::Kind::Retry
                                               << Nanoseconds(60s) << Nanoseconds(60s);
        QTest::newRow("1 ns too long") << std::optional<Nanoseconds>(60s + 1ns)
                                       << RetryDelay::Kind::RetryAfterTooLong << Nanoseconds(0) << Nanoseconds(0);
        QTest::newRow("an hour") << std::optional<Nanoseconds>(1h) << RetryDelay::Kind::RetryAfterTooLong
                                 << Nanoseconds(0) << Nanoseconds(0);
    }

    void retryAfterHonouredAndCapped()
    {
        QFETCH(std::optional<Nanoseconds>, retryAfter);
        QFETCH(RetryDelay::Kind, kind);
        QFETCH(Nanoseconds, atLeast);
        QFETCH(Nanoseconds, atMost);
        const Backoff backoff({1s, 8s, 2.0, 5, 60s});
        std::mt19937_64 rng(3);
        for (int sample = 0; sample < 200; ++sample) {
            const RetryDelay delay = backoff.nextDelay(0, retryAfter, rng);
            QCOMPARE(delay.kind, kind);
            QVERIFY(delay.delay >= atLeast);
            QVERIFY(delay.delay <= atMost);
        }
    }

    void giveUpRules_data()
    {
        QTest::addColumn<int>("maxAttempts");
        QTest::addColumn<int>("attempt");
        QTest::addColumn<std::optional<Nanoseconds>>("retryAfter");
        QTest::addColumn<RetryDelay::Kind>("kind");
        QTest::newRow("one try, no retry") << 1 << 0 << std::optional<Nanoseconds>() << RetryDelay::Kind::AttemptsExhausted;
        QTest::newRow("3 tries: first failed") << 3 << 0 << std::optional<Nanoseconds>() << RetryDelay::Kind::Retry;
        QTest::newRow("3 tries: second failed") << 3 << 1 << std::optional<Nanoseconds>() << RetryDelay::Kind::Retry;
        QTest::newRow("3 tries: third failed") << 3 << 2 << std::optional<Nanoseconds>() << RetryDelay::Kind::AttemptsExhausted;
        QTest::newRow("beyond the last") << 3 << 7 << std::optional<Nanoseconds>() << RetryDelay::Kind::AttemptsExhausted;
        QTest::newRow("negative attempt counts as 0") << 2 << -3 << std::optional<Nanoseconds>() << RetryDelay::Kind::Retry;
        QTest::newRow("maxAttempts 0 counts as 1") << 0 << 0 << std::optional<Nanoseconds>() << RetryDelay::Kind::AttemptsExhausted;
        QTest::newRow("attempts checked first") << 2 << 1 << std::optional<Nanoseconds>(1h) << RetryDelay::Kind::AttemptsExhausted;
        QTest::newRow("retry-after too long") << 2 << 0 << std::optional<Nanoseconds>(1h) << RetryDelay::Kind::RetryAfterTooLong;
    }

    void giveUpRules()
    {
        QFETCH(int, maxAttempts);
        QFETCH(int, attempt);
        QFETCH(std::optional<Nanoseconds>, retryAfter);
        QFETCH(RetryDelay::Kind, kind);
        const Backoff backoff({100ms, 1s, 2.0, maxAttempts, 30s});
        std::mt19937_64 rng(11);
        const RetryDelay delay = backoff.nextDelay(attempt, retryAfter, rng);
        QCOMPARE(delay.kind, kind);
        QCOMPARE(delay.shouldRetry(), kind == RetryDelay::Kind::Retry);
        if (!delay.shouldRetry())
            QCOMPARE(delay.delay, Nanoseconds(0));
    }

    void invalidPolicyIsNormalised_data()
    {
        QTest::addColumn<double>("multiplier");
        QTest::addColumn<double>("expected");
        QTest::newRow("below 1") << 0.5 << 1.0;
        QTest::newRow("negative") << -2.0 << 1.0;
        QTest::newRow("NaN") << std::nan("") << 1.0;
        QTest::newRow("valid") << 1.25 << 1.25;
    }

    void invalidPolicyIsNormalised()
    {
        QFETCH(double, multiplier);
        QFETCH(double, expected);
        const Backoff backoff({-1s, -1s, multiplier, -1, -1s});
        QCOMPARE(backoff.policy().multiplier, expected);
        QCOMPARE(backoff.policy().base, Nanoseconds(0));
        QCOMPARE(backoff.policy().cap, Nanoseconds(0));
        QCOMPARE(backoff.policy().maxRetryAfter, Nanoseconds(0));
        QCOMPARE(backoff.policy().maxAttempts, 1);
    }
};

QTEST_APPLESS_MAIN(TestBackoff)
#include "tst_backoff.moc"
