#pragma once

#include <QChartView>
#include <QDateTime>
#include <QList>
#include <QPointF>
#include <QString>

class QLineSeries;
class QDateTimeAxis;
class QValueAxis;

namespace sluice::ui {

// A small line chart of one value over time (Redis ops/s, hit ratio, memory): the newest
// `capacity` samples, a time axis and a value axis from 0 (or the unit's fixed maximum).
// append() keeps a bounded buffer and hands it to QXYSeries::replace() — no growth, no
// timer of its own: the caller appends when a sample arrives.
//
// Theme: setDark() picks QChart::ChartThemeDark / ChartThemeLight. Thread affinity: GUI thread.
class Sparkline : public QChartView {
    Q_OBJECT
public:
    explicit Sparkline(const QString &title, QWidget *parent = nullptr);
    ~Sparkline() override;

    // Samples kept (at least 2; default 360: 30 min at 5 s).
    void setCapacity(int capacity);
    int capacity() const { return m_capacity; }
    // A fixed top for the value axis (e.g. 100 for a percentage); 0: the largest value
    // shown, with some headroom.
    void setFixedMaximum(double maximum);

    // Adds one sample; a time not after the newest is ignored (a clock step backwards).
    void append(const QDateTime &at, double value);
    void clear();

    int pointCount() const { return int(m_points.size()); }
    // The newest value; NaN when empty.
    double lastValue() const;

public slots:
    void setDark(bool dark);

private:
    void redraw();

    QList<QPointF> m_points; // x: ms since the epoch
    int m_capacity = 360;
    double m_fixedMaximum = 0;
    QLineSeries *m_series = nullptr;
    QDateTimeAxis *m_timeAxis = nullptr;
    QValueAxis *m_valueAxis = nullptr;
};

} // namespace sluice::ui
