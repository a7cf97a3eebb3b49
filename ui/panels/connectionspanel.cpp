#include "panels/connectionspanel.h"

#include "clients/sourceprober.h"
#include "clients/storeprober.h"
#include "connections/profileitemdelegate.h"
#include "deploymentcontroller.h"
#include "models/profilelistmodel.h"
#include "panels/emptystate.h"
#include "theme.h"

#include <QCheckBox>
#include <QColorDialog>
#include <QComboBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QSplitter>
#include <QStackedWidget>
#include <QVBoxLayout>

namespace sluice::ui {

using models::ConnectionProfile;
using models::EnvironmentTag;
using models::FieldIssue;

namespace {

constexpr std::array kEnvironments = {EnvironmentTag::Production, EnvironmentTag::Staging, EnvironmentTag::Development,
                                      EnvironmentTag::Sandbox, EnvironmentTag::Custom};

// The label a FieldIssue's field is shown under: "admin_urls[2]" under "admin_urls".
QString baseField(const QString &field)
{
    const qsizetype bracket = field.indexOf(QLatin1Char('['));
    return bracket < 0 ? field : field.left(bracket);
}

QString okLine(const clients::ProbeResult &probe, const QString &prefix = {})
{
    QString text = QStringLiteral("✓ ");
    if (!prefix.isEmpty())
        text += prefix + QStringLiteral(": ");
    if (!probe.serverId.isEmpty() && probe.serverId.size() <= 40)
        text += probe.serverId + QLatin1Char(' ');
    text += probe.version.isEmpty() ? QStringLiteral("answered") : probe.version;
    text += QStringLiteral(" · %1 ms").arg(probe.roundTripMs);
    return text;
}

QString errorLine(const clients::SourceError &error, const QString &prefix = {})
{
    QString text = QStringLiteral("✗ ");
    if (!prefix.isEmpty())
        text += prefix + QStringLiteral(": ");
    return text + error.message;
}

} // namespace

ConnectionsPanel::ConnectionsPanel(QWidget *parent)
    : QWidget(parent),
      m_emptyState(new EmptyState(tr("No connection profiles yet"),
                                  tr("Profiles with a deployment's admin URLs, Prometheus, Redis and PostgreSQL "
                                     "addresses will be listed and edited here."),
                                  this))
{
    setObjectName(QStringLiteral("connectionsPanel"));
    qRegisterMetaType<Source>();
    m_stack = new QStackedWidget(this);
    m_stack->addWidget(m_emptyState);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_stack);
}

ConnectionsPanel::~ConnectionsPanel()
{
    // The list model refers to the controller's store: gone before it.
    delete m_list;
    delete m_model;
}

DeploymentController *ConnectionsPanel::controller() const
{
    return m_controller;
}

void ConnectionsPanel::setController(DeploymentController *controller)
{
    if (m_controller || !controller)
        return;
    m_controller = controller;
    m_model = new models::ProfileListModel(controller->profileStore());
    m_httpProber = new clients::SourceProber(nullptr, this);
    m_storeProber = new clients::StoreProber(this);

    auto *content = new QSplitter(Qt::Horizontal);
    content->setObjectName(QStringLiteral("connectionsSplitter"));

    auto *left = new QWidget;
    auto *leftLayout = new QVBoxLayout(left);
    auto *title = new QLabel(tr("<b>Deployment profiles</b>"));
    m_activeLabel = new QLabel;
    m_activeLabel->setObjectName(QStringLiteral("activeDeploymentLabel"));
    m_activeLabel->setWordWrap(true);
    m_list = new QListView;
    m_list->setObjectName(QStringLiteral("profileList"));
    m_list->setModel(m_model);
    m_list->setItemDelegate(new ProfileItemDelegate(m_list));
    m_list->setSelectionMode(QAbstractItemView::SingleSelection);
    m_list->setEditTriggers(QAbstractItemView::NoEditTriggers);
    auto *newButton = new QPushButton(tr("New"));
    newButton->setObjectName(QStringLiteral("newProfileButton"));
    auto *importButton = new QPushButton(tr("Import…"));
    importButton->setObjectName(QStringLiteral("importButton"));
    auto *exportButton = new QPushButton(tr("Export…"));
    exportButton->setObjectName(QStringLiteral("exportButton"));
    auto *listButtons = new QHBoxLayout;
    listButtons->addWidget(newButton);
    listButtons->addStretch();
    listButtons->addWidget(importButton);
    listButtons->addWidget(exportButton);
    leftLayout->addWidget(title);
    leftLayout->addWidget(m_activeLabel);
    leftLayout->addWidget(m_list, 1);
    leftLayout->addLayout(listButtons);

    auto *scroll = new QScrollArea;
    scroll->setWidgetResizable(true);
    scroll->setWidget(createEditor());

    content->addWidget(left);
    content->addWidget(scroll);
    content->setStretchFactor(0, 1);
    content->setStretchFactor(1, 2);
    m_stack->addWidget(content);
    m_stack->setCurrentWidget(content);

    connect(newButton, &QPushButton::clicked, this, &ConnectionsPanel::newProfile);
    connect(importButton, &QPushButton::clicked, this, &ConnectionsPanel::chooseImportFile);
    connect(exportButton, &QPushButton::clicked, this, &ConnectionsPanel::chooseExportFile);
    connect(m_list->selectionModel(), &QItemSelectionModel::currentChanged, this,
            &ConnectionsPanel::onSelectionChanged);
    connect(controller, &DeploymentController::deploymentActivated, this, &ConnectionsPanel::showActiveDeployment);
    connect(controller, &DeploymentController::errorOccurred, this,
            [this](const QString &message) { setStatus(message, true); });
    connect(controller, &QObject::destroyed, this, [this] {
        // Nothing may touch the store any more.
        m_list->setModel(nullptr);
        delete m_model;
        m_model = nullptr;
        m_stack->setCurrentWidget(m_emptyState);
    });

    updateSecretHints();
    if (m_model->rowCount() > 0)
        selectProfile(m_model->index(0).data(models::ProfileListModel::NameRole).toString());
    else
        newProfile();
    if (controller->activeDeployment().isValid())
        showActiveDeployment(controller->activeDeployment());
}

