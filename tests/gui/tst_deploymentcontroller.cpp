// DeploymentController: the first start opens the live sandbox, --profile opens a saved
// profile with its secrets, switching stops the sandbox, "ask each time" prompts, an
// unknown --profile falls back to the sandbox with an error, discovery from Redis.
#include "gatewayharness.h"
#include "redisfixture.h"

#include "clients/sourceprober.h"
#include "consoleapp.h"
#include "deploymentcontroller.h"
#include "mainwindow.h"
#include "models/profilestore.h"
#include "panels/connectionspanel.h"
#include "panels/sandboxpanel.h"
#include "statusbar/consolestatusbar.h"
#include "store/redisinstanceregistry.h"
#include "store/redissession.h"

#include <QDir>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

#include <memory>
#include <optional>

using namespace sluice;
using namespace sluice::ui;
using sluice::test::GatewayHarness;

namespace {

constexpr int kWaitMs = 20'000;

DeploymentControllerOptions sessionOptions(const QString &directory)
{
    DeploymentControllerOptions options;
    options.settingsDirectory = directory;
    options.useKeychain = false;
    return options;
}

struct Probe {
    std::optional<Result<clients::ProbeResult, clients::SourceError>> result;
};

// GET /admin/v1/instance through the console's own prober.
std::optional<Result<clients::ProbeResult, clients::SourceError>> probeAdmin(const QUrl &url, const QByteArray &token)
{
    clients::SourceProber prober;
    auto outcome = std::make_shared<Probe>();
    QObject context;
    prober.probeAdmin(url, token, 5000, &context,
                      [outcome](Result<clients::ProbeResult, clients::SourceError> r) { outcome->result.emplace(std::move(r)); });
    (void)QTest::qWaitFor([&] { return outcome->result.has_value(); }, kWaitMs);
    return outcome->result;
}

models::ConnectionProfile harnessProfile(const QString &name, quint16 adminPort)
{
    models::ConnectionProfile profile;
    profile.name = name;
    profile.environment = models::EnvironmentTag::Staging;
    profile.adminUrls = {QStringLiteral("http://127.0.0.1:%1").arg(adminPort)};
    profile.adminToken = QStringLiteral("test-admin-token");
    profile.redisPassword = QString();
    profile.postgresConnection = QString();
    return profile;
}

// Saves and waits for the secret writes.
bool saveAndWait(models::ProfileStore &store, const models::ConnectionProfile &profile)
{
    bool done = false;
    QObject context;
    const auto saved = store.save(profile, {}, &context, [&done](QStringList) { done = true; });
    if (!saved)
        return false;
    return QTest::qWaitFor([&] { return done; }, kWaitMs);
}

} // namespace

class TestDeploymentController : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { qRegisterMetaType<ActiveDeployment>(); }
    void firstStartActivatesSandbox();
    void profileOptionActivatesProfile();
    void lastProfileIsReopened();
    void switchingStopsSandbox();
    void unknownProfileFallsBackToSandbox();
    void forceSandboxIgnoresLastProfile();
    void askEachTimePrompts();
    void promptCancelledKeepsDeployment();
    void discoveryFromRedis();
    void consoleAppWiresStatusBarAndPanels();
};

void TestDeploymentController::firstStartActivatesSandbox()
{
    QTemporaryDir directory;
    QVERIFY(directory.isValid());
    DeploymentController controller(sessionOptions(directory.path()));
    QVERIFY(!controller.secretsPersist());
    QSignalSpy activated(&controller, &DeploymentController::deploymentActivated);
    QSignalSpy started(&controller, &DeploymentController::sandboxStarted);
    controller.startUp(ConsoleOptions{});
    QTRY_COMPARE_WITH_TIMEOUT(activated.count(), 1, kWaitMs);
    QCOMPARE(started.count(), 1);
    const auto deployment = activated.at(0).at(0).value<ActiveDeployment>();
    QCOMPARE(deployment.name, QStringLiteral("Sandbox"));
    QCOMPARE(deployment.environmentLabel, QStringLiteral("sandbox"));
    QVERIFY(deployment.sandbox);
    QVERIFY(deployment.prometheusUrl.isEmpty());
    QVERIFY(!deployment.redis.has_value());
    QCOMPARE(deployment.adminUrls.size(), 1);
    QVERIFY(!deployment.adminToken.isEmpty());
    QVERIFY(controller.sandbox());
    QVERIFY(controller.sandbox()->isRunning());
    QCOMPARE(deployment.adminUrls.first(), controller.sandbox()->adminUrl());

    // The admin URL answers with the token, and refuses without it.
    const auto ok = probeAdmin(deployment.adminUrls.first(), deployment.adminToken);
    QVERIFY(ok.has_value());
    QVERIFY2(ok->ok(), qPrintable(ok->ok() ? QString() : ok->error().message));
    QVERIFY(!ok->value().serverId.isEmpty());
    const auto refused = probeAdmin(deployment.adminUrls.first(), "wrong-token");
    QVERIFY(refused.has_value());
    QVERIFY(!refused->ok());
    QCOMPARE(refused->error().kind, clients::SourceErrorKind::AuthenticationFailed);

    // The simulated users are sending.
    QTRY_VERIFY_WITH_TIMEOUT(controller.sandbox()->generator()->stats().sent > 0, kWaitMs);
}

