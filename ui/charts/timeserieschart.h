#pragma once

#include <QChartView>
#include <QHash>
#include <QPointer>
#include <QString>

#include <functional>
#include <optional>
#include <vector>

#include "models/timeseriesbuffer.h"
#include "models/timeseriesset.h"

class QDateTimeAxis;
class QGraphicsLineItem;
class QGraphicsRectItem;
class QLineSeries;
class QValueAxis;

namespace sluice::ui {

class ChartFrameClock;

// A time range in milliseconds since the Unix epoch (UTC), both ends included.
struct TimeRangeMs {
    qint64 fromMs = 0;
    qint64 toMs = 0;
    friend bool operator==(const TimeRangeMs &, const TimeRangeMs &) = default;
};

// A line chart over a models::TimeSeriesSet: one line per series (in the set's order),
// a QDateTimeAxis for time and a QValueAxis titled with the unit.
//
// Drawing: never the whole history. Each redraw takes the shown time range of every
// visible series through TimeSeriesBuffer::downsample() with one bucket per
// kPixelsPerBucket pixels of plot width (min and max per bucket, so spikes survive) and
// hands the result to QXYSeries::replace(). Gaps (NaN samples) are left out
// of the line. Antialiasing is switched off while a line is that dense (min/max columns
// look the same without it, at a third less paint time) and on for sparse lines.
//
// Updates are coalesced: whoever appends to the set calls markDirty() (the set itself
// emits nothing per sample); the chart then asks its ChartFrameClock for a frame and
// redraws at most once per frame, and only while visible — a hidden chart redraws when
// it is shown again. The view owns no timer.
//
// Shown range: by default it follows the newest sample, showing spanMs() back from it;
// a drag across the plot zooms to the dragged time range (isZoomed()), a double-click or
// resetZoom() returns to following. Moving the mouse over the plot shows a crosshair and
// a tooltip with the time and each visible series' value there (valueTextAt()). Clicking
// a legend marker toggles the series (TimeSeriesSet::setVisible); a hidden series keeps
// its dimmed legend entry so it can be shown again. The context menu offers reset zoom,
// PNG and CSV export; the file dialog lives only in those actions — exportPng() and
// exportCsv() take a path.
//
// Theme: setDark() picks QChart::ChartThemeDark / ChartThemeLight (connect
// Theme::darkChanged to it).
//
// `set` and `clock` are not owned; `set` must outlive the chart. `clock` may be nullptr:
// the redraw then runs once per event-loop turn, queued. Thread affinity: GUI thread.
class TimeSeriesChart : public QChartView {
    Q_OBJECT
public:
    static constexpr qint64 defaultSpanMs = 15 * 60 * 1000;

    TimeSeriesChart(models::TimeSeriesSet *set, ChartFrameClock *clock, QWidget *parent = nullptr);
    ~TimeSeriesChart() override;

    models::TimeSeriesSet *seriesSet() const { return m_set; }

    void setTitle(const QString &title);
    QString title() const;
    // The value axis title, e.g. "req/s", "ms", "%"; also shown in the crosshair tooltip.
    void setValueUnit(const QString &unit);
    QString valueUnit() const { return m_unit; }

    // How much history the live (not zoomed) view shows, back from the newest sample.
    void setSpanMs(qint64 spanMs);
    qint64 spanMs() const { return m_spanMs; }

    void zoomToTimeRange(qint64 fromMs, qint64 toMs);
    void resetZoom();
    bool isZoomed() const { return m_zoomed; }
    // The time range the next redraw shows.
    TimeRangeMs shownRange() const;

    // The data changed: redraw at the next frame (coalesced; see the class comment).
    void markDirty();
    bool isDirty() const { return m_dirty; }
    // Redraws now, visible or not (ChartFrameClock calls it; tests and benchmarks may).
    void redrawNow();
    int redrawCount() const { return m_redrawCount; }

    // The plot area's width in pixels (at least 1).
    int plotWidthPixels() const;
    // The downsampling's bucket count: one bucket per kPixelsPerBucket pixels, each drawn
    // as its minimum and maximum, so a dense line has one point per 2 pixels of plot width
    // (a min/max column per bucket looks like the full data; fewer points keep a live
    // frame of 8 day-long charts within 16 ms).
    static constexpr int kPixelsPerBucket = 4;
    int bucketCount() const;
    // The chart line of series `name`, nullptr when there is none.
    QLineSeries *lineSeries(const QString &name) const;
    // Points drawn for series `name` at the last redraw (0 for a hidden series).
    qsizetype drawnPointCount(const QString &name) const;

    // What the crosshair tooltip says at `timeMs`: the time, then one line per visible
    // series, "name: value unit" of its sample nearest to that time ("–" without one).
    QString valueTextAt(qint64 timeMs) const;

    // What a legend click does: toggles the series' visibility in the set.
    void toggleSeries(const QString &name);

    // The chart as it is drawn now (QWidget::grab), as PNG. false if it cannot be written.
    bool exportPng(const QString &path);
    // TimeSeriesSet::toCsv over shownRange(), visible series only. false if it cannot be
    // written.
    bool exportCsv(const QString &path) const;

public slots:
    void setDark(bool dark);

signals:
    void zoomChanged(bool zoomed);
    // After every redraw.
    void redrawn();

protected:
    void showEvent(QShowEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;
    void mouseReleaseEvent(QMouseEvent *event) override;
    void mouseDoubleClickEvent(QMouseEvent *event) override;
    void leaveEvent(QEvent *event) override;
    void contextMenuEvent(QContextMenuEvent *event) override;

private:
    void addLine(const QString &name);
    void removeLine(const QString &name);
    void styleMarker(const QString &name);
    static void stylePen(QLineSeries *line);
    qint64 newestTimeMs() const;
    // The time at a viewport x coordinate, nullopt outside the plot area.
    std::optional<qint64> timeAtViewportX(qreal x) const;
    qreal viewportXOfTime(qint64 timeMs) const;
    void hideCrosshair();
    // A window-modal save dialog (open(), no nested loop); `write` gets the chosen path.
    void askForPath(const QString &caption, const QString &suffix, const QString &filter,
                    std::function<bool(const QString &)> write);

    QPointer<models::TimeSeriesSet> m_set;
    QPointer<ChartFrameClock> m_clock;
    QDateTimeAxis *m_timeAxis = nullptr;
    QValueAxis *m_valueAxis = nullptr;
    QHash<QString, QLineSeries *> m_lines;
    QHash<QString, qsizetype> m_drawnCounts;
    std::vector<models::TimePoint> m_scratch;
    QList<QList<QPointF>> m_nextPoints; // per line, in m_lines' order, reused

    QString m_unit;
    qint64 m_spanMs = defaultSpanMs;
    TimeRangeMs m_zoomRange;
    bool m_zoomed = false;
    bool m_dirty = false;
    bool m_queuedRedraw = false;
    bool m_dark = false;
    int m_redrawCount = 0;

    QGraphicsLineItem *m_crosshair = nullptr;
    QGraphicsRectItem *m_rubberBand = nullptr;
    std::optional<qreal> m_dragStartX;
};

} // namespace sluice::ui
