#include "models/profilestore.h"

#include "models/profilejson.h"

#include <QDir>
#include <QFile>
#include <QMetaObject>
#include <QPointer>
#include <QSaveFile>
#include <QUuid>

namespace sluice::models {

namespace {

const QString kGroupListKey = QStringLiteral("profile_groups");
const QString kLastProfileKey = QStringLiteral("last_profile");
const QString kAdminTokenField = QStringLiteral("admin_token");
const QString kRedisPasswordField = QStringLiteral("redis_password");
const QString kPostgresField = QStringLiteral("postgres");

} // namespace

// Counts the secret operations of one save/remove/load and reports once the last one
// finished. Shared by the operations' callbacks; they all run on the store's thread.
class ProfileStore::SecretBatch {
public:
    SecretBatch(ProfileStore *store, QString profileName, QObject *context, SecretsCallback done)
        : m_store(store), m_profileName(std::move(profileName)), m_context(context), m_done(std::move(done))
    {
    }

    void begin() { ++m_pending; }
    void fail(const QString &field, const SecretError &error)
    {
        const QString message = field + QStringLiteral(": ") + error.message;
        m_failures.append(message);
        emit m_store->secretOperationFailed(m_profileName, message);
    }
    void end()
    {
        if (--m_pending == 0 && m_sealed)
            finish();
    }
    // No more operations will begin; finishes now (queued) if none is pending.
    void seal(const std::shared_ptr<SecretBatch> &self)
    {
        m_sealed = true;
        if (m_pending == 0)
            QMetaObject::invokeMethod(m_store, [self] { self->finish(); }, Qt::QueuedConnection);
    }

private:
    void finish()
    {
        if (m_done && m_context)
            m_done(m_failures);
    }

