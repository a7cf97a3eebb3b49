#include <QObject>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QTest>

#include <memory>
#include <optional>

#include "redisfixture.h"
#include "store/redisconfigchannel.h"
#include "store/redisreply.h"
#include "store/redissession.h"

using namespace std::chrono_literals;
using sluice::Result;
using sluice::store::ConfigDocument;
using sluice::store::ConfigPublishOutcome;
using sluice::store::RedisConfigChannel;
using sluice::store::RedisConfigChannelOptions;
using sluice::store::RedisReply;
using sluice::store::RedisSession;
using sluice::store::RedisSessionOptions;
using sluice::store::StoreError;
using sluice::store::StoreErrorKind;
using sluice::test::RedisFixture;

using ReplyResult = Result<RedisReply, StoreError>;
using PublishResult = Result<ConfigPublishOutcome, StoreError>;
using FetchResult = Result<std::optional<ConfigDocument>, StoreError>;

Q_DECLARE_METATYPE(sluice::store::StoreError)

namespace {

constexpr int kWaitMs = 10'000;

// For QVERIFY2 messages, which are evaluated whether or not the check fails.
template <typename T>
QString errorOf(const Result<T, StoreError> &result)
{
    return result ? QString() : result.error().message;
}
// An announcement travels one local connection to another: far below this even on a
// loaded machine. A bound for the wait, not a timing assertion.
constexpr int kAnnouncementWaitMs = 5'000;

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

RedisConfigChannelOptions channelOptions(const QByteArray &keyNamespace)
{
    RedisConfigChannelOptions options;
    options.keyNamespace = keyNamespace;
    options.resyncRetryInterval = 100ms;
    return options;
}

QByteArray uniqueNamespace(const char *name)
{
    return "tst-" + QByteArray(name) + '-' + QByteArray::number(QRandomGenerator::global()->generate64(), 16);
}

ReplyResult run(RedisSession &session, QList<QByteArray> args)
{
    std::optional<ReplyResult> outcome;
    session.command(std::move(args), nullptr, [&](ReplyResult result) { outcome = std::move(result); });
    if (!QTest::qWaitFor([&] { return outcome.has_value(); }, kWaitMs))
        return sluice::unexpected(StoreError{StoreErrorKind::Cancelled, QStringLiteral("test: no callback")});
    return *outcome;
}

PublishResult publish(RedisConfigChannel &channel, const QByteArray &json, qint64 expected, qint64 next)
{
    std::optional<PublishResult> outcome;
    channel.publish(json, expected, next, nullptr, [&](PublishResult result) { outcome = std::move(result); });
    if (!QTest::qWaitFor([&] { return outcome.has_value(); }, kWaitMs))
        return sluice::unexpected(StoreError{StoreErrorKind::Cancelled, QStringLiteral("test: no callback")});
    return *outcome;
}

FetchResult fetch(RedisConfigChannel &channel)
{
    std::optional<FetchResult> outcome;
    channel.fetch(nullptr, [&](FetchResult result) { outcome = std::move(result); });
    if (!QTest::qWaitFor([&] { return outcome.has_value(); }, kWaitMs))
        return sluice::unexpected(StoreError{StoreErrorKind::Cancelled, QStringLiteral("test: no callback")});
    return *outcome;
}

QString describe(const PublishResult &result)
{
    if (!result)
        return QStringLiteral("error %1: %2").arg(sluice::store::storeErrorKindName(result.error().kind),
                                                 result.error().message);
    return QStringLiteral("applied=%1 stored=%2 receivers=%3")
        .arg(result->applied)
        .arg(result->storedVersion)
        .arg(result->receivers);
}

QList<qint64> versionsOf(const QSignalSpy &spy)
{
    QList<qint64> versions;
    for (const QList<QVariant> &arguments : spy)
        versions.append(arguments.first().toLongLong());
    return versions;
}

} // namespace

