#include "gateway/sandboxdeployment.h"

#include "gateway/demosetup.h"
#include "gateway/gateway.h"
#include "gateway/logger.h"
#include "gateway/simulatorserver.h"

#include <QRandomGenerator>

namespace sluice::gateway {

namespace {

QByteArray randomAdminToken()
{
    QByteArray bytes(24, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(bytes.data()), bytes.size() / 4);
    return "sluice-sandbox-" + bytes.toHex();
}

} // namespace

SimulatorOptions SandboxOptions::defaultSimulator()
{
    SimulatorOptions options;
    options.models = demoModels();
    return options;
}

LoadOptions SandboxOptions::defaultLoad()
{
    LoadOptions options;
    options.users = 8;
    options.thinkTimeMs = {Distribution::Shape::Normal, 1500, 500};
    options.repeatShare = 0.3;
    options.streamShare = 0.5;
    options.models = {QStringLiteral("gpt-4o-mini"), QStringLiteral("gpt-4o")};
    options.timeoutMs = 60'000;
    // The sandbox gateway is always there; never stop the users on our own.
    options.unreachableAttemptsLimit = 0;
    return options;
}

SandboxDeployment::SandboxDeployment(SandboxOptions options, QObject *parent)
    : QObject(parent)
    , m_options(std::move(options))
{
}

SandboxDeployment::~SandboxDeployment()
{
    tearDown();
}

Result<QUrl, QString> SandboxDeployment::fail(const QString &reason)
{
    tearDown();
    emit failed(reason);
    return unexpected(reason);
}

Result<QUrl, QString> SandboxDeployment::start()
{
    if (isRunning())
        return unexpected(QStringLiteral("the sandbox is already running"));

    SimulatorServerOptions simulatorOptions;
    simulatorOptions.simulator = m_options.simulator;
    simulatorOptions.threads = m_options.simulatorThreads;
    m_simulator = std::make_unique<SimulatorServer>(simulatorOptions);
    if (auto listening = m_simulator->listen(); !listening)
        return fail(QStringLiteral("simulated provider: ") + listening.error().message);

    GatewayOptions gatewayOptions;
    gatewayOptions.config = demoConfig(m_simulator->baseUrl(), m_options.gatewayPort, m_options.adminPort);
    if (m_options.adjustConfig)
        m_options.adjustConfig(gatewayOptions.config);
    m_adminToken = m_options.adminToken.isEmpty() ? randomAdminToken() : m_options.adminToken;
    gatewayOptions.adminToken = m_adminToken;
    gatewayOptions.instanceId = QStringLiteral("sandbox");
    gatewayOptions.logger = m_options.logger ? m_options.logger
                                             : std::make_shared<Logger>(static_cast<std::FILE *>(nullptr), LogLevel::Error);
    m_gateway = std::make_unique<Gateway>(std::move(gatewayOptions));
    auto listening = m_gateway->start();
    if (!listening)
        return fail(QStringLiteral("gateway: ") + listening.error());
    if (listening->isEmpty())
        return fail(QStringLiteral("gateway: no listener configured"));
    const QUrl url = listening->constFirst();

    LoadOptions load = m_options.load;
    load.url = url;
    load.apiKeys = {QByteArray(kDemoClientKey)};
    if (!m_options.startUsers)
        load.users = 0;
    if (const QString error = load.validationError(); !error.isEmpty())
        return fail(QStringLiteral("simulated users: ") + error);
    m_generator = new LoadGenerator(load, this);
    m_generator->start();
    emit started();
    return url;
}

void SandboxDeployment::stop()
{
    if (!isRunning())
        return;
    tearDown();
    emit stopped();
}

void SandboxDeployment::tearDown()
{
    if (m_generator) {
        // Cancelled before the gateway goes, so no request sees a reset; deleted from
        // the event loop, since stop() may run inside one of its signals.
        m_generator->abort();
        m_generator->disconnect();
        m_generator->deleteLater();
        m_generator = nullptr;
    }
    m_gateway.reset();
    m_simulator.reset();
}

QUrl SandboxDeployment::gatewayUrl() const
{
    return m_gateway ? m_gateway->listenUrls().value(0) : QUrl();
}

QUrl SandboxDeployment::adminUrl() const
{
    return m_gateway ? m_gateway->adminUrl() : QUrl();
}

QUrl SandboxDeployment::metricsUrl() const
{
    QUrl url = gatewayUrl();
    if (!url.isEmpty())
        url.setPath(QStringLiteral("/metrics"));
    return url;
}

QUrl SandboxDeployment::simulatorUrl() const
{
    return m_simulator ? QUrl(m_simulator->baseUrl()) : QUrl();
}

} // namespace sluice::gateway
