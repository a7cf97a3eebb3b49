#include <QSignalSpy>
#include <QTest>

#include "models/timeseriesset.h"

#include <limits>

using namespace sluice::models;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

} // namespace

class TestTimeSeriesSet : public QObject {
    Q_OBJECT

private slots:
    void createsSeriesInOrderAndVisible()
    {
        TimeSeriesSet set(10);
        QSignalSpy added(&set, &TimeSeriesSet::seriesAdded);
        set.append(QStringLiteral("p95"), 1000, 0.2);
        set.append(QStringLiteral("p50"), 1000, 0.1);
        set.append(QStringLiteral("p95"), 2000, 0.3);
        QCOMPARE(set.names(), (QStringList{QStringLiteral("p95"), QStringLiteral("p50")}));
        QCOMPARE(added.count(), 2);
        QVERIFY(set.isVisible(QStringLiteral("p50")));
        QCOMPARE(set.find(QStringLiteral("p95"))->size(), 2);
        QCOMPARE(set.find(QStringLiteral("p95"))->capacity(), 10);
        QVERIFY(!set.find(QStringLiteral("p99")));
    }

    void visibilityToggles()
    {
        TimeSeriesSet set;
        set.series(QStringLiteral("a"));
        set.series(QStringLiteral("b"));
        QSignalSpy changed(&set, &TimeSeriesSet::visibilityChanged);
        QVERIFY(set.setVisible(QStringLiteral("a"), false));
        QVERIFY(set.setVisible(QStringLiteral("a"), false)); // no change: no signal
        QVERIFY(!set.setVisible(QStringLiteral("zzz"), false));
        QCOMPARE(changed.count(), 1);
        QCOMPARE(changed.at(0).at(0).toString(), QStringLiteral("a"));
        QCOMPARE(changed.at(0).at(1).toBool(), false);
        QCOMPARE(set.visibleNames(), QStringList{QStringLiteral("b")});
    }

    void removeAndClear()
    {
        TimeSeriesSet set(4);
        set.append(QStringLiteral("a"), 1, 1);
        set.append(QStringLiteral("b"), 1, 1);
        QSignalSpy removed(&set, &TimeSeriesSet::seriesRemoved);
        QVERIFY(set.remove(QStringLiteral("a")));
        QVERIFY(!set.remove(QStringLiteral("a")));
        QCOMPARE(removed.count(), 1);
        set.clearData();
        QCOMPARE(set.names(), QStringList{QStringLiteral("b")});
        QVERIFY(set.find(QStringLiteral("b"))->isEmpty());
        set.setCapacityPerSeries(2);
        QCOMPARE(set.find(QStringLiteral("b"))->capacity(), 2);
        QCOMPARE(set.series(QStringLiteral("new")).capacity(), 2);
    }

    void csvMergesSeriesByTime()
    {
        TimeSeriesSet set;
        const qint64 t0 = 1'714'564'800'000; // 2024-05-01T12:00:00Z
        set.append(QStringLiteral("rps"), t0, 12.5);
        set.append(QStringLiteral("rps"), t0 + 1000, 13);
        set.append(QStringLiteral("rps"), t0 + 2000, kNaN);
        set.append(QStringLiteral("p95, s"), t0 + 1000, 0.1);
        set.append(QStringLiteral("p95, s"), t0 + 3000, 1e-7);
        const QByteArray csv = set.toCsv();
        QCOMPARE(csv, QByteArray("time,rps,\"p95, s\"\r\n"
                                 "2024-05-01T12:00:00.000Z,12.5,\r\n"
                                 "2024-05-01T12:00:01.000Z,13,0.1\r\n"
                                 "2024-05-01T12:00:02.000Z,,\r\n"
                                 "2024-05-01T12:00:03.000Z,,1e-07\r\n"));
    }

    void csvRangeAndVisibleOnly()
    {
        TimeSeriesSet set;
        for (qint64 t = 0; t < 5; ++t) {
            set.append(QStringLiteral("a"), t * 1000, double(t));
            set.append(QStringLiteral("b"), t * 1000, double(-t));
        }
        set.setVisible(QStringLiteral("a"), false);
        const QByteArray csv = set.toCsv(1000, 2000, TimeSeriesSet::CsvColumns::VisibleOnly);
        QCOMPARE(csv, QByteArray("time,b\r\n"
                                 "1970-01-01T00:00:01.000Z,-1\r\n"
                                 "1970-01-01T00:00:02.000Z,-2\r\n"));
        const QByteArray all = set.toCsv(1000, 1000);
        QCOMPARE(all, QByteArray("time,a,b\r\n1970-01-01T00:00:01.000Z,1,-1\r\n"));
    }

    void csvValuesReadBackExactly()
    {
        TimeSeriesSet set;
        const double value = 0.1 + 0.2; // 0.30000000000000004
        set.append(QStringLiteral("x"), 0, value);
        const QList<QByteArray> lines = set.toCsv().split('\n');
        const QByteArray cell = lines.at(1).split(',').at(1).trimmed();
        QCOMPARE(cell.toDouble(), value);
    }
};

QTEST_GUILESS_MAIN(TestTimeSeriesSet)
#include "tst_timeseriesset.moc"
