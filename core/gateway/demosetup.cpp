#include "gateway/demosetup.h"

#include "config/apikeyhash.h"

namespace sluice::gateway {

QStringList demoModels()
{
    return {QStringLiteral("gpt-4o-mini"), QStringLiteral("gpt-4o"), QStringLiteral("claude-3-5-haiku-latest"),
            QStringLiteral("claude-3-5-sonnet-latest")};
}

config::GatewayConfig demoConfig(const QString &simulatorBaseUrl, int port, int adminPort)
{
    config::GatewayConfig config = config::defaultConfig();
    config.version = 1;
    config.comment = QStringLiteral("Demo: the gateway in front of the built-in simulated provider.");
    config.server.listeners = {config::Listener{QStringLiteral("127.0.0.1"), port}};
    config.server.threads = 2;

    const QString base = simulatorBaseUrl + QStringLiteral("/v1");
    config::Upstream openai;
    openai.name = QStringLiteral("simulated-openai");
    openai.kind = config::UpstreamKind::OpenAi;
    openai.baseUrl = base;
    openai.models = {QStringLiteral("gpt-4o-mini"), QStringLiteral("gpt-4o")};
    openai.aliases = {{QStringLiteral("fast"), QStringLiteral("gpt-4o-mini")},
                      {QStringLiteral("smart"), QStringLiteral("gpt-4o")}};
    openai.requestsPerMinute = 3000;
    openai.tokensPerMinute = 2'000'000;
    config::Upstream anthropic;
    anthropic.name = QStringLiteral("simulated-anthropic");
    anthropic.kind = config::UpstreamKind::Anthropic;
    anthropic.baseUrl = base;
    anthropic.models = {QStringLiteral("claude-3-5-haiku-latest"), QStringLiteral("claude-3-5-sonnet-latest")};
    anthropic.aliases = {{QStringLiteral("claude-haiku"), QStringLiteral("claude-3-5-haiku-latest")}};
    anthropic.requestsPerMinute = 1000;
    anthropic.tokensPerMinute = 400'000;
    config.upstreams = {openai, anthropic};

    config::ClientKey key;
    key.id = QStringLiteral("demo");
    key.keySha256 = config::hashApiKey(QString::fromLatin1(kDemoClientKey));
    key.requestsPerMinute = 1200;
    key.tokensPerMinute = 1'000'000;
    key.parallelRequests = 64;
    config.apiKeys = {key};

    config::RateLimitRule perModel;
    perModel.name = QStringLiteral("per-key-model");
    perModel.scope = {config::LimitScope::ApiKey, config::LimitScope::Model};
    perModel.requestsPerMinute = 600;
    config.rateLimits = {perModel};

    config.cache.ttl = std::chrono::seconds(300);
    config.admin.address = QStringLiteral("127.0.0.1");
    config.admin.port = adminPort;
    return config;
}

} // namespace sluice::gateway
