// The gateway's configuration history, audit log and usage retention in a real PostgreSQL
// (started by the fixture): config_versions and audit rows for the start-up config, admin
// changes, adoptions and cache flushes, nothing lost across an outage, and old usage rows
// pruned while their daily roll-up stays.
#include "gatewayharness.h"
#include "postgresfixture.h"

#include "config/apikeyhash.h"
#include "gateway/auditrecorder.h"
#include "store/usagewriter.h"

#include <QSignalSpy>
#include <QTest>

#include <pqxx/pqxx>

#include <optional>
#include <string>

using namespace sluice;
using namespace sluice::test;

namespace {

constexpr int kWaitMs = 30'000;

// The first column of the first row as text; nullopt on any error or no row.
std::optional<std::string> queryText(const QString &connectionString, const std::string &sql)
{
    try {
        pqxx::connection connection(connectionString.toStdString());
        pqxx::nontransaction txn(connection);
        const pqxx::result result = txn.exec(sql);
        if (result.empty() || result[0][0].is_null())
            return std::nullopt;
        return result[0][0].as<std::string>();
    } catch (const std::exception &) {
        return std::nullopt;
    }
}

long long scalar(const QString &connectionString, const std::string &sql)
{
    const auto text = queryText(connectionString, sql);
    return text ? std::stoll(*text) : -1;
}

QList<QPair<QByteArray, QByteArray>> adminHeaders(const GatewayHarness &harness, const QByteArray &comment = {})
{
    QList<QPair<QByteArray, QByteArray>> headers{{"Authorization", "Bearer " + harness.adminToken},
                                                 {"Content-Type", "application/merge-patch+json"}};
    if (!comment.isEmpty())
        headers.append({"X-Sluice-Comment", comment});
    return headers;
}

QByteArray rpmPatch(int requestsPerMinute)
{
    return "{\"api_keys\":[{\"id\":\"demo\",\"key_sha256\":\""
           + config::hashApiKey(QString::fromLatin1(gateway::kDemoClientKey)).toLatin1()
           + "\",\"requests_per_minute\":" + QByteArray::number(requestsPerMinute) + "}]}";
}

std::string versionWhere(qint64 version)
{
    return "FROM config_versions WHERE version = " + std::to_string(version);
}

store::UsageRecord usageRecord(const QDateTime &timestamp, const QString &requestId)
{
    store::UsageRecord record;
    record.timestamp = timestamp;
    record.instance = QStringLiteral("test");
    record.apiKeyId = QStringLiteral("retention");
    record.model = QStringLiteral("gpt-4o-mini");
    record.upstream = QStringLiteral("openai");
    record.tokens.inputTokens = 10;
    record.tokens.outputTokens = 5;
    record.latencyMs = 20;
    record.httpStatus = 200;
    record.requestId = requestId;
    return record;
}

} // namespace

class TestGatewayAudit : public QObject {
    Q_OBJECT

private slots:
    void initTestCase()
    {
        m_postgres = std::make_unique<PostgresFixture>();
        if (!m_postgres->available())
            QSKIP(qPrintable(m_postgres->reason()));
        QVERIFY2(m_postgres->isRunning(), qPrintable(m_postgres->lastError()));
    }
    void cleanupTestCase() { m_postgres.reset(); }

