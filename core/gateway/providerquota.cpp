#include "gateway/providerquota.h"

#include "policy/retryafter.h"

#include <QDateTime>

namespace sluice::gateway {

namespace {

std::optional<qint64> readCount(const http::HttpHeaders &headers, const QByteArray &name)
{
    if (!headers.contains(name))
        return std::nullopt;
    bool ok = false;
    const qint64 value = headers.value(name).trimmed().toLongLong(&ok);
    if (!ok || value < 0)
        return std::nullopt;
    return value;
}

std::optional<RateLimitBucket> openAIBucket(const http::HttpHeaders &headers, const char *resource)
{
    const QByteArray suffix(resource);
    const auto limit = readCount(headers, "x-ratelimit-limit-" + suffix);
    const auto remaining = readCount(headers, "x-ratelimit-remaining-" + suffix);
    if (!limit || !remaining)
        return std::nullopt;
    RateLimitBucket bucket{*limit, *remaining, {}};
    const QByteArray reset = headers.value("x-ratelimit-reset-" + suffix);
    if (const auto duration = policy::parseResetDuration(std::string_view(reset.constData(), std::size_t(reset.size()))))
        bucket.untilFull = *duration;
    return bucket;
}

std::optional<RateLimitBucket> anthropicBucket(const http::HttpHeaders &headers, const char *resource,
                                               qint64 nowUnixMilliseconds)
{
    const QByteArray prefix = "anthropic-ratelimit-" + QByteArray(resource);
    const auto limit = readCount(headers, prefix + "-limit");
    const auto remaining = readCount(headers, prefix + "-remaining");
    if (!limit || !remaining)
        return std::nullopt;
    RateLimitBucket bucket{*limit, *remaining, {}};
    if (const auto resetAt = parseRfc3339Milliseconds(headers.value(prefix + "-reset")))
        bucket.untilFull = std::chrono::milliseconds(std::max<qint64>(0, *resetAt - nowUnixMilliseconds));
    return bucket;
}

} // namespace

RateLimitState parseProviderQuota(ProviderKind kind, const http::HttpHeaders &headers, qint64 nowUnixMilliseconds)
{
    RateLimitState state;
    if (kind == ProviderKind::OpenAI) {
        state.requests = openAIBucket(headers, "requests");
        state.tokens = openAIBucket(headers, "tokens");
        return state;
    }
    state.requests = anthropicBucket(headers, "requests", nowUnixMilliseconds);
    state.tokens = anthropicBucket(headers, "tokens", nowUnixMilliseconds);
    state.inputTokens = anthropicBucket(headers, "input-tokens", nowUnixMilliseconds);
    state.outputTokens = anthropicBucket(headers, "output-tokens", nowUnixMilliseconds);
    return state;
}

std::optional<qint64> parseRfc3339Milliseconds(QByteArrayView text)
{
    const QString value = QString::fromLatin1(text).trimmed();
    // RFC 3339 requires the 'T', a seconds field and an explicit zone.
    if (value.size() < 20 || value.at(10).toUpper() != QLatin1Char('T'))
        return std::nullopt;
    const QChar last = value.back();
    if (last.toUpper() != QLatin1Char('Z') && !value.contains(QLatin1Char('+'), Qt::CaseSensitive)
        && value.lastIndexOf(QLatin1Char('-')) < 19)
        return std::nullopt;
    const QDateTime time = QDateTime::fromString(value, Qt::ISODateWithMs);
    if (!time.isValid())
        return std::nullopt;
    return time.toMSecsSinceEpoch();
}

bool isProviderQuotaHeader(QByteArrayView name)
{
    const QByteArray lower = name.toByteArray().toLower();
    return lower.startsWith("x-ratelimit-") || lower.startsWith("anthropic-ratelimit-");
}

} // namespace sluice::gateway
