#pragma once

#include "activedeployment.h"
#include "clients/httpsource.h"
#include "models/connectionprofile.h"
#include "models/profilestore.h"
#include "policy/result.h"

#include <QHash>
#include <QList>
#include <QPointer>
#include <QWidget>

#include <array>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QListView;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QStackedWidget;

namespace sluice::clients {
class SourceProber;
class StoreProber;
} // namespace sluice::clients

namespace sluice::models {
class ProfileListModel;
}

namespace sluice::ui {

class DeploymentController;
class EmptyState;

// Connection profiles: the list (ProfileListModel, environment tags, production in bold
// red), an editor for one profile with field-level validation (validateProfile), Save /
// Delete / New / Connect, a Test button per source that runs a probe on the form's
// current values and shows the precise outcome next to it ("✓ 0.1.0 · 3 ms" or
// "✗ <SourceError message>"; the button cancels a test in progress), and Import… /
// Export… of profiles without secrets.
//
// Until setController() it shows an EmptyState. The file and colour dialogs and the
// delete confirmation open only from the buttons (non-blocking, QDialog::open()); the
// functions below do the work without any dialog, for tests and scripts.
//
// Secrets: the admin token, Redis password and a PostgreSQL string with a password are
// loaded (asynchronously) when a profile is selected and saved through the ProfileStore
// into the controller's SecretStore — never into the settings file. A secret field that
// was neither loaded nor edited is left as stored.
//
// objectName: "connectionsPanel". Thread affinity: GUI thread.
class ConnectionsPanel : public QWidget {
    Q_OBJECT
public:
    enum class Source { Admin, Prometheus, Redis, Postgres };
    Q_ENUM(Source)
    static constexpr int kSourceCount = 4;
    static constexpr int kProbeTimeoutMs = 5000;

    explicit ConnectionsPanel(QWidget *parent = nullptr);
    ~ConnectionsPanel() override;

    // Binds the panel to the controller's ProfileStore. The controller must outlive the
    // panel (or the panel is unbound when it is destroyed). Once.
    void setController(DeploymentController *controller);
    DeploymentController *controller() const;

    EmptyState *emptyState() const { return m_emptyState; }

    // Editor.
    void newProfile();
    // Selects the profile in the list and loads it into the form; false if there is none.
    bool selectProfile(const QString &name);
    // The stored name of the profile in the form; empty for a new one.
    QString editedProfileName() const { return m_editedName; }
    // The form as a profile; secret fields as typed (nullopt when neither loaded nor edited).
    models::ConnectionProfile formProfile() const;
    void setFormProfile(const models::ConnectionProfile &profile);
    // Validates the form against the other profiles and shows each issue under its field.
    QList<models::FieldIssue> validateForm();
    // The issue shown for a field ("name", "redis.port", "admin_urls" ...); empty if none.
    QString fieldIssue(const QString &field) const;
    // Saves the form (adds or replaces); false, with the issues shown, when invalid.
    bool saveProfile();
    // Removes the profile in the form, without asking. false when it is a new one.
    bool deleteProfile();
    // Opens the profile in the form (it must be saved) through the controller.
    bool connectProfile();

    // Tests (the form's values, not the saved ones).
    void testSource(Source source);
    void cancelTest(Source source);
    bool isTesting(Source source) const;
    // "✓ ..." / "✗ ..." / "Testing…" / empty.
    QString testResultText(Source source) const;

    // Import / export without dialogs. export: all profiles when `names` is empty.
    Result<int, QString> exportProfilesTo(const QString &path, const QStringList &names = {});
    Result<models::ProfileStore::ImportReport, QString> importProfilesFrom(const QString &path);

    // The panel's last message line (saved, deleted, imported, errors).
    QString statusText() const;
    // Which profile is the active deployment (shown in the list's caption).
    void showActiveDeployment(const ActiveDeployment &deployment);

signals:
    void testFinished(sluice::ui::ConnectionsPanel::Source source);

private:
    struct TestRow {
        QPushButton *button = nullptr;
        QLabel *result = nullptr;
        QList<clients::RequestId> requests;
        QStringList lines;
        bool httpProbe = true;
    };

    QWidget *createEditor();
    QWidget *createTestRow(Source source, const QString &objectPrefix);
    QLabel *issueLabel(const QString &field);
    void onSelectionChanged();
    void onFormEdited();
    void showIssues(const QList<models::FieldIssue> &issues);
    void loadSecrets(const QString &name);
    void setStatus(const QString &text, bool error = false);
    void updateEnvironmentControls();
    void setColour(const QColor &colour);
    void chooseColour();
    void confirmDelete();
    void chooseExportFile();
    void chooseImportFile();
    void finishTestLine(Source source, clients::RequestId id, const QString &line);
    void updateSecretHints();

    QPointer<DeploymentController> m_controller;
    EmptyState *m_emptyState = nullptr;
    QStackedWidget *m_stack = nullptr;
    models::ProfileListModel *m_model = nullptr;
    clients::SourceProber *m_httpProber = nullptr;
    clients::StoreProber *m_storeProber = nullptr;

    QListView *m_list = nullptr;
    QLabel *m_activeLabel = nullptr;
    QLabel *m_status = nullptr;
    QLineEdit *m_name = nullptr;
    QComboBox *m_environment = nullptr;
    QLineEdit *m_customEnvironment = nullptr;
    QPushButton *m_colourButton = nullptr;
    QColor m_colour;
    QPlainTextEdit *m_adminUrls = nullptr;
    QCheckBox *m_discover = nullptr;
    QLineEdit *m_adminToken = nullptr;
    QLabel *m_tokenHint = nullptr;
    QLineEdit *m_prometheusUrl = nullptr;
    QLineEdit *m_redisHost = nullptr;
    QSpinBox *m_redisPort = nullptr;
    QSpinBox *m_redisDb = nullptr;
    QLineEdit *m_redisUser = nullptr;
    QLineEdit *m_redisPassword = nullptr;
    QLineEdit *m_postgres = nullptr;
    QLabel *m_postgresHint = nullptr;
    QSpinBox *m_refresh = nullptr;
    QCheckBox *m_readOnly = nullptr;
    QPushButton *m_saveButton = nullptr;
    QPushButton *m_deleteButton = nullptr;
    QPushButton *m_connectButton = nullptr;
    QHash<QString, QLabel *> m_issueLabels;
    std::array<TestRow, kSourceCount> m_tests;

    QString m_editedName;
    bool m_secretsLoaded = false; // the form's secret fields hold what is stored
    bool m_filling = false;       // setFormProfile() is writing the form
    quint64 m_secretLoadSerial = 0;
};

} // namespace sluice::ui

Q_DECLARE_METATYPE(sluice::ui::ConnectionsPanel::Source)
