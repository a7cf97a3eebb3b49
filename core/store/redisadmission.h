#pragma once

#include "policy/ratelimitdecision.h"
#include "policy/raterule.h"
#include "policy/result.h"
#include "store/redisscript.h"
#include "store/redissession.h"
#include "store/storeerror.h"

#include <QByteArray>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace sluice::store {

// One limit a request must pass, decided in Redis (see RedisAdmission).
struct AdmissionCheck {
    enum class Kind {
        // A GCRA bucket charged `cost` units (1 for a request limit): the semantics of
        // gcraRateLimitScript(), including its resolution and sanitisation of `rule`.
        Rate,
        // The same bucket charged an estimate now and settled with the true count later
        // (AdmissionSettlement::Tokens), as RedisTokenLimiter does.
        Tokens,
        // A slot in a parallel-lease set (leaseAcquireScript() semantics): the lease id is
        // the admission's, its life the admission's lease TTL.
        Lease,
    };
    Kind kind = Kind::Rate;
    // The full Redis key (redisKey(...)). Distinct checks of one admission must use
    // distinct keys: the checks are decided one after another without seeing each other.
    QByteArray key;
    policy::RateRule rule;        // Rate, Tokens; algorithm ignored (always GCRA)
    std::int64_t cost = 0;        // Rate, Tokens; negative counts as 0
    std::int64_t maxParallel = 0; // Lease; < 1 closes the key
};

// What one admission decided: every check's decision, in the order given.
struct AdmissionVerdict {
    bool allowed = false;
    // The first check that refused (index into the checks); -1 when allowed.
    int refusedIndex = -1;
    // Per check. Rate and Tokens: as RedisRateLimiter would report (limit = rule.limit).
    // Lease: limit = maxParallel, remaining = free slots after the decision, retryAfter =
    // until the earliest live lease expires. The decisions of the checks that allowed
    // describe the state as it would be after charging, also when another check refused
    // (then nothing was charged).
    std::vector<policy::RateLimitDecision> decisions;
    // The shared-cache entry named in admit(), when it exists (whether or not allowed).
    std::optional<QByteArray> cachedValue;
};

// What a finished request gives back (see RedisAdmission::settle()).
struct AdmissionSettlement {
    enum class Kind { Tokens, Lease };
    Kind kind = Kind::Tokens;
    QByteArray key;
    policy::RateRule rule;      // Tokens: the rule it was admitted under
    std::int64_t reserved = 0;  // Tokens: the admission's cost
    std::int64_t actual = 0;    // Tokens: the true count (0 refunds everything)
};

// Every rate limit of one request decided in ONE script call, so N gateway instances
// enforce one limit and a request costs one round trip to Redis to admit and one
// (fire-and-forget) to settle, however many rules apply.
//
// All-or-nothing, as the gateway's local RateLimitRules: every check is decided first
// without charging anything; only when all allow are all charged (bucket times set,
// the lease added). A refusal by one rule never consumes another's quota. Expired leases
// are swept from the sets looked at even when refused. Everything runs on the server's
// clock (TIME; Redis 7 replicates a script's effects), so instance clocks do not matter.
//
// Holds two RedisScripts (EVALSHA, re-loaded on NOSCRIPT); load() preloads them. Not
// thread-safe: keep one per session's thread. The session must outlive each call.
class RedisAdmission {
public:
    using Callback = std::function<void(Result<AdmissionVerdict, StoreError>)>;

    RedisAdmission();

    // Decides `checks`. `leaseId` names this request's lease in every Lease check (unique
    // per request); `leaseTtl` is its life (rounded up to whole ms, >= 1): a lease not
    // settled by then frees its slot, so leases of an instance that died come back.
    //
    // `cacheKey` (empty: none) names a shared-cache entry read in the same call: when it
    // exists the request will be answered from it, so its Tokens checks are decided at
    // cost 0 (nothing to settle) and its Lease checks are not taken (allowed) — a hit
    // costs one call in all. Rate checks are charged either way.
    //
    // Errors: the session's, Server for a script error, Protocol for an answer not shaped
    // as expected. Callback rules as RedisSession::command(); with no checks and no cache
    // key it is called (allowed) before admit() returns, without a call.
    void admit(RedisSession &session, const std::vector<AdmissionCheck> &checks, const QByteArray &leaseId,
               std::chrono::milliseconds leaseTtl, const QByteArray &cacheKey, QObject *context,
               Callback callback) const;

    // Settles tokens (reconcile with the true count, or refund) and frees the lease
    // `leaseId` in every Lease settlement, in one script call. Fire-and-forget: a lost
    // answer changes nothing for the caller (an unreturned lease expires by its TTL, an
    // unreconciled reservation stays charged). Nothing is sent for an empty list.
    void settle(RedisSession &session, const std::vector<AdmissionSettlement> &items, const QByteArray &leaseId) const;

    // SCRIPT LOAD of both scripts (e.g. whenever the session becomes Ready).
    void load(RedisSession &session) const;

    // The Lua sources, for review and tests.
    static QByteArray admitScript();
    static QByteArray settleScript();

    // The admit script's answer as a verdict for `checks`.
    static Result<AdmissionVerdict, StoreError> verdictFromReply(const RedisReply &reply,
                                                                 const std::vector<AdmissionCheck> &checks);

private:
    RedisScript m_admit;
    RedisScript m_settle;
};

} // namespace sluice::store
