// ConnectionsPanel with a DeploymentController in a temporary settings directory and
// session-only secrets: create, validate, save (the INI never holds a secret), Test
// buttons against a real gateway, a closed port and a silent server, cancel, export /
// import without secrets, Connect.
#include "gatewayharness.h"
#include "redisfixture.h"

#include "connections/fallbacksecretstore.h"
#include "consoleoptions.h"
#include "deploymentcontroller.h"
#include "models/profilestore.h"
#include "panels/connectionspanel.h"
#include "panels/emptystate.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace sluice;
using namespace sluice::ui;
using sluice::test::GatewayHarness;
using Source = ConnectionsPanel::Source;

namespace {

constexpr int kWaitMs = 20'000;

quint16 closedPort()
{
    QTcpServer server;
    if (!server.listen(QHostAddress::LocalHost, 0))
        return 0;
    const quint16 port = server.serverPort();
    server.close();
    return port;
}

QByteArray readFile(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

} // namespace

class TestConnectionsPanel : public QObject {
    Q_OBJECT

private slots:
    void init();
    void cleanup();
    void emptyStateWithoutController();
    void createValidateSave();
    void fieldIssuesFollowEdits();
    void editAndRename();
    void testAdminAgainstGateway();
    void testAdminWrongToken();
    void testClosedPorts_data();
    void testClosedPorts();
    void cancelRunningTest();
    void testRedis();
    void exportImportWithoutSecrets();
    void deleteProfile();
    void connectActivatesProfile();

private:
    QLineEdit *edit(const char *name) const { return m_panel->findChild<QLineEdit *>(QLatin1String(name)); }
    void fillValid(const QString &name, const QString &adminUrl, const QString &token);

