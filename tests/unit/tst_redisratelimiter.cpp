#include <QObject>
#include <QRandomGenerator>
#include <QTest>

#include <optional>
#include <vector>

#include "policy/gcralimiter.h"
#include "redisfixture.h"
#include "store/rediskey.h"
#include "store/redisratelimiter.h"
#include "store/redisratelimitscripts.h"
#include "store/redisscript.h"
#include "store/redissession.h"

using namespace std::chrono_literals;
using sluice::Result;
using sluice::policy::GcraLimiter;
using sluice::policy::kRetryNever;
using sluice::policy::MonoTime;
using sluice::policy::Nanoseconds;
using sluice::policy::RateLimitDecision;
using sluice::policy::RateRule;
using sluice::store::RedisRateLimiter;
using sluice::store::RedisReply;
using sluice::store::RedisScript;
using sluice::store::RedisSession;
using sluice::store::RedisSessionOptions;
using sluice::store::StoreError;
using sluice::store::StoreErrorKind;
using sluice::test::RedisFixture;

using DecisionResult = Result<RateLimitDecision, StoreError>;
using ReplyResult = Result<RedisReply, StoreError>;

Q_DECLARE_METATYPE(sluice::store::RedisReply)

namespace {

constexpr int kWaitMs = 10'000;

RedisSessionOptions optionsFor(const RedisFixture &redis)
{
    RedisSessionOptions options;
    options.host = redis.host();
    options.port = redis.port();
    options.connectTimeout = 5s;
    options.commandTimeout = 5s;
    options.reconnectMin = 50ms;
    options.reconnectMax = 400ms;
    return options;
}

RateRule rule(qint64 limit, Nanoseconds period, qint64 burst = 0)
{
    RateRule result;
    result.limit = limit;
    result.period = period;
    result.burst = burst;
    return result;
}

// A fresh bucket id per call, so reruns and rows never share state.
QByteArray uniqueId(const char *name)
{
    return QByteArray(name) + ':' + QByteArray::number(QRandomGenerator::global()->generate64(), 16);
}

std::optional<DecisionResult> decide(RedisRateLimiter &limiter, const QByteArray &id, const RateRule &rateRule,
                                     qint64 cost)
{
    std::optional<DecisionResult> outcome;
    limiter.decide(id, rateRule, cost, nullptr, [&](DecisionResult result) { outcome = std::move(result); });
    if (!QTest::qWaitFor([&] { return outcome.has_value(); }, kWaitMs))
        return std::nullopt;
    return outcome;
}

ReplyResult run(RedisSession &session, QList<QByteArray> args)
{
    std::optional<ReplyResult> outcome;
    session.command(std::move(args), nullptr, [&](ReplyResult result) { outcome = std::move(result); });
    if (!QTest::qWaitFor([&] { return outcome.has_value(); }, kWaitMs))
        return sluice::unexpected(StoreError{StoreErrorKind::Cancelled, QStringLiteral("test: no callback")});
    return *outcome;
}

QString describe(const DecisionResult &result)
{
    if (!result)
        return QStringLiteral("error %1: %2").arg(sluice::store::storeErrorKindName(result.error().kind),
                                                 result.error().message);
    return QStringLiteral("allowed=%1 remaining=%2 reset=%3ms retry=%4ms neverFits=%5")
        .arg(result->allowed)
        .arg(result->remaining)
        .arg(std::chrono::duration_cast<std::chrono::milliseconds>(result->resetAfter).count())
        .arg(result->neverFits ? -1 : std::chrono::duration_cast<std::chrono::milliseconds>(result->retryAfter).count())
        .arg(result->neverFits);
}

} // namespace

