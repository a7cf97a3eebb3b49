#pragma once

#include <QList>
#include <QObject>
#include <QPointer>
#include <QTimer>

namespace sluice::ui {

class TimeSeriesChart;

// The one timer behind a group of TimeSeriesCharts (a panel's, a benchmark's): charts
// whose data changed ask for a frame, and at the next frame tick every one of them that
// is visible redraws once, however many samples arrived meanwhile. The timer is
// single-shot and only armed while a frame is pending, so an idle or hidden dashboard
// costs no wake-ups. A chart that is hidden at the tick stays dirty and asks again when
// it is shown (TimeSeriesChart::showEvent).
//
// Frame interval: the primary screen's refresh interval (16 ms at 60 Hz), at least 4 ms.
// Does not own the charts (a destroyed chart is dropped). Thread affinity: GUI thread.
class ChartFrameClock : public QObject {
    Q_OBJECT
public:
    explicit ChartFrameClock(QObject *parent = nullptr);

    int frameIntervalMs() const { return m_timer.interval(); }
    void setFrameIntervalMs(int intervalMs);

    // Asks for `chart` to be redrawn at the next tick; repeats before the tick are free.
    void requestFrame(TimeSeriesChart *chart);
    bool isFramePending() const { return m_timer.isActive(); }
    // Redraws every pending visible chart now (what the tick does); returns how many.
    int drawPendingNow();

signals:
    // After each tick that drew something: how many charts it redrew.
    void frameDrawn(int chartCount);

private:
    QTimer m_timer;
    QList<QPointer<TimeSeriesChart>> m_pending;
};

} // namespace sluice::ui
