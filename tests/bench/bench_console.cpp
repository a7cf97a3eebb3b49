// The console's charts with long histories (issue: console): 8 TimeSeriesCharts, each
// over 24 h of 1-second samples, drawn on the offscreen platform.
//
//  BM_LiveFrame/<series per chart>   one "second" of live data: append a sample to every
//                                    series, mark the charts dirty, let the frame clock
//                                    redraw (downsample + QXYSeries::replace) and paint
//                                    the window synchronously. Time per iteration = frame.
//  BM_Idle                           no new data for SLUICE_BENCH_IDLE_SECONDS (default 5)
//                                    with the window shown: CPU share (getrusage).
//  BM_HiddenWhileDataArrives         the window hidden, one sample per chart per second
//                                    arriving as while live: CPU share, redraws (0).
// Every case also reports the resident set size (/proc/self/statm) as rss_MB.
#include <benchmark/benchmark.h>

#include "charts/chartframeclock.h"
#include "charts/timeserieschart.h"
#include "models/timeseriesset.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QGridLayout>
#include <QTimer>
#include <QWidget>

#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <memory>

using namespace sluice;

namespace {

constexpr int kCharts = 8;
constexpr qint64 kDaySamples = 86'400;
constexpr qint64 kStartMs = 1'700'000'000'000;

double residentMegabytes()
{
    long pages = 0;
    long resident = 0;
    if (FILE *statm = std::fopen("/proc/self/statm", "r")) {
        if (std::fscanf(statm, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        std::fclose(statm);
    }
    return double(resident) * double(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

double cpuSeconds()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

int idleSeconds()
{
    bool ok = false;
    const int seconds = qEnvironmentVariableIntValue("SLUICE_BENCH_IDLE_SECONDS", &ok);
    return ok && seconds > 0 ? seconds : 5;
}

// Runs the event loop for `ms` (a benchmark program, not library code).
void spin(int ms)
{
    QEventLoop loop;
    QTimer::singleShot(ms, &loop, &QEventLoop::quit);
    loop.exec();
}

// Eight charts in a window, as on the Dashboard, each set holding `seriesPerChart`
// series of a full day.
class Console {
public:
    explicit Console(int seriesPerChart) : m_seriesPerChart(seriesPerChart)
    {
        m_window.resize(1600, 1000);
        auto *grid = new QGridLayout(&m_window);
        for (int chart = 0; chart < kCharts; ++chart) {
            m_sets[std::size_t(chart)] = std::make_unique<models::TimeSeriesSet>();
            models::TimeSeriesSet &set = *m_sets[std::size_t(chart)];
            for (int series = 0; series < seriesPerChart; ++series) {
                models::TimeSeriesBuffer &buffer = set.series(QStringLiteral("series %1").arg(series));
                for (qint64 i = 0; i < kDaySamples; ++i)
                    buffer.append(kStartMs + i * 1000, value(chart, series, i));
            }
            auto *widget = new ui::TimeSeriesChart(&set, &m_clock, &m_window);
            widget->setTitle(QStringLiteral("chart %1").arg(chart));
            widget->setValueUnit(QStringLiteral("req/s"));
            widget->setSpanMs(kDaySamples * 1000);
            m_charts[std::size_t(chart)] = widget;
            grid->addWidget(widget, chart / 2, chart % 2);
        }
        m_nextSample = kDaySamples;
        m_window.show();
        spin(200);
        m_clock.drawPendingNow();
    }

    static double value(int chart, int series, qint64 i)
    {
        return 50 + 40 * std::sin(double(i) / (200.0 + chart * 30 + series * 7)) + double((i * 7919) % 13);
    }

    // One second of live data: a sample per series (the oldest is evicted).
    void appendSecond()
    {
        const qint64 i = m_nextSample++;
        for (int chart = 0; chart < kCharts; ++chart) {
            models::TimeSeriesSet &set = *m_sets[std::size_t(chart)];
            for (int series = 0; series < m_seriesPerChart; ++series)
                set.append(QStringLiteral("series %1").arg(series), kStartMs + i * 1000, value(chart, series, i));
            m_charts[std::size_t(chart)]->markDirty();
        }
    }

    int totalRedraws() const
    {
        int total = 0;
        for (const ui::TimeSeriesChart *chart : m_charts)
            total += chart->redrawCount();
        return total;
    }

    QWidget m_window;
    ui::ChartFrameClock m_clock;
    std::array<std::unique_ptr<models::TimeSeriesSet>, kCharts> m_sets;
    std::array<ui::TimeSeriesChart *, kCharts> m_charts{};
    int m_seriesPerChart;
    qint64 m_nextSample = 0;
};

void BM_LiveFrame(benchmark::State &state)
{
    Console console(int(state.range(0)));
    // SLUICE_BENCH_SCREENSHOT=path.png: what the frames look like (a PNG of the window).
    if (const QString shot = qEnvironmentVariable("SLUICE_BENCH_SCREENSHOT"); !shot.isEmpty())
        console.m_window.grab().save(shot);
    for (auto _ : state) {
        console.appendSecond();
        console.m_clock.drawPendingNow();
        // The scene tells its views about changed items by a queued signal: deliver it,
        // then paint every chart now.
        QCoreApplication::processEvents();
        console.m_window.repaint();
    }
    state.counters["rss_MB"] = residentMegabytes();
    state.counters["points_per_chart"] = double(kDaySamples * state.range(0));
    state.counters["drawn_points_chart0"] =
        double(console.m_charts[0]->drawnPointCount(QStringLiteral("series 0")));
}
BENCHMARK(BM_LiveFrame)->Arg(1)->Arg(4)->Unit(benchmark::kMillisecond)->UseRealTime();

// The data half of a frame alone: downsampling and QXYSeries::replace(), no painting.
void BM_LiveFrameDataOnly(benchmark::State &state)
{
    Console console(int(state.range(0)));
    for (auto _ : state) {
        console.appendSecond();
        console.m_clock.drawPendingNow();
    }
}
BENCHMARK(BM_LiveFrameDataOnly)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Idle(benchmark::State &state)
{
    Console console(1);
    for (auto _ : state) {
        const double cpuBefore = cpuSeconds();
        QElapsedTimer wall;
        wall.start();
        spin(idleSeconds() * 1000);
        state.counters["cpu_percent"] = 100.0 * (cpuSeconds() - cpuBefore) / (double(wall.elapsed()) / 1000.0);
    }
    state.counters["rss_MB"] = residentMegabytes();
}
BENCHMARK(BM_Idle)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_HiddenWhileDataArrives(benchmark::State &state)
{
    Console console(1);
    console.m_window.hide();
    for (auto _ : state) {
        const int redrawsBefore = console.totalRedraws();
        QTimer feed;
        QObject::connect(&feed, &QTimer::timeout, &feed, [&console] { console.appendSecond(); });
        feed.start(1000);
        const double cpuBefore = cpuSeconds();
        QElapsedTimer wall;
        wall.start();
        spin(idleSeconds() * 1000);
        state.counters["cpu_percent"] = 100.0 * (cpuSeconds() - cpuBefore) / (double(wall.elapsed()) / 1000.0);
        state.counters["redraws"] = double(console.totalRedraws() - redrawsBefore);
    }
    state.counters["rss_MB"] = residentMegabytes();
}
BENCHMARK(BM_HiddenWhileDataArrives)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

} // namespace

int main(int argc, char **argv)
{
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication application(argc, argv);
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
