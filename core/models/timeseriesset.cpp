#include "models/timeseriesset.h"

#include <QDateTime>
#include <QLocale>

#include <algorithm>
#include <optional>

namespace sluice::models {

namespace {

QByteArray csvField(const QString &text)
{
    QByteArray utf8 = text.toUtf8();
    if (!utf8.contains(',') && !utf8.contains('"') && !utf8.contains('\n') && !utf8.contains('\r'))
        return utf8;
    utf8.replace("\"", "\"\"");
    return '"' + utf8 + '"';
}

} // namespace

TimeSeriesSet::TimeSeriesSet(qsizetype capacityPerSeries, QObject *parent)
    : QObject(parent), m_capacity(std::max<qsizetype>(1, capacityPerSeries))
{
}

TimeSeriesSet::~TimeSeriesSet() = default;

const TimeSeriesSet::Entry *TimeSeriesSet::entry(const QString &name) const
{
    const auto found = std::find_if(m_series.begin(), m_series.end(),
                                    [&](const Entry &candidate) { return candidate.name == name; });
    return found == m_series.end() ? nullptr : &*found;
}

TimeSeriesSet::Entry *TimeSeriesSet::entry(const QString &name)
{
    return const_cast<Entry *>(std::as_const(*this).entry(name));
}

TimeSeriesBuffer &TimeSeriesSet::series(const QString &name)
{
    if (Entry *existing = entry(name))
        return *existing->buffer;
    m_series.push_back({name, true, std::make_unique<TimeSeriesBuffer>(m_capacity)});
    TimeSeriesBuffer &created = *m_series.back().buffer;
    emit seriesAdded(name);
    return created;
}

const TimeSeriesBuffer *TimeSeriesSet::find(const QString &name) const
{
    const Entry *existing = entry(name);
    return existing ? existing->buffer.get() : nullptr;
}

bool TimeSeriesSet::append(const QString &name, qint64 timeMs, double value)
{
    return series(name).append(timeMs, value);
}

QStringList TimeSeriesSet::names() const
{
    QStringList result;
    result.reserve(count());
    for (const Entry &each : m_series)
        result.append(each.name);
    return result;
}

QStringList TimeSeriesSet::visibleNames() const
{
    QStringList result;
    for (const Entry &each : m_series) {
        if (each.visible)
            result.append(each.name);
    }
    return result;
}

bool TimeSeriesSet::isVisible(const QString &name) const
{
    const Entry *existing = entry(name);
    return existing && existing->visible;
}

bool TimeSeriesSet::setVisible(const QString &name, bool visible)
{
    Entry *existing = entry(name);
    if (!existing)
        return false;
    if (existing->visible != visible) {
        existing->visible = visible;
        emit visibilityChanged(name, visible);
    }
    return true;
}

bool TimeSeriesSet::remove(const QString &name)
{
    const auto found = std::find_if(m_series.begin(), m_series.end(),
                                    [&](const Entry &candidate) { return candidate.name == name; });
    if (found == m_series.end())
        return false;
    m_series.erase(found);
    emit seriesRemoved(name);
    return true;
}

void TimeSeriesSet::clearData()
{
    for (Entry &each : m_series)
        each.buffer->clear();
}

void TimeSeriesSet::setCapacityPerSeries(qsizetype capacity)
{
    m_capacity = std::max<qsizetype>(1, capacity);
    for (Entry &each : m_series)
        each.buffer->setCapacity(m_capacity);
}

QByteArray TimeSeriesSet::toCsv(qint64 fromMs, qint64 toMs, CsvColumns columns) const
{
    // A k-way merge over the chosen series' ranges: each row takes the smallest next
    // time, and every series whose next sample has that time fills its column.
    struct Cursor {
        const TimeSeriesBuffer *buffer;
        qsizetype next;
        qsizetype end;
    };
    std::vector<Cursor> cursors;
    QByteArray csv("time");
    for (const Entry &each : m_series) {
        if (columns == CsvColumns::VisibleOnly && !each.visible)
            continue;
        csv += ',' + csvField(each.name);
        const qsizetype begin = toMs < fromMs ? 0 : each.buffer->lowerBound(fromMs);
        const qsizetype end = toMs < fromMs ? 0 : each.buffer->upperBound(toMs);
        cursors.push_back({each.buffer.get(), begin, end});
    }
    csv += "\r\n";

    for (;;) {
        std::optional<qint64> rowTime;
        for (const Cursor &cursor : cursors) {
            if (cursor.next < cursor.end) {
                const qint64 time = cursor.buffer->at(cursor.next).timeMs;
                if (!rowTime || time < *rowTime)
                    rowTime = time;
            }
        }
        if (!rowTime)
            break;
        csv += QDateTime::fromMSecsSinceEpoch(*rowTime, Qt::UTC).toString(Qt::ISODateWithMs).toLatin1();
        for (Cursor &cursor : cursors) {
            csv += ',';
            if (cursor.next >= cursor.end)
                continue;
            const TimePoint &point = cursor.buffer->at(cursor.next);
            if (point.timeMs != *rowTime)
                continue;
            ++cursor.next;
            if (!point.isGap())
                csv += QByteArray::number(point.value, 'g', QLocale::FloatingPointShortest);
        }
        csv += "\r\n";
    }
    return csv;
}

} // namespace sluice::models
