#include <QObject>
#include <QRandomGenerator>
#include <QTest>

#include <optional>
#include <vector>

#include "redisfixture.h"
#include "store/redisadmission.h"
#include "store/redissession.h"

using namespace std::chrono_literals;
using sluice::Result;
using sluice::policy::RateRule;
using sluice::store::AdmissionCheck;
using sluice::store::AdmissionSettlement;
using sluice::store::AdmissionVerdict;
using sluice::store::RedisAdmission;
using sluice::store::RedisReply;
using sluice::store::RedisSession;
using sluice::store::RedisSessionOptions;
using sluice::store::StoreError;
using sluice::store::StoreErrorKind;
using sluice::test::RedisFixture;

namespace {

constexpr int kWaitMs = 10'000;

QByteArray uniqueKey(const char *name)
{
    return QByteArray("sluice:test:ratelimit:") + name + ':'
           + QByteArray::number(QRandomGenerator::global()->generate64(), 16);
}

RateRule perMinute(qint64 limit)
{
    RateRule rule;
    rule.limit = limit;
    rule.period = 1min;
    return rule;
}

AdmissionCheck rate(const QByteArray &key, qint64 limit, qint64 cost = 1)
{
    AdmissionCheck check;
    check.kind = AdmissionCheck::Kind::Rate;
    check.key = key;
    check.rule = perMinute(limit);
    check.cost = cost;
    return check;
}

AdmissionCheck tokens(const QByteArray &key, qint64 limit, qint64 cost)
{
    AdmissionCheck check = rate(key, limit, cost);
    check.kind = AdmissionCheck::Kind::Tokens;
    return check;
}

AdmissionCheck lease(const QByteArray &key, qint64 maxParallel)
{
    AdmissionCheck check;
    check.kind = AdmissionCheck::Kind::Lease;
    check.key = key;
    check.maxParallel = maxParallel;
    return check;
}

} // namespace

// The one-call, all-or-nothing admission script against a real Redis.
class TestRedisAdmission : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void refusalChargesNothing();
    void tokenSettlementRefundsAndCharges();
    void leasesAreCountedFreedAndExpire();
    void neverFitsIsReported();
    void cacheHitReservesNothing();
    void emptyPlanIsAllowedWithoutACall();
    void scriptsReloadAfterFlush();

private:
    std::optional<AdmissionVerdict> admit(const std::vector<AdmissionCheck> &checks, const QByteArray &leaseId = "l1",
                                          std::chrono::milliseconds leaseTtl = 60s, const QByteArray &cacheKey = {});
    void settle(const std::vector<AdmissionSettlement> &items, const QByteArray &leaseId = "l1");

    std::unique_ptr<RedisFixture> m_redis;
    std::unique_ptr<RedisSession> m_session;
    RedisAdmission m_admission;
};

void TestRedisAdmission::initTestCase()
{
    m_redis = std::make_unique<RedisFixture>();
    if (!m_redis->available())
        QSKIP(qPrintable(m_redis->unavailableReason()));
    QVERIFY2(m_redis->start(), qPrintable(m_redis->errorString()));
    RedisSessionOptions options;
    options.host = m_redis->host();
    options.port = m_redis->port();
    options.commandTimeout = 5s;
    m_session = std::make_unique<RedisSession>(options);
    m_session->open();
    QTRY_VERIFY_WITH_TIMEOUT(m_session->isReady(), kWaitMs);
}

void TestRedisAdmission::cleanupTestCase()
{
    m_session.reset();
    m_redis.reset();
}

std::optional<AdmissionVerdict> TestRedisAdmission::admit(const std::vector<AdmissionCheck> &checks,
                                                          const QByteArray &leaseId, std::chrono::milliseconds leaseTtl,
                                                          const QByteArray &cacheKey)
{
    std::optional<Result<AdmissionVerdict, StoreError>> outcome;
    m_admission.admit(*m_session, checks, leaseId, leaseTtl, cacheKey, nullptr,
                      [&](Result<AdmissionVerdict, StoreError> result) { outcome = std::move(result); });
    if (!QTest::qWaitFor([&] { return outcome.has_value(); }, kWaitMs) || !*outcome) {
        qWarning() << "admit failed:" << (outcome && !*outcome ? (*outcome).error().message : QStringLiteral("no answer"));
        return std::nullopt;
    }
    return **outcome;
}

