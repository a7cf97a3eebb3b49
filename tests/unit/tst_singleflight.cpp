#include <QTest>

#include "policy/result.h"
#include "policy/singleflight.h"

#include <memory>
#include <string>
#include <vector>

using sluice::Error;
using sluice::Result;
using sluice::policy::SingleFlight;

using Flights = SingleFlight<std::string>;

namespace {

// What each follower received, as "value" or "error:<message>", in delivery order.
struct Deliveries {
    QStringList received;

    Flights::ResultCallback record(const QString &name)
    {
        return [this, name](const Result<std::string> &result) {
            received << name + u'=' + (result.ok() ? QString::fromStdString(*result)
                                                   : "error:" + QString::fromStdString(result.error().message));
        };
    }
};

} // namespace

class TestSingleFlight : public QObject {
    Q_OBJECT
private slots:
    void followersGetLeadersValue_data()
    {
        QTest::addColumn<int>("followers");
        QTest::newRow("leader alone") << 0;
        QTest::newRow("one follower") << 1;
        QTest::newRow("five followers") << 5;
    }

    void followersGetLeadersValue()
    {
        QFETCH(int, followers);
        Flights flights(10);
        Deliveries deliveries;
        QCOMPARE(flights.join("gpt-4o|hash", deliveries.record("leader")).role, Flights::Role::Leader);
        QStringList expected;
        for (int i = 0; i < followers; ++i) {
            const auto membership = flights.join("gpt-4o|hash", deliveries.record(QString::number(i)));
            QCOMPARE(membership.role, Flights::Role::Follower);
            QVERIFY(membership.followerId != 0);
            expected << QString::number(i) + "=answer";
        }
        QCOMPARE(flights.followerCount("gpt-4o|hash"), static_cast<std::size_t>(followers));
        QVERIFY(deliveries.received.isEmpty());

        QCOMPARE(flights.complete("gpt-4o|hash", std::string("answer")), static_cast<std::size_t>(followers));
        QCOMPARE(deliveries.received, expected); // once each, in join order; the leader is not called
        QVERIFY(!flights.isInFlight("gpt-4o|hash"));
        QCOMPARE(flights.complete("gpt-4o|hash", std::string("again")), std::size_t{0});
        QCOMPARE(deliveries.received, expected);
    }

    void errorsPropagate()
    {
        Flights flights;
        Deliveries deliveries;
        flights.join("k", {});
        flights.join("k", deliveries.record("a"));
        flights.join("k", deliveries.record("b"));
        QCOMPARE(flights.complete("k", sluice::unexpected(Error{"upstream 502"})), std::size_t{2});
        QCOMPARE(deliveries.received, (QStringList{"a=error:upstream 502", "b=error:upstream 502"}));
    }

    void maxFollowersBound_data()
    {
        QTest::addColumn<int>("maxFollowers");
        QTest::newRow("sharing off") << 0;
        QTest::newRow("one") << 1;
        QTest::newRow("three") << 3;
        QTest::newRow("negative counts as 0") << -4;
    }

    void maxFollowersBound()
    {
        QFETCH(int, maxFollowers);
        const int bound = std::max(maxFollowers, 0);
        Flights flights(maxFollowers);
        Deliveries deliveries;
        QCOMPARE(flights.join("k", {}).role, Flights::Role::Leader);
        for (int i = 0; i < bound; ++i)
            QCOMPARE(flights.join("k", deliveries.record(QString::number(i))).role, Flights::Role::Follower);
        const auto rejected = flights.join("k", deliveries.record("rejected"));
        QCOMPARE(rejected.role, Flights::Role::Rejected);
        QCOMPARE(rejected.followerId, Flights::FollowerId{0});
        QCOMPARE(flights.join("other", {}).role, Flights::Role::Leader); // the bound is per key

        QCOMPARE(flights.complete("k", std::string("v")), static_cast<std::size_t>(bound));
        QVERIFY(!deliveries.received.join(u',').contains("rejected")); // a rejected join is never called back
        QCOMPARE(flights.stats().rejected, std::uint64_t{1});
    }

    void leaveDropsOneFollower()
    {
        Flights flights(2);
        Deliveries deliveries;
        flights.join("k", {});
        const auto a = flights.join("k", deliveries.record("a"));
        flights.join("k", deliveries.record("b"));
        QCOMPARE(flights.join("k", deliveries.record("c")).role, Flights::Role::Rejected);

        QVERIFY(!flights.leave("other", a.followerId));
        QVERIFY(flights.leave("k", a.followerId));
        QVERIFY(!flights.leave("k", a.followerId));
        QCOMPARE(flights.followerCount("k"), std::size_t{1});
        QCOMPARE(flights.join("k", deliveries.record("d")).role, Flights::Role::Follower); // its place is free

        QCOMPARE(flights.complete("k", std::string("v")), std::size_t{2});
        QCOMPARE(deliveries.received, (QStringList{"b=v", "d=v"}));
        QCOMPARE(flights.stats().left, std::uint64_t{1});
    }