QLabel *ConnectionsPanel::issueLabel(const QString &field)
{
    auto *label = new QLabel;
    label->setObjectName(QStringLiteral("issue:") + field);
    label->setWordWrap(true);
    QPalette palette = label->palette();
    palette.setColor(QPalette::WindowText, Theme::toneColor(Theme::Tone::Bad, Theme::isDarkPalette(palette)));
    label->setPalette(palette);
    label->hide();
    m_issueLabels.insert(field, label);
    return label;
}

// A field with its issue label under it.
static QWidget *withIssue(QWidget *field, QLabel *issue)
{
    auto *box = new QWidget;
    auto *layout = new QVBoxLayout(box);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    layout->addWidget(field);
    layout->addWidget(issue);
    return box;
}

QWidget *ConnectionsPanel::createTestRow(Source source, const QString &objectPrefix)
{
    TestRow &row = m_tests[std::size_t(source)];
    row.httpProbe = source == Source::Admin || source == Source::Prometheus;
    row.button = new QPushButton(tr("Test"));
    row.button->setObjectName(objectPrefix + QStringLiteral("TestButton"));
    row.result = new QLabel;
    row.result->setObjectName(objectPrefix + QStringLiteral("TestResult"));
    row.result->setWordWrap(true);
    row.result->setTextInteractionFlags(Qt::TextSelectableByMouse);
    connect(row.button, &QPushButton::clicked, this, [this, source] {
        if (isTesting(source))
            cancelTest(source);
        else
            testSource(source);
    });
    auto *box = new QWidget;
    auto *layout = new QHBoxLayout(box);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(row.button);
    layout->addWidget(row.result, 1);
    return box;
}