class TestRedisRateLimiter : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        if (!m_redis.available())
            QSKIP(qPrintable(m_redis.unavailableReason()));
        QVERIFY2(m_redis.start(), qPrintable(m_redis.errorString()));
        m_session = std::make_unique<RedisSession>(optionsFor(m_redis));
        m_session->open();
        QTRY_VERIFY_WITH_TIMEOUT(m_session->isReady(), kWaitMs);
    }

    void cleanupTestCase() { m_session.reset(); }

    void keysFollowTheScheme()
    {
        QCOMPARE(sluice::store::redisKey("prod", "ratelimit", "client:rpm"), QByteArray("sluice:prod:ratelimit:client:rpm"));
        RedisRateLimiter limiter(*m_session, "test");
        QCOMPARE(limiter.keyFor("k1"), QByteArray("sluice:test:ratelimit:k1"));
        RedisRateLimiter byDefault(*m_session);
        QCOMPARE(byDefault.keyFor("k1"), QByteArray("sluice:default:ratelimit:k1"));
    }

    void malformedAnswersAreProtocolErrors_data()
    {
        QTest::addColumn<RedisReply>("reply");
        QTest::newRow("integer") << RedisReply::integer(1);
        QTest::newRow("three elements") << RedisReply::array({RedisReply::integer(1), RedisReply::integer(0),
                                                              RedisReply::integer(0)});
        QTest::newRow("a string inside") << RedisReply::array({RedisReply::integer(1), RedisReply::string("0"),
                                                               RedisReply::integer(0), RedisReply::integer(0)});
    }
    void malformedAnswersAreProtocolErrors()
    {
        QFETCH(RedisReply, reply);
        const DecisionResult result = RedisRateLimiter::decisionFromReply(reply, 10);
        QVERIFY(!result);
        QCOMPARE(result.error().kind, StoreErrorKind::Protocol);

        const DecisionResult fine = RedisRateLimiter::decisionFromReply(
            RedisReply::array({RedisReply::integer(0), RedisReply::integer(2), RedisReply::integer(1500),
                               RedisReply::integer(-1)}),
            10);
        QVERIFY(fine);
        QVERIFY(!fine->allowed);
        QVERIFY(fine->neverFits);
        QCOMPARE(fine->retryAfter, kRetryNever);
        QCOMPARE(fine->remaining, 2);
        QCOMPARE(fine->resetAfter, Nanoseconds(1500ms));
        QCOMPARE(fine->limit, 10);
    }

    void tenPerMinuteAdmitsTenThenRefuses()
    {
        RedisRateLimiter limiter(*m_session, "test");
        const QByteArray id = uniqueId("tenPerMinute");
        const RateRule tenPerMinute = rule(10, 1min);

        // All eleven pipelined on one connection: decided in order.
        std::vector<DecisionResult> results;
        for (int index = 0; index < 11; ++index)
            limiter.decide(id, tenPerMinute, 1, this, [&](DecisionResult result) { results.push_back(std::move(result)); });
        QTRY_COMPARE_WITH_TIMEOUT(int(results.size()), 11, kWaitMs);
        for (int index = 0; index < 10; ++index) {
            const DecisionResult &result = results[size_t(index)];
            QVERIFY2(result && result->allowed, qPrintable(describe(result)));
            QCOMPARE(result->remaining, 9 - index);
            QCOMPARE(result->limit, 10);
            QCOMPARE(result->retryAfter, 0ns);
        }
        const DecisionResult &refused = results[10];
        QVERIFY2(refused && !refused->allowed && !refused->neverFits, qPrintable(describe(refused)));
        QCOMPARE(refused->remaining, 0);
        // One unit every 6 s: the next one is due 6 s after the first, minus the time the
        // eleven took.
        QVERIFY2(refused->retryAfter > 5s && refused->retryAfter <= 6s, qPrintable(describe(refused)));
        QVERIFY2(refused->resetAfter > 59s && refused->resetAfter <= 60s, qPrintable(describe(refused)));

        // The key holds the TAT in microseconds and expires when the bucket is full again.
        const ReplyResult ttl = run(*m_session, {"PTTL", limiter.keyFor(id)});
        QVERIFY(ttl && ttl->isInteger());
        QVERIFY2(ttl->toInteger() > 59'000 && ttl->toInteger() <= 60'000, qPrintable(QString::number(ttl->toInteger())));
        const ReplyResult tat = run(*m_session, {"GET", limiter.keyFor(id)});
        const ReplyResult time = run(*m_session, {"TIME"});
        QVERIFY(tat && tat->isString() && time && time->isArray());
        bool numeric = false;
        const qint64 tatMicroseconds = tat->bytes().toLongLong(&numeric);
        QVERIFY2(numeric, tat->bytes().constData());
        const qint64 nowMicroseconds = time->elements().at(0).bytes().toLongLong() * 1'000'000
            + time->elements().at(1).bytes().toLongLong();
        QVERIFY(tatMicroseconds - nowMicroseconds > 59'000'000 && tatMicroseconds - nowMicroseconds <= 60'000'000);
    }

    void decidesAsGcraLimiter_data()
    {
        QTest::addColumn<qint64>("limit");
        QTest::addColumn<qint64>("periodSeconds");
        QTest::addColumn<qint64>("burst");
        QTest::addColumn<QList<qint64>>("costs");
        // Periods of an hour or more: the few milliseconds the calls take never change a
        // whole unit, so the local limiter can decide at one instant.
        QTest::newRow("5/h burst 8") << 5LL << 3600LL << 8LL << QList<qint64>{1, 3, 0, 4, 1, 9, 0, 2};
        QTest::newRow("60/h") << 60LL << 3600LL << 0LL << QList<qint64>{10, 20, 30, 1, 0, 61, 60, 0};
        QTest::newRow("1/day") << 1LL << 86400LL << 0LL << QList<qint64>{1, 1, 0, 2, 1};
        QTest::newRow("7/h burst 3 (T not whole)") << 7LL << 3600LL << 3LL << QList<qint64>{1, 1, 1, 1, 0, 3, 4};
        QTest::newRow("negative cost") << 2LL << 3600LL << 0LL << QList<qint64>{-5, 2, -1, 1};
        QTest::newRow("invalid rule sanitised") << 0LL << 3600LL << -3LL << QList<qint64>{1, 1, 0};
    }
    void decidesAsGcraLimiter()
    {
        QFETCH(qint64, limit);
        QFETCH(qint64, periodSeconds);
        QFETCH(qint64, burst);
        QFETCH(QList<qint64>, costs);
        const RateRule rateRule = rule(limit, std::chrono::seconds(periodSeconds), burst);
        const GcraLimiter local(rateRule);
        std::int64_t tat = GcraLimiter::kFreshState;
        const MonoTime now{std::chrono::hours(1000)};

        RedisRateLimiter limiter(*m_session, "test");
        const QByteArray id = uniqueId("gcra");
        for (qsizetype step = 0; step < costs.size(); ++step) {
            const qint64 cost = costs[step];
            const RateLimitDecision expected = local.decide(tat, now, cost);
            const std::optional<DecisionResult> shared = decide(limiter, id, rateRule, cost);
            QVERIFY2(shared.has_value(), "no decision");
            const DecisionResult &actual = *shared;
            const QString where = QStringLiteral("step %1 (cost %2): %3").arg(step).arg(cost).arg(describe(actual));
            QVERIFY2(actual, qPrintable(where));
            QVERIFY2(actual->allowed == expected.allowed, qPrintable(where));
            QVERIFY2(actual->neverFits == expected.neverFits, qPrintable(where));
            QVERIFY2(actual->remaining == expected.remaining, qPrintable(where));
            QCOMPARE(actual->limit, expected.limit);
            // Durations: rounded up to the millisecond there, minus the time gone by since
            // the first call (well under a second).
            QVERIFY2(actual->resetAfter <= expected.resetAfter + 1ms && actual->resetAfter > expected.resetAfter - 1s,
                     qPrintable(where));
            if (expected.neverFits)
                QCOMPARE(actual->retryAfter, kRetryNever);
            else
                QVERIFY2(actual->retryAfter <= expected.retryAfter + 1ms
                             && actual->retryAfter >= std::max(expected.retryAfter - 1s, Nanoseconds(0)),
                         qPrintable(where));
        }
    }

    void reloadsTheScriptAfterNoscript()
    {
        RedisRateLimiter limiter(*m_session, "test");
        const QByteArray id = uniqueId("noscript");
        const RateRule rateRule = rule(10, 1min);
        std::optional<DecisionResult> first = decide(limiter, id, rateRule, 1);
        QVERIFY2(first && *first && (*first)->allowed, first ? qPrintable(describe(*first)) : "none");
        const quint64 reloadsBefore = limiter.script().reloads();

        QVERIFY(run(*m_session, {"SCRIPT", "FLUSH"}));
        std::optional<DecisionResult> second = decide(limiter, id, rateRule, 1);
        QVERIFY2(second && *second && (*second)->allowed, second ? qPrintable(describe(*second)) : "none");
        QCOMPARE((*second)->remaining, 8); // the bucket survived the flush; only the script went
        QCOMPARE(limiter.script().reloads(), reloadsBefore + 1);

        std::optional<DecisionResult> third = decide(limiter, id, rateRule, 1);
        QVERIFY(third && *third && (*third)->allowed);
        QCOMPARE(limiter.script().reloads(), reloadsBefore + 1);

        // Preloading: no NOSCRIPT at all.
        QVERIFY(run(*m_session, {"SCRIPT", "FLUSH"}));
        std::optional<ReplyResult> loaded;
        limiter.script().load(*m_session, this, [&](ReplyResult result) { loaded = std::move(result); });
        QTRY_VERIFY_WITH_TIMEOUT(loaded.has_value(), kWaitMs);
        QVERIFY(*loaded);
        QCOMPARE(loaded->value().bytes(), limiter.script().sha1());
        std::optional<DecisionResult> fourth = decide(limiter, id, rateRule, 1);
        QVERIFY(fourth && *fourth && (*fourth)->allowed);
        QCOMPARE(limiter.script().reloads(), reloadsBefore + 1);
    }

    void reloadsTheScriptAfterARestart()
    {
        RedisFixture redis;
        QVERIFY2(redis.start(), qPrintable(redis.errorString()));
        RedisSession session(optionsFor(redis));
        session.open();
        QTRY_VERIFY_WITH_TIMEOUT(session.isReady(), kWaitMs);
        RedisRateLimiter limiter(session, "test");
        const RateRule rateRule = rule(10, 1min);
        QVERIFY(decide(limiter, "restart", rateRule, 4).value());
        const quint64 reloadsBefore = limiter.script().reloads();

        QVERIFY2(redis.restart(), qPrintable(redis.errorString()));
        // restart() blocked the event loop: the session learns of the outage only now.
        QTRY_COMPARE_WITH_TIMEOUT(session.stats().reconnects, 1u, kWaitMs);
        QVERIFY(session.isReady());
        std::optional<DecisionResult> after = decide(limiter, "restart", rateRule, 1);
        QVERIFY2(after && *after && (*after)->allowed, after ? qPrintable(describe(*after)) : "none");
        QCOMPARE((*after)->remaining, 9); // nothing is saved: a fresh bucket
        QCOMPARE(limiter.script().reloads(), reloadsBefore + 1);
    }

    void aBrokenScriptReportsTheLoadError()
    {
        const RedisScript broken(QByteArrayLiteral("this is not lua"));
        std::optional<ReplyResult> outcome;
        broken.run(*m_session, {"k"}, {}, this, [&](ReplyResult result) { outcome = std::move(result); });
        QTRY_VERIFY_WITH_TIMEOUT(outcome.has_value(), kWaitMs);
        QVERIFY(!*outcome);
        QCOMPARE(outcome->error().kind, StoreErrorKind::Server);
        QVERIFY2(outcome->error().message.contains(QLatin1String("compiling")), qPrintable(outcome->error().message));
        QCOMPARE(broken.reloads(), 1u);
    }

    void twoInstancesShareOneLimit()
    {
        RedisSession other(optionsFor(m_redis));
        other.open();
        QTRY_VERIFY_WITH_TIMEOUT(other.isReady(), kWaitMs);
        RedisRateLimiter first(*m_session, "test");
        RedisRateLimiter second(other, "test");
        const QByteArray id = uniqueId("shared");
        const RateRule tenPerMinute = rule(10, 1min);

        // Taking turns: the two instances draw from one bucket.
        int allowedFirst = 0;
        int allowedSecond = 0;
        for (int index = 0; index < 14; ++index) {
            const bool useFirst = index % 2 == 0;
            std::optional<DecisionResult> result = decide(useFirst ? first : second, id, tenPerMinute, 1);
            QVERIFY2(result && *result, result ? qPrintable(describe(*result)) : "none");
            QCOMPARE((*result)->allowed, index < 10);
            if ((*result)->allowed)
                ++(useFirst ? allowedFirst : allowedSecond);
        }
        QCOMPARE(allowedFirst, 5);
        QCOMPARE(allowedSecond, 5);

        // All at once over both connections: still ten in total, not ten each.
        const QByteArray burstId = uniqueId("sharedBurst");
        int answered = 0;
        int allowed = 0;
        int errors = 0;
        for (int index = 0; index < 40; ++index) {
            (index % 2 == 0 ? first : second).decide(burstId, tenPerMinute, 1, this, [&](DecisionResult result) {
                ++answered;
                if (!result)
                    ++errors;
                else if (result->allowed)
                    ++allowed;
            });
        }
        QTRY_COMPARE_WITH_TIMEOUT(answered, 40, kWaitMs);
        QCOMPARE(errors, 0);
        QCOMPARE(allowed, 10);
    }

    void notConnectedIsReported()
    {
        RedisSession closed(optionsFor(m_redis));
        RedisRateLimiter limiter(closed, "test");
        std::optional<DecisionResult> result = decide(limiter, "x", rule(1, 1s), 1);
        QVERIFY(result.has_value());
        QVERIFY(!*result);
        QCOMPARE(result->error().kind, StoreErrorKind::NotConnected);
    }

private:
    RedisFixture m_redis;
    std::unique_ptr<RedisSession> m_session;
};

QTEST_GUILESS_MAIN(TestRedisRateLimiter)
#include "tst_redisratelimiter.moc"
