#include <QDeadlineTimer>
#include <QObject>
#include <QRandomGenerator>
#include <QSet>
#include <QTest>

#include <optional>
#include <vector>

#include "policy/clock.h"
#include "policy/parallellimiter.h"
#include "redisfixture.h"
#include "store/redisleaselimiter.h"
#include "store/redissession.h"

using namespace std::chrono_literals;
using sluice::Result;
using sluice::policy::KeyedLimits;
using sluice::policy::kRetryNever;
using sluice::policy::ManualClock;
using sluice::policy::Nanoseconds;
using sluice::policy::ParallelLimiter;
using sluice::policy::RateLimitDecision;
using sluice::store::RedisLease;
using sluice::store::RedisLeaseLimiter;
using sluice::store::RedisReply;
using sluice::store::RedisSession;
using sluice::store::RedisSessionOptions;
using sluice::store::StoreError;
using sluice::store::StoreErrorKind;
using sluice::test::RedisFixture;

using LeaseResult = Result<RedisLease, StoreError>;
using FlagResult = Result<bool, StoreError>;
using CountResult = Result<std::int64_t, StoreError>;
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

QByteArray uniqueId(const char *name)
{
    return QByteArray(name) + ':' + QByteArray::number(QRandomGenerator::global()->generate64(), 16);
}

std::optional<LeaseResult> acquire(RedisLeaseLimiter &limiter, const QByteArray &id, qint64 maxParallel,
                                   std::chrono::milliseconds ttl = 60s)
{
    std::optional<LeaseResult> outcome;
    limiter.acquire(id, maxParallel, ttl, nullptr, [&](LeaseResult result) { outcome = std::move(result); });
    if (!QTest::qWaitFor([&] { return outcome.has_value(); }, kWaitMs))
        return std::nullopt;
    return outcome;
}

std::optional<FlagResult> release(RedisLeaseLimiter &limiter, const QByteArray &id, const QByteArray &leaseId)
{
    std::optional<FlagResult> outcome;
    limiter.release(id, leaseId, nullptr, [&](FlagResult result) { outcome = std::move(result); });
    if (!QTest::qWaitFor([&] { return outcome.has_value(); }, kWaitMs))
        return std::nullopt;
    return outcome;
}

std::optional<FlagResult> renew(RedisLeaseLimiter &limiter, const QByteArray &id, const QByteArray &leaseId,
                                std::chrono::milliseconds ttl)
{
    std::optional<FlagResult> outcome;
    limiter.renew(id, leaseId, ttl, nullptr, [&](FlagResult result) { outcome = std::move(result); });
    if (!QTest::qWaitFor([&] { return outcome.has_value(); }, kWaitMs))
        return std::nullopt;
    return outcome;
}

std::optional<CountResult> active(RedisLeaseLimiter &limiter, const QByteArray &id)
{
    std::optional<CountResult> outcome;
    limiter.active(id, nullptr, [&](CountResult result) { outcome = std::move(result); });
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

QString describe(const LeaseResult &result)
{
    if (!result)
        return QStringLiteral("error %1: %2").arg(sluice::store::storeErrorKindName(result.error().kind),
                                                 result.error().message);
    return QStringLiteral("allowed=%1 remaining=%2 retry=%3ms neverFits=%4 lease=%5")
        .arg(result->decision.allowed)
        .arg(result->decision.remaining)
        .arg(result->decision.neverFits
                 ? -1
                 : std::chrono::duration_cast<std::chrono::milliseconds>(result->decision.retryAfter).count())
        .arg(result->decision.neverFits)
        .arg(QString::fromLatin1(result->leaseId));
}

} // namespace

