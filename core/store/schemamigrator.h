#pragma once

#include "policy/result.h"
#include "store/storeerror.h"

#include <QByteArray>
#include <QList>
#include <QString>

namespace pqxx {
class connection_base;
}

namespace sluice::store {

// One numbered schema change: the file NNNN_name.sql.
struct SchemaMigration {
    int version = 0;  // NNNN; > 0, unique within a set, applied in ascending order
    QString name;     // "usage" for 0001_usage.sql
    QByteArray sql;   // one or more statements, run in one transaction

    // SHA-256 of `sql`, hex: recorded when applied, compared on every later run.
    QByteArray checksum() const;
};

struct MigrationReport {
    QList<int> applied;      // versions applied by this call, ascending; empty when up to date
    int databaseVersion = 0; // the highest version recorded in the database afterwards
};

// Where the built-in migrations (core/store/migrations/*.sql) are compiled in.
QString builtInMigrationsPath(); // ":/sluice/store/migrations"

// Reads every NNNN_name.sql in `directory` (a file system path or a ":/" resource path),
// sorted by version. Files not named like that are an error, not skipped, so a typo
// cannot silently leave a migration out; so are duplicate versions and an empty set.
Result<QList<SchemaMigration>, StoreError> loadSchemaMigrations(const QString &directory);
Result<QList<SchemaMigration>, StoreError> builtInSchemaMigrations();

struct SchemaMigratorOptions {
    // Longest wait for another instance's migration run (and for any table lock a
    // migration needs); past it apply() fails with Timeout and changes nothing more.
    int lockTimeoutMs = 60000;
    // The pg_advisory_lock key every Sluice instance serialises its migration runs on.
    qint64 advisoryLockKey = 0x736c7569636531; // "sluice1"
};

// Brings a database's schema up to date: every migration not yet recorded in
// schema_migrations is applied, in version order, each in its own transaction together
// with its schema_migrations row, so a failing migration leaves no trace and the ones
// before it stay applied. The whole run holds a session-level pg_advisory_lock, so
// instances starting at once apply each migration exactly once; the others wait, then
// find nothing to do. A migration already applied whose SQL has since changed (checksum
// mismatch) fails the run: migrations are append-only. Versions in the database that this
// set does not know (a newer instance migrated first) are accepted.
//
// Migrations must be transactional (no CREATE INDEX CONCURRENTLY, no VACUUM).
//
// apply() blocks on the network: call it on the thread that owns the connection (a
// worker thread, never an event loop that serves requests). It catches every libpqxx
// exception and returns it as a StoreError.
class SchemaMigrator {
public:
    explicit SchemaMigrator(QList<SchemaMigration> migrations, SchemaMigratorOptions options = {});

    const QList<SchemaMigration> &migrations() const { return m_migrations; }

    Result<MigrationReport, StoreError> apply(pqxx::connection_base &connection) const;

private:
    Result<MigrationReport, StoreError> applyLocked(pqxx::connection_base &connection) const;

    QList<SchemaMigration> m_migrations; // ascending version
    SchemaMigratorOptions m_options;
};

} // namespace sluice::store
