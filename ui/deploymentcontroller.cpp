#include "deploymentcontroller.h"

#include "connections/fallbacksecretstore.h"
#include "models/keychainsecretstore.h"
#include "models/profilestore.h"
#include "store/redisinstanceregistry.h"
#include "store/redissession.h"

#include <QTimer>

#include <algorithm>
#include <chrono>
#include <utility>

namespace sluice::ui {

namespace {

// ProfileStore's documented secret keys.
QString secretKey(const QString &profileName, const char *field)
{
    return profileName + QLatin1Char('/') + QLatin1String(field);
}

QList<QUrl> urlsOf(const QStringList &texts)
{
    QList<QUrl> urls;
    for (const QString &text : texts) {
        const QUrl url(text.trimmed());
        if (url.isValid() && !url.host().isEmpty() && !urls.contains(url))
            urls.append(url);
    }
    return urls;
}

} // namespace

gateway::SandboxOptions DeploymentController::defaultSandboxOptions()
{
    gateway::SandboxOptions options;
    // Enough for live charts, little enough to leave the operator's machine alone.
    options.load.users = 6;
    options.load.requestsPerSecond = 5;
    return options;
}

DeploymentController::DeploymentController(DeploymentControllerOptions options, QObject *parent)
    : QObject(parent), m_options(std::move(options))
{
    std::unique_ptr<models::SecretStore> keychain;
    if (m_options.useKeychain && FallbackSecretStore::keychainLikelyUsable())
        keychain = std::make_unique<models::KeychainSecretStore>();
    m_secrets = std::make_unique<FallbackSecretStore>(std::move(keychain));
    m_profiles = std::make_unique<models::ProfileStore>(m_options.settingsDirectory, *m_secrets);
}

DeploymentController::~DeploymentController()
{
    // The profile store goes before the secret store it refers to.
    m_profiles.reset();
    if (m_sandbox)
        m_sandbox->stop();
}

models::SecretStore &DeploymentController::secretStore() const
{
    return *m_secrets;
}

bool DeploymentController::secretsPersist() const
{
    return m_secrets->usesKeychain();
}

void DeploymentController::startUp(const ConsoleOptions &options)
{
    if (options.forceSandbox) {
        activateSandbox();
        return;
    }
    if (!options.profileName.isEmpty()) {
        if (m_profiles->indexOf(options.profileName) >= 0) {
            activateProfile(options.profileName);
            return;
        }
        // A typo on the command line should not leave an empty console: say so, and show
        // the sandbox meanwhile.
        emit errorOccurred(
            tr("There is no profile named \"%1\"; the sandbox runs instead.").arg(options.profileName));
        activateSandbox();
        return;
    }
    const QString last = m_profiles->lastProfile();
    if (!last.isEmpty() && m_profiles->indexOf(last) >= 0) {
        activateProfile(last);
        return;
    }
    activateSandbox();
}

void DeploymentController::activateProfile(const QString &name)
{
    const quint64 serial = ++m_serial;
    m_activatingName = name;
    emit activationStarted(name);
    const std::optional<models::ConnectionProfile> stored = m_profiles->profile(name);
    if (!stored) {
        fail(serial, tr("Cannot open profile \"%1\": there is no such profile.").arg(name));
        return;
    }
    m_profiles->loadSecrets(name, this, [this, serial, stored](Result<models::ConnectionProfile, QString> loaded) {
        if (serial != m_serial)
            return;
        if (!loaded) {
            fail(serial, tr("Cannot read the secrets of profile \"%1\": %2").arg(stored->name, loaded.error()));
            return;
        }
        models::ConnectionProfile profile = *loaded;
        if (secretsPersist() || !m_prompt) {
            continueWithSecrets(serial, std::move(profile));
            return;
        }
        // Ask each time: whatever this session has not been told yet.
        const models::SessionSecretStore &session = m_secrets->sessionStore();
        SecretRequest request;
        request.profileName = profile.name;
        request.adminToken = (!profile.adminUrls.isEmpty() || profile.discoverFromRedis)
                             && !session.contains(secretKey(profile.name, "admin_token"));
        request.redisPassword =
            !profile.redis.host.isEmpty() && !session.contains(secretKey(profile.name, "redis_password"));
        request.postgresConnection =
            !stored->postgresConnection.has_value() && !session.contains(secretKey(profile.name, "postgres"));
        if (!request.adminToken && !request.redisPassword && !request.postgresConnection) {
            continueWithSecrets(serial, std::move(profile));
            return;
        }
        QPointer<DeploymentController> self(this);
        m_prompt(request, [self, serial, request, profile](std::optional<SecretAnswer> answer) mutable {
            if (!self || serial != self->m_serial)
                return;
            if (!answer) {
                self->fail(serial, tr("Opening profile \"%1\" was cancelled.").arg(profile.name));
                return;
            }
            models::SecretStore &secrets = *self->m_secrets;
            // Kept for the session, so the operator is asked once per run.
            if (request.adminToken) {
                profile.adminToken = answer->adminToken;
                secrets.write(secretKey(profile.name, "admin_token"), answer->adminToken, self, {});
            }
            if (request.redisPassword) {
                profile.redisPassword = answer->redisPassword;
                secrets.write(secretKey(profile.name, "redis_password"), answer->redisPassword, self, {});
            }
            if (request.postgresConnection) {
                profile.postgresConnection = answer->postgresConnection;
                secrets.write(secretKey(profile.name, "postgres"), answer->postgresConnection, self, {});
            }
            self->continueWithSecrets(serial, std::move(profile));
        });
    });
}

void DeploymentController::continueWithSecrets(quint64 serial, models::ConnectionProfile profile)
{
    if (profile.discoverFromRedis && !profile.redis.host.isEmpty()) {
        continueWithDiscovery(serial, profile);
        return;
    }
    finishActivation(serial, profile, urlsOf(profile.adminUrls));
}

void DeploymentController::continueWithDiscovery(quint64 serial, const models::ConnectionProfile &profile)
{
    store::RedisSessionOptions options;
    options.host = profile.redis.host;
    options.port = quint16(profile.redis.port);
    options.db = profile.redis.db;
    options.user = profile.redis.user;
    options.password = profile.redisPassword.value_or(QString());
    options.connectTimeout = std::chrono::milliseconds(m_options.discoveryTimeoutMs);
    options.commandTimeout = std::chrono::milliseconds(m_options.discoveryTimeoutMs);
    options.reconnectMin = std::chrono::hours(1);
    options.reconnectMax = std::chrono::hours(1);

    // One object bounds the whole discovery: deleting it drops every callback below.
    auto *scope = new QObject(this);
    auto *session = new store::RedisSession(options, scope);
    auto *deadline = new QTimer(scope);
    deadline->setSingleShot(true);
    const QList<QUrl> listed = urlsOf(profile.adminUrls);
    auto done = [this, serial, scope, profile, listed](Result<QList<store::InstanceInfo>, store::StoreError> found) {
        scope->deleteLater();
        if (serial != m_serial)
            return;
        QList<QUrl> urls = listed;
        if (!found) {
            // The listed URLs (if any) still make a deployment worth showing.
            emit errorOccurred(tr("Cannot discover the gateways of \"%1\" from Redis at %2:%3: %4")
                                   .arg(profile.name, profile.redis.host)
                                   .arg(profile.redis.port)
                                   .arg(found.error().message));
        } else {
            for (const store::InstanceInfo &instance : *found) {
                const QUrl url(instance.adminUrl);
                if (url.isValid() && !url.host().isEmpty() && !urls.contains(url))
                    urls.append(url);
            }
        }
        finishActivation(serial, profile, urls);
    };
    auto once = std::make_shared<bool>(false);
    auto finishOnce = [once, done](Result<QList<store::InstanceInfo>, store::StoreError> found) {
        if (std::exchange(*once, true))
            return;
        done(std::move(found));
    };
    connect(deadline, &QTimer::timeout, scope, [finishOnce] {
        finishOnce(unexpected(store::StoreError{store::StoreErrorKind::Timeout, QStringLiteral("no answer in time")}));
    });
    connect(session, &store::RedisSession::connectionError, scope,
            [finishOnce](const store::StoreError &error) { finishOnce(unexpected(error)); });
    connect(session, &store::RedisSession::stateChanged, scope,
            [this, session, scope, finishOnce](store::RedisSession::State state) {
                if (state != store::RedisSession::State::Ready)
                    return;
                store::RedisInstanceRegistry::discover(*session, m_options.registryNamespace, scope, finishOnce);
            });
    deadline->start(m_options.discoveryTimeoutMs);
    session->open();
}

void DeploymentController::finishActivation(quint64 serial, const models::ConnectionProfile &profile,
                                            QList<QUrl> adminUrls)
{
    if (serial != m_serial)
        return;
    ActiveDeployment deployment;
    deployment.name = profile.name;
    deployment.environmentLabel = profile.environmentLabel();
    deployment.colour = profile.effectiveColour();
    deployment.sandbox = false;
    deployment.readOnly = profile.readOnly;
    deployment.adminUrls = std::move(adminUrls);
    deployment.adminToken = profile.adminToken.value_or(QString()).toUtf8();
    deployment.prometheusUrl = QUrl(profile.prometheusUrl.trimmed());
    if (!profile.redis.host.isEmpty())
        deployment.redis = profile.redis;
    deployment.redisPassword = profile.redisPassword.value_or(QString());
    deployment.postgresConnection = profile.postgresConnection.value_or(QString());
    deployment.refreshIntervalSeconds = std::clamp(profile.refreshIntervalSeconds, 1, 30);

    m_activatingName.clear();
    stopSandbox();
    m_profiles->setLastProfile(profile.name);
    m_active = deployment;
    emit deploymentActivated(m_active);
}

void DeploymentController::fail(quint64 serial, const QString &message)
{
    if (serial != m_serial)
        return;
    m_activatingName.clear();
    emit errorOccurred(message);
}

void DeploymentController::activateSandbox()
{
    // Supersedes a profile still loading.
    ++m_serial;
    m_activatingName.clear();
    stopSandbox();
    m_sandbox = std::make_unique<gateway::SandboxDeployment>(
        m_options.sandbox ? *m_options.sandbox : defaultSandboxOptions());
    const auto started = m_sandbox->start();
    if (!started) {
        m_sandbox.reset();
        emit errorOccurred(tr("The sandbox did not start: %1").arg(started.error()));
        return;
    }
    ActiveDeployment deployment;
    deployment.name = QStringLiteral("Sandbox");
    deployment.environmentLabel = QStringLiteral("sandbox");
    deployment.colour = models::defaultTagColour(models::EnvironmentTag::Sandbox);
    deployment.sandbox = true;
    deployment.adminUrls = {m_sandbox->adminUrl()};
    deployment.adminToken = m_sandbox->adminToken();
    deployment.refreshIntervalSeconds = 2;
    m_active = deployment;
    emit sandboxStarted(m_sandbox.get());
    emit deploymentActivated(m_active);
}

void DeploymentController::stopSandbox()
{
    if (!m_sandbox)
        return;
    // Panels drop their pointers to it first.
    emit sandboxStopped();
    m_sandbox->stop();
    // Its generator may be inside a signal of ours on the stack: delete later.
    m_sandbox.release()->deleteLater();
}

} // namespace sluice::ui
