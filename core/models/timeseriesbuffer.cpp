#include "models/timeseriesbuffer.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace sluice::models {

bool TimePoint::isGap() const
{
    return std::isnan(value);
}

TimeSeriesBuffer::TimeSeriesBuffer(qsizetype capacity) : m_capacity(std::max<qsizetype>(1, capacity)) {}

void TimeSeriesBuffer::setCapacity(qsizetype capacity)
{
    capacity = std::max<qsizetype>(1, capacity);
    if (capacity == m_capacity)
        return;
    const qsizetype keep = std::min(m_size, capacity);
    std::vector<TimePoint> linear;
    linear.reserve(size_t(keep));
    for (qsizetype i = m_size - keep; i < m_size; ++i)
        linear.push_back(at(i));
    m_ring = std::move(linear);
    m_capacity = capacity;
    m_head = 0;
    m_size = keep;
}

bool TimeSeriesBuffer::append(qint64 timeMs, double value)
{
    if (m_size > 0 && timeMs < at(m_size - 1).timeMs)
        return false;
    if (m_size < m_capacity) {
        // Still filling: the ring is linear (head 0). Grow by hand so the storage never
        // overshoots the capacity the way vector's doubling would.
        if (m_ring.size() == m_ring.capacity())
            m_ring.reserve(size_t(std::min(m_capacity, std::max<qsizetype>(64, m_size * 2))));
        m_ring.push_back({timeMs, value});
        ++m_size;
        return true;
    }
    m_ring[size_t(m_head)] = {timeMs, value};
    m_head = m_head + 1 == m_capacity ? 0 : m_head + 1;
    return true;
}

bool TimeSeriesBuffer::appendGap(qint64 timeMs)
{
    return append(timeMs, std::numeric_limits<double>::quiet_NaN());
}

qsizetype TimeSeriesBuffer::physicalIndex(qsizetype index) const
{
    const qsizetype physical = m_head + index;
    return physical >= m_capacity ? physical - m_capacity : physical;
}

const TimePoint &TimeSeriesBuffer::at(qsizetype index) const
{
    Q_ASSERT(index >= 0 && index < m_size);
    return m_ring[size_t(physicalIndex(index))];
}

std::optional<TimePoint> TimeSeriesBuffer::lastPoint() const
{
    if (m_size == 0)
        return std::nullopt;
    return at(m_size - 1);
}

double TimeSeriesBuffer::lastValue() const
{
    return m_size == 0 ? std::numeric_limits<double>::quiet_NaN() : at(m_size - 1).value;
}

qsizetype TimeSeriesBuffer::lowerBound(qint64 timeMs) const
{
    qsizetype first = 0;
    qsizetype count = m_size;
    while (count > 0) {
        const qsizetype step = count / 2;
        if (at(first + step).timeMs < timeMs) {
            first += step + 1;
            count -= step + 1;
        } else {
            count = step;
        }
    }
    return first;
}

qsizetype TimeSeriesBuffer::upperBound(qint64 timeMs) const
{
    qsizetype first = 0;
    qsizetype count = m_size;
    while (count > 0) {
        const qsizetype step = count / 2;
        if (at(first + step).timeMs <= timeMs) {
            first += step + 1;
            count -= step + 1;
        } else {
            count = step;
        }
    }
    return first;
}

std::vector<TimePoint> TimeSeriesBuffer::downsample(qint64 fromMs, qint64 toMs, int buckets) const
{
    std::vector<TimePoint> out;
    downsample(fromMs, toMs, buckets, out);
    return out;
}

void TimeSeriesBuffer::downsample(qint64 fromMs, qint64 toMs, int buckets, std::vector<TimePoint> &out) const
{
    out.clear();
    if (buckets < 1 || toMs < fromMs || m_size == 0)
        return;
    const qsizetype begin = lowerBound(fromMs);
    const qsizetype end = upperBound(toMs);
    if (begin >= end)
        return;
    const qsizetype inRange = end - begin;
    const qsizetype maxPoints = 2 * qsizetype(buckets);
    out.reserve(size_t(std::min(inRange, maxPoints)));
    if (inRange <= maxPoints) {
        for (qsizetype i = begin; i < end; ++i)
            out.push_back(at(i));
        return;
    }

    // In double: toMs - fromMs, and (time - from) * buckets, can pass 2^63.
    const double slicesPerMs = double(buckets) / (double(toMs) - double(fromMs) + 1.0);
    // The ring is walked directly (this runs over every sample of a 24 h chart on each
    // redraw): the extremes are kept as copies with their logical index for the order.
    struct Extreme {
        qsizetype index = -1;
        TimePoint point;
    };
    int slice = -1;
    Extreme low;
    Extreme high;
    Extreme firstGap;
    const auto flush = [&] {
        if (low.index >= 0) {
            const bool lowFirst = low.index <= high.index;
            out.push_back(lowFirst ? low.point : high.point);
            if (low.index != high.index)
                out.push_back(lowFirst ? high.point : low.point);
        } else if (firstGap.index >= 0) {
            out.push_back(firstGap.point);
        }
        low.index = high.index = firstGap.index = -1;
    };
    const TimePoint *ring = m_ring.data();
    qsizetype physical = physicalIndex(begin);
    for (qsizetype i = begin; i < end; ++i) {
        const TimePoint &point = ring[physical];
        if (++physical == m_capacity)
            physical = 0;
        const int pointSlice = std::min(buckets - 1, int((double(point.timeMs) - double(fromMs)) * slicesPerMs));
        if (pointSlice != slice) {
            flush();
            slice = pointSlice;
        }
        if (point.isGap()) {
            if (firstGap.index < 0)
                firstGap = {i, point};
            continue;
        }
        if (low.index < 0) {
            low = high = {i, point};
            continue;
        }
        if (point.value < low.point.value)
            low = {i, point};
        if (point.value > high.point.value)
            high = {i, point};
    }
    flush();
}

void TimeSeriesBuffer::clear()
{
    m_ring.clear();
    m_ring.shrink_to_fit();
    m_head = 0;
    m_size = 0;
}

} // namespace sluice::models
