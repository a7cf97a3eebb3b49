#include "metrics/counter.h"

#include <cmath>

namespace sluice::metrics {

static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic<double>::is_always_lock_free);

void Counter::add(double amount) noexcept
{
    if (!(amount >= 0))
        return;
    constexpr double kExactIntegerLimit = 9007199254740992.0; // 2^53
    if (amount < kExactIntegerLimit && amount == std::trunc(amount)) {
        m_whole.fetch_add(static_cast<std::uint64_t>(amount), std::memory_order_relaxed);
        return;
    }
    m_fraction.fetch_add(amount, std::memory_order_relaxed);
}

double Counter::value() const noexcept
{
    return static_cast<double>(m_whole.load(std::memory_order_relaxed)) + m_fraction.load(std::memory_order_relaxed);
}

} // namespace sluice::metrics
