#include "policy/outcomewindow.h"

#include <algorithm>

namespace sluice::policy {

OutcomeWindow::OutcomeWindow(Nanoseconds window, std::size_t bucketCount)
    : m_buckets(std::max<std::size_t>(bucketCount, 1))
{
    const auto count = static_cast<Nanoseconds::rep>(m_buckets.size());
    m_bucketWidth = Nanoseconds(std::max<Nanoseconds::rep>(window.count() / count, 1));
}

std::int64_t OutcomeWindow::slotOf(MonoTime time) const
{
    // Floor division, so a clock started before its epoch still slots correctly.
    const std::int64_t width = m_bucketWidth.count();
    const std::int64_t ticks = time.count();
    return ticks / width - (ticks % width < 0 ? 1 : 0);
}

void OutcomeWindow::record(MonoTime now, bool failure)
{
    const std::int64_t slot = slotOf(now);
    const auto count = static_cast<std::int64_t>(m_buckets.size());
    Bucket &bucket = m_buckets[static_cast<std::size_t>((slot % count + count) % count)];
    if (bucket.slot != slot)
        bucket = Bucket{slot, 0, 0};
    bucket.requests += 1;
    bucket.failures += failure ? 1 : 0;
}

OutcomeWindow::Totals OutcomeWindow::totals(MonoTime now) const
{
    const std::int64_t newest = slotOf(now);
    const std::int64_t oldest = newest - static_cast<std::int64_t>(m_buckets.size()) + 1;
    Totals totals;
    for (const Bucket &bucket : m_buckets) {
        if (bucket.slot >= oldest && bucket.slot <= newest) {
            totals.requests += bucket.requests;
            totals.failures += bucket.failures;
        }
    }
    return totals;
}

void OutcomeWindow::clear()
{
    std::fill(m_buckets.begin(), m_buckets.end(), Bucket{});
}

} // namespace sluice::policy