class TestRedisConfigChannel : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        qRegisterMetaType<sluice::store::StoreError>();
        if (!m_redis.available())
            QSKIP(qPrintable(m_redis.unavailableReason()));
        QVERIFY2(m_redis.start(), qPrintable(m_redis.errorString()));
        m_session = std::make_unique<RedisSession>(optionsFor(m_redis));
        m_session->open();
        QTRY_VERIFY_WITH_TIMEOUT(m_session->isReady(), kWaitMs);
    }

    void cleanupTestCase() { m_session.reset(); }

    void keyAndChannelNames()
    {
        RedisConfigChannel channel(*m_session, channelOptions("prod"));
        QCOMPARE(channel.configKey(), QByteArray("sluice:prod:config:current"));
        QCOMPARE(channel.changedChannel(), QByteArray("sluice:prod:config:changed"));
        QVERIFY(!channel.isOpen());
        QVERIFY(!channel.isListening());
        QCOMPARE(channel.lastReportedVersion(), 0);
    }

    void compareAndSet()
    {
        RedisConfigChannel channel(*m_session, channelOptions(uniqueNamespace("cas")));
        const FetchResult empty = fetch(channel);
        QVERIFY(empty);
        QVERIFY(!empty->has_value());

        const QByteArray v1("{\"cache\":{\"ttl_seconds\":60}}");
        const PublishResult first = publish(channel, v1, 0, 1);
        QVERIFY2(first && first->applied, qPrintable(describe(first)));
        QCOMPARE(first->storedVersion, 1);
        QCOMPARE(first->receivers, 0); // nobody listens
        QCOMPARE(fetch(channel)->value(), (ConfigDocument{1, v1}));

        // Another writer that still believes no document exists is refused, and told why.
        const QByteArray rival("{\"cache\":{\"ttl_seconds\":5}}");
        const PublishResult conflict = publish(channel, rival, 0, 1);
        QVERIFY2(conflict && !conflict->applied, qPrintable(describe(conflict)));
        QCOMPARE(conflict->storedVersion, 1);
        QCOMPARE(conflict->receivers, 0);

        const QByteArray v2("{\"cache\":{\"ttl_seconds\":120}}");
        const PublishResult second = publish(channel, v2, 1, 2);
        QVERIFY2(second && second->applied, qPrintable(describe(second)));
        QCOMPARE(second->storedVersion, 2);

        // A stale expected version is refused with the stored one.
        const PublishResult stale = publish(channel, rival, 1, 3);
        QVERIFY2(stale && !stale->applied, qPrintable(describe(stale)));
        QCOMPARE(stale->storedVersion, 2);
        QCOMPARE(fetch(channel)->value(), (ConfigDocument{2, v2}));

        // Versions need not be consecutive, only greater.
        const PublishResult jump = publish(channel, v1, 2, 10);
        QVERIFY2(jump && jump->applied, qPrintable(describe(jump)));
        QCOMPARE(fetch(channel)->value(), (ConfigDocument{10, v1}));
    }

    void refusesVersionsThatDoNotGrow_data()
    {
        QTest::addColumn<qint64>("expected");
        QTest::addColumn<qint64>("next");
        QTest::newRow("same") << qint64(0) << qint64(0);
        QTest::newRow("smaller") << qint64(5) << qint64(4);
        QTest::newRow("negative expected") << qint64(-1) << qint64(1);
    }
    void refusesVersionsThatDoNotGrow()
    {
        QFETCH(qint64, expected);
        QFETCH(qint64, next);
        RedisConfigChannel channel(*m_session, channelOptions(uniqueNamespace("invalid")));
        const PublishResult result = publish(channel, "{}", expected, next);
        QVERIFY2(!result, qPrintable(describe(result)));
        QCOMPARE(result.error().kind, StoreErrorKind::Server);
        QVERIFY2(result.error().message.contains(QLatin1String("config version")), qPrintable(result.error().message));
        const FetchResult stored = fetch(channel);
        QVERIFY(stored && !stored->has_value());
    }

    void reportsAStoredDocumentItCannotRead()
    {
        RedisConfigChannel channel(*m_session, channelOptions(uniqueNamespace("garbage")));
        QVERIFY(run(*m_session, {"HSET", channel.configKey(), "version", "seven", "json", "{}"}));
        const FetchResult fetched = fetch(channel);
        QVERIFY(!fetched);
        QCOMPARE(fetched.error().kind, StoreErrorKind::Protocol);
        // The compare refuses to overwrite it blindly: stored version -1.
        const PublishResult result = publish(channel, "{}", 0, 1);
        QVERIFY2(result && !result->applied, qPrintable(describe(result)));
        QCOMPARE(result->storedVersion, -1);

        QVERIFY(run(*m_session, {"DEL", channel.configKey()}));
        QVERIFY(run(*m_session, {"SET", channel.configKey(), "a string"}));
        const PublishResult wrongType = publish(channel, "{}", 0, 1);
        QVERIFY(!wrongType);
        QCOMPARE(wrongType.error().kind, StoreErrorKind::Server);
    }

    void anotherChannelHearsThePublish()
    {
        const QByteArray ns = uniqueNamespace("announce");
        RedisConfigChannel writer(*m_session, channelOptions(ns));
        RedisSession readerSession(optionsFor(m_redis));
        readerSession.open();
        RedisConfigChannel reader(readerSession, channelOptions(ns));
        QSignalSpy changed(&reader, &RedisConfigChannel::changed);
        QSignalSpy listening(&reader, &RedisConfigChannel::listening);
        reader.open();
        QTRY_VERIFY_WITH_TIMEOUT(reader.isListening(), kWaitMs);
        QCOMPARE(listening.size(), 1);
        // The re-read at subscription found nothing to report.
        QTRY_COMPARE_WITH_TIMEOUT(reader.resyncs(), 1u, kWaitMs);
        QVERIFY(changed.isEmpty());

        const PublishResult first = publish(writer, "{\"a\":1}", 0, 1);
        QVERIFY2(first && first->applied, qPrintable(describe(first)));
        QCOMPARE(first->receivers, 1);
        QTRY_COMPARE_WITH_TIMEOUT(versionsOf(changed), QList<qint64>{1}, kAnnouncementWaitMs);
        QCOMPARE(reader.lastReportedVersion(), 1);

        const PublishResult second = publish(writer, "{\"a\":2}", 1, 2);
        QVERIFY2(second && second->applied, qPrintable(describe(second)));
        QTRY_COMPARE_WITH_TIMEOUT(versionsOf(changed), (QList<qint64>{1, 2}), kAnnouncementWaitMs);

        // A refused publish announces nothing.
        const PublishResult refused = publish(writer, "{\"a\":3}", 1, 3);
        QVERIFY2(refused && !refused->applied, qPrintable(describe(refused)));
        QVERIFY(run(*m_session, {"PING"}));
        QVERIFY(run(readerSession, {"PING"}));
        QTest::qWait(100);
        QCOMPARE(versionsOf(changed), (QList<qint64>{1, 2}));

        // Noise on the channel is ignored.
        QVERIFY(run(*m_session, {"PUBLISH", reader.changedChannel(), "not a version"}));
        QTest::qWait(100);
        QCOMPARE(versionsOf(changed), (QList<qint64>{1, 2}));
    }

    void firstSubscriptionReportsAStoredVersion()
    {
        const QByteArray ns = uniqueNamespace("initial");
        RedisConfigChannel writer(*m_session, channelOptions(ns));
        const PublishResult stored = publish(writer, "{}", 0, 3);
        QVERIFY2(stored && stored->applied, qPrintable(describe(stored)));

        // Published before it listened: found by the re-read.
        RedisConfigChannel unaware(*m_session, channelOptions(ns));
        QSignalSpy unawareChanged(&unaware, &RedisConfigChannel::changed);
        unaware.open();
        QTRY_COMPARE_WITH_TIMEOUT(versionsOf(unawareChanged), QList<qint64>{3}, kWaitMs);
        QCOMPARE(unaware.resyncs(), 1u);

        // An owner that has applied version 3 already hears nothing.
        RedisConfigChannel aware(*m_session, channelOptions(ns));
        aware.setKnownVersion(3);
        QSignalSpy awareChanged(&aware, &RedisConfigChannel::changed);
        aware.open();
        QTRY_COMPARE_WITH_TIMEOUT(aware.resyncs(), 1u, kWaitMs);
        QVERIFY(awareChanged.isEmpty());
        QCOMPARE(aware.lastReportedVersion(), 3);
    }

    void listensAgainAfterARestart()
    {
        RedisFixture redis;
        QVERIFY2(redis.start(), qPrintable(redis.errorString()));
        const QByteArray ns = uniqueNamespace("restart");
        RedisSession writerSession(optionsFor(redis));
        RedisSession readerSession(optionsFor(redis));
        writerSession.open();
        readerSession.open();
        QTRY_VERIFY_WITH_TIMEOUT(writerSession.isReady() && readerSession.isReady(), kWaitMs);
        RedisConfigChannel writer(writerSession, channelOptions(ns));
        RedisConfigChannel reader(readerSession, channelOptions(ns));
        QSignalSpy changed(&reader, &RedisConfigChannel::changed);
        QSignalSpy listening(&reader, &RedisConfigChannel::listening);
        reader.open();
        QTRY_COMPARE_WITH_TIMEOUT(listening.size(), 1, kWaitMs);
        const PublishResult before = publish(writer, "{}", 0, 1);
        QVERIFY2(before && before->applied && before->receivers == 1, qPrintable(describe(before)));
        QTRY_COMPARE_WITH_TIMEOUT(versionsOf(changed), QList<qint64>{1}, kAnnouncementWaitMs);

        QVERIFY2(redis.restart(), qPrintable(redis.errorString()));
        QTRY_COMPARE_WITH_TIMEOUT(listening.size(), 2, kWaitMs);
        QVERIFY(reader.isListening());
        QTRY_VERIFY_WITH_TIMEOUT(writerSession.isReady(), kWaitMs);
        // The restarted server is empty. The announcement reaches the reader's new
        // subscription (the server counts it), and is reported although the version
        // does not grow: a new history.
        const PublishResult after = publish(writer, "{}", 0, 1);
        QVERIFY2(after && after->applied, qPrintable(describe(after)));
        QCOMPARE(after->receivers, 1);
        QTRY_COMPARE_WITH_TIMEOUT(versionsOf(changed), (QList<qint64>{1, 1}), kAnnouncementWaitMs);
    }

    void reportsAnAnnouncementMissedWhileAway()
    {
        const QByteArray ns = uniqueNamespace("missed");
        // The reader's subscriber logs in as its own user, so the test can keep it out
        // for a while: kicked and refused, it cannot be listening when the publish runs.
        const QByteArray user = "tst-sub-" + QByteArray::number(QRandomGenerator::global()->generate64(), 16);
        QVERIFY(run(*m_session, {"ACL", "SETUSER", user, "on", ">pw", "~*", "&*", "+@all"}));
        RedisSessionOptions subscriberOptions = optionsFor(m_redis);
        subscriberOptions.user = QString::fromUtf8(user);
        subscriberOptions.password = QStringLiteral("pw");
        subscriberOptions.reconnectMax = 200ms;
        RedisConfigChannelOptions readerOptions = channelOptions(ns);
        readerOptions.subscriberSession = subscriberOptions;

        RedisConfigChannel writer(*m_session, channelOptions(ns)); // never opened: not a receiver
        RedisConfigChannel reader(*m_session, readerOptions);
        QSignalSpy changed(&reader, &RedisConfigChannel::changed);
        QSignalSpy listening(&reader, &RedisConfigChannel::listening);
        reader.open();
        QTRY_COMPARE_WITH_TIMEOUT(listening.size(), 1, kWaitMs);
        const PublishResult first = publish(writer, "{\"v\":1}", 0, 1);
        QVERIFY2(first && first->applied && first->receivers == 1, qPrintable(describe(first)));
        QTRY_COMPARE_WITH_TIMEOUT(versionsOf(changed), QList<qint64>{1}, kAnnouncementWaitMs);

        QVERIFY(run(*m_session, {"ACL", "SETUSER", user, "off"}));
        // (Whether switching the user off already dropped its connection depends on the
        // Redis version: the kill makes sure.)
        const ReplyResult killed = run(*m_session, {"CLIENT", "KILL", "USER", user});
        QVERIFY2(killed, qPrintable(errorOf(killed)));
        const PublishResult missed = publish(writer, "{\"v\":2}", 1, 2);
        QVERIFY2(missed && missed->applied, qPrintable(describe(missed)));
        QCOMPARE(missed->receivers, 0); // nobody heard it
        QTRY_VERIFY_WITH_TIMEOUT(reader.subscriber().session().lastError().kind == StoreErrorKind::Authentication,
                                 kWaitMs);
        QCOMPARE(versionsOf(changed), QList<qint64>{1});

        QVERIFY(run(*m_session, {"ACL", "SETUSER", user, "on"}));
        QTRY_COMPARE_WITH_TIMEOUT(listening.size(), 2, kWaitMs);
        QTRY_COMPARE_WITH_TIMEOUT(versionsOf(changed), (QList<qint64>{1, 2}), kWaitMs);
        QCOMPARE(reader.lastReportedVersion(), 2);
        QCOMPARE(reader.resyncs(), 2u);
        QVERIFY(run(*m_session, {"ACL", "DELUSER", user}));
    }

    void retriesAFailedReRead()
    {
        const QByteArray ns = uniqueNamespace("reread");
        RedisConfigChannel reader(*m_session, channelOptions(ns));
        QVERIFY(run(*m_session, {"HSET", reader.configKey(), "version", "garbled", "json", "{}"}));
        QSignalSpy changed(&reader, &RedisConfigChannel::changed);
        QSignalSpy failed(&reader, &RedisConfigChannel::resyncFailed);
        reader.open();
        QTRY_VERIFY_WITH_TIMEOUT(failed.size() >= 2, kWaitMs); // failed, and tried again
        QCOMPARE(failed.first().first().value<StoreError>().kind, StoreErrorKind::Protocol);
        QCOMPARE(reader.resyncs(), 0u);
        // Repaired behind the channel's back (no announcement): the next retry finds it.
        QVERIFY(run(*m_session, {"HSET", reader.configKey(), "version", "5"}));
        QTRY_COMPARE_WITH_TIMEOUT(versionsOf(changed), QList<qint64>{5}, kWaitMs);
        QCOMPARE(reader.resyncs(), 1u);
        const qsizetype failures = failed.size();
        QTest::qWait(300); // three retry intervals: none once it succeeded
        QCOMPARE(failed.size(), failures);
    }

    void reReadWaitsForTheCommandSession()
    {
        // The subscriber reaches the server, the command session does not (yet): the
        // re-read waits for it instead of being lost.
        RedisFixture other;
        QVERIFY2(other.start(), qPrintable(other.errorString()));
        const QByteArray ns = uniqueNamespace("retry");
        RedisSession late(optionsFor(other));
        RedisConfigChannelOptions options = channelOptions(ns);
        options.subscriberSession = optionsFor(other);
        RedisConfigChannel reader(late, options);
        QSignalSpy changed(&reader, &RedisConfigChannel::changed);
        QSignalSpy failed(&reader, &RedisConfigChannel::resyncFailed);
        RedisSession writerSession(optionsFor(other));
        writerSession.open();
        QTRY_VERIFY_WITH_TIMEOUT(writerSession.isReady(), kWaitMs);
        RedisConfigChannel writer(writerSession, channelOptions(ns));
        const PublishResult stored = publish(writer, "{}", 0, 4);
        QVERIFY2(stored && stored->applied, qPrintable(describe(stored)));

        reader.open();
        QTRY_VERIFY_WITH_TIMEOUT(reader.isListening(), kWaitMs);
        QCOMPARE(reader.resyncs(), 0u);
        late.open();
        QTRY_COMPARE_WITH_TIMEOUT(versionsOf(changed), QList<qint64>{4}, kWaitMs);
        QCOMPARE(reader.resyncs(), 1u);
        QCOMPARE(failed.size(), 0); // it waited for Ready rather than failing
    }

private:
    RedisFixture m_redis;
    std::unique_ptr<RedisSession> m_session;
};

QTEST_GUILESS_MAIN(TestRedisConfigChannel)
#include "tst_redisconfigchannel.moc"
