#include "charts/chartframeclock.h"
#include "charts/timeserieschart.h"
#include "dashboard/dashboardcontroller.h"
#include "panels/dashboardpanel.h"
#include "panels/emptystate.h"

#include "gatewayharness.h"

#include <QAbstractButton>
#include <QApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QLabel>
#include <QLineSeries>
#include <QSignalSpy>
#include <QTableView>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <memory>

using namespace sluice;
using namespace sluice::ui;

namespace {

constexpr qint64 kDayStartMs = 1'700'000'000'000;

ActiveDeployment deploymentOf(const test::GatewayHarness &harness, int refreshSeconds = 1)
{
    ActiveDeployment deployment;
    deployment.name = QStringLiteral("test");
    deployment.environmentLabel = QStringLiteral("test");
    deployment.adminUrls = {QUrl(QStringLiteral("http://127.0.0.1:%1").arg(harness.adminPort))};
    deployment.adminToken = harness.adminToken;
    deployment.refreshIntervalSeconds = refreshSeconds;
    return deployment;
}

int sendChats(const test::GatewayHarness &harness, int count, const QString &tag)
{
    int answered = 0;
    for (int i = 0; i < count; ++i) {
        const auto response = test::exchange(
            harness.port, "POST", "/v1/chat/completions",
            test::chatBody(QStringLiteral("gpt-4o-mini"), QStringLiteral("%1 question %2").arg(tag).arg(i)),
            test::bearer());
        if (response.status != 0)
            ++answered;
    }
    return answered;
}

SourceStatus::State lastState(const QSignalSpy &spy)
{
    return spy.isEmpty() ? SourceStatus::State::Connecting
                         : spy.last().at(0).value<SourceStatus>().state;
}

qsizetype pointsIn(const models::TimeSeriesSet *set)
{
    qsizetype total = 0;
    for (const QString &name : set->names())
        total += set->find(name)->size();
    return total;
}

} // namespace

class TestDashboard : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();

    // TimeSeriesChart
    void chartDownsamplesToPlotWidth_data();
    void chartDownsamplesToPlotWidth();
    void chartCoalescesRedrawsAndSkipsHidden();
    void chartLegendToggleAndCrosshair();
    void chartZoomAndReset();
    void chartExportsCsvOfShownRangeAndPng();

    // DashboardController
    void controllerCountsServedRequests();
    void controllerStopsPollingWhilePausedOrHidden();
    void controllerReportsUnreachableSource();
    void controllerRaisesAlerts();

    // DashboardPanel
    void panelWithoutDeploymentIsEmpty();
    void panelShowsLiveGatewayAndRecovers();

private:
    static void fillDay(models::TimeSeriesSet &set, const QString &name, qsizetype points);
};

void TestDashboard::initTestCase()
{
    qRegisterMetaType<SourceStatus>();
    qRegisterMetaType<models::AlertTransition>();
}

void TestDashboard::fillDay(models::TimeSeriesSet &set, const QString &name, qsizetype points)
{
    models::TimeSeriesBuffer &buffer = set.series(name);
    for (qsizetype i = 0; i < points; ++i)
        buffer.append(kDayStartMs + i * 1000, std::sin(double(i) / 300.0) * 50 + 60 + (i % 977 == 0 ? 400 : 0));
}

void TestDashboard::chartDownsamplesToPlotWidth_data()
{
    QTest::addColumn<int>("widgetWidth");
    QTest::addColumn<qint64>("spanMs");
    QTest::newRow("narrow, whole day") << 400 << qint64(24) * 3600 * 1000;
    QTest::newRow("wide, whole day") << 1200 << qint64(24) * 3600 * 1000;
    QTest::newRow("wide, one hour") << 1200 << qint64(3600) * 1000;
}