    std::unique_ptr<QTemporaryDir> m_directory;
    std::unique_ptr<DeploymentController> m_controller;
    std::unique_ptr<ConnectionsPanel> m_panel;
};

void TestConnectionsPanel::init()
{
    m_directory = std::make_unique<QTemporaryDir>();
    QVERIFY(m_directory->isValid());
    DeploymentControllerOptions options;
    options.settingsDirectory = m_directory->path();
    options.useKeychain = false;
    m_controller = std::make_unique<DeploymentController>(options);
    m_panel = std::make_unique<ConnectionsPanel>();
    m_panel->setController(m_controller.get());
    m_panel->resize(1000, 800);
    m_panel->show();
}

void TestConnectionsPanel::cleanup()
{
    m_panel.reset();
    m_controller.reset();
    m_directory.reset();
}

void TestConnectionsPanel::fillValid(const QString &name, const QString &adminUrl, const QString &token)
{
    m_panel->newProfile();
    edit("profileName")->setText(name);
    m_panel->findChild<QPlainTextEdit *>(QStringLiteral("adminUrls"))->setPlainText(adminUrl);
    QLineEdit *tokenEdit = edit("adminToken");
    tokenEdit->setText(token);
    tokenEdit->setModified(true);
}

void TestConnectionsPanel::emptyStateWithoutController()
{
    ConnectionsPanel bare;
    QCOMPARE(bare.objectName(), QStringLiteral("connectionsPanel"));
    QVERIFY(bare.emptyState());
    QVERIFY(!bare.saveProfile());
    QVERIFY(!bare.findChild<QLineEdit *>(QStringLiteral("profileName")));
}

void TestConnectionsPanel::createValidateSave()
{
    m_panel->newProfile();
    // Invalid first: no name, no admin URL.
    QVERIFY(!m_panel->saveProfile());
    QVERIFY(!m_panel->fieldIssue(QStringLiteral("name")).isEmpty());
    QVERIFY(!m_panel->fieldIssue(QStringLiteral("admin_urls")).isEmpty());
    QCOMPARE(m_controller->profileStore().count(), 0);

    edit("profileName")->setText(QStringLiteral("prod-eu"));
    auto *environment = m_panel->findChild<QComboBox *>(QStringLiteral("environmentCombo"));
    environment->setCurrentIndex(environment->findData(int(models::EnvironmentTag::Production)));
    m_panel->findChild<QPlainTextEdit *>(QStringLiteral("adminUrls"))
        ->setPlainText(QStringLiteral("http://10.0.0.7:9090\nhttp://10.0.0.8:9090\n"));
    edit("adminToken")->setText(QStringLiteral("s3cret-admin-token"));
    edit("prometheusUrl")->setText(QStringLiteral("http://prometheus:9090"));
    edit("redisHost")->setText(QStringLiteral("redis.internal"));
    m_panel->findChild<QSpinBox *>(QStringLiteral("redisDb"))->setValue(2);
    edit("redisUser")->setText(QStringLiteral("sluice"));
    edit("redisPassword")->setText(QStringLiteral("r3dis-password"));
    edit("postgresConnection")->setText(QStringLiteral("host=db user=sluice password=pg-password dbname=sluice"));
    m_panel->findChild<QSpinBox *>(QStringLiteral("refreshInterval"))->setValue(10);
    m_panel->findChild<QCheckBox *>(QStringLiteral("readOnly"))->setChecked(true);
    QVERIFY(m_panel->validateForm().isEmpty());
    QVERIFY(m_panel->fieldIssue(QStringLiteral("name")).isEmpty());

    QSignalSpy secretsDone(&m_controller->profileStore(), &models::ProfileStore::secretOperationFailed);
    QVERIFY(m_panel->saveProfile());
    QCOMPARE(m_panel->editedProfileName(), QStringLiteral("prod-eu"));
    const auto stored = m_controller->profileStore().profile(QStringLiteral("prod-eu"));
    QVERIFY(stored.has_value());
    QCOMPARE(stored->environment, models::EnvironmentTag::Production);
    QCOMPARE(stored->adminUrls.size(), 2);
    QCOMPARE(stored->redis.db, 2);
    QCOMPARE(stored->refreshIntervalSeconds, 10);
    QVERIFY(stored->readOnly);
    QVERIFY(!stored->adminToken.has_value()); // the settings part only

    // The secrets went to the session store, never to the INI file.
    auto &secrets = dynamic_cast<FallbackSecretStore &>(m_controller->secretStore());
    QTRY_VERIFY_WITH_TIMEOUT(secrets.sessionStore().contains(QStringLiteral("prod-eu/admin_token")), kWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(secrets.sessionStore().contains(QStringLiteral("prod-eu/postgres")), kWaitMs);
    QCOMPARE(secretsDone.count(), 0);
    const QByteArray ini = readFile(m_controller->profileStore().settingsFilePath());
    QVERIFY(ini.contains("prod-eu"));
    QVERIFY(ini.contains("redis.internal"));
    QVERIFY(!ini.contains("s3cret-admin-token"));
    QVERIFY(!ini.contains("r3dis-password"));
    QVERIFY(!ini.contains("pg-password"));
}

void TestConnectionsPanel::fieldIssuesFollowEdits()
{
    m_panel->newProfile();
    edit("profileName")->setText(QStringLiteral("x"));
    m_panel->findChild<QPlainTextEdit *>(QStringLiteral("adminUrls"))->setPlainText(QStringLiteral("ftp://host"));
    QVERIFY(m_panel->fieldIssue(QStringLiteral("admin_urls")).contains(QStringLiteral("http or https")));
    m_panel->findChild<QSpinBox *>(QStringLiteral("refreshInterval"))->setValue(45);
    QVERIFY(m_panel->fieldIssue(QStringLiteral("refresh_interval_seconds")).contains(QStringLiteral("1..30")));
    m_panel->findChild<QCheckBox *>(QStringLiteral("discoverFromRedis"))->setChecked(true);
    QVERIFY(m_panel->fieldIssue(QStringLiteral("redis.host")).contains(QStringLiteral("discovery")));
    edit("redisHost")->setText(QStringLiteral("redis"));
    QVERIFY(m_panel->fieldIssue(QStringLiteral("redis.host")).isEmpty());
    m_panel->findChild<QPlainTextEdit *>(QStringLiteral("adminUrls"))->setPlainText(QStringLiteral("http://gw:9090"));
    QVERIFY(m_panel->fieldIssue(QStringLiteral("admin_urls")).isEmpty());
    // A duplicate name.
    m_panel->findChild<QSpinBox *>(QStringLiteral("refreshInterval"))->setValue(5);
    QVERIFY(m_panel->saveProfile());
    m_panel->newProfile();
    edit("profileName")->setText(QStringLiteral("x"));
    QVERIFY(m_panel->fieldIssue(QStringLiteral("name")).contains(QStringLiteral("already exists")));
}

void TestConnectionsPanel::editAndRename()
{
    fillValid(QStringLiteral("first"), QStringLiteral("http://gw:9090"), QStringLiteral("token-1"));
    QVERIFY(m_panel->saveProfile());
    fillValid(QStringLiteral("second"), QStringLiteral("http://gw2:9090"), QStringLiteral("token-2"));
    QVERIFY(m_panel->saveProfile());
    QCOMPARE(m_controller->profileStore().names(), (QStringList{QStringLiteral("first"), QStringLiteral("second")}));

    QVERIFY(m_panel->selectProfile(QStringLiteral("first")));
    QCOMPARE(edit("profileName")->text(), QStringLiteral("first"));
    // The secret arrives asynchronously from the secret store.
    QTRY_COMPARE_WITH_TIMEOUT(edit("adminToken")->text(), QStringLiteral("token-1"), kWaitMs);
    edit("profileName")->setText(QStringLiteral("renamed"));
    QVERIFY(m_panel->saveProfile());
    QCOMPARE(m_controller->profileStore().names(), (QStringList{QStringLiteral("renamed"), QStringLiteral("second")}));
    QVERIFY(m_panel->selectProfile(QStringLiteral("second")));
    QVERIFY(m_panel->selectProfile(QStringLiteral("renamed")));
    QTRY_COMPARE_WITH_TIMEOUT(edit("adminToken")->text(), QStringLiteral("token-1"), kWaitMs);
}

void TestConnectionsPanel::testAdminAgainstGateway()
{
    GatewayHarness harness;
    QVERIFY2(harness.startError.isEmpty(), qPrintable(harness.startError));
    fillValid(QStringLiteral("local"), QStringLiteral("http://127.0.0.1:%1").arg(harness.adminPort),
              QString::fromUtf8(harness.adminToken));
    QSignalSpy finished(m_panel.get(), &ConnectionsPanel::testFinished);
    m_panel->testSource(Source::Admin);
    QVERIFY(m_panel->isTesting(Source::Admin));
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kWaitMs);
    const QString text = m_panel->testResultText(Source::Admin);
    QVERIFY2(text.startsWith(QStringLiteral("✓")), qPrintable(text));
    QVERIFY2(text.contains(consoleVersion()), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral(" ms")), qPrintable(text));
    QCOMPARE(m_panel->findChild<QLabel *>(QStringLiteral("adminTestResult"))->text(), text);
    QVERIFY(!m_panel->isTesting(Source::Admin));
}

