// StoreProber against a real redis-server and a real PostgreSQL: ok paths with the
// server's version, rejected credentials, closed ports, unknown names, cancel and timeout.
#include "postgresfixture.h"
#include "redisfixture.h"

#include "clients/storeprober.h"

#include <QTcpServer>
#include <QTest>

#include <memory>
#include <optional>

using namespace sluice;
using namespace sluice::clients;
using sluice::test::PostgresFixture;
using sluice::test::RedisFixture;
using sluice::test::RedisFixtureOptions;

namespace {

constexpr int kWaitMs = 20'000; // only guards against hangs

quint16 closedPort()
{
    QTcpServer server;
    if (!server.listen(QHostAddress::LocalHost, 0))
        return 0;
    const quint16 port = server.serverPort();
    server.close();
    return port;
}

struct Outcome {
    StoreProber::Callback callback()
    {
        return [this](Result<ProbeResult, SourceError> outcome) {
            ++calls;
            result.emplace(std::move(outcome));
        };
    }
    bool wait() { return QTest::qWaitFor([this] { return result.has_value(); }, kWaitMs); }
    bool ok() const { return result && result->ok(); }
    SourceErrorKind kind() const { return result->error().kind; }
    QString message() const { return result && !result->ok() ? result->error().message : QString(); }
    std::optional<Result<ProbeResult, SourceError>> result;
    int calls = 0;
};

} // namespace

class TestStoreProber : public QObject {
    Q_OBJECT

private slots:
    void redisOk();
    void redisAclUser();
    void redisWrongPassword_data();
    void redisWrongPassword();
    void redisClosedPort();
    void redisUnknownName();
    void redisSilentServerTimesOut();
    void redisCancel();
    void postgresOk();
    void postgresUnknownRole();
    void postgresClosedPort();
    void postgresEndpointParsing_data();
    void postgresEndpointParsing();
};

void TestStoreProber::redisOk()
{
    RedisFixture redis(RedisFixtureOptions{QStringLiteral("pw-default"), {}, {}, true});
    if (!redis.available())
        QSKIP(qPrintable(redis.unavailableReason()));
    QVERIFY2(redis.start(), qPrintable(redis.errorString()));
    StoreProber prober;
    Outcome outcome;
    RedisProbeTarget target;
    target.host = redis.host();
    target.port = redis.port();
    target.db = 3;
    target.password = QStringLiteral("pw-default");
    prober.probeRedis(target, 5000, this, outcome.callback());
    QCOMPARE(outcome.calls, 0); // never from inside the call
    QVERIFY(outcome.wait());
    QVERIFY2(outcome.ok(), qPrintable(outcome.message()));
    QVERIFY(!outcome.result->value().version.isEmpty());
    QVERIFY(outcome.result->value().version.front().isDigit());
    QCOMPARE(outcome.result->value().endpoint, QStringLiteral("127.0.0.1:%1").arg(redis.port()));
    QCOMPARE(outcome.result->value().details.value(QStringLiteral("tcp_port")).toString(),
             QString::number(redis.port()));
    QCOMPARE(prober.pendingCount(), 0);
    QTest::qWait(50);
    QCOMPARE(outcome.calls, 1);
}

void TestStoreProber::redisAclUser()
{
    RedisFixture redis(RedisFixtureOptions{QStringLiteral("pw-default"), QStringLiteral("sluice"),
                                           QStringLiteral("pw-acl"), true});
    if (!redis.available())
        QSKIP(qPrintable(redis.unavailableReason()));
    QVERIFY2(redis.start(), qPrintable(redis.errorString()));
    StoreProber prober;
    Outcome outcome;
    RedisProbeTarget target;
    target.host = QStringLiteral("localhost"); // through the name lookup
    target.port = redis.port();
    target.user = QStringLiteral("sluice");
    target.password = QStringLiteral("pw-acl");
    prober.probeRedis(target, 5000, this, outcome.callback());
    QVERIFY(outcome.wait());
    QVERIFY2(outcome.ok(), qPrintable(outcome.message()));
}

void TestStoreProber::redisWrongPassword_data()
{
    QTest::addColumn<QString>("password");
    QTest::newRow("wrong password") << QStringLiteral("not-the-password");
    QTest::newRow("no password") << QString(); // NOAUTH on PING
}

void TestStoreProber::redisWrongPassword()
{
    QFETCH(QString, password);
    RedisFixture redis(RedisFixtureOptions{QStringLiteral("pw-default"), {}, {}, true});
    if (!redis.available())
        QSKIP(qPrintable(redis.unavailableReason()));
    QVERIFY2(redis.start(), qPrintable(redis.errorString()));
    StoreProber prober;
    Outcome outcome;
    RedisProbeTarget target;
    target.host = redis.host();
    target.port = redis.port();
    target.password = password;
    prober.probeRedis(target, 5000, this, outcome.callback());
    QVERIFY(outcome.wait());
    QVERIFY(!outcome.ok());
    QCOMPARE(outcome.kind(), SourceErrorKind::AuthenticationFailed);
    QVERIFY2(outcome.message().startsWith(QStringLiteral("authentication failed")), qPrintable(outcome.message()));
}

