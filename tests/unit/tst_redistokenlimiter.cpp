#include <QObject>
#include <QRandomGenerator>
#include <QStringList>
#include <QTest>

#include <optional>
#include <vector>

#include "policy/clock.h"
#include "policy/tokenlimiter.h"
#include "redisfixture.h"
#include "store/redistokenlimiter.h"
#include "store/redissession.h"

using namespace std::chrono_literals;
using sluice::Result;
using sluice::policy::KeyedLimits;
using sluice::policy::kRetryNever;
using sluice::policy::ManualClock;
using sluice::policy::MonoTime;
using sluice::policy::Nanoseconds;
using sluice::policy::RateLimitDecision;
using sluice::policy::RateRule;
using sluice::policy::TokenAdmission;
using sluice::policy::TokenLimiter;
using sluice::store::RedisReply;
using sluice::store::RedisSession;
using sluice::store::RedisSessionOptions;
using sluice::store::RedisTokenAdmission;
using sluice::store::RedisTokenLimiter;
using sluice::store::StoreError;
using sluice::store::StoreErrorKind;
using sluice::test::RedisFixture;

using AdmissionResult = Result<RedisTokenAdmission, StoreError>;
using DecisionResult = Result<RateLimitDecision, StoreError>;
using ReplyResult = Result<RedisReply, StoreError>;

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

QByteArray uniqueId(const char *name)
{
    return QByteArray(name) + ':' + QByteArray::number(QRandomGenerator::global()->generate64(), 16);
}

std::optional<AdmissionResult> reserve(RedisTokenLimiter &limiter, const QByteArray &id, const RateRule &rateRule,
                                       qint64 tokens)
{
    std::optional<AdmissionResult> outcome;
    limiter.reserve(id, rateRule, tokens, nullptr, [&](AdmissionResult result) { outcome = std::move(result); });
    if (!QTest::qWaitFor([&] { return outcome.has_value(); }, kWaitMs))
        return std::nullopt;
    return outcome;
}

std::optional<DecisionResult> reconcile(RedisTokenLimiter &limiter, const QByteArray &id, const RateRule &rateRule,
                                        qint64 reserved, qint64 actual)
{
    std::optional<DecisionResult> outcome;
    limiter.reconcile(id, rateRule, reserved, actual, nullptr, [&](DecisionResult result) { outcome = std::move(result); });
    if (!QTest::qWaitFor([&] { return outcome.has_value(); }, kWaitMs))
        return std::nullopt;
    return outcome;
}

std::optional<DecisionResult> cancel(RedisTokenLimiter &limiter, const QByteArray &id, const RateRule &rateRule,
                                     qint64 reserved)
{
    std::optional<DecisionResult> outcome;
    limiter.cancel(id, rateRule, reserved, nullptr, [&](DecisionResult result) { outcome = std::move(result); });
    if (!QTest::qWaitFor([&] { return outcome.has_value(); }, kWaitMs))
        return std::nullopt;
    return outcome;
}

std::optional<DecisionResult> peek(RedisTokenLimiter &limiter, const QByteArray &id, const RateRule &rateRule)
{
    std::optional<DecisionResult> outcome;
    limiter.peek(id, rateRule, nullptr, [&](DecisionResult result) { outcome = std::move(result); });
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

qint64 ms(Nanoseconds duration)
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(duration).count();
}

QString describe(const RateLimitDecision &decision)
{
    return QStringLiteral("allowed=%1 remaining=%2 reset=%3ms retry=%4ms neverFits=%5")
        .arg(decision.allowed)
        .arg(decision.remaining)
        .arg(ms(decision.resetAfter))
        .arg(decision.neverFits ? -1 : ms(decision.retryAfter))
        .arg(decision.neverFits);
}

QString describe(const DecisionResult &result)
{
    if (!result)
        return QStringLiteral("error %1: %2").arg(sluice::store::storeErrorKindName(result.error().kind),
                                                 result.error().message);
    return describe(*result);
}