void TestConnectionsPanel::testAdminWrongToken()
{
    GatewayHarness harness;
    QVERIFY2(harness.startError.isEmpty(), qPrintable(harness.startError));
    fillValid(QStringLiteral("local"), QStringLiteral("http://127.0.0.1:%1").arg(harness.adminPort),
              QStringLiteral("not-the-token"));
    QSignalSpy finished(m_panel.get(), &ConnectionsPanel::testFinished);
    m_panel->testSource(Source::Admin);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kWaitMs);
    const QString text = m_panel->testResultText(Source::Admin);
    QVERIFY2(text.startsWith(QStringLiteral("✗")), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("authentication failed")), qPrintable(text));
}

void TestConnectionsPanel::testClosedPorts_data()
{
    QTest::addColumn<Source>("source");
    QTest::newRow("admin") << Source::Admin;
    QTest::newRow("prometheus") << Source::Prometheus;
    QTest::newRow("redis") << Source::Redis;
    QTest::newRow("postgres") << Source::Postgres;
}

void TestConnectionsPanel::testClosedPorts()
{
    QFETCH(Source, source);
    const quint16 port = closedPort();
    fillValid(QStringLiteral("closed"), QStringLiteral("http://127.0.0.1:%1").arg(port), QStringLiteral("t"));
    edit("prometheusUrl")->setText(QStringLiteral("http://127.0.0.1:%1").arg(port));
    edit("redisHost")->setText(QStringLiteral("127.0.0.1"));
    m_panel->findChild<QSpinBox *>(QStringLiteral("redisPort"))->setValue(port);
    edit("postgresConnection")->setText(QStringLiteral("host=127.0.0.1 port=%1 user=postgres dbname=sluice").arg(port));
    QSignalSpy finished(m_panel.get(), &ConnectionsPanel::testFinished);
    m_panel->testSource(source);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kWaitMs);
    const QString text = m_panel->testResultText(source);
    QVERIFY2(text.startsWith(QStringLiteral("✗")), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("refused")), qPrintable(text));
    QVERIFY2(text.contains(QString::number(port)), qPrintable(text));
}

