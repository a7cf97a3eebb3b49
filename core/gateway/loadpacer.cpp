#include "gateway/loadpacer.h"

#include <algorithm>
#include <cmath>

namespace sluice::gateway {

namespace {

double sanitized(double requestsPerSecond)
{
    return std::isfinite(requestsPerSecond) && requestsPerSecond > 0 ? requestsPerSecond : 0.0;
}

} // namespace

LoadPacer::LoadPacer(double requestsPerSecond, policy::Nanoseconds maxLag)
    : m_rate(sanitized(requestsPerSecond))
    , m_maxLag(std::max(maxLag, policy::Nanoseconds{0}))
{
}

policy::MonoTime LoadPacer::plannedStartTime(policy::MonoTime anchor, double requestsPerSecond, quint64 slot)
{
    // Long double keeps the product exact to the nanosecond for any realistic run.
    const long double offset = static_cast<long double>(slot) * 1e9L / static_cast<long double>(requestsPerSecond);
    return anchor + policy::Nanoseconds(static_cast<qint64>(std::llround(offset)));
}

void LoadPacer::start(policy::MonoTime now)
{
    m_anchor = now;
    m_nextSlot = 0;
}

void LoadPacer::setRate(double requestsPerSecond, policy::MonoTime now)
{
    const double rate = sanitized(requestsPerSecond);
    if (rate == m_rate)
        return;
    m_rate = rate;
    m_nextSlot = 0;
    m_anchor = now;
    if (m_rate > 0 && m_lastStart)
        m_anchor = std::max(now, plannedStartTime(*m_lastStart, m_rate, 1));
}

std::optional<policy::MonoTime> LoadPacer::nextStartTime() const
{
    if (m_rate <= 0)
        return std::nullopt;
    return plannedStartTime(m_anchor, m_rate, m_nextSlot);
}

bool LoadPacer::tryAcquire(policy::MonoTime now)
{
    if (m_rate <= 0) {
        m_lastStart = now;
        ++m_granted;
        return true;
    }
    policy::MonoTime due = plannedStartTime(m_anchor, m_rate, m_nextSlot);
    if (due > now)
        return false;
    if (now - due > m_maxLag) {
        // The first slot due at or after now - maxLag.
        const long double behind = static_cast<long double>((now - m_maxLag - m_anchor).count());
        const auto first = static_cast<quint64>(std::ceil(behind * static_cast<long double>(m_rate) / 1e9L));
        quint64 slot = std::max(first, m_nextSlot);
        while (plannedStartTime(m_anchor, m_rate, slot) < now - m_maxLag)
            ++slot;
        m_skippedSlots += slot - m_nextSlot;
        m_nextSlot = slot;
        due = plannedStartTime(m_anchor, m_rate, m_nextSlot);
    }
    m_lastStart = due;
    ++m_nextSlot;
    ++m_granted;
    return true;
}

} // namespace sluice::gateway
