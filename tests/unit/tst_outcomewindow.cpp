#include <QTest>

#include <algorithm>

#include "policy/clock.h"
#include "policy/outcomewindow.h"

using namespace std::chrono_literals;
using sluice::policy::MonoTime;
using sluice::policy::Nanoseconds;
using sluice::policy::OutcomeWindow;

Q_DECLARE_METATYPE(Nanoseconds)

class TestOutcomeWindow : public QObject {
    Q_OBJECT
private slots:
    void geometryIsSanitised_data()
    {
        QTest::addColumn<Nanoseconds>("window");
        QTest::addColumn<int>("buckets");
        QTest::addColumn<Nanoseconds>("expectedWidth");
        QTest::addColumn<int>("expectedBuckets");
        QTest::newRow("10 x 1 s") << Nanoseconds(10s) << 10 << Nanoseconds(1s) << 10;
        QTest::newRow("uneven") << Nanoseconds(10s) << 3 << Nanoseconds(3333333333ns) << 3;
        QTest::newRow("zero buckets") << Nanoseconds(10s) << 0 << Nanoseconds(10s) << 1;
        QTest::newRow("narrower than buckets") << Nanoseconds(3ns) << 10 << Nanoseconds(1ns) << 10;
    }

    void geometryIsSanitised()
    {
        QFETCH(Nanoseconds, window);
        QFETCH(int, buckets);
        QFETCH(Nanoseconds, expectedWidth);
        QFETCH(int, expectedBuckets);
        const OutcomeWindow outcomes(window, std::size_t(buckets));
        QCOMPARE(outcomes.bucketWidth(), expectedWidth);
        QCOMPARE(outcomes.bucketCount(), std::size_t(expectedBuckets));
        QCOMPARE(outcomes.window(), expectedWidth * expectedBuckets);
    }

    void outcomesLeaveWhenTheirBucketDoes_data()
    {
        // 4 buckets of 1 s.
        QTest::addColumn<Nanoseconds>("recordedAt");
        QTest::addColumn<Nanoseconds>("readAt");
        QTest::addColumn<bool>("counted");
        QTest::newRow("at once") << Nanoseconds(0s) << Nanoseconds(0s) << true;
        QTest::newRow("bucket start, last moment") << Nanoseconds(0s) << Nanoseconds(4s - 1ns) << true;
        QTest::newRow("bucket start, gone") << Nanoseconds(0s) << Nanoseconds(4s) << false;
        QTest::newRow("bucket end, last moment") << Nanoseconds(1s - 1ns) << Nanoseconds(4s - 1ns) << true;
        QTest::newRow("bucket end, gone") << Nanoseconds(1s - 1ns) << Nanoseconds(4s) << false;
        QTest::newRow("wrapped twice") << Nanoseconds(2s) << Nanoseconds(10s) << false;
        QTest::newRow("before the epoch") << Nanoseconds(-1ns) << Nanoseconds(3s - 1ns) << true;
        QTest::newRow("before the epoch, gone") << Nanoseconds(-1ns) << Nanoseconds(3s) << false;
    }

    void outcomesLeaveWhenTheirBucketDoes()
    {
        QFETCH(Nanoseconds, recordedAt);
        QFETCH(Nanoseconds, readAt);
        QFETCH(bool, counted);
        OutcomeWindow outcomes(4s, 4);
        outcomes.record(MonoTime(recordedAt), true);
        outcomes.record(MonoTime(recordedAt), false);
        const OutcomeWindow::Totals totals = outcomes.totals(MonoTime(readAt));
        QCOMPARE(totals.requests, counted ? 2u : 0u);
        QCOMPARE(totals.failures, counted ? 1u : 0u);
        QCOMPARE(totals.failureRate(), counted ? 0.5 : 0.0);
    }

    void reusedBucketStartsFromZero()
    {
        OutcomeWindow outcomes(4s, 4);
        for (int second = 0; second < 12; ++second) {
            outcomes.record(MonoTime(std::chrono::seconds(second)), second % 2 == 0);
            const OutcomeWindow::Totals totals = outcomes.totals(MonoTime(std::chrono::seconds(second)));
            std::uint64_t requests = 0;
            std::uint64_t failures = 0;
            for (int counted = std::max(0, second - 3); counted <= second; ++counted) {
                ++requests;
                failures += counted % 2 == 0 ? 1 : 0;
            }
            QCOMPARE(totals.requests, requests);
            QCOMPARE(totals.failures, failures);
        }
        outcomes.clear();
        QCOMPARE(outcomes.totals(MonoTime(12s)).requests, 0u);
    }
};

QTEST_APPLESS_MAIN(TestOutcomeWindow)
#include "tst_outcomewindow.moc"
