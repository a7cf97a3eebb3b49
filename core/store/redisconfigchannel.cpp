#include "store/redisconfigchannel.h"

#include "store/rediskey.h"

#include <algorithm>

namespace sluice::store {

namespace {

// KEYS[1]  the document's hash {version, json}
// ARGV     expected version, new version, json, channel
// Returns  {applied 1|0, stored version, receivers}; stored version 0 when there is no
//          document, -1 when its version field is not a number.
// The compare, the write and the announcement in one script: no other writer can slip
// in between, and no instance hears of a version that was not stored.
constexpr char kPublishScript[] = R"lua(
local expected = tonumber(ARGV[1])
local new = tonumber(ARGV[2])
if not expected or not new or expected < 0 or new <= expected then
  return redis.error_reply('ERR config version: the new version (' .. ARGV[2] ..
    ') must be greater than the expected one (' .. ARGV[1] .. ')')
end
local stored = redis.call('HGET', KEYS[1], 'version')
local stored_version = 0
if stored then stored_version = tonumber(stored) or -1 end
if stored_version ~= expected then
  return {0, stored_version, 0}
end
redis.call('HSET', KEYS[1], 'version', ARGV[2], 'json', ARGV[3])
local receivers = redis.call('PUBLISH', ARGV[4], ARGV[2])
return {1, new, receivers}
)lua";

StoreError malformed(const QString &what)
{
    return {StoreErrorKind::Protocol, what};
}

std::optional<qint64> parseVersion(const QByteArray &text)
{
    bool ok = false;
    const qint64 version = text.trimmed().toLongLong(&ok);
    return ok ? std::optional<qint64>(version) : std::nullopt;
}

} // namespace

RedisConfigChannel::RedisConfigChannel(RedisSession &session, RedisConfigChannelOptions options, QObject *parent)
    : QObject(parent),
      m_session(&session),
      m_options(std::move(options)),
      m_publishScript(QByteArray::fromRawData(kPublishScript, sizeof(kPublishScript) - 1)),
      m_subscriber(m_options.subscriberSession.value_or(session.options()))
{
    m_options.resyncRetryInterval = std::max(m_options.resyncRetryInterval, std::chrono::milliseconds(1));
    m_resyncRetryTimer.setSingleShot(true);
    m_resyncRetryTimer.setInterval(m_options.resyncRetryInterval);
    connect(&m_resyncRetryTimer, &QTimer::timeout, this, &RedisConfigChannel::tryResync);
    connect(&m_subscriber, &RedisSubscriber::message, this, &RedisConfigChannel::onMessage);
    connect(&m_subscriber, &RedisSubscriber::subscribed, this, &RedisConfigChannel::onSubscribed);
    connect(&m_subscriber, &RedisSubscriber::subscriptionsLost, this, [this] {
        // The next confirmation owes a re-read of its own; this one's answer would be stale.
        m_resyncPending = false;
        m_resyncRetryTimer.stop();
    });
    // The two connections come back independently: a re-read that found the command
    // session down waits for it.
    connect(&session, &RedisSession::stateChanged, this, [this](RedisSession::State state) {
        if (state == RedisSession::State::Ready)
            tryResync();
    });
    m_subscriber.subscribe({changedChannel()});
}

RedisConfigChannel::~RedisConfigChannel()
{
    // The subscriber is a member, destroyed after this body.
    m_subscriber.disconnect(this);
}

QByteArray RedisConfigChannel::configKey() const
{
    return redisKey(m_options.keyNamespace, kConfigKeyKind, "current");
}

QByteArray RedisConfigChannel::changedChannel() const
{
    return redisKey(m_options.keyNamespace, kConfigKeyKind, "changed");
}

void RedisConfigChannel::open()
{
    m_subscriber.open();
}

void RedisConfigChannel::close()
{
    m_subscriber.close();
    m_resyncPending = false;
    m_resyncRetryTimer.stop();
}

bool RedisConfigChannel::isListening() const
{
    return m_subscriber.isSubscribed(changedChannel());
}