void TestRedisAdmission::settle(const std::vector<AdmissionSettlement> &items, const QByteArray &leaseId)
{
    m_admission.settle(*m_session, items, leaseId);
    // Fire-and-forget: a PING behind it on the same connection is answered after it.
    bool pinged = false;
    m_session->command({"PING"}, nullptr, [&](Result<RedisReply, StoreError>) { pinged = true; });
    QVERIFY(QTest::qWaitFor([&] { return pinged; }, kWaitMs));
}

void TestRedisAdmission::refusalChargesNothing()
{
    const QByteArray requests = uniqueKey("r");
    const QByteArray tokenKey = uniqueKey("t");
    // 2 requests and 100 tokens a minute.
    auto first = admit({rate(requests, 2), tokens(tokenKey, 100, 60)});
    QVERIFY(first);
    QVERIFY(first->allowed);
    QCOMPARE(first->refusedIndex, -1);
    QCOMPARE(first->decisions.size(), std::size_t(2));
    QCOMPARE(first->decisions[0].remaining, 1);
    QCOMPARE(first->decisions[1].remaining, 40);
    QCOMPARE(first->decisions[1].limit, 100);

    // The request bucket would allow, the token bucket does not: neither is charged.
    auto second = admit({rate(requests, 2), tokens(tokenKey, 100, 60)});
    QVERIFY(second);
    QVERIFY(!second->allowed);
    QCOMPARE(second->refusedIndex, 1);
    QVERIFY(!second->decisions[0].allowed);
    QVERIFY(!second->decisions[1].neverFits);
    QVERIFY(second->decisions[1].retryAfter > 0ms);

    // So the request bucket still has its second request.
    auto third = admit({rate(requests, 2), tokens(tokenKey, 100, 10)});
    QVERIFY(third);
    QVERIFY(third->allowed);
    QCOMPARE(third->decisions[0].remaining, 0);
    QCOMPARE(third->decisions[1].remaining, 30);

    auto fourth = admit({rate(requests, 2), tokens(tokenKey, 100, 1)});
    QVERIFY(fourth);
    QVERIFY(!fourth->allowed);
    QCOMPARE(fourth->refusedIndex, 0);
    // 2 a minute: the next one in at most 30 s.
    QVERIFY(fourth->decisions[0].retryAfter > 0ms && fourth->decisions[0].retryAfter <= 30s);
}

void TestRedisAdmission::tokenSettlementRefundsAndCharges()
{
    const QByteArray key = uniqueKey("settle");
    auto reserved = admit({tokens(key, 100, 60)});
    QVERIFY(reserved && reserved->allowed);
    // Only 10 were used: 50 come back, so 90 fit now.
    AdmissionSettlement refund;
    refund.kind = AdmissionSettlement::Kind::Tokens;
    refund.key = key;
    refund.rule = perMinute(100);
    refund.reserved = 60;
    refund.actual = 10;
    settle({refund});
    auto big = admit({tokens(key, 100, 90)});
    QVERIFY(big);
    QVERIFY(big->allowed);
    QCOMPARE(big->decisions[0].remaining, 0);

    // 90 reserved, 150 used: the key goes into debt; even one token must wait.
    AdmissionSettlement overrun = refund;
    overrun.reserved = 90;
    overrun.actual = 150;
    settle({overrun});
    auto after = admit({tokens(key, 100, 1)});
    QVERIFY(after);
    QVERIFY(!after->allowed);
    // 60 tokens of debt at 100 a minute: at least 36 s.
    QVERIFY2(after->decisions[0].retryAfter >= 36s, qPrintable(QString::number(after->decisions[0].retryAfter.count())));
}

void TestRedisAdmission::leasesAreCountedFreedAndExpire()
{
    const QByteArray key = uniqueKey("lease");
    auto one = admit({lease(key, 1)}, "lease-1");
    QVERIFY(one && one->allowed);
    QCOMPARE(one->decisions[0].remaining, 0);
    QCOMPARE(one->decisions[0].limit, 1);

    auto two = admit({lease(key, 1)}, "lease-2");
    QVERIFY(two && !two->allowed);
    QVERIFY(two->decisions[0].retryAfter > 0ms);

    AdmissionSettlement release;
    release.kind = AdmissionSettlement::Kind::Lease;
    release.key = key;
    settle({release}, "lease-1");
    auto three = admit({lease(key, 1)}, "lease-3", 300ms);
    QVERIFY(three && three->allowed);

    // lease-3 is never settled (its instance "died"): its slot comes back after its TTL.
    // (Not QTRY: it evaluates its expression once more after success, and an admission
    // is not idempotent.)
    bool admittedAfterExpiry = false;
    for (int attempt = 0; attempt < 100 && !admittedAfterExpiry; ++attempt) {
        const auto four = admit({lease(key, 1)}, "lease-4");
        QVERIFY(four);
        admittedAfterExpiry = four->allowed;
        if (!admittedAfterExpiry) {
            QVERIFY(four->decisions[0].retryAfter <= 300ms);
            QTest::qWait(50);
        }
    }
    QVERIFY(admittedAfterExpiry);

    // A closed key (max < 1) never admits.
    auto closed = admit({lease(uniqueKey("closed"), 0)}, "lease-5");
    QVERIFY(closed && !closed->allowed);
    QVERIFY(closed->decisions[0].neverFits);
}