void TestConnectionsPanel::cancelRunningTest()
{
    QTcpServer silent; // accepts, never answers
    QVERIFY(silent.listen(QHostAddress::LocalHost, 0));
    fillValid(QStringLiteral("silent"), QStringLiteral("http://127.0.0.1:%1").arg(silent.serverPort()),
              QStringLiteral("t"));
    QSignalSpy finished(m_panel.get(), &ConnectionsPanel::testFinished);
    m_panel->testSource(Source::Admin);
    QVERIFY(m_panel->isTesting(Source::Admin));
    auto *button = m_panel->findChild<QPushButton *>(QStringLiteral("adminTestButton"));
    QCOMPARE(button->text(), QStringLiteral("Cancel"));
    button->click(); // cancels
    QCOMPARE(finished.count(), 1);
    QVERIFY(!m_panel->isTesting(Source::Admin));
    QVERIFY2(m_panel->testResultText(Source::Admin).contains(QStringLiteral("cancelled")),
             qPrintable(m_panel->testResultText(Source::Admin)));
    QCOMPARE(button->text(), QStringLiteral("Test"));
}

void TestConnectionsPanel::testRedis()
{
    test::RedisFixture redis(test::RedisFixtureOptions{QStringLiteral("pw"), {}, {}, true});
    if (!redis.available())
        QSKIP(qPrintable(redis.unavailableReason()));
    QVERIFY2(redis.start(), qPrintable(redis.errorString()));
    fillValid(QStringLiteral("r"), QStringLiteral("http://gw:9090"), QStringLiteral("t"));
    edit("redisHost")->setText(redis.host());
    m_panel->findChild<QSpinBox *>(QStringLiteral("redisPort"))->setValue(redis.port());
    edit("redisPassword")->setText(QStringLiteral("pw"));
    QSignalSpy finished(m_panel.get(), &ConnectionsPanel::testFinished);
    m_panel->testSource(Source::Redis);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kWaitMs);
    QVERIFY2(m_panel->testResultText(Source::Redis).startsWith(QStringLiteral("✓")),
             qPrintable(m_panel->testResultText(Source::Redis)));

    edit("redisPassword")->setText(QStringLiteral("wrong"));
    m_panel->testSource(Source::Redis);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, kWaitMs);
    QVERIFY2(m_panel->testResultText(Source::Redis).contains(QStringLiteral("authentication failed")),
             qPrintable(m_panel->testResultText(Source::Redis)));
}

