#include <QDateTime>
#include <QObject>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QTest>

#include <algorithm>
#include <memory>
#include <optional>

#include "redisfixture.h"
#include "store/redisinstanceregistry.h"
#include "store/rediskey.h"
#include "store/redisreply.h"
#include "store/redissession.h"

using namespace std::chrono_literals;
using sluice::Result;
using sluice::store::InstanceInfo;
using sluice::store::RedisInstanceRegistry;
using sluice::store::RedisInstanceRegistryOptions;
using sluice::store::RedisReply;
using sluice::store::RedisSession;
using sluice::store::RedisSessionOptions;
using sluice::store::StoreError;
using sluice::store::StoreErrorKind;
using sluice::test::RedisFixture;

using ReplyResult = Result<RedisReply, StoreError>;
using DiscoverResult = Result<QList<InstanceInfo>, StoreError>;

Q_DECLARE_METATYPE(sluice::store::StoreError)

namespace {

constexpr int kWaitMs = 10'000;

// For QVERIFY2 messages, which are evaluated whether or not the check fails.
template <typename T>
QString errorOf(const Result<T, StoreError> &result)
{
    return result ? QString() : result.error().message;
}

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

// A fresh namespace per test: reruns and tests never see each other's instances.
QByteArray uniqueNamespace(const char *name)
{
    return "tst-" + QByteArray(name) + '-' + QByteArray::number(QRandomGenerator::global()->generate64(), 16);
}

InstanceInfo instance(const QString &id, qint64 configVersion = 0)
{
    InstanceInfo info;
    info.id = id;
    info.address = QStringLiteral("10.0.0.%1:8080").arg(id.size());
    info.adminUrl = QStringLiteral("http://%1.internal:9090").arg(id);
    info.version = QStringLiteral("1.2.3");
    info.startedAt = QDateTime::fromString(QStringLiteral("2024-05-01T12:00:00.250Z"), Qt::ISODateWithMs);
    info.configVersion = configVersion;
    return info;
}

RedisInstanceRegistryOptions registryOptions(const QByteArray &keyNamespace, std::chrono::milliseconds interval)
{
    RedisInstanceRegistryOptions options;
    options.keyNamespace = keyNamespace;
    options.heartbeatInterval = interval;
    return options;
}

ReplyResult run(RedisSession &session, QList<QByteArray> args)
{
    std::optional<ReplyResult> outcome;
    session.command(std::move(args), nullptr, [&](ReplyResult result) { outcome = std::move(result); });
    if (!QTest::qWaitFor([&] { return outcome.has_value(); }, kWaitMs))
        return sluice::unexpected(StoreError{StoreErrorKind::Cancelled, QStringLiteral("test: no callback")});
    return *outcome;
}

DiscoverResult discover(RedisSession &session, const QByteArray &keyNamespace)
{
    std::optional<DiscoverResult> outcome;
    RedisInstanceRegistry::discover(session, keyNamespace, nullptr,
                                    [&](DiscoverResult result) { outcome = std::move(result); });
    if (!QTest::qWaitFor([&] { return outcome.has_value(); }, kWaitMs))
        return sluice::unexpected(StoreError{StoreErrorKind::Cancelled, QStringLiteral("test: no callback")});
    return *outcome;
}

// The ids discover() finds; {"<error>"} when it fails.
QStringList discoveredIds(RedisSession &session, const QByteArray &keyNamespace)
{
    const DiscoverResult result = discover(session, keyNamespace);
    if (!result)
        return {QStringLiteral("<error: %1>").arg(result.error().message)};
    QStringList ids;
    for (const InstanceInfo &info : *result)
        ids.append(info.id);
    return ids;
}

} // namespace

class TestRedisInstanceRegistry : public QObject {
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

    void jsonRoundTrip()
    {
        InstanceInfo info = instance(QStringLiteral("gw-1"), 17);
        info.heartbeatAt = QDateTime::fromString(QStringLiteral("2024-05-01T12:00:05.125Z"), Qt::ISODateWithMs);
        const QByteArray json = info.toJson();
        QVERIFY2(json.contains("\"admin_url\":\"http://gw-1.internal:9090\""), json.constData());
        QVERIFY2(json.contains("\"started_at\":\"2024-05-01T12:00:00.250Z\""), json.constData());
        QVERIFY2(json.contains("\"config_version\":17"), json.constData());
        QVERIFY2(json.contains("\"heartbeat_at\":\"2024-05-01T12:00:05.125Z\""), json.constData());
        const std::optional<InstanceInfo> back = InstanceInfo::fromJson(json);
        QVERIFY(back);
        QCOMPARE(*back, info);
    }

