#include "store/redissubscriber.h"

namespace sluice::store {

RedisSubscriber::RedisSubscriber(RedisSessionOptions options, QObject *parent)
    : QObject(parent), m_session(std::move(options))
{
    connect(&m_session, &RedisSession::stateChanged, this, &RedisSubscriber::onStateChanged);
    connect(&m_session, &RedisSession::pushReceived, this, &RedisSubscriber::onPush);
}

RedisSubscriber::~RedisSubscriber()
{
    // The session is a member: destroyed after this body, its signals must not reach a
    // half-destroyed subscriber.
    m_session.disconnect(this);
}

void RedisSubscriber::open()
{
    m_session.open();
}

void RedisSubscriber::close()
{
    m_session.close();
}

void RedisSubscriber::subscribe(const QList<QByteArray> &channels)
{
    QList<QByteArray> added;
    for (const QByteArray &channel : channels) {
        if (m_wanted.contains(channel))
            continue;
        m_wanted.insert(channel);
        m_channels.append(channel);
        added.append(channel);
    }
    if (m_session.isReady())
        sendSubscriptions(added);
}

bool RedisSubscriber::isSubscribedToAll() const
{
    return !m_wanted.isEmpty() && m_confirmed.size() == m_wanted.size();
}

void RedisSubscriber::sendSubscriptions(const QList<QByteArray> &channels)
{
    if (channels.isEmpty())
        return;
    // Refused only when the session is not Ready, and then the next Ready sends them all.
    if (m_session.subscribe(channels)) {
        for (const QByteArray &channel : channels)
            m_sent.insert(channel);
    }
}

void RedisSubscriber::onStateChanged(RedisSession::State state)
{
    if (state == RedisSession::State::Ready) {
        sendSubscriptions(m_channels);
        return;
    }
    // Any other state means the connection that carried the subscriptions is gone.
    if (m_sent.isEmpty() && m_confirmed.isEmpty())
        return;
    m_sent.clear();
    m_confirmed.clear();
    emit subscriptionsLost();
}

void RedisSubscriber::onPush(const RedisReply &push)
{
    const std::vector<RedisReply> &elements = push.elements();
    if (elements.size() < 3 || !elements[0].isString() || !elements[1].isString())
        return;
    const QByteArray &kind = elements[0].bytes();
    const QByteArray &channel = elements[1].bytes();
    if (kind == "message") {
        if (!m_wanted.contains(channel))
            return;
        ++m_messagesReceived;
        emit message(channel, elements[2].bytes());
    } else if (kind == "subscribe") {
        if (!m_sent.contains(channel) || m_confirmed.contains(channel))
            return;
        m_confirmed.insert(channel);
        emit subscribed(channel);
    }
}

} // namespace sluice::store
