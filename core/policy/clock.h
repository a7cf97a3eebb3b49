#pragma once

#include <chrono>

namespace sluice::policy {

// Monotonic time as a duration since an arbitrary, fixed epoch. Every policy
// object reads time only through a Clock it is given, so tests can move time
// by an hour in a microsecond and decisions are reproducible.
using Nanoseconds = std::chrono::nanoseconds;
using MonoTime = std::chrono::nanoseconds;

class Clock {
public:
    virtual ~Clock() = default;
    // Monotonic: never goes backwards. Thread-safe in both implementations.
    virtual MonoTime now() const = 0;
};

// std::chrono::steady_clock; the clock the gateway runs on.
class SteadyClock final : public Clock {
public:
    MonoTime now() const override;
};

// Time that moves only when told. For tests and simulations.
// Not thread-safe: advance it from the thread that runs the policy objects.
class ManualClock final : public Clock {
public:
    explicit ManualClock(MonoTime start = MonoTime{0}) : m_now(start) {}
    MonoTime now() const override { return m_now; }
    void advance(Nanoseconds by) { m_now += by; }
    void set(MonoTime to) { m_now = to; }

private:
    MonoTime m_now;
};

} // namespace sluice::policy