    void jsonRejects_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::newRow("not json") << QByteArray("hello");
        QTest::newRow("array") << QByteArray("[1,2]");
        QTest::newRow("no id") << QByteArray("{\"address\":\"a:1\"}");
        QTest::newRow("empty id") << QByteArray("{\"id\":\"\"}");
        QTest::newRow("id not a string") << QByteArray("{\"id\":5}");
    }
    void jsonRejects()
    {
        QFETCH(QByteArray, json);
        QVERIFY(!InstanceInfo::fromJson(json));
    }

    void defaultsForIdAndStartTime()
    {
        const QDateTime before = QDateTime::currentDateTimeUtc();
        RedisInstanceRegistry registry(*m_session, InstanceInfo{});
        QVERIFY(!registry.info().id.isEmpty());
        QVERIFY(registry.info().id.endsWith(QLatin1Char('-') + QString::number(QCoreApplication::applicationPid())));
        QVERIFY(registry.info().startedAt >= before.addMSecs(-1));
        QCOMPARE(registry.key(), "sluice:default:instance:" + registry.info().id.toUtf8());
        QCOMPARE(registry.ttl(), 15'000ms);
    }

    void twoRegistriesSeeEachOther()
    {
        const QByteArray ns = uniqueNamespace("pair");
        RedisSession sessionA(optionsFor(m_redis));
        RedisSession sessionB(optionsFor(m_redis));
        sessionA.open();
        sessionB.open();
        QTRY_VERIFY_WITH_TIMEOUT(sessionA.isReady() && sessionB.isReady(), kWaitMs);
        RedisInstanceRegistry a(sessionA, instance(QStringLiteral("gw-a"), 3), registryOptions(ns, 1s));
        RedisInstanceRegistry b(sessionB, instance(QStringLiteral("gw-b"), 4), registryOptions(ns, 1s));
        const QDateTime before = QDateTime::currentDateTimeUtc().addMSecs(-1);
        a.start();
        b.start();
        QTRY_VERIFY_WITH_TIMEOUT(a.heartbeatsWritten() >= 1 && b.heartbeatsWritten() >= 1, kWaitMs);

        std::optional<DiscoverResult> seenByA;
        a.discover(this, [&](DiscoverResult result) { seenByA = std::move(result); });
        QTRY_VERIFY_WITH_TIMEOUT(seenByA.has_value(), kWaitMs);
        QVERIFY2(*seenByA, qPrintable(errorOf(*seenByA)));
        QCOMPARE((*seenByA)->size(), 2);
        const InstanceInfo &first = (*seenByA)->at(0);
        QCOMPARE(first.id, QStringLiteral("gw-a"));
        QCOMPARE(first.address, instance(QStringLiteral("gw-a")).address);
        QCOMPARE(first.adminUrl, QStringLiteral("http://gw-a.internal:9090"));
        QCOMPARE(first.version, QStringLiteral("1.2.3"));
        QCOMPARE(first.startedAt, instance(QStringLiteral("gw-a")).startedAt);
        QCOMPARE(first.configVersion, 3);
        QVERIFY(first.heartbeatAt >= before);
        QCOMPARE((*seenByA)->at(1).id, QStringLiteral("gw-b"));
        QCOMPARE((*seenByA)->at(1).configVersion, 4);
        QCOMPARE(discoveredIds(sessionB, ns), (QStringList{QStringLiteral("gw-a"), QStringLiteral("gw-b")}));

        // Each heartbeat carries a TTL of three intervals.
        const ReplyResult ttl = run(*m_session, {"PTTL", a.key()});
        QVERIFY(ttl && ttl->isInteger());
        QVERIFY2(ttl->toInteger() > 0 && ttl->toInteger() <= 3'000, qPrintable(QString::number(ttl->toInteger())));
    }

    void silentInstanceDisappearsAfterItsTtl()
    {
        const QByteArray ns = uniqueNamespace("ttl");
        RedisSession sessionA(optionsFor(m_redis));
        RedisSession sessionB(optionsFor(m_redis));
        sessionA.open();
        sessionB.open();
        QTRY_VERIFY_WITH_TIMEOUT(sessionA.isReady() && sessionB.isReady(), kWaitMs);
        RedisInstanceRegistry a(sessionA, instance(QStringLiteral("gw-a")), registryOptions(ns, 200ms));
        RedisInstanceRegistry b(sessionB, instance(QStringLiteral("gw-b")), registryOptions(ns, 200ms));
        QCOMPARE(a.ttl(), 600ms);
        QSignalSpy failures(&a, &RedisInstanceRegistry::heartbeatFailed);
        a.start();
        b.start();
        QTRY_COMPARE_WITH_TIMEOUT(discoveredIds(*m_session, ns),
                                  (QStringList{QStringLiteral("gw-a"), QStringLiteral("gw-b")}), kWaitMs);

        // A loses Redis (as if it had died): its heartbeats fail and its key expires.
        sessionA.close();
        QTRY_VERIFY_WITH_TIMEOUT(!failures.isEmpty(), kWaitMs);
        QCOMPARE(failures.first().first().value<StoreError>().kind, StoreErrorKind::NotConnected);
        QVERIFY(a.isRunning());
        QTRY_COMPARE_WITH_TIMEOUT(discoveredIds(*m_session, ns), QStringList{QStringLiteral("gw-b")}, kWaitMs);

        // B has outlived several TTLs by now and is still there: its heartbeats refresh it.
        const quint64 written = b.heartbeatsWritten();
        QTRY_VERIFY_WITH_TIMEOUT(b.heartbeatsWritten() >= written + 4, kWaitMs);
        QCOMPARE(discoveredIds(*m_session, ns), QStringList{QStringLiteral("gw-b")});

        // A comes back: announced at once when its session is Ready again.
        sessionA.open();
        QTRY_COMPARE_WITH_TIMEOUT(discoveredIds(*m_session, ns),
                                  (QStringList{QStringLiteral("gw-a"), QStringLiteral("gw-b")}), kWaitMs);
    }

    void cleanStopRemovesTheKey()
    {
        const QByteArray ns = uniqueNamespace("stop");
        RedisInstanceRegistry registry(*m_session, instance(QStringLiteral("gw-stop")), registryOptions(ns, 100ms));
        registry.start();
        QTRY_VERIFY_WITH_TIMEOUT(registry.heartbeatsWritten() >= 1, kWaitMs);
        QCOMPARE(run(*m_session, {"EXISTS", registry.key()})->toInteger(), 1);

        std::optional<Result<bool, StoreError>> stopped;
        registry.stop(this, [&](Result<bool, StoreError> result) { stopped = std::move(result); });
        QVERIFY(!registry.isRunning());
        QTRY_VERIFY_WITH_TIMEOUT(stopped.has_value(), kWaitMs);
        QVERIFY2(*stopped, qPrintable(errorOf(*stopped)));
        QCOMPARE(**stopped, true);
        QCOMPARE(run(*m_session, {"EXISTS", registry.key()})->toInteger(), 0);
        QCOMPARE(discoveredIds(*m_session, ns), QStringList{});

        // No heartbeat brings it back.
        const quint64 written = registry.heartbeatsWritten();
        QTest::qWait(400); // four intervals
        QCOMPARE(registry.heartbeatsWritten(), written);
        QCOMPARE(run(*m_session, {"EXISTS", registry.key()})->toInteger(), 0);

        // Stopping again does nothing and calls nothing.
        bool calledAgain = false;
        registry.stop(this, [&](Result<bool, StoreError>) { calledAgain = true; });
        QTest::qWait(50);
        QVERIFY(!calledAgain);
    }

    void destructionRemovesTheKey()
    {
        const QByteArray ns = uniqueNamespace("destroy");
        auto registry = std::make_unique<RedisInstanceRegistry>(*m_session, instance(QStringLiteral("gw-gone")),
                                                                registryOptions(ns, 1s));
        const QByteArray key = registry->key();
        registry->start();
        QTRY_VERIFY_WITH_TIMEOUT(registry->heartbeatsWritten() >= 1, kWaitMs);
        registry.reset();
        // Pipelined on the same session: answered after the DEL.
        QCOMPARE(run(*m_session, {"EXISTS", key})->toInteger(), 0);
    }

    void setInfoIsPublishedAtOnce()
    {
        const QByteArray ns = uniqueNamespace("setinfo");
        RedisInstanceRegistry registry(*m_session, instance(QStringLiteral("gw-old"), 1), registryOptions(ns, 60s));
        registry.start();
        QTRY_COMPARE_WITH_TIMEOUT(discoveredIds(*m_session, ns), QStringList{QStringLiteral("gw-old")}, kWaitMs);

        // Interval of a minute: only setInfo() can have written these.
        registry.setConfigVersion(42);
        QCOMPARE(registry.info().configVersion, 42);
        QTRY_VERIFY_WITH_TIMEOUT(registry.heartbeatsWritten() >= 2, kWaitMs);
        DiscoverResult found = discover(*m_session, ns);
        QVERIFY(found && found->size() == 1);
        QCOMPARE(found->first().configVersion, 42);
        QCOMPARE(found->first().startedAt, instance(QStringLiteral("gw-old")).startedAt);

        const QByteArray oldKey = registry.key();
        InstanceInfo renamed = instance(QStringLiteral("gw-new"), 43);
        renamed.startedAt = QDateTime(); // kept
        registry.setInfo(renamed);
        QTRY_VERIFY_WITH_TIMEOUT(registry.heartbeatsWritten() >= 3, kWaitMs);
        QCOMPARE(run(*m_session, {"EXISTS", oldKey})->toInteger(), 0);
        found = discover(*m_session, ns);
        QVERIFY(found && found->size() == 1);
        QCOMPARE(found->first().id, QStringLiteral("gw-new"));
        QCOMPARE(found->first().configVersion, 43);
        QCOMPARE(found->first().startedAt, instance(QStringLiteral("gw-old")).startedAt);

        // Not running: remembered, not written.
        registry.stop();
        registry.setConfigVersion(44);
        QCOMPARE(registry.info().configVersion, 44);
        QCOMPARE(discoveredIds(*m_session, ns), QStringList{});
    }

    void discoverWalksEveryScanPage()
    {
        // More keys than one SCAN page (COUNT 100), noise around them, and a namespace
        // with glob characters whose unescaped pattern would match a neighbour's keys.
        const QByteArray suffix = QByteArray::number(QRandomGenerator::global()->generate64(), 16);
        const QByteArray ns = "tst[1]" + suffix;
        const QByteArray neighbour = "tst1" + suffix;
        constexpr int kInstances = 250;
        QStringList expected;
        for (int index = 0; index < kInstances; ++index) {
            const QString id = QStringLiteral("gw-%1").arg(index, 3, 10, QLatin1Char('0'));
            expected.append(id);
            m_session->command(
                {"SET", RedisInstanceRegistry::keyFor(ns, id.toUtf8()), instance(id).toJson(), "EX", "60"}, this, {});
        }
        QVERIFY(run(*m_session, {"SET", RedisInstanceRegistry::keyFor(ns, "garbage"), "not json", "EX", "60"}));
        QVERIFY(run(*m_session, {"SET", RedisInstanceRegistry::keyFor(neighbour, "gw-x"),
                                 instance(QStringLiteral("gw-x")).toJson(), "EX", "60"}));
        QVERIFY(run(*m_session, {"SET", sluice::store::redisKey(ns, "config", "current"), "{}", "EX", "60"}));

        const DiscoverResult found = discover(*m_session, ns);
        QVERIFY2(found, qPrintable(errorOf(found)));
        QStringList ids;
        for (const InstanceInfo &info : *found)
            ids.append(info.id);
        QCOMPARE(ids, expected); // sorted, each once, garbage and neighbours left out
    }

    void discoverReportsTheSessionsError()
    {
        RedisSession closed(optionsFor(m_redis));
        const DiscoverResult result = discover(closed, "tst");
        QVERIFY(!result);
        QCOMPARE(result.error().kind, StoreErrorKind::NotConnected);
    }

    void discoverDropsTheCallbackOfADeadContext()
    {
        auto context = std::make_unique<QObject>();
        bool called = false;
        RedisInstanceRegistry::discover(*m_session, uniqueNamespace("dead"), context.get(),
                                        [&](DiscoverResult) { called = true; });
        context.reset();
        QVERIFY(run(*m_session, {"PING"})); // answered after the SCAN
        QTest::qWait(50);
        QVERIFY(!called);
    }

private:
    RedisFixture m_redis;
    std::unique_ptr<RedisSession> m_session;
};

QTEST_GUILESS_MAIN(TestRedisInstanceRegistry)
#include "tst_redisinstanceregistry.moc"
