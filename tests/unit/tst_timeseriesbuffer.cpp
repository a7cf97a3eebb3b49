#include <QTest>

#include "models/timeseriesbuffer.h"

#include <cmath>
#include <limits>

using namespace sluice::models;

namespace {

std::vector<qint64> timesOf(const TimeSeriesBuffer &buffer)
{
    std::vector<qint64> times;
    for (qsizetype i = 0; i < buffer.size(); ++i)
        times.push_back(buffer.at(i).timeMs);
    return times;
}

} // namespace

class TestTimeSeriesBuffer : public QObject {
    Q_OBJECT

private slots:
    void defaultsToADayOfSeconds()
    {
        TimeSeriesBuffer buffer;
        QCOMPARE(buffer.capacity(), 86'400);
        QVERIFY(buffer.isEmpty());
        QVERIFY(std::isnan(buffer.lastValue()));
        QVERIFY(!buffer.lastPoint());
    }

    void evictsTheOldestOnceFull()
    {
        TimeSeriesBuffer buffer(3);
        for (qint64 t = 1; t <= 5; ++t)
            QVERIFY(buffer.append(t * 1000, double(t)));
        QCOMPARE(buffer.size(), 3);
        QCOMPARE(timesOf(buffer), (std::vector<qint64>{3000, 4000, 5000}));
        QCOMPARE(buffer.at(0).value, 3.0);
        QCOMPARE(buffer.lastValue(), 5.0);
        QCOMPARE(*buffer.lastPoint(), (TimePoint{5000, 5.0}));
    }

    void refusesSamplesOlderThanTheNewest()
    {
        TimeSeriesBuffer buffer(10);
        QVERIFY(buffer.append(2000, 1));
        QVERIFY(!buffer.append(1999, 2));
        QVERIFY(buffer.append(2000, 3)); // same time: kept, in order
        QCOMPARE(buffer.size(), 2);
        QCOMPARE(buffer.lastValue(), 3.0);
    }

    void gapsAreNaN()
    {
        TimeSeriesBuffer buffer(10);
        buffer.append(1000, 4);
        QVERIFY(buffer.appendGap(2000));
        QVERIFY(buffer.at(1).isGap());
        QVERIFY(std::isnan(buffer.lastValue()));
        QCOMPARE(buffer.lastPoint()->timeMs, 2000);
    }

    void shrinkingKeepsTheNewest()
    {
        TimeSeriesBuffer buffer(5);
        for (qint64 t = 1; t <= 7; ++t) // wraps: the ring is not linear any more
            buffer.append(t, double(t));
        buffer.setCapacity(2);
        QCOMPARE(timesOf(buffer), (std::vector<qint64>{6, 7}));
        buffer.setCapacity(4);
        buffer.append(8, 8);
        buffer.append(9, 9);
        buffer.append(10, 10);
        QCOMPARE(timesOf(buffer), (std::vector<qint64>{7, 8, 9, 10}));
    }

    void clearEmpties()
    {
        TimeSeriesBuffer buffer(4);
        buffer.append(1, 1);
        buffer.clear();
        QVERIFY(buffer.isEmpty());
        QVERIFY(buffer.append(0, 1)); // an earlier time is fine after clear()
    }

    void boundsAcrossTheWrap()
    {
        TimeSeriesBuffer buffer(8);
        for (qint64 t = 0; t < 13; ++t)
            buffer.append(t * 10, double(t)); // holds 50..120
        QCOMPARE(buffer.lowerBound(0), 0);
        QCOMPARE(buffer.lowerBound(50), 0);
        QCOMPARE(buffer.lowerBound(51), 1);
        QCOMPARE(buffer.lowerBound(120), 7);
        QCOMPARE(buffer.lowerBound(121), 8);
        QCOMPARE(buffer.upperBound(49), 0);
        QCOMPARE(buffer.upperBound(50), 1);
        QCOMPARE(buffer.upperBound(115), 7);
        QCOMPARE(buffer.upperBound(120), 8);
    }

    void downsampleReturnsFewPointsAsTheyAre()
    {
        TimeSeriesBuffer buffer(100);
        for (qint64 t = 0; t < 10; ++t)
            buffer.append(t * 1000, double(t));
        const auto points = buffer.downsample(2000, 5000, 2); // 4 points fit in 2 * 2
        QCOMPARE(points.size(), size_t(4));
        QCOMPARE(points.front(), (TimePoint{2000, 2}));
        QCOMPARE(points.back(), (TimePoint{5000, 5}));
    }

    void downsampleKeepsSpikesWithinTheLimit()
    {
        // One-sample spikes up and down in a flat line.
        TimeSeriesBuffer spiky(20'000);
        for (qint64 t = 0; t < 10'000; ++t) {
            double value = 1.0;
            if (t == 4321)
                value = 99.0;
            if (t == 7777)
                value = -5.0;
            spiky.append(t * 1000, value);
        }
        const int buckets = 100;
        const auto points = spiky.downsample(0, 9'999'000, buckets);
        QVERIFY(points.size() <= size_t(2 * buckets));
        QVERIFY(points.size() >= size_t(buckets)); // every slice has data
        bool sawHigh = false;
        bool sawLow = false;
        for (size_t i = 0; i < points.size(); ++i) {
            if (i > 0)
                QVERIFY(points[i - 1].timeMs <= points[i].timeMs);
            sawHigh = sawHigh || (points[i] == TimePoint{4'321'000, 99.0});
            sawLow = sawLow || (points[i] == TimePoint{7'777'000, -5.0});
        }
        QVERIFY(sawHigh);
        QVERIFY(sawLow);
    }

    void downsampleOrdersMinAndMaxByTime()
    {
        TimeSeriesBuffer buffer(100);
        // One bucket over 0..9: the maximum (t=2) comes before the minimum (t=6).
        const double values[] = {5, 6, 9, 4, 5, 5, 1, 5, 5, 5};
        for (qint64 t = 0; t < 10; ++t)
            buffer.append(t, values[t]);
        const auto points = buffer.downsample(0, 9, 1);
        QCOMPARE(points, (std::vector<TimePoint>{{2, 9}, {6, 1}}));
    }

    void downsampleShowsAllGapSlicesAsGaps()
    {
        TimeSeriesBuffer buffer(100);
        for (qint64 t = 0; t < 30; ++t) {
            if (t >= 10 && t < 20)
                buffer.appendGap(t);
            else
                buffer.append(t, double(t));
        }
        const auto points = buffer.downsample(0, 29, 3); // slices 0..9, 10..19, 20..29
        QCOMPARE(points.size(), size_t(5));
        QCOMPARE(points[0], (TimePoint{0, 0}));
        QCOMPARE(points[1], (TimePoint{9, 9}));
        QCOMPARE(points[2].timeMs, 10);
        QVERIFY(points[2].isGap());
        QCOMPARE(points[3], (TimePoint{20, 20}));
        QCOMPARE(points[4], (TimePoint{29, 29}));
    }

    void downsampleOutsideOrInvalidIsEmpty()
    {
        TimeSeriesBuffer buffer(10);
        buffer.append(100, 1);
        QVERIFY(buffer.downsample(0, 99, 10).empty());
        QVERIFY(buffer.downsample(101, 200, 10).empty());
        QVERIFY(buffer.downsample(200, 100, 10).empty());
        QVERIFY(buffer.downsample(0, 200, 0).empty());
        QCOMPARE(buffer.downsample(100, 100, 1).size(), size_t(1));
    }

    void downsampleIntoReusesTheVector()
    {
        TimeSeriesBuffer buffer(1000);
        for (qint64 t = 0; t < 1000; ++t)
            buffer.append(t, double(t % 7));
        std::vector<TimePoint> out;
        buffer.downsample(0, 999, 50, out);
        const auto *storage = out.data();
        const size_t firstSize = out.size();
        QVERIFY(firstSize <= 100);
        buffer.downsample(0, 999, 50, out);
        QCOMPARE(out.size(), firstSize);
        QCOMPARE(out.data(), storage); // cleared and refilled in place
    }

    void downsampleOverAWideRangeDoesNotOverflow()
    {
        TimeSeriesBuffer buffer(100);
        const qint64 start = -4'000'000'000'000'000'000LL;
        for (int i = 0; i < 50; ++i)
            buffer.append(start + qint64(i) * 160'000'000'000'000'000LL, double(i));
        const auto points = buffer.downsample(std::numeric_limits<qint64>::min(), std::numeric_limits<qint64>::max(), 5);
        QVERIFY(!points.empty());
        QVERIFY(points.size() <= 10);
        QCOMPARE(points.front(), (TimePoint{start, 0}));
        QCOMPARE(points.back(), (TimePoint{start + 49 * 160'000'000'000'000'000LL, 49}));
    }
};

QTEST_GUILESS_MAIN(TestTimeSeriesBuffer)
#include "tst_timeseriesbuffer.moc"
