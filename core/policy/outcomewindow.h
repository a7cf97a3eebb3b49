#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "policy/clock.h"

namespace sluice::policy {

// Successes and failures over a rolling time window, kept in `bucketCount`
// buckets of `window / bucketCount` each (at least 1 ns). Time is cut into
// bucket-wide slots aligned to the clock's epoch; the window at `now` is the
// slot holding `now` plus the bucketCount - 1 slots before it. So an outcome
// is counted for at least window - bucket width and less than window.
// `now` must never go backwards between calls. Memory is O(bucketCount),
// record() is O(1) and totals() O(bucketCount).
// Not thread-safe.
class OutcomeWindow {
public:
    struct Totals {
        std::uint64_t requests = 0;
        std::uint64_t failures = 0;
        // failures / requests; 0 when there were no requests.
        double failureRate() const { return requests == 0 ? 0.0 : double(failures) / double(requests); }
    };

    // bucketCount is at least 1; window is at least bucketCount nanoseconds.
    OutcomeWindow(Nanoseconds window, std::size_t bucketCount);

    void record(MonoTime now, bool failure);
    Totals totals(MonoTime now) const;
    void clear();

    Nanoseconds window() const { return m_bucketWidth * static_cast<std::int64_t>(m_buckets.size()); }
    Nanoseconds bucketWidth() const { return m_bucketWidth; }
    std::size_t bucketCount() const { return m_buckets.size(); }

private:
    struct Bucket {
        std::int64_t slot = std::numeric_limits<std::int64_t>::min(); // which bucket-wide slot of time the counts belong to
        std::uint64_t requests = 0;
        std::uint64_t failures = 0;
    };
    std::int64_t slotOf(MonoTime time) const;

    std::vector<Bucket> m_buckets;
    Nanoseconds m_bucketWidth{1};
};

} // namespace sluice::policy
