#pragma once

#include "config/gatewayconfig.h"
#include "gateway/demosetup.h"
#include "gateway/gateway.h"
#include "gateway/logger.h"
#include "gateway/simulatorserver.h"
#include "rawhttpclient.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <functional>
#include <memory>
#include <mutex>

namespace sluice::test {

// A simulated provider and a gateway in front of it, both on 127.0.0.1 with free ports,
// for end-to-end tests over real sockets. `adjust` edits the demo configuration before
// the gateway starts. Log lines are kept for assertions.
class GatewayHarness {
public:
    explicit GatewayHarness(std::function<void(config::GatewayConfig &)> adjust = {},
                            gateway::SimulatorOptions simulatorOptions = defaultSimulator())
    {
        gateway::SimulatorServerOptions options;
        options.simulator = std::move(simulatorOptions);
        simulator = std::make_unique<gateway::SimulatorServer>(options);
        auto listening = simulator->listen();
        simulatorPort = listening ? *listening : 0;
        gateway::GatewayOptions gatewayOptions;
        gatewayOptions.config = gateway::demoConfig(simulator->baseUrl(), 0, 0);
        gatewayOptions.config.server.threads = 2;
        if (adjust)
            adjust(gatewayOptions.config);
        gatewayOptions.adminToken = adminToken;
        gatewayOptions.usageObserver = [this](store::UsageRecord record) {
            std::lock_guard lock(m_logMutex);
            m_usage.append(std::move(record));
        };
        gatewayOptions.logger = std::make_shared<gateway::Logger>(
            [this](std::string_view line) {
                std::lock_guard lock(m_logMutex);
                m_log.append(QString::fromUtf8(line.data(), qsizetype(line.size())));
            },
            config::LogLevel::Debug);
        gw = std::make_unique<gateway::Gateway>(std::move(gatewayOptions));
        auto started = gw->start();
        startError = started ? QString() : started.error();
        if (started) {
            port = quint16(gw->listenUrls().value(0).port());
            adminPort = quint16(gw->adminUrl().port());
        }
    }

    // The gateway and the simulator go first: their threads may still log into m_log.
    ~GatewayHarness()
    {
        gw.reset();
        simulator.reset();
    }

    static gateway::SimulatorOptions defaultSimulator()
    {
        gateway::SimulatorOptions options;
        options.models = gateway::demoModels();
        options.timeToFirstTokenMilliseconds = {gateway::Distribution::Shape::Fixed, 5, 0};
        options.perTokenLatencyMilliseconds = {gateway::Distribution::Shape::Fixed, 0.2, 0};
        options.tokensPerSecond = 0;
        options.outputTokens = {gateway::Distribution::Shape::Fixed, 20, 0};
        return options;
    }

    QList<store::UsageRecord> usage() const
    {
        std::lock_guard lock(m_logMutex);
        return m_usage;
    }

    QStringList log() const
    {
        std::lock_guard lock(m_logMutex);
        return m_log;
    }

    const QByteArray adminToken = "test-admin-token";
    std::unique_ptr<gateway::SimulatorServer> simulator;
    std::unique_ptr<gateway::Gateway> gw;
    quint16 simulatorPort = 0;
    quint16 port = 0;
    quint16 adminPort = 0;
    QString startError;

private:
    mutable std::mutex m_logMutex;
    QStringList m_log;
    QList<store::UsageRecord> m_usage;
};

// One request on its own connection; waits (spinning the event loop) for the whole
// answer or the connection's end. An empty status means none arrived.
inline RawHttpResponse exchange(quint16 port, const QByteArray &method, const QByteArray &path,
                                const QByteArray &body, const QList<QPair<QByteArray, QByteArray>> &headers = {},
                                int timeoutMs = 15000)
{
    RawHttpClient client;
    if (!client.connectTo(port))
        return {};
    QByteArray request = method + ' ' + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    for (const auto &[name, value] : headers)
        request += name + ": " + value + "\r\n";
    if (!body.isEmpty() || method == "POST" || method == "PUT" || method == "PATCH")
        request += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    request += "\r\n" + body;
    client.send(request);
    (void)QTest::qWaitFor([&] { return client.isClosed(); }, timeoutMs);
    return client.response(0);
}

inline QList<QPair<QByteArray, QByteArray>> bearer(const QByteArray &key = gateway::kDemoClientKey)
{
    return {{"Authorization", "Bearer " + key}, {"Content-Type", "application/json"}};
}

inline QByteArray chatBody(const QString &model, const QString &prompt, bool stream = false, const QJsonObject &extra = {})
{
    QJsonObject body = extra;
    body.insert(QStringLiteral("model"), model);
    body.insert(QStringLiteral("messages"),
                QJsonArray{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")}, {QStringLiteral("content"), prompt}}});
    if (stream)
        body.insert(QStringLiteral("stream"), true);
    return QJsonDocument(body).toJson(QJsonDocument::Compact);
}

inline QByteArray messagesBody(const QString &model, const QString &prompt, bool stream = false)
{
    QJsonObject body{{QStringLiteral("model"), model}, {QStringLiteral("max_tokens"), 64}};
    body.insert(QStringLiteral("messages"),
                QJsonArray{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")}, {QStringLiteral("content"), prompt}}});
    if (stream)
        body.insert(QStringLiteral("stream"), true);
    return QJsonDocument(body).toJson(QJsonDocument::Compact);
}

inline QByteArray responseBody(const RawHttpResponse &response)
{
    return response.body;
}

inline QJsonObject jsonOf(const RawHttpResponse &response)
{
    return QJsonDocument::fromJson(responseBody(response)).object();
}

} // namespace sluice::test

#include "metrics/promparser.h"

namespace sluice::test {

// The sum of every sample called `name` whose labels include all of `labels`.
inline double metricSum(const metrics::Registry &registry, std::string_view name,
                        std::initializer_list<metrics::LabelView> labels = {})
{
    const std::string text = registry.exposition();
    const auto families = metrics::parseExposition(text);
    if (!families)
        return -1;
    double sum = 0;
    for (const auto &family : *families) {
        for (const auto &sample : family.samples) {
            if (sample.name != name)
                continue;
            const bool matches = std::all_of(labels.begin(), labels.end(), [&sample](const metrics::LabelView &label) {
                return sample.label(label.first) == label.second;
            });
            if (matches)
                sum += sample.value;
        }
    }
    return sum;
}

} // namespace sluice::test
