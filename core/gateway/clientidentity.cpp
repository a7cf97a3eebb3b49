#include "gateway/clientidentity.h"

#include "config/apikeyhash.h"

namespace sluice::gateway {

policy::Priority queuePriority(config::KeyPriority priority)
{
    switch (priority) {
    case config::KeyPriority::High: return policy::Priority::High;
    case config::KeyPriority::Normal: return policy::Priority::Normal;
    case config::KeyPriority::Low: return policy::Priority::Low;
    }
    return policy::Priority::Normal;
}

QByteArray presentedApiKey(const http::HttpHeaders &headers)
{
    const QByteArray authorization = headers.value("authorization").trimmed();
    if (authorization.size() > 7 && authorization.left(7).toLower() == "bearer ")
        return authorization.mid(7).trimmed();
    return headers.value("x-api-key").trimmed();
}

const config::ClientKey *findClientKey(const config::GatewayConfig &config, const QByteArray &key)
{
    if (key.isEmpty())
        return nullptr;
    const QString hash = config::hashApiKey(QString::fromUtf8(key));
    for (const config::ClientKey &client : config.apiKeys) {
        if (client.keySha256 == hash)
            return &client;
    }
    return nullptr;
}

} // namespace sluice::gateway
