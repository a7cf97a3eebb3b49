#include <QObject>
#include <QPointer>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QTest>

#include <memory>
#include <optional>

#include "redisfixture.h"
#include "store/redisreply.h"
#include "store/redissession.h"
#include "store/redissubscriber.h"

using namespace std::chrono_literals;
using sluice::Result;
using sluice::store::RedisReply;
using sluice::store::RedisSession;
using sluice::store::RedisSessionOptions;
using sluice::store::RedisSubscriber;
using sluice::store::StoreError;
using sluice::store::StoreErrorKind;
using sluice::test::RedisFixture;

using ReplyResult = Result<RedisReply, StoreError>;

Q_DECLARE_METATYPE(sluice::store::RedisReply)

namespace {

constexpr int kWaitMs = 10'000;

RedisSessionOptions optionsFor(const RedisFixture &redis)
{
    RedisSessionOptions options;
    options.host = redis.host();
    options.port = redis.port();
    options.connectTimeout = 5s;
    options.commandTimeout = 5s;
    options.reconnectMin = 50ms;
    options.reconnectMax = 400ms;
    return options;
}

QByteArray uniqueChannel(const char *name)
{
    return "sluice:tst:" + QByteArray(name) + ':' + QByteArray::number(QRandomGenerator::global()->generate64(), 16);
}

ReplyResult run(RedisSession &session, QList<QByteArray> args)
{
    std::optional<ReplyResult> outcome;
    session.command(std::move(args), nullptr, [&](ReplyResult result) { outcome = std::move(result); });
    if (!QTest::qWaitFor([&] { return outcome.has_value(); }, kWaitMs))
        return sluice::unexpected(StoreError{StoreErrorKind::Cancelled, QStringLiteral("test: no callback")});
    return *outcome;
}

// PUBLISH's answer: how many subscribers got it (-1 on error).
qint64 publish(RedisSession &session, const QByteArray &channel, const QByteArray &payload)
{
    const ReplyResult result = run(session, {"PUBLISH", channel, payload});
    return result && result->isInteger() ? result->toInteger() : -1;
}

struct Received {
    QByteArray channel;
    QByteArray payload;
    friend bool operator==(const Received &, const Received &) = default;
};

} // namespace