QWidget *ConnectionsPanel::createEditor()
{
    auto *editor = new QWidget;
    editor->setObjectName(QStringLiteral("profileEditor"));
    auto *outer = new QVBoxLayout(editor);
    auto *form = new QFormLayout;
    outer->addLayout(form);
    outer->addStretch(1); // extra height below the form, not inside its fields
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);

    m_name = new QLineEdit;
    m_name->setObjectName(QStringLiteral("profileName"));
    form->addRow(tr("Name"), withIssue(m_name, issueLabel(QStringLiteral("name"))));

    m_environment = new QComboBox;
    m_environment->setObjectName(QStringLiteral("environmentCombo"));
    for (const EnvironmentTag tag : kEnvironments)
        m_environment->addItem(models::environmentTagName(tag), int(tag));
    m_customEnvironment = new QLineEdit;
    m_customEnvironment->setObjectName(QStringLiteral("customEnvironment"));
    m_customEnvironment->setPlaceholderText(tr("custom environment name"));
    m_colourButton = new QPushButton(tr("Colour…"));
    m_colourButton->setObjectName(QStringLiteral("colourButton"));
    auto *environmentRow = new QWidget;
    auto *environmentLayout = new QHBoxLayout(environmentRow);
    environmentLayout->setContentsMargins(0, 0, 0, 0);
    environmentLayout->addWidget(m_environment);
    environmentLayout->addWidget(m_customEnvironment, 1);
    environmentLayout->addWidget(m_colourButton);
    form->addRow(tr("Environment"), withIssue(environmentRow, issueLabel(QStringLiteral("environment"))));

    m_adminUrls = new QPlainTextEdit;
    m_adminUrls->setObjectName(QStringLiteral("adminUrls"));
    m_adminUrls->setPlaceholderText(tr("http://10.0.0.7:9090 — one gateway admin URL per line"));
    m_adminUrls->setTabChangesFocus(true);
    m_adminUrls->setFixedHeight(m_adminUrls->fontMetrics().lineSpacing() * 4 + 12);
    form->addRow(tr("Admin URLs"), withIssue(m_adminUrls, issueLabel(QStringLiteral("admin_urls"))));
    m_discover = new QCheckBox(tr("Discover the gateways from the Redis instance registry"));
    m_discover->setObjectName(QStringLiteral("discoverFromRedis"));
    form->addRow(QString(), m_discover);

    m_adminToken = new QLineEdit;
    m_adminToken->setObjectName(QStringLiteral("adminToken"));
    m_adminToken->setEchoMode(QLineEdit::Password);
    m_tokenHint = new QLabel;
    m_tokenHint->setObjectName(QStringLiteral("secretHint"));
    m_tokenHint->setWordWrap(true);
    form->addRow(tr("Admin token"), withIssue(m_adminToken, m_tokenHint));
    m_tokenHint->show();
    form->addRow(tr("Admin API"), createTestRow(Source::Admin, QStringLiteral("admin")));

    m_prometheusUrl = new QLineEdit;
    m_prometheusUrl->setObjectName(QStringLiteral("prometheusUrl"));
    m_prometheusUrl->setPlaceholderText(tr("optional: http://prometheus:9090"));
    form->addRow(tr("Prometheus URL"), withIssue(m_prometheusUrl, issueLabel(QStringLiteral("prometheus_url"))));
    form->addRow(QString(), createTestRow(Source::Prometheus, QStringLiteral("prometheus")));

    m_redisHost = new QLineEdit;
    m_redisHost->setObjectName(QStringLiteral("redisHost"));
    m_redisHost->setPlaceholderText(tr("optional: redis.internal"));
    m_redisPort = new QSpinBox;
    m_redisPort->setObjectName(QStringLiteral("redisPort"));
    m_redisPort->setRange(0, 65535);
    m_redisPort->setValue(6379);
    m_redisDb = new QSpinBox;
    m_redisDb->setObjectName(QStringLiteral("redisDb"));
    m_redisDb->setRange(0, 1024);
    m_redisDb->setPrefix(tr("db "));
    auto *redisRow = new QWidget;
    auto *redisLayout = new QHBoxLayout(redisRow);
    redisLayout->setContentsMargins(0, 0, 0, 0);
    redisLayout->addWidget(m_redisHost, 1);
    redisLayout->addWidget(m_redisPort);
    redisLayout->addWidget(m_redisDb);
    auto *redisIssues = new QWidget;
    auto *redisIssueLayout = new QVBoxLayout(redisIssues);
    redisIssueLayout->setContentsMargins(0, 0, 0, 0);
    redisIssueLayout->setSpacing(2);
    redisIssueLayout->addWidget(redisRow);
    redisIssueLayout->addWidget(issueLabel(QStringLiteral("redis.host")));
    redisIssueLayout->addWidget(issueLabel(QStringLiteral("redis.port")));
    redisIssueLayout->addWidget(issueLabel(QStringLiteral("redis.db")));
    form->addRow(tr("Redis"), redisIssues);
    m_redisUser = new QLineEdit;
    m_redisUser->setObjectName(QStringLiteral("redisUser"));
    m_redisUser->setPlaceholderText(tr("default user"));
    m_redisPassword = new QLineEdit;
    m_redisPassword->setObjectName(QStringLiteral("redisPassword"));
    m_redisPassword->setEchoMode(QLineEdit::Password);
    auto *redisAuth = new QWidget;
    auto *redisAuthLayout = new QHBoxLayout(redisAuth);
    redisAuthLayout->setContentsMargins(0, 0, 0, 0);
    redisAuthLayout->addWidget(m_redisUser);
    redisAuthLayout->addWidget(m_redisPassword);
    form->addRow(tr("Redis user / password"), redisAuth);
    form->addRow(QString(), createTestRow(Source::Redis, QStringLiteral("redis")));

    m_postgres = new QLineEdit;
    m_postgres->setObjectName(QStringLiteral("postgresConnection"));
    m_postgres->setPlaceholderText(tr("optional: host=db user=sluice dbname=sluice"));
    m_postgresHint = new QLabel;
    m_postgresHint->setWordWrap(true);
    form->addRow(tr("PostgreSQL"), withIssue(m_postgres, m_postgresHint));
    m_postgresHint->show();
    form->addRow(QString(), createTestRow(Source::Postgres, QStringLiteral("postgres")));

    m_refresh = new QSpinBox;
    m_refresh->setObjectName(QStringLiteral("refreshInterval"));
    m_refresh->setRange(0, 60); // validateProfile says what is out of 1..30
    m_refresh->setSuffix(tr(" s"));
    m_refresh->setValue(5);
    form->addRow(tr("Refresh every"), withIssue(m_refresh, issueLabel(QStringLiteral("refresh_interval_seconds"))));
    m_readOnly = new QCheckBox(tr("Read-only: the console changes nothing in this deployment"));
    m_readOnly->setObjectName(QStringLiteral("readOnly"));
    form->addRow(QString(), m_readOnly);

    m_saveButton = new QPushButton(tr("Save"));
    m_saveButton->setObjectName(QStringLiteral("saveButton"));
    m_deleteButton = new QPushButton(tr("Delete…"));
    m_deleteButton->setObjectName(QStringLiteral("deleteButton"));
    m_connectButton = new QPushButton(tr("Connect"));
    m_connectButton->setObjectName(QStringLiteral("connectButton"));
    m_connectButton->setDefault(true);
    auto *buttons = new QWidget;
    auto *buttonLayout = new QHBoxLayout(buttons);
    buttonLayout->setContentsMargins(0, 0, 0, 0);
    buttonLayout->addWidget(m_saveButton);
    buttonLayout->addWidget(m_deleteButton);
    buttonLayout->addStretch();
    buttonLayout->addWidget(m_connectButton);
    form->addRow(withIssue(buttons, issueLabel(QStringLiteral("settings"))));

    m_status = new QLabel;
    m_status->setObjectName(QStringLiteral("connectionsStatus"));
    m_status->setWordWrap(true);
    form->addRow(m_status);

    connect(m_saveButton, &QPushButton::clicked, this, &ConnectionsPanel::saveProfile);
    connect(m_deleteButton, &QPushButton::clicked, this, &ConnectionsPanel::confirmDelete);
    connect(m_connectButton, &QPushButton::clicked, this, &ConnectionsPanel::connectProfile);
    connect(m_colourButton, &QPushButton::clicked, this, &ConnectionsPanel::chooseColour);
    connect(m_environment, &QComboBox::currentIndexChanged, this, [this] {
        updateEnvironmentControls();
        onFormEdited();
    });
    for (QLineEdit *edit : {m_name, m_customEnvironment, m_adminToken, m_prometheusUrl, m_redisHost, m_redisUser,
                            m_redisPassword, m_postgres})
        connect(edit, &QLineEdit::textChanged, this, &ConnectionsPanel::onFormEdited);
    connect(m_adminUrls, &QPlainTextEdit::textChanged, this, &ConnectionsPanel::onFormEdited);
    for (QSpinBox *spin : {m_redisPort, m_redisDb, m_refresh})
        connect(spin, &QSpinBox::valueChanged, this, &ConnectionsPanel::onFormEdited);
    for (QCheckBox *box : {m_discover, m_readOnly})
        connect(box, &QCheckBox::toggled, this, &ConnectionsPanel::onFormEdited);
    updateEnvironmentControls();
    return editor;
}

