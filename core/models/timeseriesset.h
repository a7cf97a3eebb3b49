#pragma once

#include "models/timeseriesbuffer.h"

#include <QByteArray>
#include <QObject>
#include <QString>
#include <QStringList>

#include <limits>
#include <memory>
#include <vector>

namespace sluice::models {

// The series of one chart, keyed by name ("p50", "instance-3 rps"), in the order they
// were added (the legend's and the CSV's column order), each with a visibility flag the
// legend toggles. Every series has the same capacity.
//
// References returned by series() stay valid until that series is removed or the set
// is destroyed. Appending emits nothing: a chart redraws at its own, coalesced pace.
// Not thread-safe: use it from one thread (the GUI thread).
class TimeSeriesSet : public QObject {
    Q_OBJECT
public:
    enum class CsvColumns { All, VisibleOnly };

    explicit TimeSeriesSet(qsizetype capacityPerSeries = TimeSeriesBuffer::defaultCapacity,
                           QObject *parent = nullptr);
    ~TimeSeriesSet() override;

    // The series called `name`, created empty and visible (seriesAdded) when missing.
    TimeSeriesBuffer &series(const QString &name);
    // nullptr when there is no such series.
    const TimeSeriesBuffer *find(const QString &name) const;
    bool contains(const QString &name) const { return find(name) != nullptr; }
    // Appends to the series called `name`, creating it when missing; false when the
    // sample is older than that series' newest one (see TimeSeriesBuffer::append).
    bool append(const QString &name, qint64 timeMs, double value);

    QStringList names() const;
    QStringList visibleNames() const;
    qsizetype count() const { return qsizetype(m_series.size()); }

    // false for an unknown series.
    bool isVisible(const QString &name) const;
    // Emits visibilityChanged when the flag changes; returns false for an unknown series.
    bool setVisible(const QString &name, bool visible);

    // Emits seriesRemoved; returns false for an unknown series.
    bool remove(const QString &name);
    // Empties every series; the series, their order and visibility stay.
    void clearData();

    qsizetype capacityPerSeries() const { return m_capacity; }
    // Applies to existing series too (each keeps its newest samples).
    void setCapacityPerSeries(qsizetype capacity);

    // The samples with fromMs <= time <= toMs as CSV (RFC 4180, "\r\n" line ends): a
    // header "time,<name>,..." (names quoted when they hold a comma, quote or line
    // break), then one row per distinct sample time across the chosen series, ascending,
    // time as ISO 8601 UTC with milliseconds ("2024-05-01T12:00:00.000Z"), one column
    // per series: its value at exactly that time in the shortest form that reads back
    // the same double, empty when the series has no sample then or the sample is a gap.
    // Two samples of one series at the same time give two rows.
    QByteArray toCsv(qint64 fromMs = std::numeric_limits<qint64>::min(),
                     qint64 toMs = std::numeric_limits<qint64>::max(), CsvColumns columns = CsvColumns::All) const;

signals:
    void seriesAdded(const QString &name);
    void seriesRemoved(const QString &name);
    void visibilityChanged(const QString &name, bool visible);

private:
    struct Entry {
        QString name;
        bool visible = true;
        std::unique_ptr<TimeSeriesBuffer> buffer;
    };
    const Entry *entry(const QString &name) const;
    Entry *entry(const QString &name);

    std::vector<Entry> m_series;
    qsizetype m_capacity;
};

} // namespace sluice::models
