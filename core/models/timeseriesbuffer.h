#pragma once

#include <QtGlobal>

#include <cstddef>
#include <optional>
#include <vector>

namespace sluice::models {

// One sample: wall-clock time in milliseconds since the Unix epoch (UTC) and a value.
// A NaN value is a gap: "no data at this time" (scrape failed, instance down).
struct TimePoint {
    qint64 timeMs = 0;
    double value = 0.0;

    bool isGap() const;
    friend bool operator==(const TimePoint &, const TimePoint &) = default;
};

// A bounded ring of samples in time order, oldest first: the history of one chart line.
// append() is O(1) (amortised while the ring first fills; storage grows to the capacity
// on demand, so an idle series costs nothing) and evicts the oldest sample once
// `capacity` samples are held. Times never decrease: a sample older than the newest
// one is refused, so range look-ups can binary-search.
//
// downsample() reduces a time range to at most 2 points per bucket (the minimum and the
// maximum, in time order), so a one-pixel spike survives the reduction to screen width.
//
// Not thread-safe: use it from one thread (the console's GUI thread).
class TimeSeriesBuffer {
public:
    // 24 hours of 1-second samples.
    static constexpr qsizetype defaultCapacity = 86'400;

    // capacity < 1 is taken as 1.
    explicit TimeSeriesBuffer(qsizetype capacity = defaultCapacity);

    qsizetype capacity() const { return m_capacity; }
    // Keeps the newest min(size(), capacity) samples. capacity < 1 is taken as 1.
    void setCapacity(qsizetype capacity);

    qsizetype size() const { return m_size; }
    bool isEmpty() const { return m_size == 0; }

    // Appends a sample (value NaN for a gap). Returns false, and keeps nothing, when
    // timeMs is older than the newest sample's time; equal times are kept in order.
    bool append(qint64 timeMs, double value);
    bool appendGap(qint64 timeMs);

    // The index-th sample, oldest first. Precondition: 0 <= index < size().
    const TimePoint &at(qsizetype index) const;
    // The newest sample, or nullopt when empty.
    std::optional<TimePoint> lastPoint() const;
    // The newest sample's value; NaN when empty or when the newest sample is a gap.
    double lastValue() const;

    // Index of the first sample with timeMs >= `timeMs` (size() when none). O(log n).
    qsizetype lowerBound(qint64 timeMs) const;
    // Index of the first sample with timeMs > `timeMs` (size() when none). O(log n).
    qsizetype upperBound(qint64 timeMs) const;

    // The samples with fromMs <= time <= toMs reduced for a chart `buckets` wide:
    // - the range is split into `buckets` equal time slices;
    // - when the range holds at most 2 * buckets samples they are returned as they are;
    // - otherwise each slice with at least one value contributes its minimum and its
    //   maximum sample (one point when they are the same sample), in time order; a slice
    //   holding only gaps contributes one gap point (at its first gap's time); an empty
    //   slice contributes nothing. A gap shorter than a slice is therefore not shown.
    // The result holds at most 2 * buckets points, in time order. Empty when
    // buckets < 1, toMs < fromMs or nothing is in range. O(log n + points in range);
    // the only allocation is the result's (none when `out` already has the room).
    std::vector<TimePoint> downsample(qint64 fromMs, qint64 toMs, int buckets) const;
    // Same, into `out` (cleared first), reusing its storage from the previous call.
    void downsample(qint64 fromMs, qint64 toMs, int buckets, std::vector<TimePoint> &out) const;

    void clear();

private:
    qsizetype physicalIndex(qsizetype index) const;

    std::vector<TimePoint> m_ring; // grows to m_capacity, then wraps
    qsizetype m_capacity;
    qsizetype m_head = 0; // physical index of the oldest sample
    qsizetype m_size = 0;
};

} // namespace sluice::models
