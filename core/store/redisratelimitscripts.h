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

// The settlement of a token reservation (RedisTokenLimiter::reconcile() / cancel()) on the
// bucket gcraRateLimitScript() keeps: policy::GcraLimiter::charge() when the true count
// is above the reservation (the key may go into debt past its burst, at most 2^61 ns of
// debt as there), refund() when below (never beyond a full bucket; a full bucket's key
// is deleted). Same key format, clock and resolution as gcraRateLimitScript().
//
// KEYS[1]  the bucket's key
// ARGV[1..3]  limit, period_ms, burst: as gcraRateLimitScript()
// ARGV[4]  reserved: units reserved at admission (negative counts as 0)
// ARGV[5]  actual: units really used (negative counts as 0)
// Returns  the bucket afterwards as a cost-0 decision would describe it:
//          {not_in_debt 1|0, remaining, reset_after_ms, retry_after_ms}, retry_after_ms
//          being the time until the debt is paid off (0 when not in debt).
QByteArray tokenSettleScript();

// The parallel-lease limit (RedisLeaseLimiter::acquire()): a sorted set of lease ids
// scored by their expiry (microseconds since the Unix epoch, server TIME). Expired
// leases (score <= now) are removed first, then the rest counted, then the new lease
// added when there is room; the key's PX expiry follows the latest lease, so the leases
// of an instance that died free their slots, and the key goes, by themselves.
//
// KEYS[1]  the set's key
// ARGV[1]  max_parallel: leases allowed at once (< 1: the key is closed)
// ARGV[2]  ttl_ms: the new lease's life (sanitised to >= 1)
// ARGV[3]  lease id (opaque bytes, unique per lease)
// Returns  {allowed 1|0, held, retry_after_ms}: held is the number of live leases after
//          the decision; retry_after_ms is 0 when allowed, -1 when max_parallel < 1,
//          else the time until the earliest live lease expires (rounded up).
QByteArray leaseAcquireScript();

// Extends a lease (RedisLeaseLimiter::renew()): its expiry becomes now + ttl_ms. A lease
// that is missing, or already expired (then removed), is not renewed.
//
// KEYS[1]  the set's key
// ARGV[1]  ttl_ms (sanitised to >= 1)
// ARGV[2]  lease id
// Returns  1 when renewed, 0 when the lease was no longer held.
QByteArray leaseRenewScript();

// Live (unexpired) leases in the set, on the server's clock; changes nothing.
//
// KEYS[1]  the set's key
// Returns  the count.
QByteArray leaseCountScript();

} // namespace sluice::store