void ConnectionsPanel::updateSecretHints()
{
    if (!m_controller)
        return;
    const bool persist = m_controller->secretsPersist();
    m_tokenHint->setText(persist ? tr("Stored in the system keychain, never in the settings file.")
                                 : tr("No keychain available: secrets are kept for this session only and asked "
                                      "for when the profile is opened."));
    m_postgresHint->setText(tr("A connection string with a password is a secret: %1")
                                .arg(persist ? tr("stored in the keychain.") : tr("kept for this session only.")));
}

void ConnectionsPanel::updateEnvironmentControls()
{
    const auto tag = EnvironmentTag(m_environment->currentData().toInt());
    m_customEnvironment->setEnabled(tag == EnvironmentTag::Custom);
    const QColor shown = m_colour.isValid() ? m_colour : models::defaultTagColour(tag);
    m_colourButton->setStyleSheet(
        QStringLiteral("QPushButton { background-color: %1; color: %2; }")
            .arg(shown.name(), shown.lightnessF() > 0.6 ? QStringLiteral("black") : QStringLiteral("white")));
}

void ConnectionsPanel::setColour(const QColor &colour)
{
    m_colour = colour;
    updateEnvironmentControls();
    onFormEdited();
}

void ConnectionsPanel::chooseColour()
{
    auto *dialog = new QColorDialog(m_colour.isValid() ? m_colour : formProfile().effectiveColour(), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QColorDialog::colorSelected, this, &ConnectionsPanel::setColour);
    dialog->open();
}