void RedisConfigChannel::publish(QByteArray configJson, qint64 expectedVersion, qint64 newVersion, QObject *context,
                                 PublishCallback callback)
{
    if (!m_session)
        return;
    m_publishScript.run(
        *m_session, {configKey()},
        {QByteArray::number(expectedVersion), QByteArray::number(newVersion), configJson, changedChannel()}, context,
        [callback = std::move(callback)](Result<RedisReply, StoreError> result) {
            if (!callback)
                return;
            if (!result) {
                callback(unexpected(std::move(result).error()));
                return;
            }
            const std::vector<RedisReply> &values = result->elements();
            if (!result->isArray() || values.size() != 3
                || !std::all_of(values.begin(), values.end(), [](const RedisReply &v) { return v.isInteger(); })) {
                callback(unexpected(malformed(QStringLiteral("config publish script answered a %1, expected 3 integers")
                                                  .arg(QLatin1String(RedisReply::typeName(result->type()))))));
                return;
            }
            ConfigPublishOutcome outcome;
            outcome.applied = values[0].toInteger() == 1;
            outcome.storedVersion = values[1].toInteger();
            outcome.receivers = values[2].toInteger();
            callback(outcome);
        });
}

void RedisConfigChannel::fetch(QObject *context, FetchCallback callback) const
{
    if (!m_session)
        return;
    m_session->command(
        {QByteArrayLiteral("HMGET"), configKey(), QByteArrayLiteral("version"), QByteArrayLiteral("json")}, context,
        [callback = std::move(callback)](Result<RedisReply, StoreError> result) {
            if (!callback)
                return;
            if (!result) {
                callback(unexpected(std::move(result).error()));
                return;
            }
            const std::vector<RedisReply> &values = result->elements();
            if (!result->isArray() || values.size() != 2) {
                callback(unexpected(malformed(QStringLiteral("HMGET answered a %1, expected 2 values")
                                                  .arg(QLatin1String(RedisReply::typeName(result->type()))))));
                return;
            }
            if (values[0].isNil() && values[1].isNil()) {
                callback(std::optional<ConfigDocument>());
                return;
            }
            const std::optional<qint64> version = values[0].isString() ? parseVersion(values[0].bytes()) : std::nullopt;
            if (!version) {
                callback(unexpected(malformed(QStringLiteral("the stored config version is not an integer: '%1'")
                                                  .arg(QString::fromUtf8(values[0].bytes())))));
                return;
            }
            callback(std::optional<ConfigDocument>(ConfigDocument{*version, values[1].bytes()}));
        });
}

void RedisConfigChannel::onMessage(const QByteArray &channel, const QByteArray &payload)
{
    if (channel != changedChannel())
        return;
    // Announcements come from the publish script; anything else on the channel is noise.
    if (const std::optional<qint64> version = parseVersion(payload))
        report(*version);
}

void RedisConfigChannel::onSubscribed(const QByteArray &channel)
{
    if (channel != changedChannel())
        return;
    ++m_subscriptionGeneration;
    m_resyncPending = true;
    m_resyncRetryTimer.stop();
    QPointer<RedisConfigChannel> self(this);
    emit listening();
    if (self)
        tryResync();
}

void RedisConfigChannel::tryResync()
{
    if (!m_resyncPending || m_resyncInFlight || !m_session || !m_session->isReady())
        return;
    m_resyncInFlight = true;
    const quint64 generation = m_subscriptionGeneration;
    fetch(this, [this, generation](Result<std::optional<ConfigDocument>, StoreError> result) {
        m_resyncInFlight = false;
        if (generation != m_subscriptionGeneration) {
            // Read before the latest subscription: it proves nothing about what that
            // one may have missed.
            tryResync();
            return;
        }
        if (!m_resyncPending)
            return;
        if (!result) {
            m_resyncRetryTimer.start();
            emit resyncFailed(result.error());
            return;
        }
        m_resyncPending = false;
        ++m_resyncs;
        if (*result && (*result)->version > m_lastReportedVersion)
            report((*result)->version);
    });
}

void RedisConfigChannel::report(qint64 version)
{
    m_lastReportedVersion = version;
    emit changed(version);
}

} // namespace sluice::store
