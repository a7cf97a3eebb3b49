#pragma once

#include <atomic>

namespace sluice::metrics {

// One gauge series: a value that goes up and down. Thread-safe and lock-free
// (set() is a store, add() a compare-and-swap loop on the double).
class alignas(64) Gauge {
public:
    void set(double value) noexcept { m_value.store(value, std::memory_order_relaxed); }
    void add(double amount) noexcept { m_value.fetch_add(amount, std::memory_order_relaxed); }
    void sub(double amount) noexcept { m_value.fetch_sub(amount, std::memory_order_relaxed); }
    void inc() noexcept { add(1.0); }
    void dec() noexcept { sub(1.0); }

    double value() const noexcept { return m_value.load(std::memory_order_relaxed); }

private:
    std::atomic<double> m_value{0.0};
};

} // namespace sluice::metrics
