#pragma once

#include "config/gatewayconfig.h"
#include "gateway/loadgenerator.h"
#include "gateway/loadoptions.h"
#include "gateway/simulatoroptions.h"
#include "policy/result.h"

#include <QByteArray>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QUrl>

#include <functional>
#include <memory>

namespace sluice::gateway {

class Gateway;
class Logger;
class SimulatorServer;

struct SandboxOptions {
    // The simulated provider: the demo models with its default, realistic latencies
    // (lognormal 400 ms to the first token, 50 tokens/s, ~200-token answers).
    SimulatorOptions simulator = defaultSimulator();
    int simulatorThreads = 2;
    // The gateway's data-plane and admin ports on 127.0.0.1; 0: any free port.
    int gatewayPort = 0;
    int adminPort = 0;
    // The admin bearer token; empty: a random one (adminToken() tells which).
    QByteArray adminToken;
    // Edits demoConfig() before the gateway starts (limits, cache TTLs to try).
    std::function<void(config::GatewayConfig &)> adjustConfig;
    // The gateway's log; null: discarded.
    std::shared_ptr<Logger> logger;
    // The simulated users. url and apiKeys are set by start() (the gateway, the demo
    // key); the rest is used as given: by default 8 users, think 1500±500 ms, repeat
    // share 0.3, stream share 0.5, the demo's OpenAI models.
    LoadOptions load = defaultLoad();
    // False: the users are created at 0 and the caller raises them with
    // generator()->setUsers() (the requested count stays in load.users).
    bool startUsers = true;

    static SimulatorOptions defaultSimulator();
    static LoadOptions defaultLoad();
};

// The console's embedded sandbox without widgets: a simulated provider, a gateway with
// demoConfig() in front of it, and simulated users (a LoadGenerator) sending to the
// gateway with the demo client key, all in this process on 127.0.0.1. Dashboards point
// at gatewayUrl(), metricsUrl() and adminUrl() like at any deployment.
//
// The simulator's options are fixed once started (SimulatorServer has no live
// setters); restart the sandbox to change them. The users and the gateway (through its
// admin API) are live.
//
// Thread affinity: the thread that created it, with a running event loop; the
// simulator and gateway run their own HTTP threads. start() and stop() do not block on
// the network (stop() joins the servers' threads).
class SandboxDeployment : public QObject {
    Q_OBJECT
public:
    explicit SandboxDeployment(SandboxOptions options = {}, QObject *parent = nullptr);
    ~SandboxDeployment() override;

    // Starts the simulator, the gateway and the users; the gateway's URL, or why not
    // (a port in use...), in which case nothing is left running. Emits started() or
    // failed() before returning. Fails when already running.
    Result<QUrl, QString> start();
    // Stops the users (requests in flight are cancelled), the gateway and the
    // simulator, freeing their ports before it returns; emits stopped(). Does nothing
    // when not running. Safe to call from a slot of generator()'s signals.
    void stop();
    bool isRunning() const { return m_gateway != nullptr; }

    // Empty / null when not running.
    QUrl gatewayUrl() const;     // http://127.0.0.1:PORT (OpenAI base: + "/v1")
    QUrl adminUrl() const;       // http://127.0.0.1:ADMIN_PORT
    QUrl metricsUrl() const;     // gatewayUrl() + "/metrics"
    QUrl simulatorUrl() const;   // the simulated provider's base
    QByteArray adminToken() const { return m_adminToken; }
    LoadGenerator *generator() const { return m_generator; }
    Gateway *gateway() const { return m_gateway.get(); }
    SimulatorServer *simulator() const { return m_simulator.get(); }
    const SandboxOptions &options() const { return m_options; }

signals:
    void started();
    void stopped();
    void failed(const QString &reason);

private:
    Result<QUrl, QString> fail(const QString &reason);
    void tearDown();

    SandboxOptions m_options;
    QByteArray m_adminToken;
    std::unique_ptr<SimulatorServer> m_simulator;
    std::unique_ptr<Gateway> m_gateway;
    QPointer<LoadGenerator> m_generator; // a child; deleted later so stop() may run in its slots
};

} // namespace sluice::gateway
