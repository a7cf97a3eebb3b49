#include "charts/timeserieschart.h"

#include "charts/chartframeclock.h"
#include "models/timeseriesset.h"

#include <QChart>
#include <QContextMenuEvent>
#include <QCursor>
#include <QDateTime>
#include <QDateTimeAxis>
#include <QFile>
#include <QFileDialog>
#include <QGraphicsLineItem>
#include <QGraphicsRectItem>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QMenu>
#include <QMouseEvent>
#include <QSaveFile>
#include <QToolTip>
#include <QValueAxis>

#include <algorithm>
#include <cmath>
#include <limits>

namespace sluice::ui {

namespace {

constexpr qreal kMinimumDragPixels = 5;

QString axisFormatFor(qint64 spanMs)
{
    if (spanMs <= 2 * 3600 * 1000)
        return QStringLiteral("HH:mm:ss");
    if (spanMs <= 2 * 24 * 3600 * 1000LL)
        return QStringLiteral("HH:mm");
    return QStringLiteral("dd MMM HH:mm");
}

QString formatValue(double value)
{
    if (std::isnan(value))
        return QStringLiteral("–");
    return QString::number(value, 'g', 4);
}

} // namespace

TimeSeriesChart::TimeSeriesChart(models::TimeSeriesSet *set, ChartFrameClock *clock, QWidget *parent)
    : QChartView(new QChart, parent), m_set(set), m_clock(clock)
{
    setRenderHint(QPainter::Antialiasing, true);
    setRubberBand(QChartView::NoRubberBand);
    setMouseTracking(true);
    QChart *chart = this->chart();
    chart->setAnimationOptions(QChart::NoAnimation);
    chart->legend()->setAlignment(Qt::AlignBottom);
    chart->setMargins(QMargins(4, 4, 4, 4));

    m_timeAxis = new QDateTimeAxis;
    m_timeAxis->setTickCount(5);
    m_timeAxis->setFormat(axisFormatFor(m_spanMs));
    m_valueAxis = new QValueAxis;
    m_valueAxis->setLabelFormat(QStringLiteral("%.4g"));
    m_valueAxis->setRange(0, 1);
    chart->addAxis(m_timeAxis, Qt::AlignBottom);
    chart->addAxis(m_valueAxis, Qt::AlignLeft);
    // QtCharts lays out a QDateTimeAxis' ticks and labels only while some series is
    // attached to it; a chart whose first series arrives later would keep a bare time
    // axis. An empty series without a legend entry keeps the axes attached from the start.
    auto *anchor = new QLineSeries(this);
    chart->addSeries(anchor);
    anchor->attachAxis(m_timeAxis);
    anchor->attachAxis(m_valueAxis);
    for (QLegendMarker *marker : chart->legend()->markers(anchor))
        marker->setVisible(false);

    m_crosshair = new QGraphicsLineItem(chart);
    m_crosshair->setZValue(20);
    m_crosshair->hide();
    m_rubberBand = new QGraphicsRectItem(chart);
    m_rubberBand->setZValue(21);
    m_rubberBand->hide();
    setDark(false);

    if (m_set) {
        for (const QString &name : m_set->names())
            addLine(name);
        connect(m_set, &models::TimeSeriesSet::seriesAdded, this, [this](const QString &name) {
            addLine(name);
            markDirty();
        });
        connect(m_set, &models::TimeSeriesSet::seriesRemoved, this, [this](const QString &name) {
            removeLine(name);
            markDirty();
        });
        connect(m_set, &models::TimeSeriesSet::visibilityChanged, this, [this](const QString &name, bool) {
            styleMarker(name);
            markDirty();
        });
    }
    markDirty();
}

TimeSeriesChart::~TimeSeriesChart() = default;

void TimeSeriesChart::setTitle(const QString &title)
{
    chart()->setTitle(title);
}

QString TimeSeriesChart::title() const
{
    return chart()->title();
}

void TimeSeriesChart::setValueUnit(const QString &unit)
{
    m_unit = unit;
    m_valueAxis->setTitleText(unit);
}

void TimeSeriesChart::setSpanMs(qint64 spanMs)
{
    m_spanMs = std::max<qint64>(spanMs, 1000);
    markDirty();
}

void TimeSeriesChart::zoomToTimeRange(qint64 fromMs, qint64 toMs)
{
    if (toMs < fromMs)
        std::swap(fromMs, toMs);
    if (toMs == fromMs)
        return;
    m_zoomRange = {fromMs, toMs};
    const bool changed = !m_zoomed;
    m_zoomed = true;
    markDirty();
    if (changed)
        emit zoomChanged(true);
}

void TimeSeriesChart::resetZoom()
{
    if (!m_zoomed)
        return;
    m_zoomed = false;
    markDirty();
    emit zoomChanged(false);
}

TimeRangeMs TimeSeriesChart::shownRange() const
{
    if (m_zoomed)
        return m_zoomRange;
    const qint64 newest = newestTimeMs();
    return {newest - m_spanMs, newest};
}

qint64 TimeSeriesChart::newestTimeMs() const
{
    qint64 newest = std::numeric_limits<qint64>::min();
    if (m_set) {
        for (const QString &name : m_set->names()) {
            if (const auto *buffer = m_set->find(name); buffer && !buffer->isEmpty())
                newest = std::max(newest, buffer->at(buffer->size() - 1).timeMs);
        }
    }
    // Nothing yet: an empty axis ending now rather than at 1970.
    return newest == std::numeric_limits<qint64>::min() ? QDateTime::currentMSecsSinceEpoch() : newest;
}

void TimeSeriesChart::markDirty()
{
    m_dirty = true;
    if (m_clock) {
        m_clock->requestFrame(this);
        return;
    }
    if (m_queuedRedraw)
        return;
    m_queuedRedraw = true;
    QMetaObject::invokeMethod(
        this,
        [this] {
            m_queuedRedraw = false;
            if (m_dirty && isVisible())
                redrawNow();
        },
        Qt::QueuedConnection);
}

int TimeSeriesChart::plotWidthPixels() const
{
    const qreal plotWidth = chart()->plotArea().width();
    if (plotWidth >= 1)
        return int(plotWidth);
    // Not laid out yet: the widget's width is the best guess.
    return std::max(width() - 80, 1);
}

int TimeSeriesChart::bucketCount() const
{
    return std::max(plotWidthPixels() / kPixelsPerBucket, 1);
}

void TimeSeriesChart::redrawNow()
{
    m_dirty = false;
    ++m_redrawCount;
    const TimeRangeMs range = shownRange();
    const int buckets = bucketCount();
    double low = std::numeric_limits<double>::infinity();
    double high = -std::numeric_limits<double>::infinity();
    m_nextPoints.resize(m_lines.size());
    qsizetype slot = 0;
    for (auto it = m_lines.cbegin(); it != m_lines.cend(); ++it, ++slot) {
        const QString &name = it.key();
        QList<QPointF> &points = m_nextPoints[slot];
        points.clear();
        const models::TimeSeriesBuffer *buffer = m_set ? m_set->find(name) : nullptr;
        if (buffer && m_set->isVisible(name)) {
            buffer->downsample(range.fromMs, range.toMs, buckets, m_scratch);
            points.reserve(qsizetype(m_scratch.size()));
            for (const models::TimePoint &point : m_scratch) {
                if (point.isGap() || !std::isfinite(point.value))
                    continue;
                points.append(QPointF(double(point.timeMs), point.value));
                low = std::min(low, point.value);
                high = std::max(high, point.value);
            }
        }
        m_drawnCounts.insert(name, points.size());
    }
    if (!std::isfinite(low)) {
        low = 0;
        high = 1;
    }
    // Rates, counts and shares are never negative: keep zero on the axis for them.
    if (low >= 0)
        low = 0;
    if (high <= low)
        high = low + 1;
    else
        high += (high - low) * 0.08;

    // QtCharts rebuilds (and strokes, for its hover shape) a line's whole path on every
    // change of its points AND of either axis range. Emptying the lines first makes the
    // two range changes cheap, so each line's path is built once per redraw, not three
    // times.
    const QDateTime axisFrom = QDateTime::fromMSecsSinceEpoch(range.fromMs);
    const QDateTime axisTo = QDateTime::fromMSecsSinceEpoch(range.toMs);
    const bool rangeChanged = m_timeAxis->min() != axisFrom || m_timeAxis->max() != axisTo ||
                              m_valueAxis->min() != low || m_valueAxis->max() != high;
    if (rangeChanged) {
        for (QLineSeries *line : std::as_const(m_lines)) {
            if (line->count() > 0)
                line->clear();
        }
        m_timeAxis->setFormat(axisFormatFor(range.toMs - range.fromMs));
        m_timeAxis->setRange(axisFrom, axisTo);
        m_valueAxis->setRange(low, high);
    }
    slot = 0;
    qsizetype densest = 0;
    for (auto it = m_lines.cbegin(); it != m_lines.cend(); ++it, ++slot) {
        const qsizetype count = m_nextPoints[slot].size();
        densest = std::max(densest, count);
        // A line of one or two samples would be invisible (or a stub): mark its points.
        const bool markPoints = count > 0 && count <= 2;
        if (it.value()->pointsVisible() != markPoints)
            it.value()->setPointsVisible(markPoints);
        it.value()->replace(m_nextPoints[slot]);
    }
    // A line with a point every pixel or two is min/max columns, where antialiasing adds
    // nothing visible but costs about a third of the frame; sparse lines keep it.
    const bool dense = densest >= bucketCount();
    if (renderHints().testFlag(QPainter::Antialiasing) == dense)
        setRenderHint(QPainter::Antialiasing, !dense);
    emit redrawn();
}

QLineSeries *TimeSeriesChart::lineSeries(const QString &name) const
{
    return m_lines.value(name, nullptr);
}

qsizetype TimeSeriesChart::drawnPointCount(const QString &name) const
{
    return m_drawnCounts.value(name, 0);
}

QString TimeSeriesChart::valueTextAt(qint64 timeMs) const
{
    QStringList lines;
    lines << QDateTime::fromMSecsSinceEpoch(timeMs).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
    if (!m_set)
        return lines.join(QLatin1Char('\n'));
    const QString unit = m_unit.isEmpty() ? QString() : QLatin1Char(' ') + m_unit;
    for (const QString &name : m_set->visibleNames()) {
        const models::TimeSeriesBuffer *buffer = m_set->find(name);
        double value = std::numeric_limits<double>::quiet_NaN();
        if (buffer && !buffer->isEmpty()) {
            const qsizetype after = buffer->lowerBound(timeMs);
            qsizetype best = -1;
            if (after < buffer->size())
                best = after;
            if (after > 0 && (best < 0 || timeMs - buffer->at(after - 1).timeMs < buffer->at(after).timeMs - timeMs))
                best = after - 1;
            if (best >= 0)
                value = buffer->at(best).value;
        }
        lines << QStringLiteral("%1: %2%3").arg(name, formatValue(value), std::isnan(value) ? QString() : unit);
    }
    return lines.join(QLatin1Char('\n'));
}

void TimeSeriesChart::toggleSeries(const QString &name)
{
    if (m_set && m_set->contains(name))
        m_set->setVisible(name, !m_set->isVisible(name));
}

bool TimeSeriesChart::exportPng(const QString &path)
{
    if (m_dirty)
        redrawNow();
    return grab().save(path, "PNG");
}

bool TimeSeriesChart::exportCsv(const QString &path) const
{
    if (!m_set)
        return false;
    const TimeRangeMs range = shownRange();
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return false;
    file.write(m_set->toCsv(range.fromMs, range.toMs, models::TimeSeriesSet::CsvColumns::VisibleOnly));
    return file.commit();
}

void TimeSeriesChart::setDark(bool dark)
{
    m_dark = dark;
    chart()->setTheme(dark ? QChart::ChartThemeDark : QChart::ChartThemeLight);
    chart()->setAnimationOptions(QChart::NoAnimation);
    const QColor lineColour = dark ? QColor(230, 230, 230, 140) : QColor(40, 40, 40, 120);
    m_crosshair->setPen(QPen(lineColour, 1, Qt::DashLine));
    QColor fill = palette().highlight().color();
    fill.setAlpha(60);
    m_rubberBand->setBrush(fill);
    m_rubberBand->setPen(QPen(palette().highlight().color(), 1));
    // The theme resets pens and marker colours; dim the hidden series' entries again.
    for (auto it = m_lines.cbegin(); it != m_lines.cend(); ++it) {
        stylePen(it.value());
        styleMarker(it.key());
    }
}

void TimeSeriesChart::addLine(const QString &name)
{
    if (m_lines.contains(name))
        return;
    auto *line = new QLineSeries(this);
    line->setName(name);
    chart()->addSeries(line);
    line->attachAxis(m_timeAxis);
    line->attachAxis(m_valueAxis);
    m_lines.insert(name, line);
    stylePen(line);
    for (QLegendMarker *marker : chart()->legend()->markers(line))
        connect(marker, &QLegendMarker::clicked, this, [this, name] { toggleSeries(name); });
    styleMarker(name);
}

void TimeSeriesChart::stylePen(QLineSeries *line)
{
    // QtCharts strokes every line's path again on each update (for its hover shape);
    // bevel joins and flat caps make that stroke several times cheaper than the
    // theme's round ones, and look the same at this width.
    QPen pen = line->pen();
    pen.setWidthF(1.5);
    pen.setJoinStyle(Qt::BevelJoin);
    pen.setCapStyle(Qt::FlatCap);
    line->setPen(pen);
}

void TimeSeriesChart::removeLine(const QString &name)
{
    QLineSeries *line = m_lines.take(name);
    m_drawnCounts.remove(name);
    if (!line)
        return;
    chart()->removeSeries(line);
    delete line;
}

void TimeSeriesChart::styleMarker(const QString &name)
{
    QLineSeries *line = m_lines.value(name, nullptr);
    if (!line)
        return;
    const bool shown = !m_set || m_set->isVisible(name);
    for (QLegendMarker *marker : chart()->legend()->markers(line)) {
        QColor label = chart()->legend()->labelColor();
        QColor swatch = line->color();
        if (!shown) {
            label.setAlphaF(0.4f);
            swatch.setAlphaF(0.25f);
        }
        marker->setLabelBrush(label);
        marker->setBrush(swatch);
    }
}

std::optional<qint64> TimeSeriesChart::timeAtViewportX(qreal x) const
{
    const QRectF plot = chart()->plotArea();
    const QPointF inChart = chart()->mapFromScene(mapToScene(QPoint(int(x), 0)));
    if (plot.width() < 1 || inChart.x() < plot.left() || inChart.x() > plot.right())
        return std::nullopt;
    const qint64 fromMs = m_timeAxis->min().toMSecsSinceEpoch();
    const qint64 toMs = m_timeAxis->max().toMSecsSinceEpoch();
    const double share = (inChart.x() - plot.left()) / plot.width();
    return fromMs + qint64(std::llround(share * double(toMs - fromMs)));
}

qreal TimeSeriesChart::viewportXOfTime(qint64 timeMs) const
{
    const QRectF plot = chart()->plotArea();
    const qint64 fromMs = m_timeAxis->min().toMSecsSinceEpoch();
    const qint64 toMs = m_timeAxis->max().toMSecsSinceEpoch();
    if (toMs <= fromMs)
        return plot.left();
    return plot.left() + plot.width() * double(timeMs - fromMs) / double(toMs - fromMs);
}

void TimeSeriesChart::hideCrosshair()
{
    m_crosshair->hide();
    QToolTip::hideText();
}

void TimeSeriesChart::showEvent(QShowEvent *event)
{
    QChartView::showEvent(event);
    if (m_dirty)
        markDirty();
}

void TimeSeriesChart::resizeEvent(QResizeEvent *event)
{
    QChartView::resizeEvent(event);
    // The bucket count follows the plot width.
    markDirty();
}

void TimeSeriesChart::mousePressEvent(QMouseEvent *event)
{
    if (event->button() == Qt::LeftButton && timeAtViewportX(event->position().x())) {
        m_dragStartX = chart()->mapFromScene(mapToScene(event->position().toPoint())).x();
        event->accept();
        return;
    }
    QChartView::mousePressEvent(event);
}

void TimeSeriesChart::mouseMoveEvent(QMouseEvent *event)
{
    const QRectF plot = chart()->plotArea();
    const qreal chartX = chart()->mapFromScene(mapToScene(event->position().toPoint())).x();
    if (m_dragStartX) {
        const qreal left = std::clamp(std::min(*m_dragStartX, chartX), plot.left(), plot.right());
        const qreal right = std::clamp(std::max(*m_dragStartX, chartX), plot.left(), plot.right());
        m_rubberBand->setRect(QRectF(left, plot.top(), right - left, plot.height()));
        m_rubberBand->show();
    }
    if (const auto timeMs = timeAtViewportX(event->position().x())) {
        m_crosshair->setLine(chartX, plot.top(), chartX, plot.bottom());
        m_crosshair->show();
        QToolTip::showText(event->globalPosition().toPoint(), valueTextAt(*timeMs), this);
    } else {
        hideCrosshair();
    }
    QChartView::mouseMoveEvent(event);
}

void TimeSeriesChart::mouseReleaseEvent(QMouseEvent *event)
{
    if (event->button() == Qt::LeftButton && m_dragStartX) {
        const QRectF plot = chart()->plotArea();
        const qreal startX = *m_dragStartX;
        const qreal endX = std::clamp(chart()->mapFromScene(mapToScene(event->position().toPoint())).x(), plot.left(),
                                      plot.right());
        m_dragStartX.reset();
        m_rubberBand->hide();
        if (std::abs(endX - startX) >= kMinimumDragPixels && plot.width() >= 1) {
            const qint64 fromMs = m_timeAxis->min().toMSecsSinceEpoch();
            const qint64 toMs = m_timeAxis->max().toMSecsSinceEpoch();
            auto timeOf = [&](qreal x) {
                return fromMs + qint64(std::llround((x - plot.left()) / plot.width() * double(toMs - fromMs)));
            };
            zoomToTimeRange(timeOf(std::min(startX, endX)), timeOf(std::max(startX, endX)));
        }
        event->accept();
        return;
    }
    QChartView::mouseReleaseEvent(event);
}

void TimeSeriesChart::mouseDoubleClickEvent(QMouseEvent *event)
{
    if (event->button() == Qt::LeftButton) {
        resetZoom();
        event->accept();
        return;
    }
    QChartView::mouseDoubleClickEvent(event);
}

void TimeSeriesChart::leaveEvent(QEvent *event)
{
    hideCrosshair();
    QChartView::leaveEvent(event);
}

void TimeSeriesChart::contextMenuEvent(QContextMenuEvent *event)
{
    // popup() and QFileDialog::open(), not exec(): no nested event loop.
    auto *menu = new QMenu(this);
    menu->setAttribute(Qt::WA_DeleteOnClose);
    QAction *reset = menu->addAction(tr("Reset zoom"), this, &TimeSeriesChart::resetZoom);
    reset->setEnabled(m_zoomed);
    menu->addSeparator();
    menu->addAction(tr("Export as PNG…"), this, [this] {
        askForPath(tr("Export chart"), QStringLiteral(".png"), tr("PNG image (*.png)"),
                   [this](const QString &path) { return exportPng(path); });
    });
    menu->addAction(tr("Export data as CSV…"), this, [this] {
        askForPath(tr("Export chart data"), QStringLiteral(".csv"), tr("CSV (*.csv)"),
                   [this](const QString &path) { return exportCsv(path); });
    });
    menu->popup(event->globalPos());
    event->accept();
}

void TimeSeriesChart::askForPath(const QString &caption, const QString &suffix, const QString &filter,
                                 std::function<bool(const QString &)> write)
{
    const QString baseName =
        title().isEmpty() ? QStringLiteral("chart") : title().toLower().replace(QLatin1Char(' '), QLatin1Char('-'));
    auto *dialog = new QFileDialog(this, caption, baseName + suffix, filter);
    dialog->setAcceptMode(QFileDialog::AcceptSave);
    dialog->setDefaultSuffix(suffix.mid(1));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QFileDialog::fileSelected, this, [this, write = std::move(write)](const QString &path) {
        if (!write(path))
            QToolTip::showText(QCursor::pos(), tr("Could not write %1").arg(path), this);
    });
    dialog->open();
}

} // namespace sluice::ui
