// The Dashboard with a Prometheus URL: range queries against a real Prometheus that
// scrapes a real gateway, instead of scraping the gateway itself.

#include <QSignalSpy>
#include <QTest>

#include "activedeployment.h"
#include "dashboard/dashboardcontroller.h"
#include "gatewayharness.h"
#include "prometheusfixture.h"

using namespace sluice;
using namespace sluice::ui;

namespace {

constexpr int kWaitMs = 60'000;

double largestValue(const models::TimeSeriesSet *set, const QString &name)
{
    const models::TimeSeriesBuffer *series = set->find(name);
    double largest = 0;
    for (qsizetype i = 0; series && i < series->size(); ++i) {
        if (!series->at(i).isGap())
            largest = std::max(largest, series->at(i).value);
    }
    return largest;
}

bool prometheusConnected(const DashboardController &controller)
{
    const auto statuses = controller.sourceStatuses();
    return std::any_of(statuses.begin(), statuses.end(), [](const SourceStatus &status) {
        return status.id == QLatin1String("prometheus") && status.state == SourceStatus::State::Connected;
    });
}

} // namespace

class TestDashboardPrometheus : public QObject {
    Q_OBJECT
private slots:
    void chartsComeFromRangeQueries();
};

void TestDashboardPrometheus::chartsComeFromRangeQueries()
{
    test::GatewayHarness harness;
    QVERIFY2(harness.startError.isEmpty(), qPrintable(harness.startError));
    test::PrometheusFixture prometheus({QStringLiteral("127.0.0.1:%1").arg(harness.port)});
    if (!prometheus.available())
        QSKIP(qPrintable(prometheus.unavailableReason()));
    QVERIFY2(prometheus.start(), qPrintable(prometheus.errorString()));
    QTRY_VERIFY_WITH_TIMEOUT(prometheus.healthyTargets() == 1, kWaitMs);

    // Traffic Prometheus will see, spread over several scrapes: a series that appears
    // already at its final value has no increase for rate() to see.
    const auto sendChats = [&harness](int count, const QString &tag) {
        for (int i = 0; i < count; ++i) {
            const auto answer = test::exchange(
                harness.port, "POST", "/v1/chat/completions",
                test::chatBody(QStringLiteral("gpt-4o-mini"), QStringLiteral("%1 %2").arg(tag).arg(i)), test::bearer());
            if (answer.status != 200)
                return false;
            QTest::qWait(100);
        }
        return true;
    };
    QVERIFY(sendChats(5, QStringLiteral("first")));
    QTest::qWait(2500);
    QVERIFY(sendChats(30, QStringLiteral("then")));

    ActiveDeployment deployment;
    deployment.name = QStringLiteral("with prometheus");
    deployment.adminUrls = {QUrl(QStringLiteral("http://127.0.0.1:%1").arg(harness.adminPort))};
    deployment.adminToken = harness.adminToken;
    deployment.prometheusUrl = QUrl(prometheus.baseUrl());
    deployment.refreshIntervalSeconds = 1;
    DashboardController controller;
    controller.setTimeRange(DashboardRange::Minutes5);
    controller.setDeployment(deployment);
    QCOMPARE(controller.sourceKind(), DashboardController::SourceKind::Prometheus);

    QTRY_VERIFY_WITH_TIMEOUT(prometheusConnected(controller), kWaitMs);
    // The request-rate chart holds Prometheus' rate of the 2xx answers (> 0 once two
    // scrapes bracket the traffic), and the instance table has the scraped gateway.
    QTRY_VERIFY_WITH_TIMEOUT(largestValue(controller.series(DashboardChart::Requests), QStringLiteral("2xx")) > 0,
                             kWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(controller.instanceModel()->rowCount() >= 1, kWaitMs);

    // Prometheus goes away: the source says so.
    prometheus.stop();
    QTRY_VERIFY_WITH_TIMEOUT(!prometheusConnected(controller), kWaitMs);
}

QTEST_MAIN(TestDashboardPrometheus)
#include "tst_dashboardprometheus.moc"
