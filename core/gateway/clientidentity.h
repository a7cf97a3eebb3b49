#pragma once

#include "config/gatewayconfig.h"
#include "http/httpheaders.h"
#include "policy/concurrencylimiter.h"

#include <QString>

namespace sluice::gateway {

// Who sent a request and what it asks for, as the limits see it. `keyId` is the
// client key's configured id ("anonymous" without a key): limits are keyed by id,
// never by the secret. A value; copy freely.
struct ClientIdentity {
    QString keyId;
    bool anonymous = false;
    QString ip;       // the peer address as text
    QString route;    // the request path, one of config::knownRoutes()
    QString model;    // the model name as the client sent it (alias or model)
    policy::Priority priority = policy::Priority::Normal;
};

inline constexpr char kAnonymousKeyId[] = "anonymous";

policy::Priority queuePriority(config::KeyPriority priority);

// The key a client presented, as both providers' clients send it: "Authorization: Bearer
// K" or "x-api-key: K"; empty when it sent none. Never log it.
QByteArray presentedApiKey(const http::HttpHeaders &headers);

// The configured client key whose key_sha256 is the SHA-256 of `key`; nullptr when none
// is (or `key` is empty).
const config::ClientKey *findClientKey(const config::GatewayConfig &config, const QByteArray &key);

} // namespace sluice::gateway