void ConnectionsPanel::newProfile()
{
    m_editedName.clear();
    ConnectionProfile profile;
    profile.adminToken = QString();
    profile.redisPassword = QString();
    profile.postgresConnection = QString();
    if (m_list)
        m_list->selectionModel()->clearSelection();
    setFormProfile(profile);
    m_secretsLoaded = true; // nothing stored yet
    m_deleteButton->setEnabled(false);
    m_name->setFocus();
}

bool ConnectionsPanel::selectProfile(const QString &name)
{
    if (!m_model)
        return false;
    const int row = m_model->rowOf(name);
    if (row < 0)
        return false;
    m_list->selectionModel()->setCurrentIndex(m_model->index(row), QItemSelectionModel::ClearAndSelect);
    // currentChanged does nothing when the row already was current.
    if (m_editedName != name)
        onSelectionChanged();
    return true;
}

void ConnectionsPanel::onSelectionChanged()
{
    if (!m_controller)
        return;
    const QModelIndex current = m_list->selectionModel()->currentIndex();
    if (!current.isValid())
        return;
    const QString name = current.data(models::ProfileListModel::NameRole).toString();
    const auto profile = m_controller->profileStore().profile(name);
    if (!profile)
        return;
    m_editedName = name;
    setFormProfile(*profile);
    m_deleteButton->setEnabled(true);
    loadSecrets(name);
}

void ConnectionsPanel::loadSecrets(const QString &name)
{
    m_secretsLoaded = false;
    const quint64 serial = ++m_secretLoadSerial;
    m_controller->profileStore().loadSecrets(name, this, [this, serial, name](Result<ConnectionProfile, QString> loaded) {
        if (serial != m_secretLoadSerial || m_editedName != name)
            return;
        if (!loaded) {
            setStatus(tr("Secrets of \"%1\" not loaded: %2").arg(name, loaded.error()), true);
            return;
        }
        m_filling = true;
        // What the operator typed meanwhile wins.
        if (!m_adminToken->isModified())
            m_adminToken->setText(loaded->adminToken.value_or(QString()));
        if (!m_redisPassword->isModified())
            m_redisPassword->setText(loaded->redisPassword.value_or(QString()));
        if (!m_postgres->isModified())
            m_postgres->setText(loaded->postgresConnection.value_or(QString()));
        m_filling = false;
        m_secretsLoaded = true;
    });
}

ConnectionProfile ConnectionsPanel::formProfile() const
{
    ConnectionProfile profile;
    profile.name = m_name->text().trimmed();
    profile.environment = EnvironmentTag(m_environment->currentData().toInt());
    profile.customEnvironment = m_customEnvironment->text().trimmed();
    profile.colour = m_colour;
    for (const QString &line : m_adminUrls->toPlainText().split(QLatin1Char('\n'))) {
        if (!line.trimmed().isEmpty())
            profile.adminUrls.append(line.trimmed());
    }
    profile.discoverFromRedis = m_discover->isChecked();
    profile.prometheusUrl = m_prometheusUrl->text().trimmed();
    profile.redis.host = m_redisHost->text().trimmed();
    profile.redis.port = m_redisPort->value();
    profile.redis.db = m_redisDb->value();
    profile.redis.user = m_redisUser->text().trimmed();
    profile.readOnly = m_readOnly->isChecked();
    profile.refreshIntervalSeconds = m_refresh->value();
    if (m_secretsLoaded || m_adminToken->isModified())
        profile.adminToken = m_adminToken->text();
    if (m_secretsLoaded || m_redisPassword->isModified())
        profile.redisPassword = m_redisPassword->text();
    // A string without a password is plain configuration, always in the form.
    const QString postgres = m_postgres->text().trimmed();
    if (m_secretsLoaded || m_postgres->isModified() || !m_postgres->text().isEmpty())
        profile.postgresConnection = postgres;
    return profile;
}

