#include <QTest>

#include "policy/clock.h"
#include "policy/result.h"

using namespace std::chrono_literals;
using sluice::policy::ManualClock;
using sluice::policy::SteadyClock;

class TestClock : public QObject {
    Q_OBJECT
private slots:
    void manualClockMovesOnlyWhenTold()
    {
        ManualClock clock(5s);
        QCOMPARE(clock.now(), 5s);
        clock.advance(1h);
        QCOMPARE(clock.now(), 1h + 5s);
        clock.set(2s);
        QCOMPARE(clock.now(), 2s);
    }

    void steadyClockIsMonotonic()
    {
        SteadyClock clock;
        const auto first = clock.now();
        const auto second = clock.now();
        QVERIFY(second >= first);
    }

    void resultHoldsValueOrError()
    {
        sluice::Result<int> good = 7;
        QVERIFY(good.ok());
        QCOMPARE(*good, 7);
        sluice::Result<int> bad = sluice::unexpected(sluice::Error{"nope"});
        QVERIFY(!bad.ok());
        QCOMPARE(bad.error().message, std::string("nope"));
    }
};

QTEST_APPLESS_MAIN(TestClock)
#include "tst_clock.moc"
