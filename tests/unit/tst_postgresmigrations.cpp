#include <QTest>

#include "postgresfixture.h"
#include "store/postgreserror.h"
#include "store/schemamigrator.h"

#include <QFile>
#include <QTemporaryDir>

#include <pqxx/pqxx>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

using sluice::store::MigrationReport;
using sluice::store::SchemaMigration;
using sluice::store::SchemaMigrator;
using sluice::store::SchemaMigratorOptions;
using sluice::store::StoreErrorKind;
using sluice::test::PostgresFixture;

namespace {

SchemaMigration migration(int version, const char *name, const char *sql)
{
    return SchemaMigration{version, QString::fromLatin1(name), QByteArray(sql)};
}

QList<int> versions(const QList<SchemaMigration> &migrations)
{
    QList<int> result;
    for (const SchemaMigration &migration : migrations)
        result.append(migration.version);
    return result;
}

} // namespace

class TestPostgresMigrations : public QObject {
    Q_OBJECT

    std::unique_ptr<PostgresFixture> m_postgres;
    int m_databases = 0;

    // A new, empty database on the fixture's server; returns its connection string.
    std::string freshDatabase()
    {
        const QString name = QStringLiteral("migrations_%1").arg(++m_databases);
        if (!m_postgres->createDatabase(name))
            return {};
        return m_postgres->connectionString(name).toStdString();
    }

    static long long scalar(pqxx::connection &connection, const std::string &sql)
    {
        pqxx::nontransaction txn(connection);
        return txn.exec(sql)[0][0].as<long long>();
    }

    static bool tableExists(pqxx::connection &connection, const std::string &table)
    {
        pqxx::nontransaction txn(connection);
        return txn.exec_params("SELECT to_regclass($1) IS NOT NULL", table)[0][0].as<bool>();
    }

private slots:
    void initTestCase()
    {
        m_postgres = std::make_unique<PostgresFixture>();
        if (!m_postgres->available())
            QSKIP(qPrintable(m_postgres->reason()));
        QVERIFY2(m_postgres->isRunning(), qPrintable(m_postgres->lastError()));
    }

    void cleanupTestCase() { m_postgres.reset(); }

    void builtInMigrationsAreCompiledIn()
    {
        QVERIFY(QFile::exists(QStringLiteral(":/sluice/store/migrations/0001_usage.sql")));
        const auto migrations = sluice::store::builtInSchemaMigrations();
        QVERIFY2(migrations.ok(), qPrintable(migrations.ok() ? QString() : migrations.error().message));
        QVERIFY(migrations->size() >= 2);
        QCOMPARE(migrations->at(0).version, 1);
        QCOMPARE(migrations->at(0).name, QStringLiteral("usage"));
        QCOMPARE(migrations->at(1).version, 2);
        QCOMPARE(migrations->at(1).name, QStringLiteral("config_audit"));
        for (qsizetype index = 1; index < migrations->size(); ++index)
            QVERIFY(migrations->at(index - 1).version < migrations->at(index).version);
        QVERIFY(migrations->at(0).sql.contains("CREATE TABLE usage"));
        QCOMPARE(migrations->at(0).checksum().size(), 64);
    }

    void loadRejectsBadSets_data()
    {
        QTest::addColumn<QStringList>("files");
        QTest::newRow("unnumbered file") << QStringList{QStringLiteral("0001_a.sql"), QStringLiteral("extra.sql")};
        QTest::newRow("version zero") << QStringList{QStringLiteral("0000_a.sql")};
        QTest::newRow("duplicate version") << QStringList{QStringLiteral("0001_a.sql"), QStringLiteral("1_b.sql")};
        QTest::newRow("empty directory") << QStringList{};
    }

    void loadRejectsBadSets()
    {
        QFETCH(QStringList, files);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        for (const QString &name : files) {
            QFile file(dir.filePath(name));
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write("SELECT 1;");
        }
        const auto loaded = sluice::store::loadSchemaMigrations(dir.path());
        QVERIFY(!loaded.ok());
        QCOMPARE(loaded.error().kind, StoreErrorKind::Protocol);
    }