void TestDeploymentController::profileOptionActivatesProfile()
{
    GatewayHarness harness;
    QVERIFY2(harness.startError.isEmpty(), qPrintable(harness.startError));
    QTemporaryDir directory;
    {
        DeploymentController writer(sessionOptions(directory.path()));
        QVERIFY(saveAndWait(writer.profileStore(), harnessProfile(QStringLiteral("staging-eu"), harness.adminPort)));
    }
    // A fresh controller on the same directory: the settings part survives.
    DeploymentController controller(sessionOptions(directory.path()));
    QCOMPARE(controller.profileStore().names(), QStringList{QStringLiteral("staging-eu")});
    // In session mode this run has no secret yet: answer the prompt.
    int prompts = 0;
    controller.setSecretPrompt([&prompts](const SecretRequest &request, auto answer) {
        ++prompts;
        QVERIFY(request.adminToken);
        QVERIFY(!request.redisPassword);
        SecretAnswer values;
        values.adminToken = QStringLiteral("test-admin-token");
        answer(values);
    });
    QSignalSpy activated(&controller, &DeploymentController::deploymentActivated);
    ConsoleOptions options;
    options.profileName = QStringLiteral("staging-eu");
    controller.startUp(options);
    QCOMPARE(controller.activatingProfile(), QStringLiteral("staging-eu"));
    QTRY_COMPARE_WITH_TIMEOUT(activated.count(), 1, kWaitMs);
    QCOMPARE(prompts, 1);
    const auto deployment = activated.at(0).at(0).value<ActiveDeployment>();
    QCOMPARE(deployment.name, QStringLiteral("staging-eu"));
    QCOMPARE(deployment.environmentLabel, QStringLiteral("staging"));
    QVERIFY(!deployment.sandbox);
    QCOMPARE(deployment.adminUrls, QList<QUrl>{QUrl(QStringLiteral("http://127.0.0.1:%1").arg(harness.adminPort))});
    QCOMPARE(deployment.adminToken, QByteArray("test-admin-token"));
    QVERIFY(!controller.sandbox());
    QCOMPARE(controller.profileStore().lastProfile(), QStringLiteral("staging-eu"));
    const auto answer = probeAdmin(deployment.adminUrls.first(), deployment.adminToken);
    QVERIFY(answer && answer->ok());

    // Asked once per session: the second activation uses what was typed.
    activated.clear();
    controller.activateProfile(QStringLiteral("staging-eu"));
    QTRY_COMPARE_WITH_TIMEOUT(activated.count(), 1, kWaitMs);
    QCOMPARE(prompts, 1);
    QCOMPARE(activated.at(0).at(0).value<ActiveDeployment>().adminToken, QByteArray("test-admin-token"));
}

void TestDeploymentController::lastProfileIsReopened()
{
    QTemporaryDir directory;
    {
        DeploymentController writer(sessionOptions(directory.path()));
        QVERIFY(saveAndWait(writer.profileStore(), harnessProfile(QStringLiteral("a"), 1)));
        QVERIFY(saveAndWait(writer.profileStore(), harnessProfile(QStringLiteral("b"), 2)));
        writer.profileStore().setLastProfile(QStringLiteral("b"));
    }
    DeploymentController controller(sessionOptions(directory.path()));
    QSignalSpy activated(&controller, &DeploymentController::deploymentActivated);
    controller.startUp(ConsoleOptions{}); // no prompt set: opens with the secrets it has
    QTRY_COMPARE_WITH_TIMEOUT(activated.count(), 1, kWaitMs);
    QCOMPARE(activated.at(0).at(0).value<ActiveDeployment>().name, QStringLiteral("b"));
    QVERIFY(!controller.sandbox());
}

