#pragma once

// In-process gateway instances sharing one Redis (tests of shared config, limits and
// cache). Header-only, like the other test supports.

#include "gatewayharness.h"

#include <functional>
#include <memory>
#include <mutex>
#include <optional>

namespace sluice::test {

// One gateway of a test cluster; its log is kept for failure messages.
struct RedisGatewayInstance {
    std::unique_ptr<gateway::Gateway> gw;
    quint16 port = 0;
    quint16 adminPort = 0;
    std::shared_ptr<QStringList> log = std::make_shared<QStringList>();
    std::shared_ptr<std::mutex> logMutex = std::make_shared<std::mutex>();

    QString logText() const
    {
        std::lock_guard lock(*logMutex);
        return log->join(u'\n');
    }
};

// Starts gateway `id` on the demo config for `simulatorBaseUrl`, one server thread,
// Redis at 127.0.0.1:`redisPort` under `keyNamespace`, heartbeat 1 s, admin token
// `adminToken`; `adjust` may change the config further. nullopt (and *error) when
// start() failed.
inline std::optional<RedisGatewayInstance> startRedisGateway(const QString &id, const QString &simulatorBaseUrl,
                                                             quint16 redisPort, const QByteArray &keyNamespace,
                                                             const QByteArray &adminToken, QString *error,
                                                             const std::function<void(config::GatewayConfig &)> &adjust = {})
{
    RedisGatewayInstance instance;
    gateway::GatewayOptions options;
    options.config = gateway::demoConfig(simulatorBaseUrl, 0, 0);
    options.config.server.threads = 1;
    options.config.redis.enabled = true;
    options.config.redis.address = QStringLiteral("127.0.0.1");
    options.config.redis.port = redisPort;
    options.config.redis.keyNamespace = QString::fromLatin1(keyNamespace);
    options.config.redis.heartbeat = std::chrono::seconds(1);
    options.config.redis.commandTimeout = std::chrono::milliseconds(2'000);
    if (adjust)
        adjust(options.config);
    options.instanceId = id;
    options.adminToken = adminToken;
    auto log = instance.log;
    auto logMutex = instance.logMutex;
    options.logger = std::make_shared<gateway::Logger>(
        [log, logMutex](std::string_view line) {
            std::lock_guard lock(*logMutex);
            log->append(QString::fromUtf8(line.data(), qsizetype(line.size())));
        },
        config::LogLevel::Debug);
    instance.gw = std::make_unique<gateway::Gateway>(std::move(options));
    auto started = instance.gw->start();
    if (!started) {
        *error = started.error();
        return std::nullopt;
    }
    instance.port = quint16(instance.gw->listenUrls().value(0).port());
    instance.adminPort = quint16(instance.gw->adminUrl().port());
    return instance;
}

} // namespace sluice::test
