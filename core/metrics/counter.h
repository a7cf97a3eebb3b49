#pragma once

#include <atomic>
#include <cstdint>

namespace sluice::metrics {

// One counter series: a total that only goes up. Thread-safe and lock-free;
// update it from any thread through a cached reference.
//
// Whole amounts (inc(), and add() of a whole number below 2^53) go to a 64-bit
// integer with one fetch_add, so they are exact and wait-free. Fractional
// amounts (dollars, seconds) go to a separate double updated with a
// compare-and-swap loop. value() is the sum of the two and exact while the
// whole part stays below 2^53.
class alignas(64) Counter {
public:
    void inc(std::uint64_t amount = 1) noexcept { m_whole.fetch_add(amount, std::memory_order_relaxed); }
    // Negative and NaN amounts are ignored: a counter never goes down.
    void add(double amount) noexcept;

    double value() const noexcept;

private:
    std::atomic<std::uint64_t> m_whole{0};
    std::atomic<double> m_fraction{0.0};
};

} // namespace sluice::metrics