void ConnectionsPanel::setFormProfile(const ConnectionProfile &profile)
{
    m_filling = true;
    m_name->setText(profile.name);
    m_environment->setCurrentIndex(std::max(0, m_environment->findData(int(profile.environment))));
    m_customEnvironment->setText(profile.customEnvironment);
    m_colour = profile.colour;
    m_adminUrls->setPlainText(profile.adminUrls.join(QLatin1Char('\n')));
    m_discover->setChecked(profile.discoverFromRedis);
    m_adminToken->setText(profile.adminToken.value_or(QString()));
    m_prometheusUrl->setText(profile.prometheusUrl);
    m_redisHost->setText(profile.redis.host);
    m_redisPort->setValue(profile.redis.port);
    m_redisDb->setValue(profile.redis.db);
    m_redisUser->setText(profile.redis.user);
    m_redisPassword->setText(profile.redisPassword.value_or(QString()));
    m_postgres->setText(profile.postgresConnection.value_or(QString()));
    m_refresh->setValue(profile.refreshIntervalSeconds);
    m_readOnly->setChecked(profile.readOnly);
    for (QLineEdit *edit : {m_adminToken, m_redisPassword, m_postgres})
        edit->setModified(false);
    m_secretsLoaded = profile.adminToken.has_value() && profile.redisPassword.has_value()
                      && profile.postgresConnection.has_value();
    m_filling = false;
    for (TestRow &row : m_tests) {
        if (row.requests.isEmpty())
            row.result->clear();
    }
    updateEnvironmentControls();
    showIssues({});
}

void ConnectionsPanel::onFormEdited()
{
    if (m_filling || !m_controller)
        return;
    validateForm();
}

QList<FieldIssue> ConnectionsPanel::validateForm()
{
    if (!m_controller)
        return {};
    QStringList others = m_controller->profileStore().names();
    others.removeAll(m_editedName);
    const QList<FieldIssue> issues = models::validateProfile(formProfile(), others);
    showIssues(issues);
    return issues;
}

void ConnectionsPanel::showIssues(const QList<FieldIssue> &issues)
{
    QHash<QString, QStringList> byField;
    for (const FieldIssue &issue : issues) {
        const QString field = baseField(issue.field);
        byField[m_issueLabels.contains(field) ? field : QStringLiteral("settings")].append(
            field == issue.field ? issue.message : issue.toString());
    }
    for (auto it = m_issueLabels.begin(); it != m_issueLabels.end(); ++it) {
        const QStringList messages = byField.value(it.key());
        it.value()->setText(messages.join(QLatin1Char('\n')));
        it.value()->setVisible(!messages.isEmpty());
    }
}

QString ConnectionsPanel::fieldIssue(const QString &field) const
{
    const QLabel *label = m_issueLabels.value(field);
    return label ? label->text() : QString();
}

bool ConnectionsPanel::saveProfile()
{
    if (!m_controller)
        return false;
    const ConnectionProfile profile = formProfile();
    auto saved = m_controller->profileStore().save(profile, m_editedName, this, [this, name = profile.name](QStringList failures) {
        if (!failures.isEmpty())
            setStatus(tr("\"%1\" saved, but its secrets were not: %2").arg(name, failures.join(QStringLiteral("; "))), true);
    });
    if (!saved) {
        showIssues(saved.error());
        setStatus(tr("Not saved: %n problem(s) to fix.", nullptr, int(saved.error().size())), true);
        return false;
    }
    showIssues({});
    m_editedName = profile.name;
    m_secretsLoaded = true; // the form's secrets are what is stored now
    for (QLineEdit *edit : {m_adminToken, m_redisPassword, m_postgres})
        edit->setModified(false);
    {
        const QSignalBlocker blocker(m_list->selectionModel());
        m_list->selectionModel()->setCurrentIndex(m_model->index(*saved), QItemSelectionModel::ClearAndSelect);
    }
    m_deleteButton->setEnabled(true);
    setStatus(tr("Saved \"%1\".").arg(profile.name));
    return true;
}

bool ConnectionsPanel::deleteProfile()
{
    if (!m_controller || m_editedName.isEmpty())
        return false;
    const QString name = m_editedName;
    if (!m_controller->profileStore().remove(name, this))
        return false;
    setStatus(tr("Deleted \"%1\".").arg(name));
    if (m_model->rowCount() > 0)
        selectProfile(m_model->index(0).data(models::ProfileListModel::NameRole).toString());
    else
        newProfile();
    return true;
}

void ConnectionsPanel::confirmDelete()
{
    if (m_editedName.isEmpty())
        return;
    auto *box = new QMessageBox(QMessageBox::Warning, tr("Delete profile"),
                                tr("Delete the profile \"%1\" and its stored secrets?").arg(m_editedName),
                                QMessageBox::Yes | QMessageBox::Cancel, this);
    box->setAttribute(Qt::WA_DeleteOnClose);
    const QString name = m_editedName;
    connect(box, &QMessageBox::accepted, this, [this, name] {
        if (m_editedName == name)
            deleteProfile();
    });
    box->open();
}

