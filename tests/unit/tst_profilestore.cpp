#include <QAbstractItemModelTester>
#include <QFile>
#include <QMetaObject>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "models/profilelistmodel.h"
#include "models/profilestore.h"
#include "models/sessionsecretstore.h"

#include <optional>

using namespace sluice::models;

namespace {

const QString kToken = QStringLiteral("tok-3f9a1c77-admin");
const QString kRedisPassword = QStringLiteral("redis-pw-8d2e41");
const QString kPostgresWithPassword = QStringLiteral("host=db user=sluice password=pg-pw-55c0aa dbname=sluice");

ConnectionProfile makeProfile(const QString &name)
{
    ConnectionProfile profile;
    profile.name = name;
    profile.environment = EnvironmentTag::Staging;
    profile.adminUrls = {QStringLiteral("http://10.0.0.7:9090"), QStringLiteral("http://10.0.0.8:9090")};
    profile.prometheusUrl = QStringLiteral("http://prometheus:9090");
    profile.redis = {QStringLiteral("redis.internal"), 6380, 3, QStringLiteral("console")};
    profile.readOnly = true;
    profile.refreshIntervalSeconds = 2;
    return profile;
}

ConnectionProfile withSecrets(ConnectionProfile profile)
{
    profile.adminToken = kToken;
    profile.redisPassword = kRedisPassword;
    profile.postgresConnection = kPostgresWithPassword;
    return profile;
}

QByteArray fileBytes(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return file.readAll();
}

QString secretOf(const std::optional<QString> &secret)
{
    return secret ? *secret : QStringLiteral("<not loaded>");
}

// Saves and waits for the secret operations; returns their failures.
QStringList saveAndWait(ProfileStore &store, const ConnectionProfile &profile, const QString &previousName = {})
{
    QObject context;
    std::optional<QStringList> failures;
    const auto saved = store.save(profile, previousName, &context, [&](QStringList result) { failures = result; });
    if (!saved)
        return {QStringLiteral("not saved: ") + saved.error().first().toString()};
    if (!QTest::qWaitFor([&] { return failures.has_value(); }, 5000))
        return {QStringLiteral("timed out")};
    return *failures;
}

sluice::Result<ConnectionProfile, QString> loadAndWait(ProfileStore &store, const QString &name)
{
    QObject context;
    std::optional<sluice::Result<ConnectionProfile, QString>> loaded;
    store.loadSecrets(name, &context, [&](sluice::Result<ConnectionProfile, QString> result) { loaded = result; });
    if (!QTest::qWaitFor([&] { return loaded.has_value(); }, 5000))
        return sluice::unexpected(QStringLiteral("timed out"));
    return *loaded;
}

// A secret store whose writes fail, as a locked keychain's would.
class RefusingSecretStore final : public SecretStore {
public:
    void read(const QString &, QObject *context, ReadCallback done) override
    {
        QMetaObject::invokeMethod(
            context, [done] { done(sluice::unexpected(SecretError{SecretError::Kind::AccessDenied, QStringLiteral("locked")})); },
            Qt::QueuedConnection);
    }
    void write(const QString &, const QString &, QObject *context, WriteCallback done) override
    {
        QMetaObject::invokeMethod(
            context, [done] { done(SecretError{SecretError::Kind::AccessDenied, QStringLiteral("locked")}); },
            Qt::QueuedConnection);
    }
    void remove(const QString &, QObject *context, WriteCallback done) override
    {
        QMetaObject::invokeMethod(context, [done] { done(std::nullopt); }, Qt::QueuedConnection);
    }
};

} // namespace

