#include "store/schemamigrator.h"

#include "store/postgreserror.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QRegularExpression>

#include <pqxx/pqxx>

#include <algorithm>
#include <map>
#include <string>

namespace sluice::store {

namespace {

std::string toStd(const QByteArray &bytes)
{
    return std::string(bytes.constData(), std::size_t(bytes.size()));
}

QString label(const SchemaMigration &migration)
{
    return QStringLiteral("%1_%2").arg(migration.version, 4, 10, QLatin1Char('0')).arg(migration.name);
}

struct AppliedMigration {
    std::string name;
    std::string checksum;
};

} // namespace

QByteArray SchemaMigration::checksum() const
{
    return QCryptographicHash::hash(sql, QCryptographicHash::Sha256).toHex();
}

QString builtInMigrationsPath()
{
    return QStringLiteral(":/sluice/store/migrations");
}

Result<QList<SchemaMigration>, StoreError> loadSchemaMigrations(const QString &directory)
{
    static const QRegularExpression pattern(QStringLiteral("^(\\d+)_([A-Za-z0-9_]+)\\.sql$"));
    const QDir dir(directory);
    if (!dir.exists())
        return unexpected(StoreError{StoreErrorKind::Protocol, QStringLiteral("no migrations directory %1").arg(directory)});
    QList<SchemaMigration> migrations;
    const QStringList files = dir.entryList(QDir::Files, QDir::Name);
    for (const QString &fileName : files) {
        const QRegularExpressionMatch match = pattern.match(fileName);
        const int version = match.hasMatch() ? match.captured(1).toInt() : 0;
        if (version <= 0)
            return unexpected(StoreError{StoreErrorKind::Protocol,
                                         QStringLiteral("%1: a migration is named NNNN_name.sql with NNNN > 0").arg(fileName)});
        QFile file(dir.filePath(fileName));
        if (!file.open(QIODevice::ReadOnly))
            return unexpected(StoreError{StoreErrorKind::Protocol,
                                         QStringLiteral("cannot read %1: %2").arg(file.fileName(), file.errorString())});
        migrations.append({version, match.captured(2), file.readAll()});
    }
    if (migrations.isEmpty())
        return unexpected(StoreError{StoreErrorKind::Protocol, QStringLiteral("no migrations in %1").arg(directory)});
    std::sort(migrations.begin(), migrations.end(),
              [](const SchemaMigration &a, const SchemaMigration &b) { return a.version < b.version; });
    for (qsizetype index = 1; index < migrations.size(); ++index) {
        if (migrations[index].version == migrations[index - 1].version)
            return unexpected(StoreError{StoreErrorKind::Protocol,
                                         QStringLiteral("two migrations numbered %1").arg(migrations[index].version)});
    }
    return migrations;
}

Result<QList<SchemaMigration>, StoreError> builtInSchemaMigrations()
{
    return loadSchemaMigrations(builtInMigrationsPath());
}

SchemaMigrator::SchemaMigrator(QList<SchemaMigration> migrations, SchemaMigratorOptions options)
    : m_migrations(std::move(migrations)), m_options(options)
{
    std::stable_sort(m_migrations.begin(), m_migrations.end(),
                     [](const SchemaMigration &a, const SchemaMigration &b) { return a.version < b.version; });
}

Result<MigrationReport, StoreError> SchemaMigrator::apply(pqxx::connection_base &connection) const
{
    for (qsizetype index = 0; index < m_migrations.size(); ++index) {
        const int version = m_migrations[index].version;
        if (version <= 0 || (index > 0 && m_migrations[index - 1].version == version))
            return unexpected(StoreError{StoreErrorKind::Protocol,
                                         QStringLiteral("migration versions must be positive and unique (%1)").arg(version)});
    }
    try {
        // lock_timeout bounds the wait for the advisory lock too; set for the session (the
        // lock outlives single transactions) and reset when the run ends.
        pqxx::nontransaction txn(connection);
        txn.exec_params("SELECT set_config('lock_timeout', $1, false)", std::to_string(std::max(0, m_options.lockTimeoutMs)));
        txn.exec_params("SELECT pg_advisory_lock($1)", static_cast<long long>(m_options.advisoryLockKey));
    } catch (const std::exception &error) {
        return unexpected(storeErrorFromPostgres(error));
    }

    Result<MigrationReport, StoreError> result = applyLocked(connection);

    try {
        pqxx::nontransaction txn(connection);
        txn.exec_params("SELECT pg_advisory_unlock($1)", static_cast<long long>(m_options.advisoryLockKey));
        txn.exec("RESET lock_timeout");
    } catch (const std::exception &error) {
        // The session is unusable; the server releases its advisory locks when it ends.
        if (result.ok())
            return unexpected(storeErrorFromPostgres(error));
    }
    return result;
}

Result<MigrationReport, StoreError> SchemaMigrator::applyLocked(pqxx::connection_base &connection) const
{
    MigrationReport report;
    std::map<int, AppliedMigration> applied;
    try {
        pqxx::work txn(connection);
        if (!txn.exec("SELECT to_regclass('schema_migrations') IS NOT NULL")[0][0].as<bool>()) {
            txn.exec("CREATE TABLE schema_migrations ("
                     " version integer PRIMARY KEY,"
                     " name text NOT NULL,"
                     " checksum text NOT NULL,"
                     " applied_at timestamptz NOT NULL DEFAULT now())");
        }
        for (const auto &row : txn.exec("SELECT version, name, checksum FROM schema_migrations ORDER BY version"))
            applied[row[0].as<int>()] = {row[1].as<std::string>(), row[2].as<std::string>()};
        txn.commit();
    } catch (const std::exception &error) {
        return unexpected(storeErrorFromPostgres(error));
    }

    for (const SchemaMigration &migration : m_migrations) {
        const std::string checksum = toStd(migration.checksum());
        if (const auto found = applied.find(migration.version); found != applied.end()) {
            if (found->second.checksum != checksum)
                return unexpected(StoreError{
                    StoreErrorKind::Protocol,
                    QStringLiteral("migration %1 was changed after it was applied (recorded checksum %2, now %3); "
                                   "add a new migration instead")
                        .arg(label(migration), QString::fromStdString(found->second.checksum),
                             QString::fromStdString(checksum))});
            continue;
        }
        try {
            pqxx::work txn(connection);
            txn.exec(toStd(migration.sql));
            txn.exec_params("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                            migration.version, migration.name.toStdString(), checksum);
            txn.commit();
        } catch (const std::exception &error) {
            StoreError storeError = storeErrorFromPostgres(error);
            storeError.message = QStringLiteral("migration %1: %2").arg(label(migration), storeError.message);
            return unexpected(std::move(storeError));
        }
        applied[migration.version] = {migration.name.toStdString(), checksum};
        report.applied.append(migration.version);
    }
    report.databaseVersion = applied.empty() ? 0 : applied.rbegin()->first;
    return report;
}

} // namespace sluice::store