class TestRedisSubscriber : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        if (!m_redis.available())
            QSKIP(qPrintable(m_redis.unavailableReason()));
        QVERIFY2(m_redis.start(), qPrintable(m_redis.errorString()));
        m_publisher = std::make_unique<RedisSession>(optionsFor(m_redis));
        m_publisher->open();
        QTRY_VERIFY_WITH_TIMEOUT(m_publisher->isReady(), kWaitMs);
    }

    void cleanupTestCase() { m_publisher.reset(); }

    void receivesMessagesOnItsChannels()
    {
        const QByteArray first = uniqueChannel("first");
        const QByteArray second = uniqueChannel("second");
        const QByteArray other = uniqueChannel("other");
        RedisSubscriber subscriber(optionsFor(m_redis));
        QList<Received> received;
        connect(&subscriber, &RedisSubscriber::message, this,
                [&](const QByteArray &channel, const QByteArray &payload) { received.append({channel, payload}); });
        QSignalSpy subscribed(&subscriber, &RedisSubscriber::subscribed);
        subscriber.subscribe({first, second, first});
        QCOMPARE(subscriber.channels(), (QList<QByteArray>{first, second}));
        QVERIFY(!subscriber.isSubscribedToAll()); // not open yet
        subscriber.open();
        QTRY_VERIFY_WITH_TIMEOUT(subscriber.isSubscribedToAll(), kWaitMs);
        QCOMPARE(subscribed.size(), 2);

        const QByteArray binary("bin\0ary\r\npayload", 16);
        QCOMPARE(publish(*m_publisher, first, "one"), 1);
        QCOMPARE(publish(*m_publisher, other, "not for us"), 0);
        QCOMPARE(publish(*m_publisher, second, binary), 1);
        QCOMPARE(publish(*m_publisher, first, "three"), 1);
        QTRY_COMPARE_WITH_TIMEOUT(received.size(), 3, kWaitMs);
        QCOMPARE(received, (QList<Received>{{first, "one"}, {second, binary}, {first, "three"}}));
        QCOMPARE(subscriber.messagesReceived(), 3u);
    }

    void subscribesLaterChannelsOnTheOpenConnection()
    {
        const QByteArray early = uniqueChannel("early");
        const QByteArray late = uniqueChannel("late");
        RedisSubscriber subscriber(optionsFor(m_redis));
        QSignalSpy messages(&subscriber, &RedisSubscriber::message);
        subscriber.subscribe({early});
        subscriber.open();
        QTRY_VERIFY_WITH_TIMEOUT(subscriber.isSubscribed(early), kWaitMs);
        QVERIFY(!subscriber.isSubscribed(late));
        subscriber.subscribe({late});
        QTRY_VERIFY_WITH_TIMEOUT(subscriber.isSubscribed(late), kWaitMs);
        QVERIFY(subscriber.isSubscribedToAll());
        QCOMPARE(publish(*m_publisher, late, "x"), 1);
        QTRY_COMPARE_WITH_TIMEOUT(messages.size(), 1, kWaitMs);
        QCOMPARE(messages.first().at(0).toByteArray(), late);
        QCOMPARE(subscriber.session().stats().reconnects, 0u);
    }

    void resubscribesAfterARestart()
    {
        RedisFixture redis;
        QVERIFY2(redis.start(), qPrintable(redis.errorString()));
        const QByteArray channel = uniqueChannel("restart");
        RedisSubscriber subscriber(optionsFor(redis));
        QSignalSpy subscribed(&subscriber, &RedisSubscriber::subscribed);
        QSignalSpy lost(&subscriber, &RedisSubscriber::subscriptionsLost);
        QSignalSpy messages(&subscriber, &RedisSubscriber::message);
        subscriber.subscribe({channel});
        subscriber.open();
        QTRY_COMPARE_WITH_TIMEOUT(subscribed.size(), 1, kWaitMs);
        RedisSession publisher(optionsFor(redis));
        publisher.open();
        QTRY_VERIFY_WITH_TIMEOUT(publisher.isReady(), kWaitMs);
        QCOMPARE(publish(publisher, channel, "before"), 1);
        QTRY_COMPARE_WITH_TIMEOUT(messages.size(), 1, kWaitMs);

        QVERIFY2(redis.restart(), qPrintable(redis.errorString()));
        QTRY_COMPARE_WITH_TIMEOUT(lost.size(), 1, kWaitMs);
        QTRY_COMPARE_WITH_TIMEOUT(subscribed.size(), 2, kWaitMs);
        QVERIFY(subscriber.isSubscribed(channel));
        QCOMPARE(subscriber.session().stats().reconnects, 1u);
        QTRY_VERIFY_WITH_TIMEOUT(publisher.isReady(), kWaitMs);
        // The server counts the new subscription: it really was sent again.
        QCOMPARE(publish(publisher, channel, "after"), 1);
        QTRY_COMPARE_WITH_TIMEOUT(messages.size(), 2, kWaitMs);
        QCOMPARE(messages.at(1).at(1).toByteArray(), QByteArray("after"));
    }

    void closeDropsSubscriptionsAndOpenRestoresThem()
    {
        const QByteArray channel = uniqueChannel("close");
        RedisSubscriber subscriber(optionsFor(m_redis));
        QSignalSpy lost(&subscriber, &RedisSubscriber::subscriptionsLost);
        QSignalSpy messages(&subscriber, &RedisSubscriber::message);
        subscriber.subscribe({channel});
        subscriber.open();
        QTRY_VERIFY_WITH_TIMEOUT(subscriber.isSubscribed(channel), kWaitMs);
        subscriber.close();
        QCOMPARE(lost.size(), 1);
        QVERIFY(!subscriber.isSubscribed(channel));
        QCOMPARE(publish(*m_publisher, channel, "while closed"), 0);
        subscriber.open();
        QTRY_VERIFY_WITH_TIMEOUT(subscriber.isSubscribed(channel), kWaitMs);
        QCOMPARE(publish(*m_publisher, channel, "reopened"), 1);
        QTRY_COMPARE_WITH_TIMEOUT(messages.size(), 1, kWaitMs);
        QCOMPARE(messages.first().at(1).toByteArray(), QByteArray("reopened"));
    }

    void subscriberMayBeDeletedFromAMessage()
    {
        const QByteArray channel = uniqueChannel("delete");
        auto *subscriber = new RedisSubscriber(optionsFor(m_redis));
        QPointer<RedisSubscriber> guard(subscriber);
        int calls = 0;
        connect(subscriber, &RedisSubscriber::message, this,
                [&calls, subscriber](const QByteArray &, const QByteArray &) {
                    ++calls;
                    delete subscriber;
                });
        subscriber->subscribe({channel});
        subscriber->open();
        QTRY_VERIFY_WITH_TIMEOUT(subscriber->isSubscribed(channel), kWaitMs);
        // Two messages that (very likely) arrive in one read: the second must not reach
        // the deleted subscriber.
        m_publisher->command({"PUBLISH", channel, "1"}, this, {});
        m_publisher->command({"PUBLISH", channel, "2"}, this, {});
        QTRY_VERIFY_WITH_TIMEOUT(guard.isNull(), kWaitMs);
        QVERIFY(run(*m_publisher, {"PING"}));
        QCOMPARE(calls, 1);
    }

    void sessionSubscribeNeedsAReadyConnection()
    {
        RedisSession session(optionsFor(m_redis));
        QVERIFY(!session.subscribe({uniqueChannel("not-ready")}));
        session.open();
        QTRY_VERIFY_WITH_TIMEOUT(session.isReady(), kWaitMs);
        QVERIFY(!session.subscribe({}));
        QSignalSpy pushes(&session, &RedisSession::pushReceived);
        const QByteArray channel = uniqueChannel("session");
        QVERIFY(session.subscribe({channel}));
        QTRY_COMPARE_WITH_TIMEOUT(pushes.size(), 1, kWaitMs);
        const auto confirmation = pushes.first().first().value<RedisReply>();
        QCOMPARE(confirmation, RedisReply::array({RedisReply::string("subscribe"), RedisReply::string(channel),
                                                  RedisReply::integer(1)}));
        QVERIFY(session.isSubscribeMode());
        // In subscribe mode ordinary commands are refused before they could cost the
        // connection (hiredis drops it on the server's error answer).
        const ReplyResult refused = run(session, {"GET", "tst:subscribed"});
        QVERIFY(!refused);
        QCOMPARE(refused.error().kind, StoreErrorKind::Protocol);
        QVERIFY(session.isReady());
        QCOMPARE(run(*m_publisher, {"PUBLISH", channel, "still here"})->toInteger(), 1);
        QTRY_COMPARE_WITH_TIMEOUT(pushes.size(), 2, kWaitMs);
        QCOMPARE(pushes.at(1).first().value<RedisReply>().elements().at(2).bytes(), QByteArray("still here"));
        QCOMPARE(session.stats().reconnects, 0u);
        QCOMPARE(session.stats().connectFailures, 0u);

        // A new connection is an ordinary one again.
        session.close();
        QVERIFY(!session.isSubscribeMode());
        session.open();
        QTRY_VERIFY_WITH_TIMEOUT(session.isReady(), kWaitMs);
        const ReplyResult pong = run(session, {"PING"});
        QVERIFY(pong && pong->bytes() == "PONG");
    }

    void refusedSubscriptionCostsTheConnection()
    {
        // A user without access to any channel: Redis answers SUBSCRIBE with NOPERM.
        const QByteArray user = "tst-nochannels-" + QByteArray::number(QRandomGenerator::global()->generate64(), 16);
        QVERIFY(run(*m_publisher, {"ACL", "SETUSER", user, "on", ">pw", "~*", "resetchannels", "+@all"}));
        RedisSessionOptions options = optionsFor(m_redis);
        options.user = QString::fromUtf8(user);
        options.password = QStringLiteral("pw");
        RedisSubscriber subscriber(options);
        subscriber.subscribe({uniqueChannel("forbidden")});
        subscriber.open();
        QTRY_VERIFY_WITH_TIMEOUT(subscriber.session().lastError().message.contains(QLatin1String("NOPERM")), kWaitMs);
        QVERIFY(!subscriber.isSubscribedToAll());
        QVERIFY(subscriber.isOpen()); // and it keeps trying: the ACL may be fixed
        QVERIFY(run(*m_publisher, {"ACL", "DELUSER", user}));
    }

    void commandRefusesSubscriptionCommands_data()
    {
        QTest::addColumn<QByteArray>("name");
        QTest::newRow("subscribe") << QByteArray("SUBSCRIBE");
        QTest::newRow("psubscribe") << QByteArray("psubscribe");
        QTest::newRow("unsubscribe") << QByteArray("Unsubscribe");
        QTest::newRow("monitor") << QByteArray("MONITOR");
    }
    void commandRefusesSubscriptionCommands()
    {
        QFETCH(QByteArray, name);
        RedisSession session(optionsFor(m_redis));
        session.open();
        QTRY_VERIFY_WITH_TIMEOUT(session.isReady(), kWaitMs);
        QList<QByteArray> args{name};
        if (name != "MONITOR")
            args.append(uniqueChannel("refused"));
        const ReplyResult refused = run(session, args);
        QVERIFY(!refused);
        QCOMPARE(refused.error().kind, StoreErrorKind::Protocol);
        QVERIFY2(refused.error().message.contains(QLatin1String("subscribe()")), qPrintable(refused.error().message));
        // Nothing was sent: the connection is still an ordinary one.
        const ReplyResult pong = run(session, {"PING"});
        QVERIFY(pong && pong->bytes() == "PONG");
    }

private:
    RedisFixture m_redis;
    std::unique_ptr<RedisSession> m_publisher;
};

QTEST_GUILESS_MAIN(TestRedisSubscriber)
#include "tst_redissubscriber.moc"
