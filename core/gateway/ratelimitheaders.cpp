#include "gateway/ratelimitheaders.h"

#include <QDateTime>

#include <algorithm>

namespace sluice::gateway {

namespace {

// "1.250" → "1.25", "2.000" → "2".
QByteArray trimmedDecimal(qint64 whole, qint64 fraction, int fractionDigits)
{
    QByteArray text = QByteArray::number(whole);
    if (fraction == 0)
        return text;
    QByteArray digits = QByteArray::number(fraction).rightJustified(fractionDigits, '0');
    while (digits.endsWith('0'))
        digits.chop(1);
    return text + '.' + digits;
}

void appendBucket(HeaderList &headers, const QByteArray &prefix, const QByteArray &suffix,
                  const std::optional<RateLimitBucket> &bucket, ProviderKind kind, qint64 nowUnixMilliseconds)
{
    if (!bucket)
        return;
    QByteArray reset;
    if (kind == ProviderKind::OpenAI) {
        reset = formatGoDuration(bucket->untilFull);
    } else {
        const qint64 untilFullMilliseconds = (bucket->untilFull.count() + 999'999) / 1'000'000;
        const qint64 resetSeconds = (nowUnixMilliseconds + untilFullMilliseconds + 999) / 1000;
        reset = QDateTime::fromSecsSinceEpoch(resetSeconds, Qt::UTC).toString(Qt::ISODate).toLatin1();
    }
    if (kind == ProviderKind::OpenAI) {
        headers.append({prefix + "limit-" + suffix, QByteArray::number(bucket->limit)});
        headers.append({prefix + "remaining-" + suffix, QByteArray::number(std::max<qint64>(0, bucket->remaining))});
        headers.append({prefix + "reset-" + suffix, reset});
    } else {
        headers.append({prefix + suffix + "-limit", QByteArray::number(bucket->limit)});
        headers.append({prefix + suffix + "-remaining", QByteArray::number(std::max<qint64>(0, bucket->remaining))});
        headers.append({prefix + suffix + "-reset", reset});
    }
}

} // namespace

HeaderList rateLimitHeaders(ProviderKind kind, const RateLimitState &state, qint64 nowUnixMilliseconds)
{
    HeaderList headers;
    if (kind == ProviderKind::OpenAI) {
        appendBucket(headers, "x-ratelimit-", "requests", state.requests, kind, nowUnixMilliseconds);
        appendBucket(headers, "x-ratelimit-", "tokens", state.tokens, kind, nowUnixMilliseconds);
        return headers;
    }
    appendBucket(headers, "anthropic-ratelimit-", "requests", state.requests, kind, nowUnixMilliseconds);
    appendBucket(headers, "anthropic-ratelimit-", "tokens", state.tokens, kind, nowUnixMilliseconds);
    appendBucket(headers, "anthropic-ratelimit-", "input-tokens", state.inputTokens, kind, nowUnixMilliseconds);
    appendBucket(headers, "anthropic-ratelimit-", "output-tokens", state.outputTokens, kind, nowUnixMilliseconds);
    return headers;
}

QByteArray formatGoDuration(policy::Nanoseconds duration)
{
    qint64 nanoseconds = std::max<qint64>(0, duration.count());
    if (nanoseconds == 0)
        return QByteArrayLiteral("0s");
    if (nanoseconds < 1'000)
        return QByteArray::number(nanoseconds) + "ns";
    if (nanoseconds < 1'000'000)
        return trimmedDecimal(nanoseconds / 1'000, nanoseconds % 1'000, 3) + "µs";
    if (nanoseconds < 1'000'000'000)
        return trimmedDecimal(nanoseconds / 1'000'000, nanoseconds % 1'000'000, 6) + "ms";
    QByteArray text;
    const qint64 hours = nanoseconds / 3'600'000'000'000;
    nanoseconds %= 3'600'000'000'000;
    const qint64 minutes = nanoseconds / 60'000'000'000;
    nanoseconds %= 60'000'000'000;
    if (hours > 0)
        text += QByteArray::number(hours) + 'h';
    if (hours > 0 || minutes > 0)
        text += QByteArray::number(minutes) + 'm';
    return text + trimmedDecimal(nanoseconds / 1'000'000'000, nanoseconds % 1'000'000'000, 9) + 's';
}

QByteArray retryAfterSeconds(policy::Nanoseconds delay)
{
    const qint64 seconds = (std::max<qint64>(0, delay.count()) + 999'999'999) / 1'000'000'000;
    return QByteArray::number(std::max<qint64>(1, seconds));
}

} // namespace sluice::gateway