class TestRedisLeaseLimiter : public QObject {
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
        RedisLeaseLimiter limiter(*m_session, "test");
        QCOMPARE(limiter.keyFor("client"), QByteArray("sluice:test:leases:client"));
        RedisLeaseLimiter byDefault(*m_session);
        QCOMPARE(byDefault.keyFor("k"), QByteArray("sluice:default:leases:k"));
        QCOMPARE(byDefault.retryAfterHint(), 1s);
    }

    void malformedAnswersAreProtocolErrors_data()
    {
        QTest::addColumn<RedisReply>("reply");
        QTest::newRow("integer") << RedisReply::integer(1);
        QTest::newRow("two elements") << RedisReply::array({RedisReply::integer(1), RedisReply::integer(0)});
        QTest::newRow("a string inside") << RedisReply::array({RedisReply::integer(1), RedisReply::string("0"),
                                                               RedisReply::integer(0)});
    }
    void malformedAnswersAreProtocolErrors()
    {
        QFETCH(RedisReply, reply);
        const LeaseResult result = RedisLeaseLimiter::leaseFromReply(reply, 3, 1s, "id");
        QVERIFY(!result);
        QCOMPARE(result.error().kind, StoreErrorKind::Protocol);

        const LeaseResult refused = RedisLeaseLimiter::leaseFromReply(
            RedisReply::array({RedisReply::integer(0), RedisReply::integer(3), RedisReply::integer(250)}), 3, 1s, "id");
        QVERIFY(refused);
        QVERIFY(!refused->decision.allowed);
        QCOMPARE(refused->decision.remaining, 0);
        QCOMPARE(refused->decision.retryAfter, Nanoseconds(250ms)); // the earliest expiry, before the hint
        QVERIFY(refused->leaseId.isEmpty());
        const LeaseResult hinted = RedisLeaseLimiter::leaseFromReply(
            RedisReply::array({RedisReply::integer(0), RedisReply::integer(3), RedisReply::integer(50'000)}), 3, 1s, "id");
        QVERIFY(hinted);
        QCOMPARE(hinted->decision.retryAfter, Nanoseconds(1s));
    }

    // Leases taken and given back in turn decide as policy::ParallelLimiter does.
    //   a  acquire (the lease gets the next index, from 0)
    //   rI release lease I
    //   mN set maxParallel to N
    void decidesAsParallelLimiter_data()
    {
        QTest::addColumn<qint64>("maxParallel");
        QTest::addColumn<QString>("program");
        QTest::newRow("three") << 3LL << "a a a a r1 a a r0 r3 a";
        QTest::newRow("one") << 1LL << "a a r0 a r2 r2 a";
        QTest::newRow("closed") << 0LL << "a a m2 a a a";
        QTest::newRow("lowered") << 4LL << "a a a m1 a r0 a r1 a r2 a";
    }
    void decidesAsParallelLimiter()
    {
        QFETCH(qint64, maxParallel);
        QFETCH(QString, program);
        ManualClock clock;
        ParallelLimiter local(maxParallel, KeyedLimits{}, clock, 1s);
        RedisLeaseLimiter limiter(*m_session, "test", 1s);
        const QByteArray id = uniqueId("parallel");
        std::vector<QByteArray> leases; // empty: refused

        for (const QString &step : program.split(QLatin1Char(' '), Qt::SkipEmptyParts)) {
            const QChar op = step.at(0);
            if (op == QLatin1Char('m')) {
                maxParallel = step.mid(1).toLongLong();
                local.setMaxParallel(maxParallel);
            } else if (op == QLatin1Char('a')) {
                const RateLimitDecision expected = local.acquire("k");
                const std::optional<LeaseResult> actual = acquire(limiter, id, maxParallel);
                QVERIFY2(actual.has_value(), "no answer");
                const QString where = QStringLiteral("%1 #%2: %3").arg(step).arg(leases.size()).arg(describe(*actual));
                QVERIFY2(*actual, qPrintable(where));
                QVERIFY2((*actual)->decision.allowed == expected.allowed, qPrintable(where));
                QVERIFY2((*actual)->decision.neverFits == expected.neverFits, qPrintable(where));
                QVERIFY2((*actual)->decision.remaining == expected.remaining, qPrintable(where));
                QCOMPARE((*actual)->decision.limit, expected.limit);
                QCOMPARE((*actual)->decision.resetAfter, 0ns);
                QCOMPARE((*actual)->leaseId.isEmpty(), !expected.allowed);
                if (expected.neverFits)
                    QCOMPARE((*actual)->decision.retryAfter, kRetryNever);
                else if (!expected.allowed) // the hint, or sooner if a lease expires sooner (60 s here)
                    QVERIFY2((*actual)->decision.retryAfter > 0ns && (*actual)->decision.retryAfter <= 1s, qPrintable(where));
                else
                    QCOMPARE((*actual)->decision.retryAfter, 0ns);
                leases.push_back((*actual)->leaseId);
            } else {
                QCOMPARE(op, QLatin1Char('r'));
                const size_t index = size_t(step.mid(1).toInt());
                QVERIFY2(index < leases.size(), qPrintable(step));
                if (leases[index].isEmpty())
                    continue; // a refused acquire holds nothing to release
                const std::optional<FlagResult> released = release(limiter, id, leases[index]);
                QVERIFY2(released && *released, qPrintable(step));
                QCOMPARE(**released, local.release("k"));
                leases[index].clear();
            }
            const std::optional<CountResult> held = active(limiter, id);
            QVERIFY(held && *held);
            QCOMPARE(**held, local.active("k"));
        }
    }

    void theLimitHoldsUnderConcurrency()
    {
        RedisSession other(optionsFor(m_redis));
        other.open();
        QTRY_VERIFY_WITH_TIMEOUT(other.isReady(), kWaitMs);
        RedisLeaseLimiter first(*m_session, "test");
        RedisLeaseLimiter second(other, "test");
        const QByteArray id = uniqueId("concurrent");

        int answered = 0;
        int errors = 0;
        QSet<QByteArray> leaseIds;
        for (int index = 0; index < 40; ++index) {
            (index % 2 == 0 ? first : second).acquire(id, 5, 60s, this, [&](LeaseResult result) {
                ++answered;
                if (!result)
                    ++errors;
                else if (result->decision.allowed)
                    leaseIds.insert(result->leaseId);
            });
        }
        QTRY_COMPARE_WITH_TIMEOUT(answered, 40, kWaitMs);
        QCOMPARE(errors, 0);
        QCOMPARE(leaseIds.size(), 5); // exactly five, each with its own id

        // Released from the other instance, all at once; then five fit again, and no more.
        answered = 0;
        int released = 0;
        for (const QByteArray &leaseId : std::as_const(leaseIds)) {
            second.release(id, leaseId, this, [&](FlagResult result) {
                ++answered;
                if (result && *result)
                    ++released;
            });
        }
        QTRY_COMPARE_WITH_TIMEOUT(answered, 5, kWaitMs);
        QCOMPARE(released, 5);
        answered = 0;
        int allowed = 0;
        for (int index = 0; index < 12; ++index) {
            (index % 2 == 0 ? first : second).acquire(id, 5, 60s, this, [&](LeaseResult result) {
                ++answered;
                if (result && result->decision.allowed)
                    ++allowed;
            });
        }
        QTRY_COMPARE_WITH_TIMEOUT(answered, 12, kWaitMs);
        QCOMPARE(allowed, 5);
    }

    void releaseFreesTheSlot()
    {
        RedisLeaseLimiter limiter(*m_session, "test");
        const QByteArray id = uniqueId("release");
        const std::optional<LeaseResult> lease = acquire(limiter, id, 1);
        QVERIFY2(lease && *lease && (*lease)->decision.allowed, lease ? qPrintable(describe(*lease)) : "none");
        QCOMPARE((*lease)->leaseId.size(), 32);
        const std::optional<LeaseResult> refused = acquire(limiter, id, 1);
        QVERIFY(refused && *refused && !(*refused)->decision.allowed);

        const std::optional<FlagResult> released = release(limiter, id, (*lease)->leaseId);
        QVERIFY(released && *released);
        QVERIFY(**released);
        const std::optional<FlagResult> again = release(limiter, id, (*lease)->leaseId);
        QVERIFY(again && *again);
        QVERIFY(!**again);
        const std::optional<FlagResult> unknown = release(limiter, id, "no-such-lease");
        QVERIFY(unknown && *unknown);
        QVERIFY(!**unknown);

        const std::optional<LeaseResult> next = acquire(limiter, id, 1);
        QVERIFY2(next && *next && (*next)->decision.allowed, next ? qPrintable(describe(*next)) : "none");
        QVERIFY((*next)->leaseId != (*lease)->leaseId);
    }

    void theKeyExpiresWithItsLatestLease()
    {
        RedisLeaseLimiter limiter(*m_session, "test");
        const QByteArray id = uniqueId("pttl");
        QVERIFY(acquire(limiter, id, 3, 20s).value()->decision.allowed);
        QVERIFY(acquire(limiter, id, 3, 50s).value()->decision.allowed);
        QVERIFY(acquire(limiter, id, 3, 30s).value()->decision.allowed);
        const ReplyResult ttl = run(*m_session, {"PTTL", limiter.keyFor(id)});
        QVERIFY(ttl && ttl->isInteger());
        QVERIFY2(ttl->toInteger() > 40'000 && ttl->toInteger() <= 50'000, qPrintable(QString::number(ttl->toInteger())));
    }

    // An instance that dies never releases: its lease frees the slot when it expires.
    void expiredLeasesFreeTheSlot()
    {
        RedisLeaseLimiter limiter(*m_session, "test");
        const QByteArray id = uniqueId("expiry");
        const std::optional<LeaseResult> lease = acquire(limiter, id, 1, 200ms);
        QVERIFY(lease && *lease && (*lease)->decision.allowed);
        const std::optional<LeaseResult> refused = acquire(limiter, id, 1, 200ms);
        QVERIFY(refused && *refused && !(*refused)->decision.allowed);
        // Retry when it says: the earliest expiry, within the lease's life.
        QVERIFY2((*refused)->decision.retryAfter > 0ns && (*refused)->decision.retryAfter <= 200ms,
                 qPrintable(describe(*refused)));

        // Polled by hand: QTRY_* evaluates its expression again after success, and each
        // evaluation here would take a lease.
        std::optional<LeaseResult> next;
        const QDeadlineTimer deadline(kWaitMs);
        do {
            next = acquire(limiter, id, 1, 60s);
            if (next && *next && (*next)->decision.allowed)
                break;
            QTest::qWait(50);
        } while (!deadline.hasExpired());
        QVERIFY2(next && *next && (*next)->decision.allowed, next ? qPrintable(describe(*next)) : "none");
        QCOMPARE((*next)->decision.remaining, 0);
        // The expired lease is gone: it can be neither renewed nor released.
        const std::optional<FlagResult> renewed = renew(limiter, id, (*lease)->leaseId, 60s);
        QVERIFY(renewed && *renewed);
        QVERIFY(!**renewed);
        const std::optional<FlagResult> released = release(limiter, id, (*lease)->leaseId);
        QVERIFY(released && *released);
        QVERIFY(!**released);
        const std::optional<CountResult> held = active(limiter, id);
        QVERIFY(held && *held);
        QCOMPARE(**held, 1);
    }

    void renewKeepsALongStreamsLease()
    {
        RedisLeaseLimiter limiter(*m_session, "test");
        const QByteArray id = uniqueId("renew");
        const std::optional<LeaseResult> lease = acquire(limiter, id, 1, 300ms);
        QVERIFY(lease && *lease && (*lease)->decision.allowed);
        const std::optional<FlagResult> renewed = renew(limiter, id, (*lease)->leaseId, 60s);
        QVERIFY(renewed && *renewed);
        QVERIFY(**renewed);
        const ReplyResult ttl = run(*m_session, {"PTTL", limiter.keyFor(id)});
        QVERIFY(ttl && ttl->isInteger());
        QVERIFY2(ttl->toInteger() > 50'000 && ttl->toInteger() <= 60'000, qPrintable(QString::number(ttl->toInteger())));

        // Long past the first 300 ms, the renewed lease still holds the only slot.
        QTest::qWait(600);
        const std::optional<LeaseResult> refused = acquire(limiter, id, 1);
        QVERIFY(refused && *refused);
        QVERIFY2(!(*refused)->decision.allowed, qPrintable(describe(*refused)));
        const std::optional<FlagResult> unknown = renew(limiter, id, "no-such-lease", 60s);
        QVERIFY(unknown && *unknown);
        QVERIFY(!**unknown);
        QVERIFY(release(limiter, id, (*lease)->leaseId).value().value());
    }

    void reloadsTheScriptsAfterNoscript()
    {
        RedisLeaseLimiter limiter(*m_session, "test");
        const QByteArray id = uniqueId("noscript");
        const std::optional<LeaseResult> lease = acquire(limiter, id, 2);
        QVERIFY(lease && *lease && (*lease)->decision.allowed);
        QVERIFY(renew(limiter, id, (*lease)->leaseId, 60s).value().value());
        QVERIFY(active(limiter, id).value().value() == 1);
        const quint64 acquireReloads = limiter.acquireScript().reloads();
        const quint64 renewReloads = limiter.renewScript().reloads();
        const quint64 countReloads = limiter.countScript().reloads();

        QVERIFY(run(*m_session, {"SCRIPT", "FLUSH"}));
        const std::optional<LeaseResult> second = acquire(limiter, id, 2);
        QVERIFY2(second && *second && (*second)->decision.allowed, second ? qPrintable(describe(*second)) : "none");
        QCOMPARE((*second)->decision.remaining, 0); // the set survived the flush
        QCOMPARE(limiter.acquireScript().reloads(), acquireReloads + 1);
        const std::optional<FlagResult> renewed = renew(limiter, id, (*lease)->leaseId, 60s);
        QVERIFY(renewed && *renewed && **renewed);
        QCOMPARE(limiter.renewScript().reloads(), renewReloads + 1);
        const std::optional<CountResult> held = active(limiter, id);
        QVERIFY(held && *held);
        QCOMPARE(**held, 2);
        QCOMPARE(limiter.countScript().reloads(), countReloads + 1);
    }

    void notConnectedIsReported()
    {
        RedisSession closed(optionsFor(m_redis));
        RedisLeaseLimiter limiter(closed, "test");
        const std::optional<LeaseResult> lease = acquire(limiter, "x", 1);
        QVERIFY(lease.has_value());
        QVERIFY(!*lease);
        QCOMPARE(lease->error().kind, StoreErrorKind::NotConnected);
        const std::optional<FlagResult> released = release(limiter, "x", "y");
        QVERIFY(released.has_value());
        QVERIFY(!*released);
        QCOMPARE(released->error().kind, StoreErrorKind::NotConnected);
    }

private:
    RedisFixture m_redis;
    std::unique_ptr<RedisSession> m_session;
};

QTEST_GUILESS_MAIN(TestRedisLeaseLimiter)
#include "tst_redisleaselimiter.moc"
