#pragma once

#include <QByteArray>

namespace sluice::store {

// The Lua source of the shared GCRA decision: the semantics of policy::GcraLimiter
// (see there), decided atomically inside Redis on the server's own clock (TIME), so
// every gateway instance charges one bucket and their clocks do not matter. Redis 7
// replicates a script's effects, not the script, which is what allows TIME in it.
//
// KEYS[1]  the bucket's key; holds its theoretical arrival time (TAT) as an integer
//          count of microseconds since the Unix epoch, with a PX expiry at the moment
//          the bucket would be full again (so idle keys disappear by themselves)
// ARGV[1]  limit: units per period (sanitised to >= 1)
// ARGV[2]  period_ms (sanitised to >= 1)
// ARGV[3]  burst: units admitted at once; 0 or less means limit
// ARGV[4]  cost: units this request takes (negative counts as 0; 0 only reports)
// Returns  {allowed 1|0, remaining, reset_after_ms, retry_after_ms}: as
//          policy::RateLimitDecision, durations rounded up to whole milliseconds;
//          retry_after_ms is 0 when allowed and -1 when cost > burst (never fits).
//
// Resolution: time and the emission interval T = ceil(period / limit) are whole
// microseconds (GcraLimiter: nanoseconds), so results agree with GcraLimiter's
// whenever period_ms * 1000 is a multiple of limit, and within a microsecond per
// unit otherwise. Lua numbers are doubles: every value stays below 2^53 because T
// and the tolerance are capped at 2^61 ns, as in GcraLimiter.
QByteArray gcraRateLimitScript();

} // namespace sluice::store
