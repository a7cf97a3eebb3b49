#include <QObject>
#include <QPointer>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTest>

#include <memory>
#include <optional>
#include <vector>

#include "redisfixture.h"
#include "store/rediserror.h"
#include "store/redisreply.h"
#include "store/redissession.h"

using namespace std::chrono_literals;
using sluice::Result;
using sluice::store::RedisReply;
using sluice::store::RedisSession;
using sluice::store::RedisSessionOptions;
using sluice::store::StoreError;
using sluice::store::StoreErrorKind;
using sluice::test::RedisFixture;
using sluice::test::RedisFixtureOptions;

using ReplyResult = Result<RedisReply, StoreError>;
using State = RedisSession::State;

Q_DECLARE_METATYPE(sluice::store::RedisReply)

Q_DECLARE_METATYPE(sluice::store::StoreError)

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

// Where a callback puts its one result; `calls` catches a second call.
struct Outcome {
    std::optional<ReplyResult> result;
    int calls = 0;

    RedisSession::Callback callback()
    {
        return [this](ReplyResult reply) {
            ++calls;
            result = std::move(reply);
        };
    }
    bool done() const { return result.has_value(); }
    bool ok() const { return result && result->ok(); }
    StoreErrorKind errorKind() const { return result->error().kind; }
    const RedisReply &reply() const { return result->value(); }
};

// Sends one command and waits for its answer (test code: QTest::qWaitFor spins the loop).
ReplyResult run(RedisSession &session, QList<QByteArray> args)
{
    Outcome outcome;
    session.command(std::move(args), nullptr, outcome.callback());
    if (!QTest::qWaitFor([&] { return outcome.done(); }, kWaitMs))
        return sluice::unexpected(StoreError{StoreErrorKind::Cancelled, QStringLiteral("test: no callback")});
    return *outcome.result;
}

QString describe(const ReplyResult &result)
{
    if (result)
        return QStringLiteral("%1 %2").arg(QLatin1String(RedisReply::typeName(result->type())),
                                           QString::fromUtf8(result->bytes()));
    return QStringLiteral("error %1: %2").arg(sluice::store::storeErrorKindName(result.error().kind),
                                             result.error().message);
}

} // namespace