void TestRedisAdmission::neverFitsIsReported()
{
    const QByteArray requests = uniqueKey("nf-r");
    auto verdict = admit({rate(requests, 10), tokens(uniqueKey("nf-t"), 100, 101)});
    QVERIFY(verdict);
    QVERIFY(!verdict->allowed);
    QCOMPARE(verdict->refusedIndex, 1);
    QVERIFY(verdict->decisions[1].neverFits);
    QCOMPARE(verdict->decisions[1].retryAfter, sluice::policy::kRetryNever);
    // And the request bucket was not charged.
    auto alone = admit({rate(requests, 10)});
    QVERIFY(alone && alone->allowed);
    QCOMPARE(alone->decisions[0].remaining, 9);
}

void TestRedisAdmission::cacheHitReservesNothing()
{
    const QByteArray requests = uniqueKey("hit-r");
    const QByteArray tokenKey = uniqueKey("hit-t");
    const QByteArray leaseKey = uniqueKey("hit-p");
    const QByteArray cacheKey = uniqueKey("cache-entry");
    const std::vector<AdmissionCheck> checks{rate(requests, 10), tokens(tokenKey, 100, 80), lease(leaseKey, 1)};

    // No entry: a miss, charged in full (the lease is taken).
    auto miss = admit(checks, "miss-1", 60s, cacheKey);
    QVERIFY(miss && miss->allowed);
    QVERIFY(!miss->cachedValue);
    QCOMPARE(miss->decisions[1].remaining, 20);

    bool stored = false;
    m_session->command({"SET", cacheKey, "{\"answer\":42}"}, nullptr,
                       [&](Result<RedisReply, StoreError> reply) { stored = reply.ok(); });
    QTRY_VERIFY_WITH_TIMEOUT(stored, kWaitMs);

    // An entry: answered from it. The request is counted, but no tokens are reserved and
    // no lease is taken, although the lease set is full and 80 tokens would not fit.
    for (int i = 0; i < 3; ++i) {
        auto hit = admit(checks, "hit-" + QByteArray::number(i), 60s, cacheKey);
        QVERIFY(hit);
        QVERIFY(hit->allowed);
        QCOMPARE(hit->cachedValue.value_or(QByteArray()), QByteArray("{\"answer\":42}"));
        QCOMPARE(hit->decisions[0].remaining, 8 - i);
        QCOMPARE(hit->decisions[1].remaining, 20);
    }
    // A cache entry alone, without checks, is read too.
    auto entryOnly = admit({}, "e", 60s, cacheKey);
    QVERIFY(entryOnly && entryOnly->allowed && entryOnly->cachedValue);
}

void TestRedisAdmission::emptyPlanIsAllowedWithoutACall()
{
    const auto sent = m_session->stats().commandsSent;
    bool called = false;
    m_admission.admit(*m_session, {}, "x", 1s, {}, nullptr, [&](Result<AdmissionVerdict, StoreError> verdict) {
        called = verdict && verdict->allowed;
    });
    QVERIFY(called);
    QCOMPARE(m_session->stats().commandsSent, sent);
}

void TestRedisAdmission::scriptsReloadAfterFlush()
{
    bool flushed = false;
    m_session->command({"SCRIPT", "FLUSH"}, nullptr, [&](Result<RedisReply, StoreError> reply) { flushed = reply.ok(); });
    QTRY_VERIFY_WITH_TIMEOUT(flushed, kWaitMs);
    auto verdict = admit({rate(uniqueKey("reload"), 5)});
    QVERIFY(verdict && verdict->allowed);
    QCOMPARE(verdict->decisions[0].remaining, 4);
}

QTEST_GUILESS_MAIN(TestRedisAdmission)
#include "tst_redisadmission.moc"