    void adminPatchAndCacheFlushAreRecorded()
    {
        const QString database = freshDatabase("audit_patch");
        QVERIFY(!database.isEmpty());
        GatewayHarness harness(postgresConfig());
        QVERIFY2(harness.startError.isEmpty(), qPrintable(harness.startError));
        const qint64 startVersion = harness.gw->configStore().current()->version;

        // The configuration it started with.
        QTRY_COMPARE_WITH_TIMEOUT(scalar(database, "SELECT count(*) " + versionWhere(startVersion) + " AND who = 'startup'"),
                                  1LL, kWaitMs);

        const auto patched = exchange(harness.adminPort, "PATCH", "/admin/v1/config", rpmPatch(4321),
                                      adminHeaders(harness, "raise the demo key"));
        QCOMPARE(patched.status, 200);
        const qint64 version = harness.gw->configStore().current()->version;
        QCOMPARE(version, startVersion + 1);

        QTRY_COMPARE_WITH_TIMEOUT(scalar(database, "SELECT count(*) " + versionWhere(version)), 1LL, kWaitMs);
        QCOMPARE(queryText(database, "SELECT who " + versionWhere(version)), std::optional<std::string>("admin-token"));
        QCOMPARE(queryText(database, "SELECT comment " + versionWhere(version)),
                 std::optional<std::string>("raise the demo key"));
        QCOMPARE(queryText(database, "SELECT config->'api_keys'->0->>'requests_per_minute' " + versionWhere(version)),
                 std::optional<std::string>("4321"));
        QCOMPARE(queryText(database, "SELECT (config->>'version') " + versionWhere(version)),
                 std::optional<std::string>(std::to_string(version)));

        QTRY_COMPARE_WITH_TIMEOUT(scalar(database, "SELECT count(*) FROM audit WHERE action = 'config.apply'"), 1LL, kWaitMs);
        QCOMPARE(queryText(database, "SELECT who FROM audit WHERE action = 'config.apply'"),
                 std::optional<std::string>("admin-token"));
        QCOMPARE(queryText(database, "SELECT from_address FROM audit WHERE action = 'config.apply'"),
                 std::optional<std::string>("127.0.0.1"));
        QCOMPARE(scalar(database, "SELECT count(*) FROM audit a, jsonb_array_elements(a.diff) e"
                                  " WHERE a.action = 'config.apply'"
                                  " AND e->>'path' = 'api_keys[id=demo].requests_per_minute'"
                                  " AND e->'old' = '1200'::jsonb AND e->'new' = '4321'::jsonb"),
                 1LL);
        QCOMPARE(scalar(database, "SELECT count(*) FROM audit a, jsonb_array_elements(a.diff) e"
                                  " WHERE a.action = 'config.apply' AND e->>'path' = 'version'"
                                  " AND e->'new' = '" + std::to_string(version) + "'::jsonb"),
                 1LL);
        QVERIFY(scalar(database, "SELECT count(*) FROM audit WHERE event_id IS NULL") == 0);

        // A cache flush, with the namespace it emptied.
        const auto flushed = exchange(harness.adminPort, "POST", "/admin/v1/cache/flush", "{\"namespace\":\"team-a\"}",
                                      {{"Authorization", "Bearer " + harness.adminToken},
                                       {"Content-Type", "application/json"}});
        QCOMPARE(flushed.status, 200);
        QTRY_COMPARE_WITH_TIMEOUT(scalar(database, "SELECT count(*) FROM audit WHERE action = 'cache.flush'"), 1LL, kWaitMs);
        QCOMPARE(queryText(database, "SELECT diff->>'namespace' FROM audit WHERE action = 'cache.flush'"),
                 std::optional<std::string>("team-a"));
        QCOMPARE(queryText(database, "SELECT who || ' ' || from_address FROM audit WHERE action = 'cache.flush'"),
                 std::optional<std::string>("admin-token 127.0.0.1"));
        QCOMPARE(metricSum(harness.gw->registry(), "sluice_usage_pruned_rows_total"), 0.0);
    }

    // Another instance adopting a version (from Redis) adds its own audit row but no
    // second config_versions row, and cannot take the originator's attribution even when
    // it commits first.
    void adoptionDoesNotDuplicateTheVersion()
    {
        const QString database = freshDatabase("audit_adopt");
        QVERIFY(!database.isEmpty());
        GatewayHarness origin(postgresConfig());
        QVERIFY2(origin.startError.isEmpty(), qPrintable(origin.startError));
        GatewayHarness adopter(postgresConfig());
        QVERIFY2(adopter.startError.isEmpty(), qPrintable(adopter.startError));
        const qint64 startVersion = origin.gw->configStore().current()->version;
        QTRY_COMPARE_WITH_TIMEOUT(scalar(database, "SELECT count(*) " + versionWhere(startVersion)), 1LL, kWaitMs);

        // The adopter commits version N+1 first...
        config::GatewayConfig next = *origin.gw->configStore().current();
        next.version = startVersion + 1;
        next.apiKeys[0].requestsPerMinute = 777;
        QVERIFY(adopter.gw->configStore().adopt(next, gateway::ApplyOrigin{QStringLiteral("redis"),
                                                                          QStringLiteral("127.0.0.1:6379"), {}}));
        QTRY_COMPARE_WITH_TIMEOUT(scalar(database, "SELECT count(*) FROM audit WHERE action = 'config.adopt'"), 1LL, kWaitMs);
        QTRY_COMPARE_WITH_TIMEOUT(queryText(database, "SELECT who " + versionWhere(startVersion + 1)),
                                  std::optional<std::string>("redis"), kWaitMs);

        // ...then the instance that made it writes its row: one row, the originator's.
        const auto patched = exchange(origin.adminPort, "PATCH", "/admin/v1/config", rpmPatch(777),
                                      adminHeaders(origin, "from the origin"));
        QCOMPARE(patched.status, 200);
        QCOMPARE(origin.gw->configStore().current()->version, startVersion + 1);
        QTRY_COMPARE_WITH_TIMEOUT(queryText(database, "SELECT who || '/' || comment " + versionWhere(startVersion + 1)),
                                  std::optional<std::string>("admin-token/from the origin"), kWaitMs);
        QCOMPARE(scalar(database, "SELECT count(*) " + versionWhere(startVersion + 1)), 1LL);
        QCOMPARE(scalar(database, "SELECT count(*) FROM audit WHERE action = 'config.apply'"), 1LL);
        QCOMPARE(queryText(database, "SELECT from_address FROM audit WHERE action = 'config.adopt'"),
                 std::optional<std::string>("127.0.0.1:6379"));
        // Both instances started at the same version: still one start-up row.
        QCOMPARE(scalar(database, "SELECT count(*) FROM config_versions"), 2LL);
    }