class TestProfileStore : public QObject {
    Q_OBJECT

private slots:
    void roundTripKeepsSecretsOutOfTheSettingsFile()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        SessionSecretStore secrets;
        QString settingsPath;
        {
            ProfileStore store(dir.path(), secrets);
            settingsPath = store.settingsFilePath();
            QCOMPARE(saveAndWait(store, withSecrets(makeProfile(QStringLiteral("staging-eu")))), QStringList());
            QVERIFY(store.profile(QStringLiteral("staging-eu")));
            QVERIFY(!store.profile(QStringLiteral("staging-eu"))->adminToken); // never kept in the list
        }
        QVERIFY(settingsPath.startsWith(dir.path()));
        const QByteArray onDisk = fileBytes(settingsPath);
        QVERIFY(onDisk.contains("staging-eu"));
        QVERIFY(onDisk.contains("redis.internal"));
        QVERIFY(!onDisk.contains(kToken.toUtf8()));
        QVERIFY(!onDisk.contains(kRedisPassword.toUtf8()));
        QVERIFY(!onDisk.contains("pg-pw-55c0aa"));
        QVERIFY(!onDisk.contains("dbname=sluice")); // the whole string is the secret
        QCOMPARE(secrets.keys().size(), 3);
        QVERIFY(secrets.contains(QStringLiteral("staging-eu/admin_token")));
        QVERIFY(secrets.contains(QStringLiteral("staging-eu/redis_password")));
        QVERIFY(secrets.contains(QStringLiteral("staging-eu/postgres")));

