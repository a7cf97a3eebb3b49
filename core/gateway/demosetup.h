#pragma once

#include "config/gatewayconfig.h"

#include <QString>

namespace sluice::gateway {

// The client key every demo and sandbox gateway accepts (printed by --demo). A
// placeholder, not a secret: demo gateways listen on 127.0.0.1 only.
inline constexpr char kDemoClientKey[] = "sk-sluice-demo";

// A complete, valid configuration for a gateway in front of the simulated provider at
// `simulatorBaseUrl` ("http://127.0.0.1:PORT"): an OpenAI-shaped and an
// Anthropic-shaped upstream serving the simulator's models (demoModels()) with aliases,
// the demo client key with its own limits, a per-key rule, caching, the default
// concurrency queue, retries and breakers; listeners on 127.0.0.1 at `port` and
// `adminPort` (0: any free port).
config::GatewayConfig demoConfig(const QString &simulatorBaseUrl, int port, int adminPort);

// The models the demo's simulated provider serves.
QStringList demoModels();

} // namespace sluice::gateway
