#include "charts/sparkline.h"

#include <QChart>
#include <QDateTimeAxis>
#include <QLineSeries>
#include <QValueAxis>

#include <algorithm>
#include <cmath>
#include <limits>

namespace sluice::ui {

Sparkline::Sparkline(const QString &title, QWidget *parent)
    : QChartView(parent), m_series(new QLineSeries), m_timeAxis(new QDateTimeAxis), m_valueAxis(new QValueAxis)
{
    auto *chart = new QChart;
    chart->setTitle(title);
    chart->legend()->hide();
    chart->setMargins(QMargins(2, 2, 2, 2));
    chart->addSeries(m_series);
    m_timeAxis->setFormat(QStringLiteral("HH:mm:ss"));
    m_timeAxis->setTickCount(4);
    m_valueAxis->setLabelFormat(QStringLiteral("%.3g"));
    m_valueAxis->setTickCount(3);
    chart->addAxis(m_timeAxis, Qt::AlignBottom);
    chart->addAxis(m_valueAxis, Qt::AlignLeft);
    m_series->attachAxis(m_timeAxis);
    m_series->attachAxis(m_valueAxis);
    setChart(chart);
    setRenderHint(QPainter::Antialiasing);
    setMinimumHeight(140);
    redraw();
}

Sparkline::~Sparkline() = default;

void Sparkline::setCapacity(int capacity)
{
    m_capacity = std::max(2, capacity);
    if (m_points.size() > m_capacity)
        m_points.remove(0, m_points.size() - m_capacity);
    redraw();
}

void Sparkline::setFixedMaximum(double maximum)
{
    m_fixedMaximum = std::max(0.0, maximum);
    redraw();
}

void Sparkline::append(const QDateTime &at, double value)
{
    if (!at.isValid() || !std::isfinite(value))
        return;
    const double x = double(at.toMSecsSinceEpoch());
    if (!m_points.isEmpty() && x <= m_points.constLast().x())
        return;
    m_points.append(QPointF(x, value));
    if (m_points.size() > m_capacity)
        m_points.remove(0, m_points.size() - m_capacity);
    redraw();
}

void Sparkline::clear()
{
    m_points.clear();
    redraw();
}

double Sparkline::lastValue() const
{
    return m_points.isEmpty() ? std::numeric_limits<double>::quiet_NaN() : m_points.constLast().y();
}

void Sparkline::setDark(bool dark)
{
    // The theme resets the series colours and fonts; the data stays.
    chart()->setTheme(dark ? QChart::ChartThemeDark : QChart::ChartThemeLight);
}

void Sparkline::redraw()
{
    m_series->replace(m_points);
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    const qint64 newest = m_points.isEmpty() ? now : qint64(m_points.constLast().x());
    const qint64 oldest = m_points.size() < 2 ? newest - 60'000 : qint64(m_points.constFirst().x());
    m_timeAxis->setRange(QDateTime::fromMSecsSinceEpoch(oldest), QDateTime::fromMSecsSinceEpoch(newest));
    double top = m_fixedMaximum;
    if (top <= 0) {
        for (const QPointF &point : std::as_const(m_points))
            top = std::max(top, point.y());
        top = top > 0 ? top * 1.15 : 1.0;
    }
    m_valueAxis->setRange(0, top);
}

} // namespace sluice::ui