bool ConnectionsPanel::connectProfile()
{
    if (!m_controller)
        return false;
    // The controller opens what is stored: the form is saved first (unchanged secrets
    // that were not loaded yet are left as stored).
    if (!saveProfile())
        return false;
    setStatus(tr("Opening \"%1\"…").arg(m_editedName));
    m_controller->activateProfile(m_editedName);
    return true;
}

void ConnectionsPanel::showActiveDeployment(const ActiveDeployment &deployment)
{
    if (!m_activeLabel)
        return;
    m_activeLabel->setText(deployment.sandbox ? tr("Now showing: the embedded Sandbox")
                                              : tr("Now showing: %1 (%2)").arg(deployment.name, deployment.environmentLabel));
    if (!deployment.sandbox)
        setStatus(tr("Connected to \"%1\".").arg(deployment.name));
}

void ConnectionsPanel::setStatus(const QString &text, bool error)
{
    if (!m_status)
        return;
    QPalette palette = m_status->palette();
    palette.setColor(QPalette::WindowText, error ? Theme::toneColor(Theme::Tone::Bad, Theme::isDarkPalette(palette))
                                                 : this->palette().color(QPalette::WindowText));
    m_status->setPalette(palette);
    m_status->setText(text);
}

QString ConnectionsPanel::statusText() const
{
    return m_status ? m_status->text() : QString();
}

// Tests -------------------------------------------------------------------------------

bool ConnectionsPanel::isTesting(Source source) const
{
    return !m_tests[std::size_t(source)].requests.isEmpty();
}

QString ConnectionsPanel::testResultText(Source source) const
{
    const QLabel *label = m_tests[std::size_t(source)].result;
    return label ? label->text() : QString();
}

void ConnectionsPanel::finishTestLine(Source source, clients::RequestId id, const QString &line)
{
    TestRow &row = m_tests[std::size_t(source)];
    if (!row.requests.removeOne(id))
        return;
    row.lines.append(line);
    row.result->setText(row.lines.join(QLatin1Char('\n')));
    if (row.requests.isEmpty()) {
        row.button->setText(tr("Test"));
        emit testFinished(source);
    }
}

void ConnectionsPanel::testSource(Source source)
{
    if (!m_controller)
        return;
    cancelTest(source);
    TestRow &row = m_tests[std::size_t(source)];
    row.lines.clear();
    const ConnectionProfile profile = formProfile();
    auto fail = [&](const QString &message) {
        row.result->setText(QStringLiteral("✗ ") + message);
        emit testFinished(source);
    };

    switch (source) {
    case Source::Admin: {
        if (profile.adminUrls.isEmpty()) {
            fail(profile.discoverFromRedis ? tr("no admin URL listed: the gateways are discovered from Redis when the "
                                                "profile is opened")
                                           : tr("no admin URL to test"));
            return;
        }
        const QByteArray token = m_adminToken->text().toUtf8();
        // One request id per URL, all registered before any answer can come back.
        QList<std::pair<QUrl, QString>> targets;
        for (const QString &text : profile.adminUrls) {
            const QUrl url(text);
            if (!url.isValid() || url.host().isEmpty()) {
                row.lines.append(QStringLiteral("✗ %1: not a valid URL").arg(text));
                continue;
            }
            targets.append({url, text});
        }
        const bool several = profile.adminUrls.size() > 1;
        for (const auto &[url, text] : targets) {
            auto id = std::make_shared<clients::RequestId>(0);
            const QString prefix = several ? text : QString();
            *id = m_httpProber->probeAdmin(url, token, kProbeTimeoutMs, this,
                                           [this, id, prefix](Result<clients::ProbeResult, clients::SourceError> r) {
                                               finishTestLine(Source::Admin, *id,
                                                              r ? okLine(*r, prefix) : errorLine(r.error(), prefix));
                                           });
            row.requests.append(*id);
        }
        if (row.requests.isEmpty()) {
            row.result->setText(row.lines.join(QLatin1Char('\n')));
            emit testFinished(source);
            return;
        }
        break;
    }
    case Source::Prometheus: {
        const QUrl url(profile.prometheusUrl);
        if (profile.prometheusUrl.isEmpty() || !url.isValid() || url.host().isEmpty()) {
            fail(profile.prometheusUrl.isEmpty() ? tr("no Prometheus URL to test") : tr("not a valid URL"));
            return;
        }
        auto id = std::make_shared<clients::RequestId>(0);
        *id = m_httpProber->probePrometheus(url, {}, kProbeTimeoutMs, this,
                                            [this, id](Result<clients::ProbeResult, clients::SourceError> r) {
                                                finishTestLine(Source::Prometheus, *id,
                                                               r ? okLine(*r) : errorLine(r.error()));
                                            });
        row.requests.append(*id);
        break;
    }
    case Source::Redis: {
        if (profile.redis.host.isEmpty()) {
            fail(tr("no Redis host to test"));
            return;
        }
        clients::RedisProbeTarget target;
        target.host = profile.redis.host;
        target.port = quint16(std::clamp(profile.redis.port, 0, 65535));
        target.db = profile.redis.db;
        target.user = profile.redis.user;
        target.password = m_redisPassword->text();
        auto id = std::make_shared<clients::RequestId>(0);
        *id = m_storeProber->probeRedis(target, kProbeTimeoutMs, this,
                                        [this, id](Result<clients::ProbeResult, clients::SourceError> r) {
                                            finishTestLine(Source::Redis, *id, r ? okLine(*r) : errorLine(r.error()));
                                        });
        row.requests.append(*id);
        break;
    }
    case Source::Postgres: {
        const QString connection = m_postgres->text().trimmed();
        if (connection.isEmpty()) {
            fail(tr("no PostgreSQL connection string to test"));
            return;
        }
        auto id = std::make_shared<clients::RequestId>(0);
        *id = m_storeProber->probePostgres(connection, kProbeTimeoutMs, this,
                                           [this, id](Result<clients::ProbeResult, clients::SourceError> r) {
                                               finishTestLine(Source::Postgres, *id,
                                                              r ? okLine(*r) : errorLine(r.error()));
                                           });
        row.requests.append(*id);
        break;
    }
    }
    row.result->setText(tr("Testing…"));
    row.button->setText(tr("Cancel"));
}