void TestStoreProber::redisClosedPort()
{
    StoreProber prober;
    Outcome outcome;
    RedisProbeTarget target;
    target.port = closedPort();
    prober.probeRedis(target, 5000, this, outcome.callback());
    QVERIFY(outcome.wait());
    QVERIFY(!outcome.ok());
    QCOMPARE(outcome.kind(), SourceErrorKind::Refused);
    QVERIFY2(outcome.message().contains(QStringLiteral("127.0.0.1:%1").arg(target.port)), qPrintable(outcome.message()));
}

void TestStoreProber::redisUnknownName()
{
    StoreProber prober;
    Outcome outcome;
    RedisProbeTarget target;
    target.host = QStringLiteral("no-such-host.invalid");
    prober.probeRedis(target, 10'000, this, outcome.callback());
    QVERIFY(outcome.wait());
    QVERIFY(!outcome.ok());
    QCOMPARE(outcome.kind(), SourceErrorKind::NameNotFound);
}

void TestStoreProber::redisSilentServerTimesOut()
{
    QTcpServer silent; // accepts, never answers
    QVERIFY(silent.listen(QHostAddress::LocalHost, 0));
    StoreProber prober;
    Outcome outcome;
    RedisProbeTarget target;
    target.port = silent.serverPort();
    prober.probeRedis(target, 300, this, outcome.callback());
    QVERIFY(outcome.wait());
    QVERIFY(!outcome.ok());
    QCOMPARE(outcome.kind(), SourceErrorKind::TimedOut);
}

void TestStoreProber::redisCancel()
{
    QTcpServer silent;
    QVERIFY(silent.listen(QHostAddress::LocalHost, 0));
    StoreProber prober;
    Outcome outcome;
    RedisProbeTarget target;
    target.port = silent.serverPort();
    const RequestId id = prober.probeRedis(target, 10'000, this, outcome.callback());
    QCOMPARE(prober.pendingCount(), 1);
    QVERIFY(prober.cancel(id));
    QCOMPARE(outcome.calls, 1);
    QCOMPARE(outcome.kind(), SourceErrorKind::Cancelled);
    QVERIFY(!prober.cancel(id));
    QTest::qWait(100);
    QCOMPARE(outcome.calls, 1);
}

void TestStoreProber::postgresOk()
{
    PostgresFixture postgres;
    if (!postgres.available())
        QSKIP(qPrintable(postgres.reason()));
    QVERIFY2(postgres.isRunning(), qPrintable(postgres.lastError()));
    StoreProber prober;
    Outcome outcome;
    prober.probePostgres(postgres.connectionString(), 10'000, this, outcome.callback());
    QCOMPARE(outcome.calls, 0);
    QVERIFY(outcome.wait());
    QVERIFY2(outcome.ok(), qPrintable(outcome.message()));
    QVERIFY(!outcome.result->value().version.isEmpty());
    QVERIFY(outcome.result->value().version.front().isDigit());
    QVERIFY(outcome.result->value().details.value(QStringLiteral("server_version_num")).toInt() >= 90000);
    QCOMPARE(outcome.result->value().endpoint, QStringLiteral("127.0.0.1:%1").arg(postgres.port()));
}

// The fixture trusts every local connection (initdb -A trust), so a wrong password
// would pass; a role that does not exist is refused during authentication.
void TestStoreProber::postgresUnknownRole()
{
    PostgresFixture postgres;
    if (!postgres.available())
        QSKIP(qPrintable(postgres.reason()));
    QVERIFY2(postgres.isRunning(), qPrintable(postgres.lastError()));
    StoreProber prober;
    Outcome outcome;
    const QString connection = QStringLiteral("host=127.0.0.1 port=%1 user=nobody_here password=wrong dbname=sluice")
                                   .arg(postgres.port());
    prober.probePostgres(connection, 10'000, this, outcome.callback());
    QVERIFY(outcome.wait());
    QVERIFY(!outcome.ok());
    QCOMPARE(outcome.kind(), SourceErrorKind::AuthenticationFailed);
}

void TestStoreProber::postgresClosedPort()
{
    StoreProber prober;
    Outcome outcome;
    prober.probePostgres(PostgresFixture::unreachableConnectionString(), 10'000, this, outcome.callback());
    QVERIFY(outcome.wait());
    QVERIFY(!outcome.ok());
    QCOMPARE(outcome.kind(), SourceErrorKind::Refused);
}

void TestStoreProber::postgresEndpointParsing_data()
{
    QTest::addColumn<QString>("connection");
    QTest::addColumn<QString>("endpoint");
    QTest::newRow("key/value") << "host=db.example port=6543 user=x" << "db.example:6543";
    QTest::newRow("default port") << "host=db user=x" << "db:5432";
    QTest::newRow("quoted") << "host='db' port = 7000" << "db:7000";
    QTest::newRow("uri") << "postgresql://u:p@db.example:6000/sluice" << "db.example:6000";
    QTest::newRow("no host") << "dbname=sluice" << "localhost:5432";
}

void TestStoreProber::postgresEndpointParsing()
{
    QFETCH(QString, connection);
    QFETCH(QString, endpoint);
    QCOMPARE(StoreProber::postgresEndpoint(connection), endpoint);
}

QTEST_GUILESS_MAIN(TestStoreProber)
#include "tst_storeprober.moc"
