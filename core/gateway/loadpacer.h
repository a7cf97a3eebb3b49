#pragma once

#include "policy/clock.h"

#include <QtGlobal>

#include <chrono>
#include <optional>

namespace sluice::gateway {

// The start schedule behind LoadGenerator's rate cap: request starts at a steady rate,
// each start taking the next slot of a schedule planned from an anchor time,
//   slot k is due at anchor + k / requestsPerSecond,
// computed from the anchor (never by adding intervals, never "sleep after each"), so
// late timers and slow answers do not make the achieved rate drift: over any span the
// starts are the slots due in it, within one.
//
// A slot is taken only when a start is wanted (tryAcquire()), so when every user is
// busy the due slots wait; they are taken at once when users free up, up to maxLag
// behind: slots older than that are skipped (counted in skippedSlots()) rather than
// sent as one burst. A rate change re-anchors the schedule: the next slot comes one new
// interval after the last start, or at once if that is already past (setting the same
// rate again changes nothing).
//
// Rate 0 is unlimited: every tryAcquire() succeeds. Pure: time comes only from the
// arguments. Not thread-safe.
class LoadPacer {
public:
    explicit LoadPacer(double requestsPerSecond = 0, policy::Nanoseconds maxLag = std::chrono::seconds(1));

    // Anchors the schedule at `now`: slot 0 is due at once.
    void start(policy::MonoTime now);
    // Negative or non-finite rates count as 0 (unlimited).
    void setRate(double requestsPerSecond, policy::MonoTime now);
    double rate() const { return m_rate; }
    bool isLimited() const { return m_rate > 0; }

    // When the next slot is due, ignoring the lag limit; nullopt when unlimited.
    std::optional<policy::MonoTime> nextStartTime() const;
    // Takes the next slot if it is due at `now` (skipping slots more than maxLag
    // behind first); always true when unlimited.
    bool tryAcquire(policy::MonoTime now);

    quint64 granted() const { return m_granted; }           // starts since construction
    quint64 skippedSlots() const { return m_skippedSlots; } // slots dropped for lag

    // When slot `slot` of a schedule anchored at `anchor` is due. Precondition: rate > 0.
    static policy::MonoTime plannedStartTime(policy::MonoTime anchor, double requestsPerSecond, quint64 slot);

private:
    double m_rate = 0;
    policy::Nanoseconds m_maxLag;
    policy::MonoTime m_anchor{0};
    quint64 m_nextSlot = 0;
    std::optional<policy::MonoTime> m_lastStart; // the due time of the last slot taken
    quint64 m_granted = 0;
    quint64 m_skippedSlots = 0;
};

} // namespace sluice::gateway
