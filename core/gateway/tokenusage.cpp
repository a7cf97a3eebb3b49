#include "gateway/tokenusage.h"

#include <QJsonDocument>

namespace sluice::gateway {

namespace {

qint64 count(const QJsonObject &object, const QString &key)
{
    return object.value(key).toInteger(0);
}

} // namespace

std::optional<policy::TokenUsage> usageFromUsageObject(ProviderKind kind, const QJsonObject &usage)
{
    if (kind == ProviderKind::OpenAI) {
        if (!usage.contains(QStringLiteral("prompt_tokens")) && !usage.contains(QStringLiteral("completion_tokens")))
            return std::nullopt;
        return policy::fromOpenAiUsage({
            .promptTokens = count(usage, QStringLiteral("prompt_tokens")),
            .cachedTokens = count(usage.value(QStringLiteral("prompt_tokens_details")).toObject(),
                                  QStringLiteral("cached_tokens")),
            .completionTokens = count(usage, QStringLiteral("completion_tokens")),
        });
    }
    if (!usage.contains(QStringLiteral("input_tokens")) && !usage.contains(QStringLiteral("output_tokens")))
        return std::nullopt;
    return policy::fromAnthropicUsage({
        .inputTokens = count(usage, QStringLiteral("input_tokens")),
        .cacheReadInputTokens = count(usage, QStringLiteral("cache_read_input_tokens")),
        .cacheCreationInputTokens = count(usage, QStringLiteral("cache_creation_input_tokens")),
        .outputTokens = count(usage, QStringLiteral("output_tokens")),
    });
}

std::optional<policy::TokenUsage> usageFromResponse(ProviderKind kind, const QJsonObject &response)
{
    return usageFromUsageObject(kind, response.value(QStringLiteral("usage")).toObject());
}

// std::int64_t is long on LP64, which QJsonValue's constructors take only ambiguously.
QJsonObject usageObject(ProviderKind kind, const policy::TokenUsage &usage)
{
    if (kind == ProviderKind::OpenAI) {
        return QJsonObject{
            {QStringLiteral("prompt_tokens"), qint64{usage.promptTokens()}},
            {QStringLiteral("completion_tokens"), qint64{usage.outputTokens}},
            {QStringLiteral("total_tokens"), qint64{usage.totalTokens()}},
            {QStringLiteral("prompt_tokens_details"),
             QJsonObject{{QStringLiteral("cached_tokens"), qint64{usage.cachedInputTokens}}}},
        };
    }
    return QJsonObject{
        {QStringLiteral("input_tokens"), qint64{usage.inputTokens}},
        {QStringLiteral("output_tokens"), qint64{usage.outputTokens}},
        {QStringLiteral("cache_read_input_tokens"), qint64{usage.cachedInputTokens}},
        {QStringLiteral("cache_creation_input_tokens"), qint64{usage.cacheWriteTokens}},
    };
}

void StreamUsageAccumulator::addEvent(const SseEvent &event)
{
    if (event.data.isEmpty() || event.data.front() != '{')
        return;
    const QJsonDocument document = QJsonDocument::fromJson(event.data);
    if (document.isObject())
        addEventObject(event.event, document.object());
}

void StreamUsageAccumulator::addEventObject(const QByteArray &eventName, const QJsonObject &data)
{
    QJsonObject usage;
    if (m_kind == ProviderKind::OpenAI) {
        usage = data.value(QStringLiteral("usage")).toObject();
        if (!usage.isEmpty())
            m_usage = usage;
        return;
    }
    const QString type = data.value(QStringLiteral("type")).toString(QString::fromUtf8(eventName));
    if (type == QStringLiteral("message_start"))
        usage = data.value(QStringLiteral("message")).toObject().value(QStringLiteral("usage")).toObject();
    else if (type == QStringLiteral("message_delta"))
        usage = data.value(QStringLiteral("usage")).toObject();
    for (auto it = usage.begin(); it != usage.end(); ++it) {
        if (!it.value().isNull())
            m_usage.insert(it.key(), it.value());
    }
}

std::optional<policy::TokenUsage> StreamUsageAccumulator::usage() const
{
    return usageFromUsageObject(m_kind, m_usage);
}

} // namespace sluice::gateway