    ProfileStore *m_store;
    QString m_profileName;
    QPointer<QObject> m_context;
    SecretsCallback m_done;
    QStringList m_failures;
    int m_pending = 0;
    bool m_sealed = false;
};

ProfileStore::ProfileStore(const QString &settingsDirectory, SecretStore &secrets, QObject *parent)
    : QObject(parent), m_secrets(secrets)
{
    QDir().mkpath(settingsDirectory);
    m_settings = std::make_unique<QSettings>(QDir(settingsDirectory).filePath(QStringLiteral("profiles.ini")),
                                             QSettings::IniFormat);
    const QStringList groups = m_settings->value(kGroupListKey).toStringList();
    QStringList seen;
    for (const QString &group : groups) {
        Entry entry = readEntry(group);
        if (entry.profile.name.isEmpty() || seen.contains(entry.profile.name))
            continue;
        seen.append(entry.profile.name);
        m_entries.append(entry);
    }
}

ProfileStore::~ProfileStore() = default;

QString ProfileStore::settingsFilePath() const
{
    return m_settings->fileName();
}

QList<ConnectionProfile> ProfileStore::profiles() const
{
    QList<ConnectionProfile> result;
    result.reserve(m_entries.size());
    for (const Entry &entry : m_entries)
        result.append(entry.profile);
    return result;
}

QStringList ProfileStore::names() const
{
    QStringList result;
    result.reserve(m_entries.size());
    for (const Entry &entry : m_entries)
        result.append(entry.profile.name);
    return result;
}

int ProfileStore::indexOf(const QString &name) const
{
    for (int i = 0; i < int(m_entries.size()); ++i) {
        if (m_entries[i].profile.name == name)
            return i;
    }
    return -1;
}

std::optional<ConnectionProfile> ProfileStore::profile(const QString &name) const
{
    const int index = indexOf(name);
    if (index < 0)
        return std::nullopt;
    return m_entries[index].profile;
}

QString ProfileStore::secretKey(const QString &profileName, const QString &field)
{
    return profileName + QLatin1Char('/') + field;
}

ProfileStore::Entry ProfileStore::readEntry(const QString &group)
{
    Entry entry;
    entry.group = group;
    ConnectionProfile &profile = entry.profile;
    QSettings &settings = *m_settings;
    settings.beginGroup(group);
    profile.name = settings.value(QStringLiteral("name")).toString();
    profile.environment = environmentTagFromName(settings.value(QStringLiteral("environment")).toString())
                              .value_or(EnvironmentTag::Development);
    profile.customEnvironment = settings.value(QStringLiteral("environment_label")).toString();
    const QString colour = settings.value(QStringLiteral("colour")).toString();
    if (!colour.isEmpty())
        profile.colour = QColor::fromString(colour);
    profile.adminUrls = settings.value(QStringLiteral("admin_urls")).toStringList();
    profile.discoverFromRedis = settings.value(QStringLiteral("discover_from_redis"), false).toBool();
    profile.prometheusUrl = settings.value(QStringLiteral("prometheus_url")).toString();
    profile.redis.host = settings.value(QStringLiteral("redis/host")).toString();
    profile.redis.port = settings.value(QStringLiteral("redis/port"), 6379).toInt();
    profile.redis.db = settings.value(QStringLiteral("redis/db"), 0).toInt();
    profile.redis.user = settings.value(QStringLiteral("redis/user")).toString();
    entry.postgresInSecretStore = settings.value(QStringLiteral("postgres_in_secret_store"), false).toBool();
    if (!entry.postgresInSecretStore)
        profile.postgresConnection = settings.value(QStringLiteral("postgres")).toString();
    profile.readOnly = settings.value(QStringLiteral("read_only"), false).toBool();
    profile.refreshIntervalSeconds = settings.value(QStringLiteral("refresh_interval_seconds"), 5).toInt();
    settings.endGroup();
    return entry;
}

void ProfileStore::writeEntry(const Entry &entry)
{
    const ConnectionProfile &profile = entry.profile;
    QSettings &settings = *m_settings;
    settings.beginGroup(entry.group);
    // Replace the profile's own keys; its "alerts" subgroup stays.
    for (const QString &key : settings.childKeys())
        settings.remove(key);
    settings.remove(QStringLiteral("redis"));
    settings.setValue(QStringLiteral("name"), profile.name);
    settings.setValue(QStringLiteral("environment"), environmentTagName(profile.environment));
    if (profile.environment == EnvironmentTag::Custom)
        settings.setValue(QStringLiteral("environment_label"), profile.customEnvironment);
    if (profile.colour.isValid())
        settings.setValue(QStringLiteral("colour"), profile.colour.name(QColor::HexRgb));
    settings.setValue(QStringLiteral("admin_urls"), profile.adminUrls);
    settings.setValue(QStringLiteral("discover_from_redis"), profile.discoverFromRedis);
    settings.setValue(QStringLiteral("prometheus_url"), profile.prometheusUrl);
    settings.setValue(QStringLiteral("redis/host"), profile.redis.host);
    settings.setValue(QStringLiteral("redis/port"), profile.redis.port);
    settings.setValue(QStringLiteral("redis/db"), profile.redis.db);
    settings.setValue(QStringLiteral("redis/user"), profile.redis.user);
    settings.setValue(QStringLiteral("postgres_in_secret_store"), entry.postgresInSecretStore);
    if (!entry.postgresInSecretStore)
        settings.setValue(QStringLiteral("postgres"), profile.postgresConnection.value_or(QString()));
    settings.setValue(QStringLiteral("read_only"), profile.readOnly);
    settings.setValue(QStringLiteral("refresh_interval_seconds"), profile.refreshIntervalSeconds);
    settings.endGroup();
}

void ProfileStore::writeGroupList()
{
    QStringList groups;
    for (const Entry &entry : m_entries)
        groups.append(entry.group);
    m_settings->setValue(kGroupListKey, groups);
}

bool ProfileStore::syncSettings()
{
    m_settings->sync();
    return m_settings->status() == QSettings::NoError;
}

Result<int, QList<FieldIssue>> ProfileStore::save(const ConnectionProfile &profile, const QString &previousName,
                                                  QObject *context, SecretsCallback done)
{
    int index = -1;
    if (!previousName.isEmpty()) {
        index = indexOf(previousName);
        if (index < 0)
            return unexpected(QList<FieldIssue>{
                {QStringLiteral("name"), QStringLiteral("no profile named \"%1\" to replace").arg(previousName)}});
    }
    QStringList otherNames = names();
    if (index >= 0)
        otherNames.removeAt(index);
    if (const QList<FieldIssue> issues = validateProfile(profile, otherNames); !issues.isEmpty())
        return unexpected(issues);
    if (!m_settings->isWritable()) {
        return unexpected(QList<FieldIssue>{
            {QStringLiteral("settings"), QStringLiteral("cannot write %1").arg(m_settings->fileName())}});
    }

    const bool existed = index >= 0;
    const Entry previous = existed ? m_entries[index] : Entry{};
    Entry saved;
    saved.group = existed ? previous.group : QStringLiteral("profile-") + QUuid::createUuid().toString(QUuid::WithoutBraces);
    saved.profile = profile;
    saved.profile.adminToken.reset();
    saved.profile.redisPassword.reset();
    if (profile.postgresConnection) {
        saved.postgresInSecretStore = profile.postgresIsSecret();
        if (saved.postgresInSecretStore)
            saved.profile.postgresConnection.reset();
    } else if (existed) {
        saved.postgresInSecretStore = previous.postgresInSecretStore;
        saved.profile.postgresConnection = previous.profile.postgresConnection;
    } else {
        saved.profile.postgresConnection = QString();
    }

    writeEntry(saved);
    if (existed) {
        m_entries[index] = saved;
        if (previous.profile.name != saved.profile.name && m_settings->value(kLastProfileKey).toString() == previousName)
            m_settings->setValue(kLastProfileKey, saved.profile.name);
    } else {
        m_entries.append(saved);
        index = int(m_entries.size()) - 1;
        writeGroupList();
    }
    const bool written = syncSettings();
    if (existed)
        emit profileChanged(index);
    else
        emit profileInserted(index);
    applySecrets(previous, existed, profile, saved, context, std::move(done));
    if (!written) {
        return unexpected(QList<FieldIssue>{
            {QStringLiteral("settings"), QStringLiteral("cannot write %1").arg(m_settings->fileName())}});
    }
    return index;
}

void ProfileStore::applySecrets(const Entry &previous, bool existed, const ConnectionProfile &profile,
                                const Entry &saved, QObject *context, SecretsCallback done)
{
    const QString newName = saved.profile.name;
    const QString oldName = existed ? previous.profile.name : newName;
    const bool renamed = existed && oldName != newName;
    auto batch = std::make_shared<SecretBatch>(this, newName, context ? context : this, std::move(done));

    const auto writeOrRemove = [this, batch](const QString &key, const QString &field, const QString &secret) {
        batch->begin();
        const auto finished = [batch, field](std::optional<SecretError> error) {
            if (error)
                batch->fail(field, *error);
            batch->end();
        };
        if (secret.isEmpty())
            m_secrets.remove(key, this, finished);
        else
            m_secrets.write(key, secret, this, finished);
    };
    const auto removeKey = [&](const QString &key, const QString &field) { writeOrRemove(key, field, QString()); };
    // read old → write new → remove old; nothing stored under the old name clears the new.
    const auto move = [this, batch, writeOrRemove](const QString &from, const QString &to, const QString &field) {
        batch->begin();
        m_secrets.read(from, this, [this, batch, writeOrRemove, from, to, field](Result<QString, SecretError> value) {
            if (!value && value.error().kind != SecretError::Kind::NotFound) {
                batch->fail(field, value.error());
            } else if (!value) {
                writeOrRemove(to, field, QString());
            } else {
                batch->begin();
                m_secrets.write(to, *value, this, [this, batch, writeOrRemove, from, field](std::optional<SecretError> error) {
                    if (error)
                        batch->fail(field, *error);
                    else
                        writeOrRemove(from, field, QString());
                    batch->end();
                });
            }
            batch->end();
        });
    };

    const std::pair<QString, const std::optional<QString> *> plainSecrets[] = {
        {kAdminTokenField, &profile.adminToken},
        {kRedisPasswordField, &profile.redisPassword},
    };
    for (const auto &[field, value] : plainSecrets) {
        if (*value) {
            writeOrRemove(secretKey(newName, field), field, **value);
            if (renamed)
                removeKey(secretKey(oldName, field), field);
        } else if (renamed) {
            move(secretKey(oldName, field), secretKey(newName, field), field);
        }
    }

    if (profile.postgresConnection) {
        if (saved.postgresInSecretStore) {
            writeOrRemove(secretKey(newName, kPostgresField), kPostgresField, *profile.postgresConnection);
            if (renamed && previous.postgresInSecretStore)
                removeKey(secretKey(oldName, kPostgresField), kPostgresField);
        } else if (existed && previous.postgresInSecretStore) {
            removeKey(secretKey(oldName, kPostgresField), kPostgresField);
        }
    } else if (renamed && previous.postgresInSecretStore) {
        move(secretKey(oldName, kPostgresField), secretKey(newName, kPostgresField), kPostgresField);
    }
    batch->seal(batch);
}

bool ProfileStore::remove(const QString &name, QObject *context, SecretsCallback done)
{
    const int index = indexOf(name);
    if (index < 0)
        return false;
    const Entry entry = m_entries.takeAt(index);
    m_settings->remove(entry.group);
    writeGroupList();
    if (m_settings->value(kLastProfileKey).toString() == name)
        m_settings->remove(kLastProfileKey);
    syncSettings();
    emit profileRemoved(index);

    auto batch = std::make_shared<SecretBatch>(this, name, context ? context : this, std::move(done));
    for (const QString &field : {kAdminTokenField, kRedisPasswordField, kPostgresField}) {
        batch->begin();
        m_secrets.remove(secretKey(name, field), this, [batch, field](std::optional<SecretError> error) {
            if (error)
                batch->fail(field, *error);
            batch->end();
        });
    }
    batch->seal(batch);
    return true;
}

void ProfileStore::loadSecrets(const QString &name, QObject *context, LoadCallback done)
{
    Q_ASSERT(context);
    const int index = indexOf(name);
    if (index < 0) {
        QMetaObject::invokeMethod(
            context,
            [done = std::move(done), name] {
                if (done)
                    done(unexpected(QStringLiteral("no profile named \"%1\"").arg(name)));
            },
            Qt::QueuedConnection);
        return;
    }

    struct Loading {
        ConnectionProfile profile;
        QStringList failures;
        int pending = 0;
        QPointer<QObject> context;
        LoadCallback done;
    };
    auto loading = std::make_shared<Loading>();
    loading->profile = m_entries[index].profile;
    loading->context = context;
    loading->done = std::move(done);

    QList<std::pair<QString, std::optional<QString> *>> fields = {
        {kAdminTokenField, &loading->profile.adminToken},
        {kRedisPasswordField, &loading->profile.redisPassword},
    };
    if (m_entries[index].postgresInSecretStore)
        fields.append({kPostgresField, &loading->profile.postgresConnection});
    loading->pending = int(fields.size());
    for (const auto &[field, target] : fields) {
        m_secrets.read(secretKey(name, field), this,
                       [loading, field = field, target = target](Result<QString, SecretError> value) {
                           if (value)
                               *target = *value;
                           else if (value.error().kind == SecretError::Kind::NotFound)
                               *target = QString();
                           else
                               loading->failures.append(field + QStringLiteral(": ") + value.error().message);
                           if (--loading->pending > 0 || !loading->context || !loading->done)
                               return;
                           if (loading->failures.isEmpty())
                               loading->done(loading->profile);
                           else
                               loading->done(unexpected(loading->failures.join(QStringLiteral("; "))));
                       });
    }
}

QString ProfileStore::lastProfile() const
{
    const QString name = m_settings->value(kLastProfileKey).toString();
    return indexOf(name) >= 0 ? name : QString();
}

void ProfileStore::setLastProfile(const QString &name)
{
    m_settings->setValue(kLastProfileKey, name);
    syncSettings();
}

QList<AlertRule> ProfileStore::alertRules(const QString &profileName) const
{
    const int index = indexOf(profileName);
    if (index < 0)
        return {};
    return loadAlertRules(*m_settings, m_entries[index].group);
}

bool ProfileStore::setAlertRules(const QString &profileName, const QList<AlertRule> &rules)
{
    const int index = indexOf(profileName);
    if (index < 0)
        return false;
    saveAlertRules(*m_settings, m_entries[index].group, rules);
    return syncSettings();
}

Result<int, QString> ProfileStore::exportProfiles(const QString &path, const QStringList &names) const
{
    QList<ConnectionProfile> chosen;
    if (names.isEmpty()) {
        chosen = profiles();
    } else {
        for (const QString &name : names) {
            const int index = indexOf(name);
            if (index < 0)
                return unexpected(QStringLiteral("no profile named \"%1\"").arg(name));
            chosen.append(m_entries[index].profile);
        }
    }
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return unexpected(QStringLiteral("cannot write %1: %2").arg(path, file.errorString()));
    file.write(profilesToJson(chosen));
    if (!file.commit())
        return unexpected(QStringLiteral("cannot write %1: %2").arg(path, file.errorString()));
    return int(chosen.size());
}

Result<ProfileStore::ImportReport, QString> ProfileStore::importProfiles(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return unexpected(QStringLiteral("cannot read %1: %2").arg(path, file.errorString()));
    auto parsed = parseProfilesJson(file.readAll());
    if (!parsed)
        return unexpected(QStringLiteral("%1: %2").arg(path, parsed.error()));

    ImportReport report;
    report.rejected = parsed->rejected;
    report.ignoredSecrets = parsed->ignoredSecrets;
    for (const ConnectionProfile &profile : std::as_const(parsed->profiles)) {
        const auto saved = save(profile);
        if (saved) {
            report.imported.append(profile.name);
            continue;
        }
        QStringList issues;
        for (const FieldIssue &issue : saved.error())
            issues.append(issue.toString());
        const QString label = profile.name.isEmpty() ? QStringLiteral("(unnamed profile)") : profile.name;
        report.rejected.append(label + QStringLiteral(": ") + issues.join(QStringLiteral("; ")));
    }
    return report;
}

} // namespace sluice::models