    void rowsSurviveAPostgresOutage()
    {
        const QString database = freshDatabase("audit_outage");
        QVERIFY(!database.isEmpty());
        GatewayHarness harness(postgresConfig());
        QVERIFY2(harness.startError.isEmpty(), qPrintable(harness.startError));
        const qint64 startVersion = harness.gw->configStore().current()->version;
        QTRY_COMPARE_WITH_TIMEOUT(scalar(database, "SELECT count(*) FROM config_versions"), 1LL, kWaitMs);

        QVERIFY(m_postgres->stop());
        const auto patched = exchange(harness.adminPort, "PATCH", "/admin/v1/config", rpmPatch(999),
                                      adminHeaders(harness, "during the outage"));
        QCOMPARE(patched.status, 200);
        const auto flushed = exchange(harness.adminPort, "POST", "/admin/v1/cache/flush", {},
                                      {{"Authorization", "Bearer " + harness.adminToken}});
        QCOMPARE(flushed.status, 200);
        QTest::qWait(300); // several flush attempts fail meanwhile
        QCOMPARE(auditStat(harness, "pending"), 3.0); // the version row, config.apply, cache.flush
        QVERIFY(m_postgres->start());

        QTRY_COMPARE_WITH_TIMEOUT(scalar(database, "SELECT count(*) FROM audit"), 2LL, kWaitMs);
        QCOMPARE(queryText(database, "SELECT comment " + versionWhere(startVersion + 1)),
                 std::optional<std::string>("during the outage"));
        QCOMPARE(scalar(database, "SELECT count(*) FROM audit WHERE action = 'config.apply'"), 1LL);
        QCOMPARE(queryText(database, "SELECT diff->>'namespace' FROM audit WHERE action = 'cache.flush'"),
                 std::optional<std::string>(""));
        QTRY_COMPARE(auditStat(harness, "pending"), 0.0);
        QCOMPARE(auditStat(harness, "dropped"), 0.0);
        QCOMPARE(auditStat(harness, "written"), 4.0);
    }

    void retentionPrunesOldUsageAndKeepsTheRollup()
    {
        const QString database = freshDatabase("audit_retention");
        QVERIFY(!database.isEmpty());
        GatewayHarness harness([](config::GatewayConfig &config) {
            postgresConfig()(config);
            config.postgres.retention = std::chrono::days(30);
        });
        QVERIFY2(harness.startError.isEmpty(), qPrintable(harness.startError));
        gateway::UsageRetention *retention = harness.gw->usageRetention();
        QVERIFY(retention);

        const QDateTime now = QDateTime::currentDateTimeUtc();
        for (int i = 0; i < 3; ++i)
            harness.gw->context().recordUsage(usageRecord(now.addDays(-100), QStringLiteral("old-%1").arg(i)));
        for (int i = 0; i < 2; ++i)
            harness.gw->context().recordUsage(usageRecord(now.addDays(-10), QStringLiteral("recent-%1").arg(i)));
        QTRY_COMPARE_WITH_TIMEOUT(scalar(database, "SELECT count(*) FROM usage"), 5LL, kWaitMs);

        QSignalSpy pruned(retention, &gateway::UsageRetention::pruned);
        retention->pruneNow();
        QTRY_VERIFY_WITH_TIMEOUT(!pruned.isEmpty(), kWaitMs);
        // (A timed run that started before the rows were written may answer first.)
        QTRY_COMPARE_WITH_TIMEOUT(scalar(database, "SELECT count(*) FROM usage"), 2LL, kWaitMs);
        QCOMPARE(scalar(database, "SELECT count(*) FROM usage WHERE request_id LIKE 'old-%'"), 0LL);
        // The roll-up of every row, pruned ones included.
        QCOMPARE(scalar(database, "SELECT sum(requests) FROM usage_daily WHERE api_key_id = 'retention'"), 5LL);
        QCOMPARE(scalar(database, "SELECT sum(requests) FROM usage_daily WHERE api_key_id = 'retention'"
                                  " AND day < (now() AT TIME ZONE 'UTC')::date - 90"),
                 3LL);
        // Whichever run deleted them (the timed first run may have come first), counted once.
        QTRY_COMPARE_WITH_TIMEOUT(retention->prunedRowsTotal(), qint64(3), kWaitMs);
        QCOMPARE(metricSum(harness.gw->registry(), "sluice_usage_pruned_rows_total"), 3.0);
    }