class TestRedisSession : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        qRegisterMetaType<sluice::store::StoreError>();
        if (!m_redis.available())
            QSKIP(qPrintable(m_redis.unavailableReason()));
        QVERIFY2(m_redis.start(), qPrintable(m_redis.errorString()));
    }

    void replyConversion()
    {
        QCOMPARE(RedisReply().type(), RedisReply::Type::Nil);
        QCOMPARE(RedisReply::fromHiredis(nullptr), RedisReply::nil());
        const RedisReply nested = RedisReply::array({RedisReply::integer(7), RedisReply::string("a"),
                                                     RedisReply::array({RedisReply::error("ERR x")})});
        QCOMPARE(nested.elements().size(), size_t(3));
        QCOMPARE(nested.elements().at(0).toInteger(), 7);
        QVERIFY(nested.elements().at(2).elements().at(0).isError());
        QCOMPARE(RedisReply::string("b").toInteger(), 0);
        // Usable in QVariant and queued signals.
        QCOMPARE(QVariant::fromValue(nested).value<RedisReply>(), nested);
    }

    void errorMapping_data()
    {
        QTest::addColumn<QByteArray>("message");
        QTest::addColumn<int>("kind");
        QTest::newRow("noauth") << QByteArray("NOAUTH Authentication required.") << int(StoreErrorKind::Authentication);
        QTest::newRow("wrongpass") << QByteArray("WRONGPASS invalid username-password pair or user is disabled.")
                                   << int(StoreErrorKind::Authentication);
        QTest::newRow("noperm") << QByteArray("NOPERM this user has no permissions") << int(StoreErrorKind::Authentication);
        QTest::newRow("noscript") << QByteArray("NOSCRIPT No matching script.") << int(StoreErrorKind::Server);
        QTest::newRow("wrongtype") << QByteArray("WRONGTYPE Operation against a key") << int(StoreErrorKind::Server);
    }
    void errorMapping()
    {
        QFETCH(QByteArray, message);
        QFETCH(int, kind);
        const StoreError error = sluice::store::storeErrorFromServer(message);
        QCOMPARE(int(error.kind), kind);
        QCOMPARE(error.message, QString::fromUtf8(message));
    }

    void connectsThroughTheStates_data()
    {
        QTest::addColumn<QString>("host");
        QTest::addColumn<QList<State>>("expected");
        QTest::newRow("ip literal") << QStringLiteral("127.0.0.1") << QList<State>{State::Connecting, State::Ready};
        QTest::newRow("host name") << QStringLiteral("localhost")
                                   << QList<State>{State::Resolving, State::Connecting, State::Ready};
    }
    void connectsThroughTheStates()
    {
        QFETCH(QString, host);
        QFETCH(QList<State>, expected);
        RedisSessionOptions options = optionsFor(m_redis);
        options.host = host;
        RedisSession session(options);
        QList<State> states;
        connect(&session, &RedisSession::stateChanged, this, [&](State state) { states.append(state); });
        QCOMPARE(session.state(), State::Disconnected);
        session.open();
        QTRY_VERIFY_WITH_TIMEOUT(session.isReady(), kWaitMs);
        QCOMPARE(states, expected);
        QCOMPARE(session.stats().connectAttempts, 1u);
        QCOMPARE(session.stats().connectFailures, 0u);
    }

    void pingSetGet()
    {
        RedisSession session(optionsFor(m_redis));
        session.open();
        QTRY_VERIFY_WITH_TIMEOUT(session.isReady(), kWaitMs);

        const ReplyResult pong = run(session, {"PING"});
        QVERIFY2(pong, qPrintable(describe(pong)));
        QVERIFY(pong->isStatus());
        QCOMPARE(pong->bytes(), QByteArray("PONG"));

        const QByteArray value("binary\0value\r\nwith CRLF", 23);
        const ReplyResult set = run(session, {"SET", "tst:pingSetGet", value});
        QVERIFY2(set && set->isStatus() && set->bytes() == "OK", qPrintable(describe(set)));
        const ReplyResult get = run(session, {"GET", "tst:pingSetGet"});
        QVERIFY2(get && get->isString(), qPrintable(describe(get)));
        QCOMPARE(get->bytes(), value);
        QCOMPARE(get->bytes().size(), 23);

        const ReplyResult missing = run(session, {"GET", "tst:pingSetGet:missing"});
        QVERIFY2(missing && missing->isNil(), qPrintable(describe(missing)));

        QVERIFY(run(session, {"RPUSH", "tst:pingSetGet:list", "a", "b"}));
        const ReplyResult list = run(session, {"LRANGE", "tst:pingSetGet:list", "0", "-1"});
        QVERIFY2(list && list->isArray(), qPrintable(describe(list)));
        QVERIFY(list->elements() == (std::vector<RedisReply>{RedisReply::string("a"), RedisReply::string("b")}));

        const ReplyResult wrong = run(session, {"INCR", "tst:pingSetGet"});
        QVERIFY(!wrong);
        QCOMPARE(wrong.error().kind, StoreErrorKind::Server);
        QVERIFY2(wrong.error().message.startsWith(QLatin1String("ERR")), qPrintable(wrong.error().message));

        const ReplyResult unknown = run(session, {"NOSUCHCOMMAND"});
        QVERIFY(!unknown);
        QCOMPARE(unknown.error().kind, StoreErrorKind::Server);

        const ReplyResult empty = run(session, {});
        QVERIFY(!empty);
        QCOMPARE(empty.error().kind, StoreErrorKind::Protocol);
    }

    void pipelinedCommandsAnswerInOrder()
    {
        RedisSession session(optionsFor(m_redis));
        session.open();
        QTRY_VERIFY_WITH_TIMEOUT(session.isReady(), kWaitMs);
        QVERIFY(run(session, {"DEL", "tst:pipeline"}));
        const quint64 sentBefore = session.stats().commandsSent;

        constexpr int count = 1000;
        std::vector<qint64> values;
        int errors = 0;
        for (int index = 0; index < count; ++index) {
            session.command({"INCR", "tst:pipeline"}, this, [&](ReplyResult result) {
                if (result && result->isInteger())
                    values.push_back(result->toInteger());
                else
                    ++errors;
            });
        }
        // Nothing is delivered from inside command(): all 1000 are in flight now.
        QVERIFY(values.empty());
        QTRY_COMPARE_WITH_TIMEOUT(int(values.size()) + errors, count, kWaitMs);
        QCOMPARE(errors, 0);
        for (int index = 0; index < count; ++index)
            QCOMPARE(values[size_t(index)], qint64(index + 1));

        const sluice::store::RedisSessionStats stats = session.stats();
        QCOMPARE(stats.commandsSent - sentBefore, quint64(count));
        QVERIFY(stats.repliesReceived >= quint64(count + 1));
        QVERIFY(stats.roundTripTotal > 0ns);
        QCOMPARE(stats.commandErrors, 0u);
    }

    void authenticatesWithPassword()
    {
        RedisFixture redis(RedisFixtureOptions{QStringLiteral("pw-default"), {}, {}, true});
        QVERIFY2(redis.start(), qPrintable(redis.errorString()));

        RedisSessionOptions options = optionsFor(redis);
        options.password = QStringLiteral("pw-default");
        RedisSession session(options);
        QList<State> states;
        connect(&session, &RedisSession::stateChanged, this, [&](State state) { states.append(state); });
        session.open();
        QTRY_VERIFY_WITH_TIMEOUT(session.isReady(), kWaitMs);
        QCOMPARE(states, (QList<State>{State::Connecting, State::Authenticating, State::Ready}));
        const ReplyResult whoami = run(session, {"ACL", "WHOAMI"});
        QVERIFY2(whoami && whoami->bytes() == "default", qPrintable(describe(whoami)));

        // Without AUTH the connection is made, but the server refuses commands.
        RedisSession anonymous(optionsFor(redis));
        anonymous.open();
        QTRY_VERIFY_WITH_TIMEOUT(anonymous.isReady(), kWaitMs);
        const ReplyResult refused = run(anonymous, {"GET", "x"});
        QVERIFY(!refused);
        QCOMPARE(refused.error().kind, StoreErrorKind::Authentication);
        QVERIFY2(refused.error().message.startsWith(QLatin1String("NOAUTH")), qPrintable(refused.error().message));
    }

    void authenticatesAsAclUser()
    {
        RedisFixture redis(RedisFixtureOptions{QStringLiteral("pw-default"), QStringLiteral("sluice"),
                                               QStringLiteral("pw-acl"), true});
        QVERIFY2(redis.start(), qPrintable(redis.errorString()));

        RedisSessionOptions options = optionsFor(redis);
        options.user = QStringLiteral("sluice");
        options.password = QStringLiteral("pw-acl");
        RedisSession session(options);
        session.open();
        QTRY_VERIFY_WITH_TIMEOUT(session.isReady(), kWaitMs);
        const ReplyResult whoami = run(session, {"ACL", "WHOAMI"});
        QVERIFY2(whoami && whoami->bytes() == "sluice", qPrintable(describe(whoami)));
    }

    void wrongPasswordIsAnAuthenticationError_data()
    {
        QTest::addColumn<QString>("user");
        QTest::addColumn<QString>("password");
        QTest::newRow("default user") << QString() << QStringLiteral("wrong");
        QTest::newRow("acl user") << QStringLiteral("sluice") << QStringLiteral("wrong");
        QTest::newRow("unknown user") << QStringLiteral("nobody") << QStringLiteral("pw-acl");
    }
    void wrongPasswordIsAnAuthenticationError()
    {
        QFETCH(QString, user);
        QFETCH(QString, password);
        RedisFixture redis(RedisFixtureOptions{QStringLiteral("pw-default"), QStringLiteral("sluice"),
                                               QStringLiteral("pw-acl"), true});
        QVERIFY2(redis.start(), qPrintable(redis.errorString()));

        RedisSessionOptions options = optionsFor(redis);
        options.user = user;
        options.password = password;
        RedisSession session(options);
        QSignalSpy errors(&session, &RedisSession::connectionError);
        QList<State> states;
        connect(&session, &RedisSession::stateChanged, this, [&](State state) { states.append(state); });
        session.open();
        QTRY_VERIFY_WITH_TIMEOUT(!errors.isEmpty(), kWaitMs);
        const StoreError error = errors.first().first().value<StoreError>();
        QCOMPARE(error.kind, StoreErrorKind::Authentication);
        QVERIFY2(error.message.contains(QLatin1String("WRONGPASS")), qPrintable(error.message));
        QCOMPARE(session.lastError().kind, StoreErrorKind::Authentication);
        QVERIFY(states.size() >= 3);
        QCOMPARE(states.mid(0, 3), (QList<State>{State::Connecting, State::Authenticating, State::Disconnected}));
        QVERIFY(!states.contains(State::Ready));
        QVERIFY(session.stats().connectFailures >= 1);

        // Not Ready: commands fail fast without being sent.
        Outcome outcome;
        session.command({"PING"}, this, outcome.callback());
        QVERIFY(!outcome.done()); // never from inside command()
        QTRY_VERIFY_WITH_TIMEOUT(outcome.done(), kWaitMs);
        QCOMPARE(outcome.errorKind(), StoreErrorKind::NotConnected);

        // It keeps trying (the configuration may be fixed), and keeps failing.
        QTRY_VERIFY_WITH_TIMEOUT(errors.size() >= 2, kWaitMs);
        QVERIFY(!states.contains(State::Ready));
    }

    void selectsTheDatabase()
    {
        RedisSessionOptions options = optionsFor(m_redis);
        options.db = 3;
        RedisSession db3(options);
        QList<State> states;
        connect(&db3, &RedisSession::stateChanged, this, [&](State state) { states.append(state); });
        db3.open();
        RedisSession db0(optionsFor(m_redis));
        db0.open();
        QTRY_VERIFY_WITH_TIMEOUT(db3.isReady() && db0.isReady(), kWaitMs);
        QCOMPARE(states, (QList<State>{State::Connecting, State::Selecting, State::Ready}));

        QVERIFY(run(db3, {"SET", "tst:select", "in-3"}));
        QVERIFY(run(db0, {"DEL", "tst:select"}));
        const ReplyResult in0 = run(db0, {"GET", "tst:select"});
        QVERIFY2(in0 && in0->isNil(), qPrintable(describe(in0)));
        const ReplyResult in3 = run(db3, {"GET", "tst:select"});
        QVERIFY2(in3 && in3->bytes() == "in-3", qPrintable(describe(in3)));
        const ReplyResult info = run(db3, {"CLIENT", "INFO"});
        QVERIFY2(info && info->bytes().contains(" db=3 "), qPrintable(describe(info)));
    }

    void selectingAMissingDatabaseFails()
    {
        RedisSessionOptions options = optionsFor(m_redis);
        options.db = 4096;
        RedisSession session(options);
        QSignalSpy errors(&session, &RedisSession::connectionError);
        session.open();
        QTRY_VERIFY_WITH_TIMEOUT(!errors.isEmpty(), kWaitMs);
        QCOMPARE(session.lastError().kind, StoreErrorKind::Server);
        QVERIFY2(session.lastError().message.contains(QLatin1String("SELECT 4096")),
                 qPrintable(session.lastError().message));
        QVERIFY(!session.isReady());
    }

    void commandTimesOutAndTheConnectionSurvives()
    {
        RedisSessionOptions options = optionsFor(m_redis);
        options.commandTimeout = 300ms;
        RedisSession session(options);
        session.open();
        QTRY_VERIFY_WITH_TIMEOUT(session.isReady(), kWaitMs);

        Outcome sleeping;
        Outcome behind;
        session.command({"DEBUG", "SLEEP", "1"}, this, sleeping.callback());
        session.command({"PING"}, this, behind.callback());
        QTRY_VERIFY_WITH_TIMEOUT(sleeping.done() && behind.done(), kWaitMs);
        QVERIFY2(!sleeping.ok(), qPrintable(describe(*sleeping.result)));
        QCOMPARE(sleeping.errorKind(), StoreErrorKind::Timeout);
        QCOMPARE(behind.errorKind(), StoreErrorKind::Timeout);
        QCOMPARE(session.stats().commandTimeouts, 2u);

        // The late answers are discarded; once the server is awake, the same connection
        // answers again.
        QVERIFY(session.isReady());
        QTRY_VERIFY_WITH_TIMEOUT(run(session, {"PING"}).ok(), kWaitMs);
        QVERIFY(session.isReady());
        QCOMPARE(session.stats().reconnects, 0u);
        QCOMPARE(sleeping.calls, 1);
        QCOMPARE(behind.calls, 1);
    }

    void outageFailsCommandsAndReconnects()
    {
        RedisFixture redis;
        QVERIFY2(redis.start(), qPrintable(redis.errorString()));
        RedisSessionOptions options = optionsFor(redis);
        options.commandTimeout = 60s;
        RedisSession session(options);
        QSignalSpy errors(&session, &RedisSession::connectionError);
        session.open();
        QTRY_VERIFY_WITH_TIMEOUT(session.isReady(), kWaitMs);
        QVERIFY(run(session, {"SET", "tst:outage", "before"}));

        Outcome blocked;
        session.command({"BLPOP", "tst:outage:never", "0"}, this, blocked.callback());
        RedisSession observer(optionsFor(redis));
        observer.open();
        QTRY_VERIFY_WITH_TIMEOUT(observer.isReady(), kWaitMs);
        QTRY_VERIFY_WITH_TIMEOUT(run(observer, {"INFO", "clients"})->bytes().contains("blocked_clients:1"), kWaitMs);
        redis.stop();

        QTRY_VERIFY_WITH_TIMEOUT(blocked.done(), kWaitMs);
        QCOMPARE(blocked.errorKind(), StoreErrorKind::NotConnected);
        QCOMPARE(blocked.calls, 1);
        QTRY_VERIFY_WITH_TIMEOUT(!errors.isEmpty(), kWaitMs);
        QVERIFY(!session.isReady());
        QVERIFY(session.isOpen());

        const ReplyResult during = run(session, {"PING"});
        QVERIFY(!during);
        QCOMPARE(during.error().kind, StoreErrorKind::NotConnected);

        QVERIFY2(redis.restart(), qPrintable(redis.errorString()));
        QTRY_VERIFY_WITH_TIMEOUT(session.isReady(), kWaitMs);
        QCOMPARE(session.stats().reconnects, 1u);
        const ReplyResult after = run(session, {"GET", "tst:outage"});
        QVERIFY2(after && after->isNil(), qPrintable(describe(after))); // nothing is saved
        QVERIFY(run(session, {"SET", "tst:outage", "after"}));
        QCOMPARE(run(session, {"GET", "tst:outage"})->bytes(), QByteArray("after"));
    }

    void refusedConnectionKeepsRetrying()
    {
        RedisFixture redis;
        QVERIFY2(redis.start(), qPrintable(redis.errorString()));
        redis.stop(); // the port is now (very likely) closed
        RedisSession session(optionsFor(redis));
        QSignalSpy errors(&session, &RedisSession::connectionError);
        session.open();
        QTRY_VERIFY_WITH_TIMEOUT(errors.size() >= 3, kWaitMs);
        QCOMPARE(session.lastError().kind, StoreErrorKind::Refused);
        QVERIFY(session.stats().connectAttempts >= 3);
        QVERIFY(session.stats().connectFailures >= 3);

        // The server comes (back): the session finds it by itself.
        QVERIFY2(redis.restart(), qPrintable(redis.errorString()));
        QTRY_VERIFY_WITH_TIMEOUT(session.isReady(), kWaitMs);
        QCOMPARE(session.stats().reconnects, 0u); // it had never been Ready before
    }

    void connectTimeoutCoversTheHandshake()
    {
        // Accepts (the kernel does) but never answers: AUTH hangs.
        QTcpServer silent;
        QVERIFY(silent.listen(QHostAddress::LocalHost, 0));
        RedisSessionOptions options;
        options.host = QStringLiteral("127.0.0.1");
        options.port = silent.serverPort();
        options.password = QStringLiteral("pw");
        options.connectTimeout = 300ms;
        options.commandTimeout = 60s;
        options.reconnectMin = 50ms;
        options.reconnectMax = 100ms;
        RedisSession session(options);
        QList<State> states;
        connect(&session, &RedisSession::stateChanged, this, [&](State state) { states.append(state); });
        QSignalSpy errors(&session, &RedisSession::connectionError);
        session.open();
        QTRY_VERIFY_WITH_TIMEOUT(!errors.isEmpty(), kWaitMs);
        QCOMPARE(session.lastError().kind, StoreErrorKind::Timeout);
        QVERIFY2(session.lastError().message.contains(QLatin1String("authenticating")),
                 qPrintable(session.lastError().message));
        QCOMPARE(states.mid(0, 3), (QList<State>{State::Connecting, State::Authenticating, State::Disconnected}));
        QTRY_VERIFY_WITH_TIMEOUT(errors.size() >= 2, kWaitMs); // and it tries again
        session.close();
        QCOMPARE(session.state(), State::Disconnected);
    }

    void deadContextDropsTheCallback()
    {
        RedisSession session(optionsFor(m_redis));
        // Not open: the NotConnected failure is queued; its context dies first.
        auto early = std::make_unique<QObject>();
        Outcome dropped;
        session.command({"PING"}, early.get(), dropped.callback());
        early.reset();
        Outcome delivered;
        session.command({"PING"}, this, delivered.callback());
        QTRY_VERIFY_WITH_TIMEOUT(delivered.done(), kWaitMs);
        QCOMPARE(delivered.errorKind(), StoreErrorKind::NotConnected);
        QCOMPARE(dropped.calls, 0);

        session.open();
        QTRY_VERIFY_WITH_TIMEOUT(session.isReady(), kWaitMs);
        auto context = std::make_unique<QObject>();
        Outcome gone;
        session.command({"SET", "tst:deadContext", "1"}, context.get(), gone.callback());
        context.reset();
        // Answered after the first one: once it is here, the first answer has arrived too.
        const ReplyResult later = run(session, {"GET", "tst:deadContext"});
        QVERIFY2(later && later->bytes() == "1", qPrintable(describe(later))); // it was sent all the same
        QCOMPARE(gone.calls, 0);
    }

    void closeCancelsPendingCommands()
    {
        RedisSessionOptions options = optionsFor(m_redis);
        options.commandTimeout = 30s;
        RedisSession session(options);
        session.open();
        QTRY_VERIFY_WITH_TIMEOUT(session.isReady(), kWaitMs);
        Outcome pending;
        session.command({"BLPOP", "tst:close:never", "1"}, this, pending.callback());
        QSignalSpy errors(&session, &RedisSession::connectionError);
        session.close();
        QVERIFY(pending.done());
        QCOMPARE(pending.errorKind(), StoreErrorKind::Cancelled);
        QCOMPARE(session.state(), State::Disconnected);
        QVERIFY(!session.isOpen());
        QCOMPARE(errors.size(), 0); // closing is not a failure
        QTest::qWait(200);          // would be plenty for a (wrong) reconnect at 50 ms
        QCOMPARE(session.state(), State::Disconnected);
        QCOMPARE(pending.calls, 1);

        session.open();
        QTRY_VERIFY_WITH_TIMEOUT(session.isReady(), kWaitMs);
        QVERIFY(run(session, {"PING"}));
    }

    void sessionMayBeDeletedFromItsCallbacks()
    {
        auto *session = new RedisSession(optionsFor(m_redis));
        session->open();
        QTRY_VERIFY_WITH_TIMEOUT(session->isReady(), kWaitMs);
        QPointer<RedisSession> guard(session);
        Outcome second;
        bool first = false;
        session->command({"PING"}, this, [&](ReplyResult) {
            first = true;
            delete session;
        });
        session->command({"PING"}, this, second.callback()); // pipelined behind: dropped
        QTRY_VERIFY_WITH_TIMEOUT(first, kWaitMs);
        QVERIFY(guard.isNull());
        QTest::qWait(50);
        QCOMPARE(second.calls, 0);

        // And from a stateChanged slot while the connection is lost.
        RedisFixture redis;
        QVERIFY2(redis.start(), qPrintable(redis.errorString()));
        auto *doomed = new RedisSession(optionsFor(redis));
        QPointer<RedisSession> doomedGuard(doomed);
        doomed->open();
        QTRY_VERIFY_WITH_TIMEOUT(doomed->isReady(), kWaitMs);
        connect(doomed, &RedisSession::stateChanged, this, [doomed](State state) {
            if (state == State::Disconnected)
                delete doomed;
        });
        Outcome inFlight;
        doomed->command({"BLPOP", "tst:doomed:never", "0"}, this, inFlight.callback());
        redis.stop();
        QTRY_VERIFY_WITH_TIMEOUT(doomedGuard.isNull(), kWaitMs);
        QTest::qWait(50);
        QCOMPARE(inFlight.calls, 0); // dropped with the session
    }

private:
    RedisFixture m_redis;
};

QTEST_GUILESS_MAIN(TestRedisSession)
#include "tst_redissession.moc"