        ProfileStore reopened(dir.path(), secrets);
        QCOMPARE(reopened.count(), 1);
        ConnectionProfile expected = makeProfile(QStringLiteral("staging-eu"));
        QCOMPARE(reopened.profiles().first(), expected); // secrets nullopt, postgres too
        const auto loaded = loadAndWait(reopened, QStringLiteral("staging-eu"));
        QVERIFY2(loaded.ok(), qPrintable(loaded.ok() ? QString() : loaded.error()));
        QCOMPARE(*loaded, withSecrets(expected));
    }

    void plainPostgresStringIsSettings()
    {
        QTemporaryDir dir;
        SessionSecretStore secrets;
        ProfileStore store(dir.path(), secrets);
        ConnectionProfile profile = makeProfile(QStringLiteral("dev"));
        profile.postgresConnection = QStringLiteral("host=db user=sluice");
        QCOMPARE(saveAndWait(store, profile), QStringList());
        QVERIFY(fileBytes(store.settingsFilePath()).contains("host=db user=sluice"));
        QVERIFY(!secrets.contains(QStringLiteral("dev/postgres")));
        ProfileStore reopened(dir.path(), secrets);
        QCOMPARE(secretOf(reopened.profile(QStringLiteral("dev"))->postgresConnection), QStringLiteral("host=db user=sluice"));
        const auto loaded = loadAndWait(reopened, QStringLiteral("dev"));
        QVERIFY(loaded.ok());
        QCOMPARE(secretOf(loaded->adminToken), QString()); // never stored: empty
        QCOMPARE(secretOf(loaded->postgresConnection), QStringLiteral("host=db user=sluice"));

        // Gaining a password moves it out of the file.
        profile.postgresConnection = QStringLiteral("host=db user=sluice password=later-secret");
        QCOMPARE(saveAndWait(store, profile, QStringLiteral("dev")), QStringList());
        QVERIFY(!fileBytes(store.settingsFilePath()).contains("later-secret"));
        QVERIFY(!fileBytes(store.settingsFilePath()).contains("host=db user=sluice"));
        QVERIFY(secrets.contains(QStringLiteral("dev/postgres")));
        QVERIFY(!store.profile(QStringLiteral("dev"))->postgresConnection);
    }

    void editKeepsOrReplacesSecrets()
    {
        QTemporaryDir dir;
        SessionSecretStore secrets;
        ProfileStore store(dir.path(), secrets);
        QCOMPARE(saveAndWait(store, withSecrets(makeProfile(QStringLiteral("p")))), QStringList());

        // nullopt secrets: left as stored.
        ConnectionProfile edited = makeProfile(QStringLiteral("p"));
        edited.refreshIntervalSeconds = 9;
        QCOMPARE(saveAndWait(store, edited, QStringLiteral("p")), QStringList());
        auto loaded = loadAndWait(store, QStringLiteral("p"));
        QVERIFY(loaded.ok());
        QCOMPARE(secretOf(loaded->adminToken), kToken);
        QCOMPARE(secretOf(loaded->postgresConnection), kPostgresWithPassword);
        QCOMPARE(loaded->refreshIntervalSeconds, 9);

        // A value replaces; an empty value removes.
        edited.adminToken = QStringLiteral("new-token");
        edited.redisPassword = QString();
        QCOMPARE(saveAndWait(store, edited, QStringLiteral("p")), QStringList());
        QVERIFY(!secrets.contains(QStringLiteral("p/redis_password")));
        loaded = loadAndWait(store, QStringLiteral("p"));
        QVERIFY(loaded.ok());
        QCOMPARE(secretOf(loaded->adminToken), QStringLiteral("new-token"));
        QCOMPARE(secretOf(loaded->redisPassword), QString());
    }

    void renameMovesSecretsAlertsAndLastProfile()
    {
        QTemporaryDir dir;
        SessionSecretStore secrets;
        ProfileStore store(dir.path(), secrets);
        QCOMPARE(saveAndWait(store, makeProfile(QStringLiteral("first"))), QStringList());
        QCOMPARE(saveAndWait(store, withSecrets(makeProfile(QStringLiteral("old")))), QStringList());
        AlertRule rule;
        rule.name = QStringLiteral("slow");
        rule.valueKey = QString::fromLatin1(kLatencyP95SecondsKey);
        rule.threshold = 2.5;
        rule.forSeconds = 60;
        QVERIFY(store.setAlertRules(QStringLiteral("old"), {rule}));
        store.setLastProfile(QStringLiteral("old"));

        QSignalSpy changed(&store, &ProfileStore::profileChanged);
        QCOMPARE(saveAndWait(store, makeProfile(QStringLiteral("new")), QStringLiteral("old")), QStringList());
        QCOMPARE(changed.count(), 1);
        QCOMPARE(changed.at(0).at(0).toInt(), 1); // keeps its place
        QCOMPARE(store.names(), (QStringList{QStringLiteral("first"), QStringLiteral("new")}));
        QCOMPARE(store.lastProfile(), QStringLiteral("new"));
        QCOMPARE(store.alertRules(QStringLiteral("new")), QList<AlertRule>{rule});
        QVERIFY(!secrets.contains(QStringLiteral("old/admin_token")));
        QVERIFY(!secrets.contains(QStringLiteral("old/postgres")));
        const auto loaded = loadAndWait(store, QStringLiteral("new"));
        QVERIFY(loaded.ok());
        QCOMPARE(secretOf(loaded->adminToken), kToken);
        QCOMPARE(secretOf(loaded->redisPassword), kRedisPassword);
        QCOMPARE(secretOf(loaded->postgresConnection), kPostgresWithPassword);

        ProfileStore reopened(dir.path(), secrets);
        QCOMPARE(reopened.names(), (QStringList{QStringLiteral("first"), QStringLiteral("new")}));
        QCOMPARE(reopened.alertRules(QStringLiteral("new")), QList<AlertRule>{rule});
        QCOMPARE(reopened.lastProfile(), QStringLiteral("new"));
    }

    void removeDropsProfileSecretsAndLastProfile()
    {
        QTemporaryDir dir;
        SessionSecretStore secrets;
        ProfileStore store(dir.path(), secrets);
        QCOMPARE(saveAndWait(store, withSecrets(makeProfile(QStringLiteral("gone")))), QStringList());
        QVERIFY(store.setAlertRules(QStringLiteral("gone"), {AlertRule{QStringLiteral("r"), QStringLiteral("k"),
                                                                       AlertComparator::Less, 1.0, 0, false}}));
        store.setLastProfile(QStringLiteral("gone"));
        QSignalSpy removed(&store, &ProfileStore::profileRemoved);
        QObject context;
        bool done = false;
        QVERIFY(store.remove(QStringLiteral("gone"), &context, [&](const QStringList &failures) { done = failures.isEmpty(); }));
        QVERIFY(!store.remove(QStringLiteral("gone")));
        QCOMPARE(removed.count(), 1);
        QTRY_VERIFY(done);
        QVERIFY(secrets.keys().isEmpty());
        QCOMPARE(store.lastProfile(), QString());
        const QByteArray onDisk = fileBytes(store.settingsFilePath());
        QVERIFY(!onDisk.contains("gone"));
        QCOMPARE(ProfileStore(dir.path(), secrets).count(), 0);
    }

    void invalidSavesChangeNothing()
    {
        QTemporaryDir dir;
        SessionSecretStore secrets;
        ProfileStore store(dir.path(), secrets);
        QCOMPARE(saveAndWait(store, makeProfile(QStringLiteral("a"))), QStringList());
        QCOMPARE(saveAndWait(store, makeProfile(QStringLiteral("b"))), QStringList());
        QSignalSpy inserted(&store, &ProfileStore::profileInserted);

        const auto duplicate = store.save(withSecrets(makeProfile(QStringLiteral("a"))));
        QVERIFY(!duplicate);
        QCOMPARE(duplicate.error(), (QList<FieldIssue>{{QStringLiteral("name"),
                                                        QStringLiteral("a profile named \"a\" already exists")}}));
        const auto renameOntoOther = store.save(makeProfile(QStringLiteral("b")), QStringLiteral("a"));
        QVERIFY(!renameOntoOther);
        const auto unknown = store.save(makeProfile(QStringLiteral("c")), QStringLiteral("zzz"));
        QVERIFY(!unknown);
        QCOMPARE(unknown.error().first().toString(), QStringLiteral("name: no profile named \"zzz\" to replace"));
        ConnectionProfile bad = makeProfile(QStringLiteral("c"));
        bad.redis.port = 0;
        bad.adminUrls = {QStringLiteral("nonsense")};
        const auto invalid = store.save(bad);
        QVERIFY(!invalid);
        QCOMPARE(invalid.error().size(), 2);
        QCOMPARE(invalid.error().at(0).field, QStringLiteral("admin_urls[0]"));
        QCOMPARE(invalid.error().at(1).toString(), QStringLiteral("redis.port: 0 is out of range 1..65535"));

        QCOMPARE(inserted.count(), 0);
        QCOMPARE(store.names(), (QStringList{QStringLiteral("a"), QStringLiteral("b")}));
        QTest::qWait(50); // let any wrongly started secret write land
        QVERIFY(secrets.keys().isEmpty());
        // Saving under its own name is not a duplicate.
        QCOMPARE(saveAndWait(store, makeProfile(QStringLiteral("a")), QStringLiteral("a")), QStringList());
    }

    void secretFailuresAreReported()
    {
        QTemporaryDir dir;
        RefusingSecretStore secrets;
        ProfileStore store(dir.path(), secrets);
        QSignalSpy failed(&store, &ProfileStore::secretOperationFailed);
        ConnectionProfile profile = makeProfile(QStringLiteral("locked"));
        profile.adminToken = QStringLiteral("t");
        QCOMPARE(saveAndWait(store, profile), QStringList{QStringLiteral("admin_token: locked")});
        QCOMPARE(failed.count(), 1);
        QCOMPARE(failed.at(0).at(0).toString(), QStringLiteral("locked"));
        QVERIFY(store.profile(QStringLiteral("locked"))); // the settings part is saved
        const auto loaded = loadAndWait(store, QStringLiteral("locked"));
        QVERIFY(!loaded);
        QCOMPARE(loaded.error(), QStringLiteral("admin_token: locked; redis_password: locked"));
        QCOMPARE(loadAndWait(store, QStringLiteral("nobody")).error(), QStringLiteral("no profile named \"nobody\""));
    }

    void exportAndImport()
    {
        QTemporaryDir dir;
        SessionSecretStore secrets;
        ProfileStore store(dir.filePath(QStringLiteral("one")), secrets);
        QCOMPARE(saveAndWait(store, withSecrets(makeProfile(QStringLiteral("x")))), QStringList());
        ConnectionProfile plain = makeProfile(QStringLiteral("y"));
        plain.postgresConnection = QStringLiteral("host=db user=sluice");
        QCOMPARE(saveAndWait(store, plain), QStringList());

        const QString exportPath = dir.filePath(QStringLiteral("profiles.json"));
        const auto exported = store.exportProfiles(exportPath);
        QVERIFY(exported.ok());
        QCOMPARE(*exported, 2);
        const QByteArray json = fileBytes(exportPath);
        QVERIFY(!json.contains(kToken.toUtf8()));
        QVERIFY(!json.contains(kRedisPassword.toUtf8()));
        QVERIFY(!json.contains("pg-pw-55c0aa"));
        QVERIFY(json.contains("host=db user=sluice"));
        QVERIFY(!store.exportProfiles(exportPath, {QStringLiteral("nobody")}));

        SessionSecretStore otherSecrets;
        ProfileStore other(dir.filePath(QStringLiteral("two")), otherSecrets);
        QCOMPARE(saveAndWait(other, makeProfile(QStringLiteral("y"))), QStringList());
        const auto report = other.importProfiles(exportPath);
        QVERIFY(report.ok());
        QCOMPARE(report->imported, QStringList{QStringLiteral("x")});
        QCOMPARE(report->rejected, QStringList{QStringLiteral("y: name: a profile named \"y\" already exists")});
        QVERIFY(report->ignoredSecrets.isEmpty());
        QCOMPARE(other.profile(QStringLiteral("x"))->redis, makeProfile(QStringLiteral("x")).redis);
        QTest::qWait(50);
        QVERIFY(otherSecrets.keys().isEmpty());

        // A hand-written file with secrets: imported without them, and said so.
        const QString withSecretsPath = dir.filePath(QStringLiteral("secrets.json"));
        QFile file(withSecretsPath);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("{\"profiles\": [{\"name\": \"z\", \"admin_urls\": [\"http://z:1\"], \"admin_token\": \"leaked\"}]}");
        file.close();
        const auto secretReport = other.importProfiles(withSecretsPath);
        QVERIFY(secretReport.ok());
        QCOMPARE(secretReport->imported, QStringList{QStringLiteral("z")});
        QCOMPARE(secretReport->ignoredSecrets,
                 QStringList{QStringLiteral("z: ignored admin_token (secrets are never imported)")});
        QVERIFY(!fileBytes(other.settingsFilePath()).contains("leaked"));
        QTest::qWait(50);
        QVERIFY(otherSecrets.keys().isEmpty());

        const auto missing = other.importProfiles(dir.filePath(QStringLiteral("absent.json")));
        QVERIFY(!missing);
        QVERIFY(missing.error().startsWith(QStringLiteral("cannot read ")));
    }

    void listModelFollowsTheStore()
    {
        QTemporaryDir dir;
        SessionSecretStore secrets;
        ProfileStore store(dir.path(), secrets);
        QCOMPARE(saveAndWait(store, makeProfile(QStringLiteral("existing"))), QStringList());
        ProfileListModel model(store);
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        QCOMPARE(model.rowCount(), 1);

        ConnectionProfile production = makeProfile(QStringLiteral("prod"));
        production.environment = EnvironmentTag::Production;
        QCOMPARE(saveAndWait(store, production), QStringList());
        QCOMPARE(model.rowCount(), 2);
        const QModelIndex prod = model.index(1);
        QCOMPARE(prod.data().toString(), QStringLiteral("prod"));
        QCOMPARE(prod.data(Qt::DecorationRole).value<QColor>(), defaultTagColour(EnvironmentTag::Production));
        QCOMPARE(prod.data(ProfileListModel::EnvironmentRole).toInt(), int(EnvironmentTag::Production));
        QCOMPARE(prod.data(ProfileListModel::EnvironmentLabelRole).toString(), QStringLiteral("production"));
        QCOMPARE(prod.data(ProfileListModel::ReadOnlyRole).toBool(), true);
        QCOMPARE(prod.data(Qt::ToolTipRole).toString(), QStringLiteral("production · read-only"));

        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        production.environment = EnvironmentTag::Custom;
        production.customEnvironment = QStringLiteral("perf");
        production.colour = QColor(0x10, 0x20, 0x30);
        production.readOnly = false;
        QCOMPARE(saveAndWait(store, production, QStringLiteral("prod")), QStringList());
        QCOMPARE(changed.count(), 1);
        QCOMPARE(model.index(1).data(Qt::DecorationRole).value<QColor>(), QColor(0x10, 0x20, 0x30));
        QCOMPARE(model.index(1).data(ProfileListModel::EnvironmentLabelRole).toString(), QStringLiteral("perf"));
        QCOMPARE(model.index(1).data(ProfileListModel::ReadOnlyRole).toBool(), false);

        QVERIFY(store.remove(QStringLiteral("existing")));
        QCOMPARE(model.rowCount(), 1);
        QCOMPARE(model.rowOf(QStringLiteral("prod")), 0);
        QCOMPARE(model.index(0).data().toString(), QStringLiteral("prod"));
    }
};

QTEST_GUILESS_MAIN(TestProfileStore)
#include "tst_profilestore.moc"