    // Straight at the writer: JSON PostgreSQL cannot take is cleaned or refused, never
    // left to block the batches behind it.
    void writerCleansOrRefusesAuditItems()
    {
        const QString database = freshDatabase("audit_writer");
        QVERIFY(!database.isEmpty());
        store::UsageWriterOptions options;
        options.connectionString = database;
        options.flushIntervalMs = 20;
        options.auditBufferCapacity = 3;
        store::UsageWriter writer(options);

        store::AuditEvent invalid;
        invalid.who = QStringLiteral("test");
        invalid.action = QStringLiteral("bad");
        invalid.diffJson = "{not json";
        QVERIFY(!writer.submitAudit(invalid));
        store::ConfigVersionRecord notAnObject;
        notAnObject.version = 5;
        notAnObject.who = QStringLiteral("test");
        notAnObject.configJson = "[1]";
        QVERIFY(!writer.submitConfigVersion(notAnObject));

        store::AuditEvent withNul;
        withNul.who = QStringLiteral("te") + QChar(u'\0') + QStringLiteral("st");
        withNul.action = QStringLiteral("nul");
        withNul.diffJson = QJsonDocument(QJsonObject{{QStringLiteral("k"), QStringLiteral("a") + QChar(u'\0') + QStringLiteral("b")}})
                               .toJson(QJsonDocument::Compact);
        QVERIFY(writer.submitAudit(withNul));
        store::AuditEvent noDiff;
        noDiff.who = QStringLiteral("test");
        noDiff.action = QStringLiteral("nodiff");
        QVERIFY(writer.submitAudit(noDiff));
        store::ConfigVersionRecord version;
        version.version = 5;
        version.who = QStringLiteral("test");
        version.configJson = "{\"version\":5}";
        QVERIFY(writer.submitConfigVersion(version));
        QVERIFY(!writer.submitAudit(noDiff)); // the audit buffer holds 3
        QCOMPARE(writer.stats().auditDropped, std::uint64_t(3));
        QCOMPARE(writer.stats().auditPending, std::uint64_t(3));

        writer.start();
        QTRY_COMPARE_WITH_TIMEOUT(writer.auditPendingCount(), qint64(0), kWaitMs);
        QCOMPARE(writer.stats().auditWritten, std::uint64_t(3));
        QCOMPARE(queryText(database, "SELECT who || ' ' || (diff->>'k') FROM audit WHERE action = 'nul'"),
                 std::optional<std::string>("test ab"));
        QCOMPARE(scalar(database, "SELECT count(*) FROM audit WHERE action = 'nodiff' AND diff IS NULL"), 1LL);
        QCOMPARE(scalar(database, "SELECT count(*) FROM config_versions WHERE version = 5"), 1LL);
        QCOMPARE(writer.writtenCount(), qint64(0));
    }

private:
    // A new database on the fixture's server, named in SLUICE_TEST_AUDIT_POSTGRES_URL for
    // the next gateway; its connection string, empty on failure.
    QString freshDatabase(const QString &name)
    {
        if (!m_postgres->createDatabase(name))
            return {};
        const QString connection = m_postgres->connectionString(name);
        qputenv("SLUICE_TEST_AUDIT_POSTGRES_URL", connection.toUtf8());
        return connection;
    }

    static std::function<void(config::GatewayConfig &)> postgresConfig()
    {
        return [](config::GatewayConfig &config) {
            config.postgres.enabled = true;
            config.postgres.connectionStringEnv = QStringLiteral("SLUICE_TEST_AUDIT_POSTGRES_URL");
            config.postgres.flushInterval = std::chrono::milliseconds(50);
        };
    }

    // The admin stats' usage_store.audit_<field>; -1 when missing.
    static double auditStat(GatewayHarness &harness, const char *field)
    {
        const QJsonObject usage = harness.gw->statsSnapshot().value(QStringLiteral("usage_store")).toObject();
        return usage.value(QStringLiteral("audit_") + QLatin1String(field)).toDouble(-1);
    }

    std::unique_ptr<PostgresFixture> m_postgres;
};

QTEST_GUILESS_MAIN(TestGatewayAudit)
#include "tst_gatewayaudit.moc"