void ConnectionsPanel::cancelTest(Source source)
{
    TestRow &row = m_tests[std::size_t(source)];
    const QList<clients::RequestId> requests = row.requests;
    for (const clients::RequestId id : requests) {
        // Each cancel calls back (Cancelled) before it returns, ending its line.
        if (row.httpProbe)
            m_httpProber->cancel(id);
        else
            m_storeProber->cancel(id);
    }
}

// Import / export ---------------------------------------------------------------------

Result<int, QString> ConnectionsPanel::exportProfilesTo(const QString &path, const QStringList &names)
{
    if (!m_controller)
        return unexpected(QStringLiteral("no profile store"));
    auto written = m_controller->profileStore().exportProfiles(path, names);
    if (written)
        setStatus(tr("Exported %n profile(s) to %1 (without secrets).", nullptr, *written).arg(path));
    else
        setStatus(tr("Export failed: %1").arg(written.error()), true);
    return written;
}

Result<models::ProfileStore::ImportReport, QString> ConnectionsPanel::importProfilesFrom(const QString &path)
{
    if (!m_controller)
        return unexpected(QStringLiteral("no profile store"));
    auto report = m_controller->profileStore().importProfiles(path);
    if (!report) {
        setStatus(tr("Import failed: %1").arg(report.error()), true);
        return report;
    }
    QStringList lines;
    lines.append(tr("Imported %n profile(s).", nullptr, int(report->imported.size())));
    if (!report->rejected.isEmpty())
        lines.append(tr("Left out: %1").arg(report->rejected.join(QStringLiteral("; "))));
    if (!report->ignoredSecrets.isEmpty())
        lines.append(report->ignoredSecrets.join(QStringLiteral("; ")));
    setStatus(lines.join(QLatin1Char('\n')), !report->rejected.isEmpty());
    if (!report->imported.isEmpty())
        selectProfile(report->imported.first());
    return report;
}

void ConnectionsPanel::chooseExportFile()
{
    auto *dialog = new QFileDialog(this, tr("Export profiles (without secrets)"), QString(),
                                   tr("Sluice profiles (*.json)"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setAcceptMode(QFileDialog::AcceptSave);
    dialog->setDefaultSuffix(QStringLiteral("json"));
    dialog->selectFile(QStringLiteral("sluice-profiles.json"));
    connect(dialog, &QFileDialog::fileSelected, this, [this](const QString &path) { exportProfilesTo(path); });
    dialog->open();
}

void ConnectionsPanel::chooseImportFile()
{
    auto *dialog = new QFileDialog(this, tr("Import profiles"), QString(), tr("Sluice profiles (*.json)"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setAcceptMode(QFileDialog::AcceptOpen);
    dialog->setFileMode(QFileDialog::ExistingFile);
    connect(dialog, &QFileDialog::fileSelected, this, [this](const QString &path) { importProfilesFrom(path); });
    dialog->open();
}

} // namespace sluice::ui
