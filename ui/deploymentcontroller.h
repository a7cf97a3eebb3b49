#pragma once

#include "activedeployment.h"
#include "consoleoptions.h"
#include "gateway/sandboxdeployment.h"
#include "models/connectionprofile.h"

#include <QObject>
#include <QPointer>
#include <QString>

#include <functional>
#include <memory>
#include <optional>

namespace sluice::models {
class ProfileStore;
class SecretStore;
} // namespace sluice::models

namespace sluice::ui {

class FallbackSecretStore;

// Which secrets a profile about to be opened still needs, in "ask each time" mode.
struct SecretRequest {
    QString profileName;
    bool adminToken = false;         // the profile has admin URLs or discovers instances
    bool redisPassword = false;      // the profile has a Redis host
    bool postgresConnection = false; // the profile's PostgreSQL string holds a password
};

// What the operator typed; fields not asked for are ignored.
struct SecretAnswer {
    QString adminToken;
    QString redisPassword;
    QString postgresConnection;
};

struct DeploymentControllerOptions {
    // Where profiles.ini lives (the console's settings directory).
    QString settingsDirectory;
    // Try the OS keychain (KeychainSecretStore) when FallbackSecretStore::keychainLikelyUsable();
    // false: secrets for the session only (tests).
    bool useKeychain = true;
    // The embedded sandbox. Default: SandboxOptions with modest traffic (6 users, think
    // 1500±500 ms, at most 5 requests/s), see defaultSandboxOptions().
    std::optional<gateway::SandboxOptions> sandbox;
    // The discovery of instances from the Redis registry (profiles with
    // discoverFromRedis): the registry's key namespace and the time allowed.
    QByteArray registryNamespace = QByteArrayLiteral("default");
    int discoveryTimeoutMs = 5000;
};

// What the console is connected to, without widgets: owns the ProfileStore, the
// SecretStore behind it (the OS keychain, or secrets kept for the session and asked for
// each time) and, while the sandbox is the deployment, the SandboxDeployment.
//
// activateProfile() loads the profile's secrets (asynchronously; in "ask each time" mode
// secrets not yet known this session are asked for through the SecretPrompt), reads the
// instance registry in Redis when the profile discovers its gateways, builds an
// ActiveDeployment and emits deploymentActivated(); a sandbox that was running is stopped
// then (not before: a failed or cancelled activation leaves the current deployment as it
// is). activateSandbox() starts the sandbox and emits an ActiveDeployment named "Sandbox"
// (environment "sandbox", the sandbox's admin URL and token, no Prometheus, no Redis, no
// PostgreSQL). A newer activation supersedes one still loading.
//
// startUp(): --sandbox starts the sandbox; --profile NAME opens that profile, and when
// there is no such profile reports errorOccurred() ("no profile named ...; the sandbox
// runs instead") and starts the sandbox, so the console is never empty; otherwise the
// last profile opened (ProfileStore::lastProfile()) if it still exists; otherwise (the
// first start) the sandbox.
//
// Nothing blocks: secrets, discovery and prompts answer later, by callback. Errors are
// reported as text by errorOccurred(). Thread affinity: the GUI thread, with an event loop.
class DeploymentController : public QObject {
    Q_OBJECT
public:
    // Asks for the secrets in `request` and calls `answer` once: with the values, or
    // nullopt when the operator cancelled (the activation is then abandoned). May call
    // `answer` before returning. The console shows a password dialog; tests answer directly.
    using SecretPrompt =
        std::function<void(const SecretRequest &request, std::function<void(std::optional<SecretAnswer>)> answer)>;

    explicit DeploymentController(DeploymentControllerOptions options, QObject *parent = nullptr);
    ~DeploymentController() override;

    static gateway::SandboxOptions defaultSandboxOptions();

    models::ProfileStore &profileStore() const { return *m_profiles; }
    models::SecretStore &secretStore() const;
    // False: secrets are kept for this session only and asked for when a profile opens.
    bool secretsPersist() const;

    // Without a prompt, "ask each time" mode opens profiles with the secrets it has.
    void setSecretPrompt(SecretPrompt prompt) { m_prompt = std::move(prompt); }

    void startUp(const ConsoleOptions &options);
    void activateProfile(const QString &name);
    // Restarts the sandbox when it is already the deployment.
    void activateSandbox();
    // Stops the sandbox if it runs (the active deployment stays what it was; panels are
    // told by sandboxStopped()).
    void stopSandbox();

    // The deployment last activated; invalid before the first.
    const ActiveDeployment &activeDeployment() const { return m_active; }
    // The name of the profile being opened; empty when none is loading.
    QString activatingProfile() const { return m_activatingName; }
    // Null unless the sandbox runs.
    gateway::SandboxDeployment *sandbox() const { return m_sandbox.get(); }

signals:
    void activationStarted(const QString &name);
    void deploymentActivated(const sluice::ui::ActiveDeployment &deployment);
    void sandboxStarted(sluice::gateway::SandboxDeployment *sandbox);
    void sandboxStopped();
    // One line for the operator: "cannot open profile \"prod\": ...".
    void errorOccurred(const QString &message);

private:
    void continueWithSecrets(quint64 serial, models::ConnectionProfile profile);
    void continueWithDiscovery(quint64 serial, const models::ConnectionProfile &profile);
    void finishActivation(quint64 serial, const models::ConnectionProfile &profile, QList<QUrl> adminUrls);
    void fail(quint64 serial, const QString &message);

    DeploymentControllerOptions m_options;
    std::unique_ptr<FallbackSecretStore> m_secrets;
    std::unique_ptr<models::ProfileStore> m_profiles;
    std::unique_ptr<gateway::SandboxDeployment> m_sandbox;
    SecretPrompt m_prompt;
    ActiveDeployment m_active;
    QString m_activatingName;
    quint64 m_serial = 0; // the activation in progress; bumped by each new one
};

} // namespace sluice::ui
