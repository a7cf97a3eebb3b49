#pragma once

#include "policy/ratelimitdecision.h"
#include "policy/result.h"
#include "store/redisscript.h"
#include "store/redissession.h"
#include "store/storeerror.h"

#include <QByteArray>

#include <chrono>
#include <cstdint>
#include <functional>

namespace sluice::store {

// The kind of parallel-lease state in key names ("leases").
inline constexpr char kLeaseKeyKind[] = "leases";

// What acquire() decided. leaseId is what release() / renew() need: a fresh random id
// (32 hex digits) when allowed, empty when refused.
struct RedisLease {
    policy::RateLimitDecision decision;
    QByteArray leaseId;
};

// At most maxParallel leases (requests in flight) per key, shared by every gateway
// instance: policy::ParallelLimiter's decisions, decided atomically in Redis
// (leaseAcquireScript()). Unlike the in-memory limiter every lease has a time to live,
// so the leases of an instance that died (or lost Redis) free their slots by themselves
// once they expire; a long stream calls renew() well before its lease runs out.
//
// Decisions: limit = maxParallel; remaining = leases still free after this decision;
// resetAfter = 0; retryAfter = 0 when allowed, else the smaller of retryAfterHint and the
// time until the earliest lease expires (rounded up to a millisecond); neverFits (and
// kRetryNever) when maxParallel < 1. maxParallel travels with every call, so lowering it
// keeps the leases held and refuses new ones until enough are released.
//
// Keys are redisKey(keyNamespace, kLeaseKeyKind, id): a sorted set of lease ids scored
// by expiry on the server's clock, with a PX expiry following its latest lease.
//
// Errors: the session's, Server for a script error, Protocol for an answer not shaped as
// expected. Callback rules as RedisSession::command(). Holds no state but the scripts;
// the session must outlive it. Thread affinity: the session's thread.
class RedisLeaseLimiter {
public:
    using AcquireCallback = std::function<void(Result<RedisLease, StoreError>)>;
    // release(): true when the lease was in the set and is gone now (an expired lease not
    // yet swept counts); false when it was unknown. renew(): true when renewed, false when
    // the lease had expired or was unknown (the slot may be someone else's by now: stop
    // or acquire again).
    using LeaseCallback = std::function<void(Result<bool, StoreError>)>;
    using CountCallback = std::function<void(Result<std::int64_t, StoreError>)>;

    // `keyNamespace`: the <namespace> part of the keys (no ':'). `retryAfterHint`: see
    // the class comment.
    explicit RedisLeaseLimiter(RedisSession &session, QByteArray keyNamespace = QByteArrayLiteral("default"),
                               std::chrono::milliseconds retryAfterHint = std::chrono::seconds(1));

    // Takes a lease on `id` for `leaseTtl` (at least 1 ms; rounded to whole milliseconds)
    // if fewer than `maxParallel` unexpired leases are held, or refuses.
    void acquire(const QByteArray &id, std::int64_t maxParallel, std::chrono::milliseconds leaseTtl, QObject *context,
                 AcquireCallback callback);
    // Gives the lease back (ZREM). Releasing twice is harmless (false the second time).
    void release(const QByteArray &id, const QByteArray &leaseId, QObject *context, LeaseCallback callback);
    // The lease now expires `leaseTtl` (at least 1 ms) from now, unless it already has.
    void renew(const QByteArray &id, const QByteArray &leaseId, std::chrono::milliseconds leaseTtl, QObject *context,
               LeaseCallback callback);
    // Unexpired leases held on `id` (server clock); changes nothing.
    void active(const QByteArray &id, QObject *context, CountCallback callback);

    QByteArray keyFor(const QByteArray &id) const;
    const QByteArray &keyNamespace() const { return m_keyNamespace; }
    std::chrono::milliseconds retryAfterHint() const { return m_retryAfterHint; }
    const RedisScript &acquireScript() const { return m_acquireScript; }
    const RedisScript &renewScript() const { return m_renewScript; }
    const RedisScript &countScript() const { return m_countScript; }

    // leaseAcquireScript()'s answer as a lease (`leaseId` kept only when allowed).
    static Result<RedisLease, StoreError> leaseFromReply(const RedisReply &reply, std::int64_t maxParallel,
                                                         std::chrono::milliseconds retryAfterHint,
                                                         const QByteArray &leaseId);

private:
    RedisSession &m_session;
    QByteArray m_keyNamespace;
    std::chrono::milliseconds m_retryAfterHint;
    RedisScript m_acquireScript;
    RedisScript m_renewScript;
    RedisScript m_countScript;
};

} // namespace sluice::store
