#include <QTest>

#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "metrics/histogramquantile.h"

using Buckets = std::vector<std::pair<double, double>>;
Q_DECLARE_METATYPE(Buckets)

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

} // namespace

class TestMetricHistogramQuantile : public QObject {
    Q_OBJECT
private slots:
    void matchesPromQl_data()
    {
        QTest::addColumn<double>("q");
        QTest::addColumn<Buckets>("buckets");
        QTest::addColumn<double>("expected");

        // 100 observations: 10 <= 0.1, 50 <= 0.5, 90 <= 1, 100 in total.
        const Buckets latency{{0.1, 10}, {0.5, 50}, {1, 90}, {kInf, 100}};
        // rank 50 is the top of bucket 0.1..0.5.
        QTest::newRow("median on a bound") << 0.5 << latency << 0.5;
        // rank 5 in 0..0.1 holding 10: 0 + 0.1 * 5/10.
        QTest::newRow("p5 in the first bucket") << 0.05 << latency << 0.05;
        // rank 30 in 0.1..0.5 (10..50): 0.1 + 0.4 * 20/40.
        QTest::newRow("p30 interpolated") << 0.3 << latency << 0.3;
        // rank 75 in 0.5..1 (50..90): 0.5 + 0.5 * 25/40.
        QTest::newRow("p75 interpolated") << 0.75 << latency << 0.8125;
        // rank 90 ends bucket 1.
        QTest::newRow("p90 on a bound") << 0.9 << latency << 1.0;
        // rank 95 falls in +Inf: the highest finite bound.
        QTest::newRow("p95 in +Inf") << 0.95 << latency << 1.0;
        QTest::newRow("q=1 in +Inf") << 1.0 << latency << 1.0;
        // rank 0: the first bucket with count >= 0 is the first; 0 + 0.1 * 0/10.
        QTest::newRow("q=0") << 0.0 << latency << 0.0;
        QTest::newRow("any order") << 0.75 << Buckets{{kInf, 100}, {0.5, 50}, {1, 90}, {0.1, 10}} << 0.8125;
        // Duplicate bounds are added together: le 1 becomes 40 + 50 = 90.
        QTest::newRow("same bound merged")
            << 0.75 << Buckets{{0.1, 10}, {0.5, 50}, {1, 40}, {1, 50}, {kInf, 100}} << 0.8125;
        // The dip at le=1 is raised to 60: rank 75 lies in 1..+Inf.
        QTest::newRow("non-monotonic raised") << 0.75 << Buckets{{0.5, 60}, {1, 20}, {kInf, 100}} << 1.0;
        // A NaN bound is skipped.
        QTest::newRow("NaN bound skipped") << 0.5 << Buckets{{kNaN, 3}, {1, 50}, {kInf, 100}} << 1.0;
        // Nothing below the lowest bucket: rank 2 of 4 in 0..2 → 1.
        QTest::newRow("single finite bucket") << 0.5 << Buckets{{2, 4}, {kInf, 4}} << 1.0;
        // A non-positive lowest bound is returned as is.
        QTest::newRow("negative lowest bound") << 0.1 << Buckets{{-1, 10}, {0, 20}, {kInf, 20}} << -1.0;
        // rank 15 in -1..0 (10..20): -1 + 1 * 5/10.
        QTest::newRow("negative buckets interpolate") << 0.75 << Buckets{{-1, 10}, {0, 20}, {kInf, 20}} << -0.5;
        // Rates are fractional: 2.5 of 5 per second under 0.25.
        QTest::newRow("fractional counts") << 0.5 << Buckets{{0.25, 2.5}, {1, 5}, {kInf, 5}} << 0.25;
        // Counts a relative 1e-13 apart are equal: all three are 1, rank 1 is
        // the top of the first bucket. Taken at face value, rank 1 + 1e-13
        // would land in 1..2 and give 2.
        QTest::newRow("precision noise ignored")
            << 1.0 << Buckets{{1, 1.0}, {2, 1.0 + 1e-13}, {kInf, 1.0 + 1e-13}} << 1.0;

        QTest::newRow("q < 0") << -0.1 << latency << -kInf;
        QTest::newRow("q > 1") << 1.1 << latency << kInf;
        QTest::newRow("q NaN") << kNaN << latency << kNaN;
        QTest::newRow("no +Inf bucket") << 0.5 << Buckets{{0.1, 10}, {1, 100}} << kNaN;
        QTest::newRow("only +Inf") << 0.5 << Buckets{{kInf, 100}} << kNaN;
        QTest::newRow("no observations") << 0.5 << Buckets{{0.1, 0}, {kInf, 0}} << kNaN;
        QTest::newRow("empty") << 0.5 << Buckets{} << kNaN;
        QTest::newRow("only NaN bounds") << 0.5 << Buckets{{kNaN, 1}} << kNaN;
    }

    void matchesPromQl()
    {
        QFETCH(double, q);
        QFETCH(Buckets, buckets);
        QFETCH(double, expected);
        const double actual = sluice::metrics::histogramQuantile(q, buckets);
        if (std::isnan(expected))
            QVERIFY2(std::isnan(actual), qPrintable(QString::number(actual)));
        else
            QCOMPARE(actual, expected);
    }
};

QTEST_APPLESS_MAIN(TestMetricHistogramQuantile)
#include "tst_metrichistogramquantile.moc"