void TestDashboard::chartDownsamplesToPlotWidth()
{
    QFETCH(int, widgetWidth);
    QFETCH(qint64, spanMs);
    models::TimeSeriesSet set;
    fillDay(set, QStringLiteral("a"), 86'400);
    fillDay(set, QStringLiteral("b"), 86'400);
    TimeSeriesChart chart(&set, nullptr);
    chart.setSpanMs(spanMs);
    chart.resize(widgetWidth, 300);
    chart.show();
    QVERIFY(QTest::qWaitForWindowExposed(&chart));
    chart.redrawNow();
    const int width = chart.plotWidthPixels();
    QVERIFY2(width > 50 && width < widgetWidth, qPrintable(QString::number(width)));
    for (const QString &name : {QStringLiteral("a"), QStringLiteral("b")}) {
        const qsizetype drawn = chart.drawnPointCount(name);
        QVERIFY2(drawn > width / 4, qPrintable(QString::number(drawn)));
        QVERIFY2(drawn <= width, qPrintable(QStringLiteral("%1 > %2").arg(drawn).arg(width)));
        QCOMPARE(chart.bucketCount(), width / TimeSeriesChart::kPixelsPerBucket);
        QCOMPARE(chart.lineSeries(name)->count(), drawn);
    }
    // Dense min/max columns are drawn without antialiasing.
    QVERIFY(!chart.renderHints().testFlag(QPainter::Antialiasing));
    // The shown range follows the newest sample.
    const TimeRangeMs range = chart.shownRange();
    QCOMPARE(range.toMs, kDayStartMs + 86'399 * 1000);
    QCOMPARE(range.toMs - range.fromMs, spanMs);
    // The min/max reduction keeps the 400-high spikes that fall in the shown range.
    const auto points = chart.lineSeries(QStringLiteral("a"))->points();
    double highest = 0;
    for (const QPointF &point : points)
        highest = std::max(highest, point.y());
    QVERIFY2(highest > 400, qPrintable(QString::number(highest)));
}

void TestDashboard::chartCoalescesRedrawsAndSkipsHidden()
{
    models::TimeSeriesSet set;
    ChartFrameClock clock;
    TimeSeriesChart chart(&set, &clock);
    // Wide enough that 201 samples are drawn as they are, not downsampled.
    chart.resize(1200, 300);
    chart.show();
    QVERIFY(QTest::qWaitForWindowExposed(&chart));
    QTRY_VERIFY(!chart.isDirty());
    QVERIFY(2 * chart.bucketCount() >= 201);
    const int before = chart.redrawCount();

    for (int i = 0; i < 200; ++i) {
        set.append(QStringLiteral("x"), kDayStartMs + i * 1000, i);
        chart.markDirty();
    }
    QVERIFY(clock.isFramePending());
    QCOMPARE(chart.redrawCount(), before);
    QTRY_VERIFY(!chart.isDirty());
    QCOMPARE(chart.redrawCount(), before + 1);
    QCOMPARE(chart.drawnPointCount(QStringLiteral("x")), 200);
    QVERIFY(!clock.isFramePending());

    // Hidden: the tick draws nothing and the clock goes idle; showing it draws once.
    chart.hide();
    set.append(QStringLiteral("x"), kDayStartMs + 500 * 1000, 1);
    chart.markDirty();
    QCOMPARE(clock.drawPendingNow(), 0);
    QVERIFY(chart.isDirty());
    QVERIFY(!clock.isFramePending());
    QCOMPARE(chart.redrawCount(), before + 1);
    chart.show();
    QTRY_VERIFY(!chart.isDirty());
    QCOMPARE(chart.redrawCount(), before + 2);
    QCOMPARE(chart.drawnPointCount(QStringLiteral("x")), 201);
}

void TestDashboard::chartLegendToggleAndCrosshair()
{
    models::TimeSeriesSet set;
    set.append(QStringLiteral("p50"), kDayStartMs, 10);
    set.append(QStringLiteral("p50"), kDayStartMs + 1000, 12);
    set.append(QStringLiteral("p95"), kDayStartMs, 40);
    set.append(QStringLiteral("p95"), kDayStartMs + 1000, 45.5);
    TimeSeriesChart chart(&set, nullptr);
    chart.setValueUnit(QStringLiteral("ms"));
    chart.resize(500, 300);
    chart.show();
    QVERIFY(QTest::qWaitForWindowExposed(&chart));
    chart.redrawNow();
    QCOMPARE(chart.drawnPointCount(QStringLiteral("p95")), 2);
    QVERIFY(chart.renderHints().testFlag(QPainter::Antialiasing)); // sparse lines keep it

    const QString text = chart.valueTextAt(kDayStartMs + 900);
    QVERIFY2(text.contains(QStringLiteral("p50: 12 ms")), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("p95: 45.5 ms")), qPrintable(text));

    chart.toggleSeries(QStringLiteral("p95"));
    QVERIFY(!set.isVisible(QStringLiteral("p95")));
    chart.redrawNow();
    QCOMPARE(chart.drawnPointCount(QStringLiteral("p95")), 0);
    QCOMPARE(chart.drawnPointCount(QStringLiteral("p50")), 2);
    // The hidden series keeps its legend entry (so it can be clicked back on).
    QVERIFY(chart.lineSeries(QStringLiteral("p95")));
    QVERIFY(!chart.valueTextAt(kDayStartMs).contains(QStringLiteral("p95")));
    chart.toggleSeries(QStringLiteral("p95"));
    chart.redrawNow();
    QCOMPARE(chart.drawnPointCount(QStringLiteral("p95")), 2);
}

void TestDashboard::chartZoomAndReset()
{
    models::TimeSeriesSet set;
    fillDay(set, QStringLiteral("v"), 3600);
    TimeSeriesChart chart(&set, nullptr);
    chart.setSpanMs(3600 * 1000);
    chart.resize(700, 300);
    chart.show();
    QVERIFY(QTest::qWaitForWindowExposed(&chart));
    chart.redrawNow();
    QSignalSpy zoomSpy(&chart, &TimeSeriesChart::zoomChanged);

    // A drag across the middle of the plot zooms to that part of the time axis.
    const QRectF plot = chart.chart()->plotArea();
    const QPoint from = chart.mapFromScene(chart.chart()->mapToScene(QPointF(plot.left() + plot.width() * 0.25, plot.center().y())));
    const QPoint to = chart.mapFromScene(chart.chart()->mapToScene(QPointF(plot.left() + plot.width() * 0.5, plot.center().y())));
    QTest::mousePress(chart.viewport(), Qt::LeftButton, {}, from);
    QTest::mouseMove(chart.viewport(), to);
    QTest::mouseRelease(chart.viewport(), Qt::LeftButton, {}, to);
    QVERIFY(chart.isZoomed());
    QCOMPARE(zoomSpy.count(), 1);
    const TimeRangeMs full{kDayStartMs + 3599 * 1000 - 3600 * 1000, kDayStartMs + 3599 * 1000};
    const TimeRangeMs zoomed = chart.shownRange();
    const double span = double(full.toMs - full.fromMs);
    QVERIFY2(std::abs(double(zoomed.fromMs - full.fromMs) / span - 0.25) < 0.02, qPrintable(QString::number(zoomed.fromMs)));
    QVERIFY2(std::abs(double(zoomed.toMs - full.fromMs) / span - 0.5) < 0.02, qPrintable(QString::number(zoomed.toMs)));
    chart.redrawNow();
    QVERIFY(chart.drawnPointCount(QStringLiteral("v")) <= chart.plotWidthPixels());

    QTest::mouseDClick(chart.viewport(), Qt::LeftButton, {}, from);
    QVERIFY(!chart.isZoomed());
    QCOMPARE(chart.shownRange(), full);
    QCOMPARE(zoomSpy.count(), 2);
}

void TestDashboard::chartExportsCsvOfShownRangeAndPng()
{
    models::TimeSeriesSet set;
    for (int i = 0; i < 120; ++i) {
        set.append(QStringLiteral("rps"), kDayStartMs + i * 1000, i * 0.5);
        set.append(QStringLiteral("hidden"), kDayStartMs + i * 1000, 1);
    }
    set.setVisible(QStringLiteral("hidden"), false);
    TimeSeriesChart chart(&set, nullptr);
    chart.setTitle(QStringLiteral("Requests"));
    chart.resize(500, 300);
    chart.show();
    QVERIFY(QTest::qWaitForWindowExposed(&chart));
    chart.zoomToTimeRange(kDayStartMs + 10'000, kDayStartMs + 19'000);

    QTemporaryDir directory;
    QVERIFY(directory.isValid());
    const QString csvPath = directory.filePath(QStringLiteral("chart.csv"));
    QVERIFY(chart.exportCsv(csvPath));
    QFile csv(csvPath);
    QVERIFY(csv.open(QIODevice::ReadOnly));
    const QByteArray text = csv.readAll();
    QCOMPARE(text, set.toCsv(kDayStartMs + 10'000, kDayStartMs + 19'000, models::TimeSeriesSet::CsvColumns::VisibleOnly));
    const QList<QByteArray> lines = text.split('\n');
    QCOMPARE(lines.first().trimmed(), QByteArray("time,rps"));
    QCOMPARE(lines.count(QByteArray()), 1); // the final line end
    QCOMPARE(lines.size(), 1 + 10 + 1);
    QVERIFY(lines.at(1).endsWith(",5\r"));

    const QString pngPath = directory.filePath(QStringLiteral("chart.png"));
    QVERIFY(chart.exportPng(pngPath));
    const QImage image(pngPath);
    QVERIFY(!image.isNull());
    QCOMPARE(image.size(), chart.size() * chart.devicePixelRatio());
    QVERIFY(!chart.exportCsv(directory.filePath(QStringLiteral("missing/dir/chart.csv"))));
}

void TestDashboard::controllerCountsServedRequests()
{
    test::GatewayHarness harness;
    QVERIFY2(harness.startError.isEmpty(), qPrintable(harness.startError));
    DashboardController controller;
    QSignalSpy statusSpy(&controller, &DashboardController::sourceStatusChanged);
    QSignalSpy updatedSpy(&controller, &DashboardController::updatedAtChanged);
    controller.setDeployment(deploymentOf(harness));
    QCOMPARE(controller.sourceKind(), DashboardController::SourceKind::Scrape);
    QVERIFY(controller.isPolling());
    QCOMPARE(controller.sourceStatuses().size(), 1);
    QCOMPARE(controller.sourceStatuses().first().id, QStringLiteral("admin:127.0.0.1:%1").arg(harness.adminPort));

    // The first scrape is the baseline; requests after it are what the frames count.
    QTRY_COMPARE_WITH_TIMEOUT(lastState(statusSpy), SourceStatus::State::Connected, 10000);
    QVERIFY(!updatedSpy.isEmpty());
    QCOMPARE(controller.requestsCounted(), 0.0);
    QCOMPARE(sendChats(harness, 30, QStringLiteral("count")), 30);
    QTRY_VERIFY_WITH_TIMEOUT(std::abs(controller.requestsCounted() - 30.0) < 1e-6, 15000);
    // And it stays there: nothing else is counted as a client request.
    QTest::qWait(1500);
    QVERIFY2(std::abs(controller.requestsCounted() - 30.0) < 1e-6, qPrintable(QString::number(controller.requestsCounted())));

    // The instance table shows the gateway under its own id.
    QTRY_VERIFY_WITH_TIMEOUT(controller.instanceModel()->rowOf(harness.gw->instanceId()) >= 0, 10000);
    const int row = controller.instanceModel()->rowOf(harness.gw->instanceId());
    const models::InstanceRow &instance = controller.instanceModel()->instances().at(std::size_t(row));
    QVERIFY(!instance.version.isEmpty());
    QVERIFY(instance.configVersion > 0);
    QVERIFY(instance.uptimeSeconds >= 0);
    QCOMPARE(instance.state, models::InstanceState::Up);

    // Every chart set received points, and the request series saw the 2xx.
    const models::TimeSeriesSet *requests = controller.series(DashboardChart::Requests);
    QVERIFY(requests->contains(QStringLiteral("2xx")));
    QVERIFY(requests->contains(QStringLiteral("all")));
    double twoHundredsMax = 0;
    const models::TimeSeriesBuffer *twoHundreds = requests->find(QStringLiteral("2xx"));
    for (qsizetype i = 0; i < twoHundreds->size(); ++i)
        twoHundredsMax = std::max(twoHundredsMax, twoHundreds->at(i).value);
    QVERIFY(twoHundredsMax > 0);
    for (int chart = 0; chart < kDashboardChartCount; ++chart) {
        if (DashboardChart(chart) == DashboardChart::Quota)
            continue; // the simulator reports no quota headers by default
        QVERIFY2(pointsIn(controller.series(DashboardChart(chart))) > 0, qPrintable(dashboardChartTitle(DashboardChart(chart))));
    }
    QVERIFY(controller.lastFrame().has_value());
    QVERIFY(controller.figures().costUsdPerDay.has_value());
}

void TestDashboard::controllerStopsPollingWhilePausedOrHidden()
{
    test::GatewayHarness harness;
    QVERIFY2(harness.startError.isEmpty(), qPrintable(harness.startError));
    DashboardController controller;
    QSignalSpy pollingSpy(&controller, &DashboardController::pollingChanged);
    QSignalSpy updatedSpy(&controller, &DashboardController::updatedAtChanged);
    controller.setDeployment(deploymentOf(harness));
    QVERIFY(controller.isPolling());
    QTRY_VERIFY_WITH_TIMEOUT(updatedSpy.count() >= 1, 10000);

    controller.setPaused(true);
    QVERIFY(!controller.isPolling());
    QCOMPARE(pollingSpy.last().at(0).toBool(), false);
    QTest::qWait(300); // an answer in flight may still land
    const int whilePaused = updatedSpy.count();
    QTest::qWait(2500);
    QCOMPARE(updatedSpy.count(), whilePaused);

    // Refresh now fetches once even while paused.
    controller.refreshNow();
    QTRY_COMPARE_WITH_TIMEOUT(updatedSpy.count(), whilePaused + 1, 10000);

    controller.setPaused(false);
    controller.setLiveViewVisible(false);
    QVERIFY(!controller.isPolling());
    QTest::qWait(300);
    const int whileHidden = updatedSpy.count();
    QTest::qWait(2500);
    QCOMPARE(updatedSpy.count(), whileHidden);

    controller.setLiveViewVisible(true);
    QVERIFY(controller.isPolling());
    QTRY_VERIFY_WITH_TIMEOUT(updatedSpy.count() > whileHidden, 10000);
}

void TestDashboard::controllerReportsUnreachableSource()
{
    // A port nothing listens on: a precise error, never Connected.
    quint16 freePort = 0;
    {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        freePort = probe.serverPort();
    }
    ActiveDeployment deployment;
    deployment.name = QStringLiteral("nowhere");
    deployment.adminUrls = {QUrl(QStringLiteral("http://127.0.0.1:%1").arg(freePort))};
    deployment.refreshIntervalSeconds = 1;
    DashboardController controller;
    QSignalSpy statusSpy(&controller, &DashboardController::sourceStatusChanged);
    controller.setDeployment(deployment);
    QTRY_COMPARE_WITH_TIMEOUT(lastState(statusSpy), SourceStatus::State::Error, 10000);
    const SourceStatus status = statusSpy.last().at(0).value<SourceStatus>();
    QVERIFY2(status.detail.contains(QLatin1String("refused")), qPrintable(status.detail));
    QVERIFY(!controller.updatedAt().isValid());
    // The configured instance is listed, as down, under its address.
    QCOMPARE(controller.instanceModel()->rowCount(), 1);
    QCOMPARE(controller.instanceModel()->instances().front().id, QStringLiteral("127.0.0.1:%1").arg(freePort));
    QCOMPARE(controller.instanceModel()->instances().front().state, models::InstanceState::Down);

    controller.clearDeployment();
    QVERIFY(!controller.isPolling());
    QCOMPARE(lastState(statusSpy), SourceStatus::State::Disconnected);
    QVERIFY(controller.sourceStatuses().isEmpty());
}

void TestDashboard::controllerRaisesAlerts()
{
    test::GatewayHarness harness;
    QVERIFY2(harness.startError.isEmpty(), qPrintable(harness.startError));
    DashboardController controller;
    // Any served request makes p95 > 0: a rule that must fire at once.
    models::AlertRule rule;
    rule.name = QStringLiteral("any latency");
    rule.valueKey = QString::fromLatin1(models::kLatencyP95SecondsKey);
    rule.threshold = 0;
    QVERIFY(controller.alertRuleModel()->addRule(rule) >= 0);
    QCOMPARE(controller.alertEvaluator()->rules().size(), 4);
    QSignalSpy notifications(&controller, &DashboardController::alertNotification);
    QSignalSpy statusSpy(&controller, &DashboardController::sourceStatusChanged);
    controller.setDeployment(deploymentOf(harness));
    QTRY_COMPARE_WITH_TIMEOUT(lastState(statusSpy), SourceStatus::State::Connected, 10000);
    sendChats(harness, 3, QStringLiteral("alert"));
    QTRY_VERIFY_WITH_TIMEOUT(!notifications.isEmpty(), 15000);
    const auto transition = notifications.first().at(0).value<models::AlertTransition>();
    QCOMPARE(transition.rule.name, rule.name);
    QCOMPARE(transition.kind, models::AlertTransition::Kind::Firing);
    QCOMPARE(controller.alertRuleModel()->ruleState(rule.name), models::AlertState::Firing);
}

void TestDashboard::panelWithoutDeploymentIsEmpty()
{
    DashboardPanel panel;
    QCOMPARE(panel.objectName(), QStringLiteral("dashboardPanel"));
    QVERIFY(panel.emptyState());
    QVERIFY(panel.findChildren<QAbstractButton *>().isEmpty());
    QVERIFY(!panel.chart(DashboardChart::Requests));
    QVERIFY(!panel.hasDeployment());
}

void TestDashboard::panelShowsLiveGatewayAndRecovers()
{
    auto harness = std::make_unique<test::GatewayHarness>();
    QVERIFY2(harness->startError.isEmpty(), qPrintable(harness->startError));
    const quint16 adminPort = harness->adminPort;

    DashboardPanel panel;
    QSignalSpy statusSpy(&panel, &DashboardPanel::sourceStatusChanged);
    panel.resize(1200, 1700);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    panel.setDeployment(deploymentOf(*harness));
    QVERIFY(!panel.emptyState()->isVisible());
    QVERIFY(panel.chart(DashboardChart::Latency)->isVisible());
    QTRY_COMPARE_WITH_TIMEOUT(lastState(statusSpy), SourceStatus::State::Connected, 10000);

    const double before = panel.controller()->requestsCounted();
    QCOMPARE(sendChats(*harness, 30, QStringLiteral("panel")), 30);
    QTRY_VERIFY_WITH_TIMEOUT(std::abs(panel.controller()->requestsCounted() - before - 30.0) < 1e-6, 15000);

    // The charts drew what arrived.
    TimeSeriesChart *requests = panel.chart(DashboardChart::Requests);
    QTRY_VERIFY_WITH_TIMEOUT(requests->drawnPointCount(QStringLiteral("2xx")) > 0, 5000);
    QTRY_VERIFY(requests->drawnPointCount(QStringLiteral("all")) > 0);
    QVERIFY(panel.chart(DashboardChart::Latency)->drawnPointCount(QStringLiteral("p95")) > 0);
    QVERIFY(panel.updatedText().startsWith(QLatin1String("updated")));
    QVERIFY(!panel.isStale());

    // The instance table shows the gateway's own id.
    QTableView *table = panel.instanceTable();
    QTRY_VERIFY_WITH_TIMEOUT(panel.controller()->instanceModel()->rowOf(harness->gw->instanceId()) >= 0, 10000);
    QCOMPARE(table->model()->index(0, models::InstanceTableModel::IdColumn).data().toString(), harness->gw->instanceId());
    QVERIFY(!panel.findChild<QLabel *>(QStringLiteral("costProjectionLabel"))->text().contains(QStringLiteral("–/day")));

    // Screenshot for the artifacts.
    const QString directory = QStringLiteral(SLUICE_TEST_ARTIFACTS_DIR);
    QVERIFY(QDir().mkpath(directory));
    const QString path = QDir(directory).filePath(QStringLiteral("dashboard.png"));
    QFile::remove(path);
    QTRY_VERIFY_WITH_TIMEOUT(panel.controller()->frameCount() >= 4, 10000);
    // A few seconds of data on the default 15-minute axis would be a sliver at its right
    // edge: show the last 20 s so the picture says something.
    for (int chart = 0; chart < kDashboardChartCount; ++chart)
        panel.chart(DashboardChart(chart))->setSpanMs(20'000);
    panel.frameClock()->drawPendingNow();
    QCoreApplication::processEvents();
    QVERIFY(panel.grab().save(path));
    QVERIFY(QFileInfo(path).size() > 0);

    // The source dies: disconnected, the rows go down and the stale marker follows.
    const QString instanceId = harness->gw->instanceId();
    harness.reset();
    QTRY_VERIFY_WITH_TIMEOUT(lastState(statusSpy) == SourceStatus::State::Disconnected, 10000);
    const SourceStatus down = statusSpy.last().at(0).value<SourceStatus>();
    QVERIFY2(down.detail.contains(QLatin1String("retrying")), qPrintable(down.detail));
    QTRY_COMPARE_WITH_TIMEOUT(panel.controller()->instanceModel()->instances().front().state,
                              models::InstanceState::Down, 5000);
    QTRY_VERIFY_WITH_TIMEOUT(panel.isStale(), 10000);
    QVERIFY(panel.updatedText().contains(QLatin1String("STALE")));

    // A gateway on the same admin port: the next poll reconnects by itself.
    harness = std::make_unique<test::GatewayHarness>([adminPort](config::GatewayConfig &config) {
        config.admin.port = adminPort;
    });
    if (!harness->startError.isEmpty()) {
        // The port was taken meanwhile: point the panel at the new gateway instead.
        qInfo("admin port %u was taken (%s); using a new deployment", unsigned(adminPort), qPrintable(harness->startError));
        harness = std::make_unique<test::GatewayHarness>();
        QVERIFY2(harness->startError.isEmpty(), qPrintable(harness->startError));
        panel.setDeployment(deploymentOf(*harness));
    }
    QTRY_COMPARE_WITH_TIMEOUT(lastState(statusSpy), SourceStatus::State::Connected, 15000);
    QTRY_VERIFY_WITH_TIMEOUT(panel.controller()->instanceModel()->rowOf(harness->gw->instanceId()) >= 0, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(!panel.isStale(), 5000);
    QVERIFY(harness->gw->instanceId() != instanceId);

    panel.clearDeployment();
    QVERIFY(panel.emptyState()->isVisible());
    QVERIFY(!panel.controller()->isPolling());
}

QTEST_MAIN(TestDashboard)
#include "tst_dashboard.moc"