void TestDeploymentController::switchingStopsSandbox()
{
    GatewayHarness harness;
    QVERIFY2(harness.startError.isEmpty(), qPrintable(harness.startError));
    QTemporaryDir directory;
    DeploymentController controller(sessionOptions(directory.path()));
    QVERIFY(saveAndWait(controller.profileStore(), harnessProfile(QStringLiteral("real"), harness.adminPort)));
    QSignalSpy activated(&controller, &DeploymentController::deploymentActivated);
    QSignalSpy stopped(&controller, &DeploymentController::sandboxStopped);
    controller.activateSandbox();
    QCOMPARE(activated.count(), 1);
    QVERIFY(controller.sandbox());
    const QUrl sandboxAdmin = controller.sandbox()->adminUrl();
    const QByteArray sandboxToken = controller.sandbox()->adminToken();
    QVERIFY(probeAdmin(sandboxAdmin, sandboxToken)->ok());

    controller.activateProfile(QStringLiteral("real"));
    // Still the sandbox while the profile loads.
    QVERIFY(controller.sandbox());
    QTRY_COMPARE_WITH_TIMEOUT(activated.count(), 2, kWaitMs);
    QCOMPARE(stopped.count(), 1);
    QVERIFY(!controller.sandbox());
    QVERIFY(!controller.activeDeployment().sandbox);
    QCOMPARE(controller.activeDeployment().name, QStringLiteral("real"));
    // Its port is free again: nothing answers there.
    const auto gone = probeAdmin(sandboxAdmin, sandboxToken);
    QVERIFY(gone.has_value());
    QVERIFY(!gone->ok());
    QCOMPARE(gone->error().kind, clients::SourceErrorKind::Refused);

    // And back: a new sandbox.
    controller.activateSandbox();
    QCOMPARE(activated.count(), 3);
    QVERIFY(controller.activeDeployment().sandbox);
    QVERIFY(controller.sandbox() && controller.sandbox()->isRunning());
}

void TestDeploymentController::unknownProfileFallsBackToSandbox()
{
    QTemporaryDir directory;
    DeploymentController controller(sessionOptions(directory.path()));
    QSignalSpy activated(&controller, &DeploymentController::deploymentActivated);
    QSignalSpy errors(&controller, &DeploymentController::errorOccurred);
    ConsoleOptions options;
    options.profileName = QStringLiteral("typo");
    controller.startUp(options);
    QCOMPARE(errors.count(), 1);
    QVERIFY(errors.at(0).at(0).toString().contains(QStringLiteral("\"typo\"")));
    QTRY_COMPARE_WITH_TIMEOUT(activated.count(), 1, kWaitMs);
    QVERIFY(controller.activeDeployment().sandbox);
}

void TestDeploymentController::forceSandboxIgnoresLastProfile()
{
    QTemporaryDir directory;
    DeploymentController controller(sessionOptions(directory.path()));
    QVERIFY(saveAndWait(controller.profileStore(), harnessProfile(QStringLiteral("last"), 1)));
    controller.profileStore().setLastProfile(QStringLiteral("last"));
    QSignalSpy activated(&controller, &DeploymentController::deploymentActivated);
    ConsoleOptions options;
    options.forceSandbox = true;
    controller.startUp(options);
    QCOMPARE(activated.count(), 1);
    QVERIFY(controller.activeDeployment().sandbox);
    QCOMPARE(controller.profileStore().lastProfile(), QStringLiteral("last"));
}

void TestDeploymentController::askEachTimePrompts()
{
    QTemporaryDir directory;
    {
        DeploymentController writer(sessionOptions(directory.path()));
        auto profile = harnessProfile(QStringLiteral("full"), 1);
        profile.redis.host = QStringLiteral("redis.internal");
        profile.redisPassword = QStringLiteral("r-secret");
        profile.postgresConnection = QStringLiteral("host=db user=sluice password=pg-secret");
        QVERIFY(saveAndWait(writer.profileStore(), profile));
    }
    DeploymentController controller(sessionOptions(directory.path()));
    std::optional<SecretRequest> asked;
    controller.setSecretPrompt([&asked](const SecretRequest &request, auto answer) {
        asked = request;
        SecretAnswer values;
        values.adminToken = QStringLiteral("typed-token");
        values.redisPassword = QStringLiteral("typed-redis");
        values.postgresConnection = QStringLiteral("host=db user=sluice password=typed-pg");
        answer(values);
    });
    QSignalSpy activated(&controller, &DeploymentController::deploymentActivated);
    controller.activateProfile(QStringLiteral("full"));
    QTRY_COMPARE_WITH_TIMEOUT(activated.count(), 1, kWaitMs);
    QVERIFY(asked.has_value());
    QCOMPARE(asked->profileName, QStringLiteral("full"));
    QVERIFY(asked->adminToken);
    QVERIFY(asked->redisPassword);
    QVERIFY(asked->postgresConnection);
    const auto deployment = activated.at(0).at(0).value<ActiveDeployment>();
    QCOMPARE(deployment.adminToken, QByteArray("typed-token"));
    QCOMPARE(deployment.redisPassword, QStringLiteral("typed-redis"));
    QCOMPARE(deployment.postgresConnection, QStringLiteral("host=db user=sluice password=typed-pg"));
    QVERIFY(deployment.redis.has_value());
    QCOMPARE(deployment.redis->host, QStringLiteral("redis.internal"));
}