    void abandonFailsFollowers_data()
    {
        QTest::addColumn<QString>("message");
        QTest::addColumn<bool>("defaultError");
        QTest::newRow("default error") << QString("single-flight leader abandoned the request") << true;
        QTest::newRow("caller's error") << QString("client closed the connection") << false;
    }

    void abandonFailsFollowers()
    {
        QFETCH(QString, message);
        QFETCH(bool, defaultError);
        Flights flights;
        Deliveries deliveries;
        flights.join("k", {});
        flights.join("k", deliveries.record("a"));
        flights.join("k", deliveries.record("b"));
        const std::size_t told = defaultError ? flights.abandon("k") : flights.abandon("k", Error{message.toStdString()});
        QCOMPARE(told, std::size_t{2});
        QCOMPARE(deliveries.received, (QStringList{"a=error:" + message, "b=error:" + message}));
        QVERIFY(!flights.isInFlight("k"));
        QCOMPARE(flights.abandon("k"), std::size_t{0});
        QCOMPARE(flights.join("k", {}).role, Flights::Role::Leader);
        QCOMPARE(flights.stats().abandoned, std::uint64_t{1});
    }

    void newLeaderAfterCompletion()
    {
        Flights flights;
        Deliveries deliveries;
        flights.join("k", {});
        flights.join("k", deliveries.record("first"));
        flights.complete("k", std::string("v1"));

        QCOMPARE(flights.join("k", {}).role, Flights::Role::Leader);
        flights.join("k", deliveries.record("second"));
        flights.complete("k", std::string("v2"));
        QCOMPARE(deliveries.received, (QStringList{"first=v1", "second=v2"}));
        QCOMPARE(flights.stats().leaders, std::uint64_t{2});
    }

    void callbackJoiningSameKeyLeadsNewFlight()
    {
        Flights flights;
        Deliveries deliveries;
        Flights::Role reentrantRole = Flights::Role::Rejected;
        flights.join("k", {});
        flights.join("k", [&](const Result<std::string> &) {
            reentrantRole = flights.join("k", {}).role;
            flights.join("k", deliveries.record("late"));
        });
        flights.join("k", deliveries.record("b"));

        QCOMPARE(flights.complete("k", std::string("v1")), std::size_t{2});
        QCOMPARE(reentrantRole, Flights::Role::Leader);
        QCOMPARE(deliveries.received, QStringList{"b=v1"}); // the new flight is not served v1
        QCOMPARE(flights.followerCount("k"), std::size_t{1});
        flights.complete("k", std::string("v2"));
        QCOMPARE(deliveries.received, (QStringList{"b=v1", "late=v2"}));
    }

    void keysAreIndependent()
    {
        Flights flights;
        Deliveries deliveries;
        QCOMPARE(flights.join("a", {}).role, Flights::Role::Leader);
        QCOMPARE(flights.join("b", {}).role, Flights::Role::Leader);
        flights.join("a", deliveries.record("a1"));
        flights.join("b", deliveries.record("b1"));
        flights.complete("b", std::string("vb"));
        QCOMPARE(deliveries.received, QStringList{"b1=vb"});
        QVERIFY(flights.isInFlight("a"));
        QCOMPARE(flights.stats().inFlightKeys, std::size_t{1});
    }

    void moveOnlyValues()
    {
        SingleFlight<std::unique_ptr<int>> flights;
        int seen = 0;
        flights.join("k", {});
        for (int i = 0; i < 3; ++i)
            flights.join("k", [&seen](const Result<std::unique_ptr<int>> &result) { seen += **result; });
        flights.complete("k", std::make_unique<int>(7));
        QCOMPARE(seen, 21);
    }

    void statsCountRoles()
    {
        Flights flights(1);
        flights.join("k", {});
        const auto follower = flights.join("k", {});
        flights.join("k", {});
        flights.leave("k", follower.followerId);
        flights.join("j", {});
        flights.complete("k", std::string("v"));
        const Flights::Stats stats = flights.stats();
        QCOMPARE(stats.leaders, std::uint64_t{2});
        QCOMPARE(stats.followers, std::uint64_t{1});
        QCOMPARE(stats.rejected, std::uint64_t{1});
        QCOMPARE(stats.left, std::uint64_t{1});
        QCOMPARE(stats.completed, std::uint64_t{1});
        QCOMPARE(stats.abandoned, std::uint64_t{0});
        QCOMPARE(stats.inFlightKeys, std::size_t{1});
    }
};

QTEST_APPLESS_MAIN(TestSingleFlight)
#include "tst_singleflight.moc"