    void loadSortsByVersion()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        for (const char *name : {"0010_ten.sql", "0002_two.sql", "0001_one.sql"}) {
            QFile file(dir.filePath(QString::fromLatin1(name)));
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write(name);
        }
        const auto loaded = sluice::store::loadSchemaMigrations(dir.path());
        QVERIFY(loaded.ok());
        QCOMPARE(versions(*loaded), (QList<int>{1, 2, 10}));
        QCOMPARE(loaded->at(2).name, QStringLiteral("ten"));
        QCOMPARE(loaded->at(2).sql, QByteArray("0010_ten.sql"));
    }

    void freshDatabaseGetsEveryTable()
    {
        const std::string info = freshDatabase();
        QVERIFY(!info.empty());
        pqxx::connection connection(info);
        const auto builtIn = sluice::store::builtInSchemaMigrations();
        QVERIFY(builtIn.ok());
        const auto report = SchemaMigrator(*builtIn).apply(connection);
        QVERIFY2(report.ok(), qPrintable(report.ok() ? QString() : report.error().message));
        QCOMPARE(report->applied, versions(*builtIn));
        QCOMPARE(report->databaseVersion, builtIn->last().version);

        for (const char *table : {"schema_migrations", "usage", "usage_daily", "config_versions", "audit"})
            QVERIFY2(tableExists(connection, table), table);

        // The columns the usage writer and the console rely on.
        pqxx::nontransaction txn(connection);
        QStringList usageColumns;
        for (const auto &row : txn.exec("SELECT column_name FROM information_schema.columns "
                                        "WHERE table_name = 'usage' ORDER BY ordinal_position"))
            usageColumns.append(QString::fromStdString(row[0].as<std::string>()));
        for (const char *column : {"ts", "instance", "api_key_id", "model", "upstream", "input_tokens", "output_tokens",
                                   "cached_input_tokens", "cache_write_tokens", "cost_usd", "latency_ms", "ttft_ms",
                                   "status", "cache_hit", "request_id"})
            QVERIFY2(usageColumns.contains(QLatin1String(column)), column);

        const pqxx::result key = txn.exec(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
            "WHERE i.indrelid = 'usage_daily'::regclass AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)");
        QCOMPARE(key.size(), 3);
        QCOMPARE(key[0][0].as<std::string>(), std::string("day"));
        QCOMPARE(key[1][0].as<std::string>(), std::string("api_key_id"));
        QCOMPARE(key[2][0].as<std::string>(), std::string("model"));

        for (const char *index : {"usage_ts_idx", "usage_api_key_ts_idx", "usage_model_ts_idx",
                                  "usage_daily_api_key_day_idx", "usage_daily_model_day_idx", "audit_ts_idx"})
            QVERIFY2(txn.exec_params("SELECT to_regclass($1) IS NOT NULL", std::string(index))[0][0].as<bool>(), index);
        QCOMPARE(txn.exec("SELECT data_type FROM information_schema.columns "
                          "WHERE table_name = 'config_versions' AND column_name = 'config'")[0][0].as<std::string>(),
                 std::string("jsonb"));
    }

    void secondRunIsNoOp()
    {
        const std::string info = freshDatabase();
        QVERIFY(!info.empty());
        pqxx::connection connection(info);
        const auto builtIn = sluice::store::builtInSchemaMigrations();
        QVERIFY(builtIn.ok());
        const SchemaMigrator migrator(*builtIn);
        QVERIFY(migrator.apply(connection).ok());
        const long long firstAppliedAt = scalar(connection, "SELECT sum(extract(epoch FROM applied_at) * 1000000)::bigint FROM schema_migrations");

        const auto again = migrator.apply(connection);
        QVERIFY(again.ok());
        QVERIFY(again->applied.isEmpty());
        QCOMPARE(again->databaseVersion, builtIn->last().version);
        QCOMPARE(scalar(connection, "SELECT count(*) FROM schema_migrations"), (long long)builtIn->size());
        QCOMPARE(scalar(connection, "SELECT sum(extract(epoch FROM applied_at) * 1000000)::bigint FROM schema_migrations"),
                 firstAppliedAt);

        // A fresh connection (a restarted instance) finds nothing to do either.
        pqxx::connection another(info);
        const auto third = migrator.apply(another);
        QVERIFY(third.ok());
        QVERIFY(third->applied.isEmpty());
    }

    void concurrentAppliersDoNotConflict_data()
    {
        QTest::addColumn<bool>("slow");
        QTest::newRow("built-in set") << false;
        // The first migration sleeps, so every applier is sure to arrive while it runs.
        QTest::newRow("slow first migration") << true;
    }

    void concurrentAppliersDoNotConflict()
    {
        QFETCH(bool, slow);
        QList<SchemaMigration> migrations;
        if (slow) {
            migrations = {migration(1, "slow", "CREATE TABLE slow_a (id integer); SELECT pg_sleep(0.5);"),
                          migration(2, "after", "CREATE TABLE slow_b (id integer);")};
        } else {
            const auto builtIn = sluice::store::builtInSchemaMigrations();
            QVERIFY(builtIn.ok());
            migrations = *builtIn;
        }
        const std::string info = freshDatabase();
        QVERIFY(!info.empty());

        constexpr int appliers = 4;
        std::vector<std::unique_ptr<pqxx::connection>> connections;
        for (int index = 0; index < appliers; ++index)
            connections.push_back(std::make_unique<pqxx::connection>(info));
        const SchemaMigrator migrator(migrations);
        std::atomic<int> ready{0};
        std::vector<std::optional<sluice::Result<MigrationReport, sluice::store::StoreError>>> results(appliers);
        std::vector<std::thread> threads;
        for (int index = 0; index < appliers; ++index) {
            threads.emplace_back([&, index] {
                ++ready;
                while (ready.load() < appliers)
                    std::this_thread::yield();
                results[std::size_t(index)].emplace(migrator.apply(*connections[std::size_t(index)]));
            });
        }
        for (std::thread &thread : threads)
            thread.join();

        qsizetype appliedInTotal = 0;
        for (const auto &result : results) {
            QVERIFY(result.has_value());
            QVERIFY2(result->ok(), qPrintable(result->ok() ? QString() : result->error().message));
            QCOMPARE((*result)->databaseVersion, migrations.last().version);
            appliedInTotal += (*result)->applied.size();
        }
        QCOMPARE(appliedInTotal, migrations.size());
        pqxx::connection check(info);
        QCOMPARE(scalar(check, "SELECT count(*) FROM schema_migrations"), (long long)migrations.size());
        QCOMPARE(scalar(check, "SELECT count(DISTINCT version) FROM schema_migrations"), (long long)migrations.size());
        // Every session released the advisory lock.
        QCOMPARE(scalar(check, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"), 0LL);
    }

    void laterMigrationIsAppliedAlone()
    {
        const std::string info = freshDatabase();
        QVERIFY(!info.empty());
        pqxx::connection connection(info);
        QList<SchemaMigration> migrations{migration(1, "one", "CREATE TABLE one (id integer);"),
                                          migration(2, "two", "CREATE TABLE two (id integer);")};
        auto first = SchemaMigrator(migrations).apply(connection);
        QVERIFY(first.ok());
        QCOMPARE(first->applied, (QList<int>{1, 2}));

        migrations.append(migration(3, "three", "ALTER TABLE two ADD COLUMN note text; CREATE TABLE three (id integer);"));
        const auto second = SchemaMigrator(migrations).apply(connection);
        QVERIFY2(second.ok(), qPrintable(second.ok() ? QString() : second.error().message));
        QCOMPARE(second->applied, QList<int>{3});
        QCOMPARE(second->databaseVersion, 3);
        QVERIFY(tableExists(connection, "three"));
        QCOMPARE(scalar(connection, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'two'"), 2LL);
    }

    void failingMigrationLeavesNoTrace()
    {
        const std::string info = freshDatabase();
        QVERIFY(!info.empty());
        pqxx::connection connection(info);
        QList<SchemaMigration> migrations{
            migration(1, "good", "CREATE TABLE good (id integer);"),
            migration(2, "broken", "CREATE TABLE half (id integer); SELECT no_such_function();"),
            migration(3, "later", "CREATE TABLE later (id integer);")};
        const auto failed = SchemaMigrator(migrations).apply(connection);
        QVERIFY(!failed.ok());
        QCOMPARE(failed.error().kind, StoreErrorKind::Server);
        QVERIFY2(failed.error().message.contains(QLatin1String("0002_broken")), qPrintable(failed.error().message));
        QVERIFY2(failed.error().message.contains(QLatin1String("42883")), qPrintable(failed.error().message));
        QVERIFY(tableExists(connection, "good"));
        QVERIFY(!tableExists(connection, "half"));
        QVERIFY(!tableExists(connection, "later"));
        QCOMPARE(scalar(connection, "SELECT max(version) FROM schema_migrations"), 1LL);
        QCOMPARE(scalar(connection, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"), 0LL);

        // The same connection is usable, and a fixed migration goes through.
        migrations[1] = migration(2, "broken", "CREATE TABLE half (id integer);");
        const auto fixed = SchemaMigrator(migrations).apply(connection);
        QVERIFY2(fixed.ok(), qPrintable(fixed.ok() ? QString() : fixed.error().message));
        QCOMPARE(fixed->applied, (QList<int>{2, 3}));
    }

    void changedMigrationIsRefused()
    {
        const std::string info = freshDatabase();
        QVERIFY(!info.empty());
        pqxx::connection connection(info);
        QVERIFY(SchemaMigrator({migration(1, "one", "CREATE TABLE one (id integer);")}).apply(connection).ok());
        const auto changed = SchemaMigrator({migration(1, "one", "CREATE TABLE one (id bigint);"),
                                             migration(2, "two", "CREATE TABLE two (id integer);")})
                                 .apply(connection);
        QVERIFY(!changed.ok());
        QCOMPARE(changed.error().kind, StoreErrorKind::Protocol);
        QVERIFY2(changed.error().message.contains(QLatin1String("0001_one")), qPrintable(changed.error().message));
        QVERIFY(!tableExists(connection, "two"));
    }

    void newerDatabaseIsAccepted()
    {
        const std::string info = freshDatabase();
        QVERIFY(!info.empty());
        pqxx::connection connection(info);
        const QList<SchemaMigration> newer{migration(1, "one", "CREATE TABLE one (id integer);"),
                                           migration(2, "two", "CREATE TABLE two (id integer);")};
        QVERIFY(SchemaMigrator(newer).apply(connection).ok());
        // An older instance, still running during a rolling update, knows only the first.
        const auto older = SchemaMigrator({newer.first()}).apply(connection);
        QVERIFY(older.ok());
        QVERIFY(older->applied.isEmpty());
        QCOMPARE(older->databaseVersion, 2);
    }

    void duplicateVersionsAreRefusedBeforeTouchingTheDatabase()
    {
        const std::string info = freshDatabase();
        QVERIFY(!info.empty());
        pqxx::connection connection(info);
        const auto result = SchemaMigrator({migration(1, "a", "CREATE TABLE a (id integer);"),
                                            migration(1, "b", "CREATE TABLE b (id integer);")})
                                .apply(connection);
        QVERIFY(!result.ok());
        QCOMPARE(result.error().kind, StoreErrorKind::Protocol);
        QVERIFY(!tableExists(connection, "schema_migrations"));
    }

    void lockHeldElsewhereTimesOut()
    {
        const std::string info = freshDatabase();
        QVERIFY(!info.empty());
        SchemaMigratorOptions options;
        options.lockTimeoutMs = 300;
        pqxx::connection holder(info);
        {
            pqxx::nontransaction txn(holder);
            txn.exec_params("SELECT pg_advisory_lock($1)", static_cast<long long>(options.advisoryLockKey));
        }
        pqxx::connection connection(info);
        const auto result = SchemaMigrator({migration(1, "one", "CREATE TABLE one (id integer);")}, options).apply(connection);
        QVERIFY(!result.ok());
        QCOMPARE(result.error().kind, StoreErrorKind::Timeout);
        QVERIFY(!tableExists(connection, "one"));

        // Once the other instance is done, the same connection migrates normally.
        {
            pqxx::nontransaction txn(holder);
            txn.exec_params("SELECT pg_advisory_unlock($1)", static_cast<long long>(options.advisoryLockKey));
        }
        const auto retried = SchemaMigrator({migration(1, "one", "CREATE TABLE one (id integer);")}, options).apply(connection);
        QVERIFY2(retried.ok(), qPrintable(retried.ok() ? QString() : retried.error().message));
        QCOMPARE(retried->applied, QList<int>{1});
        pqxx::nontransaction txn(connection);
        QCOMPARE(txn.exec("SELECT current_setting('lock_timeout')")[0][0].as<std::string>(), std::string("0"));
    }

    void connectionFailuresMapToStoreErrors()
    {
        try {
            pqxx::connection refused(PostgresFixture::unreachableConnectionString().toStdString());
            QFAIL("connected to a port nothing listens on");
        } catch (const std::exception &error) {
            QCOMPARE(sluice::store::storeErrorFromPostgres(error).kind, StoreErrorKind::Refused);
        }
        try {
            pqxx::connection missing(m_postgres->connectionString(QStringLiteral("no_such_database")).toStdString());
            QFAIL("connected to a database that does not exist");
        } catch (const std::exception &error) {
            const auto mapped = sluice::store::storeErrorFromPostgres(error);
            QCOMPARE(mapped.kind, StoreErrorKind::NotConnected);
            QVERIFY(mapped.message.contains(QLatin1String("no_such_database")));
        }
    }
};

QTEST_GUILESS_MAIN(TestPostgresMigrations)
#include "tst_postgresmigrations.moc"