void TestDeploymentController::promptCancelledKeepsDeployment()
{
    QTemporaryDir directory;
    {
        DeploymentController writer(sessionOptions(directory.path()));
        QVERIFY(saveAndWait(writer.profileStore(), harnessProfile(QStringLiteral("p"), 1)));
    }
    DeploymentController fresh(sessionOptions(directory.path()));
    fresh.setSecretPrompt([](const SecretRequest &, auto answer) { answer(std::nullopt); });
    fresh.activateSandbox();
    QSignalSpy activated(&fresh, &DeploymentController::deploymentActivated);
    QSignalSpy errors(&fresh, &DeploymentController::errorOccurred);
    fresh.activateProfile(QStringLiteral("p"));
    QTRY_COMPARE_WITH_TIMEOUT(errors.count(), 1, kWaitMs);
    QVERIFY(errors.at(0).at(0).toString().contains(QStringLiteral("cancelled")));
    QCOMPARE(activated.count(), 0);
    QVERIFY(fresh.sandbox()); // still running: nothing replaced it
    QVERIFY(fresh.activeDeployment().sandbox);
}

void TestDeploymentController::discoveryFromRedis()
{
    test::RedisFixture redis;
    if (!redis.available())
        QSKIP(qPrintable(redis.unavailableReason()));
    QVERIFY2(redis.start(), qPrintable(redis.errorString()));

    store::RedisSessionOptions redisOptions;
    redisOptions.host = redis.host();
    redisOptions.port = redis.port();
    store::RedisSession session(redisOptions);
    session.open();
    QTRY_VERIFY_WITH_TIMEOUT(session.isReady(), kWaitMs);
    store::InstanceInfo info;
    info.id = QStringLiteral("gw-a");
    info.adminUrl = QStringLiteral("http://10.1.2.3:9090");
    store::RedisInstanceRegistry registry(session, info);
    registry.start();
    QTRY_VERIFY_WITH_TIMEOUT(registry.heartbeatsWritten() > 0, kWaitMs);

    QTemporaryDir directory;
    DeploymentController controller(sessionOptions(directory.path()));
    models::ConnectionProfile profile;
    profile.name = QStringLiteral("discovered");
    profile.discoverFromRedis = true;
    profile.redis.host = redis.host();
    profile.redis.port = redis.port();
    profile.adminToken = QString();
    profile.redisPassword = QString();
    profile.postgresConnection = QString();
    QVERIFY(saveAndWait(controller.profileStore(), profile));
    QSignalSpy activated(&controller, &DeploymentController::deploymentActivated);
    controller.activateProfile(QStringLiteral("discovered"));
    QTRY_COMPARE_WITH_TIMEOUT(activated.count(), 1, kWaitMs);
    QCOMPARE(activated.at(0).at(0).value<ActiveDeployment>().adminUrls,
             QList<QUrl>{QUrl(QStringLiteral("http://10.1.2.3:9090"))});
}

void TestDeploymentController::consoleAppWiresStatusBarAndPanels()
{
    QTemporaryDir directory;
    ConsoleOptions options;
    options.settingsDirectory = directory.path();
    DeploymentControllerOptions controllerOptions;
    controllerOptions.useKeychain = false;
    ConsoleApp app(options, controllerOptions, false);
    QVERIFY(app.controller()->activeDeployment().sandbox);
    ConsoleStatusBar *status = app.mainWindow()->consoleStatusBar();
    QVERIFY(status->isSandboxActive());
    QCOMPARE(status->deploymentText(), QStringLiteral("Sandbox"));
    QVERIFY(app.mainWindow()->sandboxPanel()->showsRunningSandbox());
    QCOMPARE(app.mainWindow()->connectionsPanel()->controller(), app.controller());
    QCOMPARE(app.controller()->profileStore().settingsFilePath(),
             QDir(directory.path()).filePath(QStringLiteral("profiles.ini")));
}

QTEST_MAIN(TestDeploymentController)
#include "tst_deploymentcontroller.moc"
