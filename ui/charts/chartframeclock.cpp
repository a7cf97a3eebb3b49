#include "charts/chartframeclock.h"

#include "charts/timeserieschart.h"

#include <QGuiApplication>
#include <QScreen>

#include <algorithm>
#include <cmath>
#include <utility>

namespace sluice::ui {

ChartFrameClock::ChartFrameClock(QObject *parent) : QObject(parent)
{
    int intervalMs = 16;
    if (const QScreen *screen = QGuiApplication::primaryScreen(); screen && screen->refreshRate() > 1.0)
        intervalMs = int(std::lround(1000.0 / screen->refreshRate()));
    m_timer.setSingleShot(true);
    m_timer.setTimerType(Qt::PreciseTimer);
    setFrameIntervalMs(intervalMs);
    connect(&m_timer, &QTimer::timeout, this, [this] { drawPendingNow(); });
}

void ChartFrameClock::setFrameIntervalMs(int intervalMs)
{
    m_timer.setInterval(std::max(intervalMs, 4));
}

void ChartFrameClock::requestFrame(TimeSeriesChart *chart)
{
    if (!chart)
        return;
    const bool known = std::any_of(m_pending.cbegin(), m_pending.cend(),
                                   [chart](const QPointer<TimeSeriesChart> &pending) { return pending == chart; });
    if (!known)
        m_pending.append(chart);
    if (!m_timer.isActive())
        m_timer.start();
}

int ChartFrameClock::drawPendingNow()
{
    m_timer.stop();
    const QList<QPointer<TimeSeriesChart>> pending = std::exchange(m_pending, {});
    int drawn = 0;
    for (const QPointer<TimeSeriesChart> &chart : pending) {
        // A hidden chart keeps its dirty flag and asks again from showEvent().
        if (chart && chart->isVisible()) {
            chart->redrawNow();
            ++drawn;
        }
    }
    if (drawn > 0)
        emit frameDrawn(drawn);
    return drawn;
}

} // namespace sluice::ui