void TestConnectionsPanel::exportImportWithoutSecrets()
{
    fillValid(QStringLiteral("shared"), QStringLiteral("http://gw:9090"), QStringLiteral("export-secret-token"));
    edit("redisHost")->setText(QStringLiteral("redis"));
    edit("redisPassword")->setText(QStringLiteral("export-redis-password"));
    QVERIFY(m_panel->saveProfile());
    const QString path = m_directory->filePath(QStringLiteral("exported.json"));
    const auto written = m_panel->exportProfilesTo(path);
    QVERIFY2(written.ok(), qPrintable(written.ok() ? QString() : written.error()));
    QCOMPARE(*written, 1);
    const QByteArray json = readFile(path);
    QVERIFY(json.contains("\"shared\""));
    QVERIFY(json.contains("http://gw:9090"));
    QVERIFY(!json.contains("export-secret-token"));
    QVERIFY(!json.contains("export-redis-password"));

    QVERIFY(m_panel->deleteProfile());
    QCOMPARE(m_controller->profileStore().count(), 0);
    const auto report = m_panel->importProfilesFrom(path);
    QVERIFY(report.ok());
    QCOMPARE(report->imported, QStringList{QStringLiteral("shared")});
    const auto imported = m_controller->profileStore().profile(QStringLiteral("shared"));
    QVERIFY(imported.has_value());
    QCOMPARE(imported->adminUrls, QStringList{QStringLiteral("http://gw:9090")});
    QCOMPARE(imported->redis.host, QStringLiteral("redis"));
    // Imported without secrets: the form shows none once they are loaded.
    QCOMPARE(m_panel->editedProfileName(), QStringLiteral("shared"));
    QTest::qWait(50);
    QCOMPARE(edit("adminToken")->text(), QString());
    QVERIFY(m_panel->statusText().contains(QStringLiteral("Imported 1")));
    // Importing again: the name is taken.
    const auto again = m_panel->importProfilesFrom(path);
    QVERIFY(again.ok());
    QVERIFY(again->imported.isEmpty());
    QCOMPARE(again->rejected.size(), 1);
}

void TestConnectionsPanel::deleteProfile()
{
    fillValid(QStringLiteral("doomed"), QStringLiteral("http://gw:9090"), QStringLiteral("doomed-token"));
    QVERIFY(m_panel->saveProfile());
    QVERIFY(m_panel->deleteProfile());
    QVERIFY(!m_controller->profileStore().profile(QStringLiteral("doomed")));
    QCOMPARE(m_panel->editedProfileName(), QString());
    QVERIFY(!m_panel->deleteProfile());
}

void TestConnectionsPanel::connectActivatesProfile()
{
    GatewayHarness harness;
    QVERIFY2(harness.startError.isEmpty(), qPrintable(harness.startError));
    fillValid(QStringLiteral("live"), QStringLiteral("http://127.0.0.1:%1").arg(harness.adminPort),
              QString::fromUtf8(harness.adminToken));
    QSignalSpy activated(m_controller.get(), &DeploymentController::deploymentActivated);
    QVERIFY(m_panel->connectProfile()); // saves, then opens
    QTRY_COMPARE_WITH_TIMEOUT(activated.count(), 1, kWaitMs);
    const auto deployment = activated.at(0).at(0).value<ActiveDeployment>();
    QCOMPARE(deployment.name, QStringLiteral("live"));
    QCOMPARE(deployment.adminToken, harness.adminToken);
    QVERIFY(m_panel->findChild<QLabel *>(QStringLiteral("activeDeploymentLabel"))->text().contains(QStringLiteral("live")));

    // A picture of the panel for the record (and for eyes).
    m_panel->testSource(Source::Admin);
    QTRY_VERIFY_WITH_TIMEOUT(!m_panel->isTesting(Source::Admin), kWaitMs);
    QDir().mkpath(QStringLiteral(SLUICE_TEST_ARTIFACTS_DIR));
    QVERIFY(m_panel->grab().save(QStringLiteral(SLUICE_TEST_ARTIFACTS_DIR "/connectionspanel.png")));
}

QTEST_MAIN(TestConnectionsPanel)
#include "tst_connectionspanel.moc"