// The shared decision matches the local one: whole units exactly; durations rounded up to
// the millisecond there, less the time gone by since the first call (well under a second).
bool sameDecision(const RateLimitDecision &actual, const RateLimitDecision &expected)
{
    if (actual.allowed != expected.allowed || actual.neverFits != expected.neverFits
        || actual.remaining != expected.remaining || actual.limit != expected.limit)
        return false;
    if (actual.resetAfter > expected.resetAfter + 1ms || actual.resetAfter <= expected.resetAfter - 1s)
        return false;
    if (expected.neverFits)
        return actual.retryAfter == kRetryNever;
    return actual.retryAfter <= expected.retryAfter + 1ms
        && actual.retryAfter >= std::max(expected.retryAfter - 1s, Nanoseconds(0));
}

} // namespace

class TestRedisTokenLimiter : public QObject {
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
        RedisTokenLimiter limiter(*m_session, "test");
        QCOMPARE(limiter.keyFor("client:tpm"), QByteArray("sluice:test:tokenlimit:client:tpm"));
        RedisTokenLimiter byDefault(*m_session);
        QCOMPARE(byDefault.keyFor("k"), QByteArray("sluice:default:tokenlimit:k"));
    }

    // A program of steps, run on policy::TokenLimiter at one instant and on Redis:
    //   rN     reserve N tokens (the reservation gets the next index, from 0)
    //   sI=N   reconcile reservation I with N true tokens
    //   cI     cancel reservation I
    //   p      peek
    // Settling a reservation that is not open (refused, or settled already) is skipped on
    // both sides, as a caller holding the reservation would. Periods of a day make one
    // token last over 80 s, so the time the calls take never changes a whole token.
    void decidesAsTokenLimiter_data()
    {
        QTest::addColumn<qint64>("limit");
        QTest::addColumn<qint64>("burst");
        QTest::addColumn<QString>("program");
        QTest::newRow("reserve, refund, re-reserve") << 1000LL << 0LL << "r300 r500 r300 s0=100 r300 s1=900 r1 c3 r1 p";
        QTest::newRow("overcharge goes into debt") << 1000LL << 0LL << "r100 s0=1500 p r1 r0 p";
        QTest::newRow("refunds capped at burst") << 1000LL << 0LL << "r400 r400 c0 c1 c1 p r1000 r1 c2 p";
        QTest::newRow("never fits") << 1000LL << 0LL << "r1001 s0=5 p r1000 r1 p";
        QTest::newRow("burst above limit") << 100LL << 250LL << "r200 r60 r50 s0=10 r60 s2=400 p r1";
        QTest::newRow("burst below limit") << 1000LL << 10LL << "r11 r10 r1 s1=3 r8 p";
        QTest::newRow("interval not whole") << 7LL << 3LL << "r1 r2 s1=1 r1 r3 s0=5 p c2 p";
        QTest::newRow("negative amounts") << 1000LL << 0LL << "r-5 s0=10 r-1 s1=-3 p";
        QTest::newRow("debt then refund of another") << 1000LL << 0LL << "r600 r300 s0=2000 p c1 p r1";
    }
    void decidesAsTokenLimiter()
    {
        QFETCH(qint64, limit);
        QFETCH(qint64, burst);
        QFETCH(QString, program);
        const RateRule rateRule = rule(limit, 24h, burst);
        ManualClock clock(MonoTime(std::chrono::hours(1000)));
        TokenLimiter local(rateRule, KeyedLimits{}, clock);
        const std::string key = "k";

        RedisTokenLimiter limiter(*m_session, "test");
        const QByteArray id = uniqueId("tokens");
        std::vector<TokenAdmission> reservations;
        std::vector<qint64> reserved;

        const QStringList steps = program.split(QLatin1Char(' '), Qt::SkipEmptyParts);
        for (const QString &step : steps) {
            const QChar op = step.at(0);
            RateLimitDecision expected;
            std::optional<DecisionResult> actual;
            if (op == QLatin1Char('r')) {
                const qint64 tokens = step.mid(1).toLongLong();
                reservations.push_back(local.reserve(key, tokens));
                expected = reservations.back().decision;
                const std::optional<AdmissionResult> admission = reserve(limiter, id, rateRule, tokens);
                QVERIFY2(admission.has_value(), "no answer");
                QVERIFY2(*admission, qPrintable(step + QLatin1String(": ")
                                                 + (*admission ? QString() : admission->error().message)));
                const TokenAdmission &localAdmission = reservations.back();
                QCOMPARE((*admission)->reservedTokens,
                         localAdmission.reservation.open ? localAdmission.reservation.amountTokens : 0);
                reserved.push_back((*admission)->reservedTokens);
                actual = DecisionResult((*admission)->decision);
            } else if (op == QLatin1Char('s') || op == QLatin1Char('c')) {
                const QStringList parts = step.mid(1).split(QLatin1Char('='));
                const size_t index = size_t(parts.at(0).toInt());
                QVERIFY2(index < reservations.size(), qPrintable(step));
                if (!reservations[index].reservation.open)
                    continue;
                if (op == QLatin1Char('s')) {
                    const qint64 actualTokens = parts.at(1).toLongLong();
                    local.reconcile(reservations[index].reservation, actualTokens);
                    actual = reconcile(limiter, id, rateRule, reserved[index], actualTokens);
                } else {
                    local.cancel(reservations[index].reservation);
                    actual = cancel(limiter, id, rateRule, reserved[index]);
                }
                expected = local.peek(key);
            } else {
                QCOMPARE(op, QLatin1Char('p'));
                expected = local.peek(key);
                actual = peek(limiter, id, rateRule);
            }
            QVERIFY2(actual.has_value(), qPrintable(step + QLatin1String(": no answer")));
            const QString where = QStringLiteral("%1: redis %2, local %3").arg(step, describe(*actual), describe(expected));
            QVERIFY2(*actual, qPrintable(where));
            QVERIFY2(sameDecision(**actual, expected), qPrintable(where));
        }
    }

    void overchargePutsTheKeyInDebt()
    {
        RedisTokenLimiter limiter(*m_session, "test");
        const QByteArray id = uniqueId("debt");
        const RateRule thousandPerHour = rule(1000, 1h); // 3.6 s a token

        const std::optional<AdmissionResult> admission = reserve(limiter, id, thousandPerHour, 100);
        QVERIFY(admission && *admission && (*admission)->decision.allowed);
        QCOMPARE((*admission)->reservedTokens, 100);
        QCOMPARE((*admission)->decision.remaining, 900);

        const std::optional<DecisionResult> settled = reconcile(limiter, id, thousandPerHour, 100, 1500);
        QVERIFY2(settled && *settled, settled ? qPrintable(describe(*settled)) : "none");
        QVERIFY(!(*settled)->allowed); // 500 tokens past the burst
        QVERIFY(!(*settled)->neverFits);
        QCOMPARE((*settled)->remaining, 0);
        QVERIFY2((*settled)->resetAfter > 5399s && (*settled)->resetAfter <= 5400s, qPrintable(describe(*settled)));
        QVERIFY2((*settled)->retryAfter > 1799s && (*settled)->retryAfter <= 1800s, qPrintable(describe(*settled)));

        // Refused until the debt is paid off plus the token asked for.
        const std::optional<AdmissionResult> refused = reserve(limiter, id, thousandPerHour, 1);
        QVERIFY(refused && *refused);
        QVERIFY(!(*refused)->decision.allowed);
        QCOMPARE((*refused)->reservedTokens, 0);
        QVERIFY2((*refused)->decision.retryAfter > 1802s && (*refused)->decision.retryAfter <= 1803600ms,
                 qPrintable(describe((*refused)->decision)));

        // The key lives as long as the debt does.
        const ReplyResult ttl = run(*m_session, {"PTTL", limiter.keyFor(id)});
        QVERIFY(ttl && ttl->isInteger());
        QVERIFY2(ttl->toInteger() > 5'399'000 && ttl->toInteger() <= 5'400'000, qPrintable(QString::number(ttl->toInteger())));
    }

    void refundsNeverExceedTheBurst()
    {
        RedisTokenLimiter limiter(*m_session, "test");
        const QByteArray id = uniqueId("refund");
        const RateRule thousandPerHour = rule(1000, 1h);

        const std::optional<AdmissionResult> first = reserve(limiter, id, thousandPerHour, 500);
        QVERIFY(first && *first && (*first)->decision.allowed);
        const std::optional<DecisionResult> refunded = reconcile(limiter, id, thousandPerHour, 500, 0);
        QVERIFY(refunded && *refunded);
        QVERIFY((*refunded)->allowed);
        QCOMPARE((*refunded)->remaining, 1000);
        QCOMPARE((*refunded)->resetAfter, 0ns);
        // A full bucket needs no key.
        const ReplyResult exists = run(*m_session, {"EXISTS", limiter.keyFor(id)});
        QVERIFY(exists && exists->isInteger());
        QCOMPARE(exists->toInteger(), 0);

        // A refund onto a full bucket is discarded: still 1000, not 1300.
        const std::optional<DecisionResult> extra = cancel(limiter, id, thousandPerHour, 300);
        QVERIFY(extra && *extra);
        QCOMPARE((*extra)->remaining, 1000);
        const std::optional<AdmissionResult> all = reserve(limiter, id, thousandPerHour, 1000);
        QVERIFY(all && *all && (*all)->decision.allowed);
        QCOMPARE((*all)->decision.remaining, 0);
        const std::optional<AdmissionResult> more = reserve(limiter, id, thousandPerHour, 1);
        QVERIFY(more && *more);
        QVERIFY(!(*more)->decision.allowed);
    }

    void anEstimateAboveTheBurstNeverFits()
    {
        RedisTokenLimiter limiter(*m_session, "test");
        const QByteArray id = uniqueId("neverFits");
        const RateRule rateRule = rule(1000, 1min, 400);
        const std::optional<AdmissionResult> admission = reserve(limiter, id, rateRule, 401);
        QVERIFY(admission && *admission);
        QVERIFY(!(*admission)->decision.allowed);
        QVERIFY((*admission)->decision.neverFits);
        QCOMPARE((*admission)->decision.retryAfter, kRetryNever);
        QCOMPARE((*admission)->decision.remaining, 400);
        QCOMPARE((*admission)->decision.limit, 1000);
        QCOMPARE((*admission)->reservedTokens, 0);
        // Nothing was charged.
        const std::optional<DecisionResult> after = peek(limiter, id, rateRule);
        QVERIFY(after && *after);
        QCOMPARE((*after)->remaining, 400);
        const ReplyResult exists = run(*m_session, {"EXISTS", limiter.keyFor(id)});
        QVERIFY(exists && exists->isInteger());
        QCOMPARE(exists->toInteger(), 0);
    }

    void twoSessionsShareOneLimit()
    {
        RedisSession other(optionsFor(m_redis));
        other.open();
        QTRY_VERIFY_WITH_TIMEOUT(other.isReady(), kWaitMs);
        RedisTokenLimiter first(*m_session, "test");
        RedisTokenLimiter second(other, "test");
        const QByteArray id = uniqueId("shared");
        const RateRule rateRule = rule(1000, 24h);

        // All at once over both connections: 1000 tokens in total, not 1000 each.
        int answered = 0;
        int errors = 0;
        std::vector<std::pair<RedisTokenLimiter *, qint64>> held;
        for (int index = 0; index < 40; ++index) {
            RedisTokenLimiter &limiter = index % 2 == 0 ? first : second;
            limiter.reserve(id, rateRule, 100, this, [&, limiter = &limiter](AdmissionResult result) {
                ++answered;
                if (!result)
                    ++errors;
                else if (result->decision.allowed)
                    held.emplace_back(limiter, result->reservedTokens);
            });
        }
        QTRY_COMPARE_WITH_TIMEOUT(answered, 40, kWaitMs);
        QCOMPARE(errors, 0);
        QCOMPARE(int(held.size()), 10);
        qint64 reservedTotal = 0;
        for (const auto &reservation : held)
            reservedTotal += reservation.second;
        QCOMPARE(reservedTotal, 1000);

        // Settled at once from both: half refunded in full, half overcharged by 10 each.
        answered = 0;
        for (size_t index = 0; index < held.size(); ++index) {
            const qint64 actualTokens = index % 2 == 0 ? 0 : held[index].second + 10;
            held[index].first->reconcile(id, rateRule, held[index].second, actualTokens, this,
                                         [&](DecisionResult result) {
                                             ++answered;
                                             if (!result)
                                                 ++errors;
                                         });
        }
        QTRY_COMPARE_WITH_TIMEOUT(answered, int(held.size()), kWaitMs);
        QCOMPARE(errors, 0);
        const std::optional<DecisionResult> after = peek(second, id, rateRule);
        QVERIFY(after && *after);
        QCOMPARE((*after)->remaining, 1000 - 5 * 110);
    }

    void reloadsTheScriptsAfterNoscript()
    {
        RedisTokenLimiter limiter(*m_session, "test");
        const QByteArray id = uniqueId("noscript");
        const RateRule rateRule = rule(1000, 1h);
        const std::optional<AdmissionResult> first = reserve(limiter, id, rateRule, 100);
        QVERIFY(first && *first && (*first)->decision.allowed);
        const quint64 reserveReloads = limiter.reserveScript().reloads();
        const quint64 settleReloads = limiter.settleScript().reloads();

        QVERIFY(run(*m_session, {"SCRIPT", "FLUSH"}));
        const std::optional<DecisionResult> settled = reconcile(limiter, id, rateRule, 100, 300);
        QVERIFY2(settled && *settled, settled ? qPrintable(describe(*settled)) : "none");
        QCOMPARE((*settled)->remaining, 700); // the bucket survived the flush
        QCOMPARE(limiter.settleScript().reloads(), settleReloads + 1);

        const std::optional<AdmissionResult> second = reserve(limiter, id, rateRule, 100);
        QVERIFY(second && *second && (*second)->decision.allowed);
        QCOMPARE((*second)->decision.remaining, 600);
        QCOMPARE(limiter.reserveScript().reloads(), reserveReloads + 1);

        const std::optional<DecisionResult> cancelled = cancel(limiter, id, rateRule, 100);
        QVERIFY(cancelled && *cancelled);
        QCOMPARE((*cancelled)->remaining, 700);
        QCOMPARE(limiter.settleScript().reloads(), settleReloads + 1);
        QCOMPARE(limiter.reserveScript().reloads(), reserveReloads + 1);
    }

    void notConnectedIsReported()
    {
        RedisSession closed(optionsFor(m_redis));
        RedisTokenLimiter limiter(closed, "test");
        const std::optional<AdmissionResult> admission = reserve(limiter, "x", rule(10, 1s), 1);
        QVERIFY(admission.has_value());
        QVERIFY(!*admission);
        QCOMPARE(admission->error().kind, StoreErrorKind::NotConnected);
        const std::optional<DecisionResult> settled = reconcile(limiter, "x", rule(10, 1s), 1, 2);
        QVERIFY(settled.has_value());
        QVERIFY(!*settled);
        QCOMPARE(settled->error().kind, StoreErrorKind::NotConnected);
    }

private:
    RedisFixture m_redis;
    std::unique_ptr<RedisSession> m_session;
};

QTEST_GUILESS_MAIN(TestRedisTokenLimiter)
#include "tst_redistokenlimiter.moc"
