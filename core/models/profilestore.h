#pragma once

#include "models/alertrule.h"
#include "models/connectionprofile.h"
#include "models/secretstore.h"
#include "policy/result.h"

#include <QList>
#include <QObject>
#include <QSettings>
#include <QString>
#include <QStringList>

#include <functional>
#include <memory>
#include <optional>

namespace sluice::models {

// The console's connection profiles: everything but the secrets in an INI file,
// <settingsDirectory>/profiles.ini (QSettings::IniFormat), the secrets in a SecretStore
// under "<profile name>/admin_token", "<profile name>/redis_password" and
// "<profile name>/postgres" (the last only when the PostgreSQL string holds a password;
// otherwise the string is in the INI file). The INI file never holds a secret.
//
// Layout: one group per profile, "profile-<uuid>", created when the profile is added and
// kept across renames (alert rules live in it, see alertRules()); the top-level key
// "profile_groups" lists the groups in display order, "last_profile" names the profile
// used last.
//
// profiles() is the settings part only: secret fields are nullopt, except a plain
// PostgreSQL string; loadSecrets() fetches the rest. Changes are written to the file
// before the call returns; secret writes finish later (their callback).
//
// `secrets` must outlive the store. Thread affinity: the thread that created it (the GUI
// thread), which needs a running event loop for the secret callbacks.
class ProfileStore : public QObject {
    Q_OBJECT
public:
    // Messages of the secret operations that failed, "admin_token: <backend message>";
    // empty when all succeeded.
    using SecretsCallback = std::function<void(QStringList failures)>;
    using LoadCallback = std::function<void(Result<ConnectionProfile, QString>)>;

    struct ImportReport {
        QStringList imported;       // names added, in file order
        QStringList rejected;       // why an entry was left out: read or validation errors, duplicates
        QStringList ignoredSecrets; // see ParsedProfiles::ignoredSecrets
    };

    // The directory is created when missing.
    ProfileStore(const QString &settingsDirectory, SecretStore &secrets, QObject *parent = nullptr);
    ~ProfileStore() override;

    QString settingsFilePath() const;
    QList<ConnectionProfile> profiles() const;
    QStringList names() const;
    int count() const { return int(m_entries.size()); }
    // -1 when there is none.
    int indexOf(const QString &name) const;
    std::optional<ConnectionProfile> profile(const QString &name) const;

    // Adds `profile` (previousName empty) or replaces the profile called previousName
    // (renaming it when the names differ; it keeps its place and its alert rules).
    // Validation against the other profiles comes first: on any issue nothing changes and
    // the issues are returned; so is an unknown previousName ("name": "no profile named
    // ...") and a settings file that is not writable ("settings": "cannot write <path>";
    // should the write itself fail later, that same issue is returned but the profile
    // stays in the list, signalled). Otherwise the profile's row, after profileInserted /
    // profileChanged and with the settings part on disk. Secrets: each field with a value
    // is written to (empty: removed from) the secret store; on a rename, fields left
    // nullopt are moved to the new name. `done` (optional) runs, bound to `context` (the
    // store when null), once those operations finished; each failure is also reported by
    // secretOperationFailed().
    Result<int, QList<FieldIssue>> save(const ConnectionProfile &profile, const QString &previousName = {},
                                        QObject *context = nullptr, SecretsCallback done = {});
    // Removes the profile, its alert rules and (asynchronously) its secrets; `done` as
    // for save(). false when there is no such profile.
    bool remove(const QString &name, QObject *context = nullptr, SecretsCallback done = {});

    // The profile with its secrets read from the secret store (a secret never stored
    // reads as empty), through `done` bound to `context`. Errors: no such profile; the
    // secret store's failures ("admin_token: <message>", joined by "; ").
    void loadSecrets(const QString &name, QObject *context, LoadCallback done);

    // Empty when never set or when that profile has since been removed.
    QString lastProfile() const;
    void setLastProfile(const QString &name);

    // The profile's alert rules (see AlertRule's settings functions); empty for an
    // unknown profile. setAlertRules returns false for an unknown profile.
    QList<AlertRule> alertRules(const QString &profileName) const;
    bool setAlertRules(const QString &profileName, const QList<AlertRule> &rules);

    // Writes the named profiles (all when `names` is empty) as an exchange file (see
    // profilejson.h), atomically. Returns how many were written, or why not.
    Result<int, QString> exportProfiles(const QString &path, const QStringList &names = {}) const;
    // Adds every valid profile of the exchange file whose name is not taken; secrets in
    // the file are ignored (and reported). Fails only when the file cannot be read or is
    // not a profile file.
    Result<ImportReport, QString> importProfiles(const QString &path);

signals:
    void profileInserted(int row);
    void profileChanged(int row);
    void profileRemoved(int row);
    void secretOperationFailed(const QString &profileName, const QString &message);

private:
    struct Entry {
        QString group;
        ConnectionProfile profile; // secrets nullopt, except a plain postgres string
        bool postgresInSecretStore = false;
    };
    class SecretBatch;

    void writeEntry(const Entry &entry);
    void writeGroupList();
    bool syncSettings();
    Entry readEntry(const QString &group);
    static QString secretKey(const QString &profileName, const QString &field);
    void applySecrets(const Entry &previous, bool existed, const ConnectionProfile &profile, const Entry &saved,
                      QObject *context, SecretsCallback done);

    SecretStore &m_secrets;
    std::unique_ptr<QSettings> m_settings;
    QList<Entry> m_entries;
};

} // namespace sluice::models
