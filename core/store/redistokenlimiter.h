#pragma once

#include "policy/ratelimitdecision.h"
#include "policy/raterule.h"
#include "policy/result.h"
#include "store/redisscript.h"
#include "store/redissession.h"
#include "store/storeerror.h"

#include <QByteArray>

#include <cstdint>
#include <functional>

namespace sluice::store {

// The kind of token-limit state in key names ("tokenlimit").
inline constexpr char kTokenLimitKeyKind[] = "tokenlimit";

// What reserve() decided. reservedTokens is what reconcile() / cancel() must be given
// back: the estimate (negative counted as 0) when allowed, 0 when refused.
struct RedisTokenAdmission {
    policy::RateLimitDecision decision;
    std::int64_t reservedTokens = 0;
};

// Tokens per period (TPM) shared by every gateway instance: the semantics of
// policy::TokenLimiter (see there) on one GCRA bucket per key in Redis, every step one
// atomic script call on the server's clock:
// - reserve() admits and charges the estimate (gcraRateLimitScript(); an estimate above
//   the burst is refused with neverFits and reserves nothing);
// - reconcile() settles with the true count both ways (tokenSettleScript()): an extra is
//   charged unconditionally, so the key may go into debt past its burst; a surplus is
//   refunded, never beyond a full bucket. cancel() refunds the whole reservation.
// A reservation lives with the caller, not in Redis: settle each one exactly once (this
// class cannot tell a second settlement from a first). Settling after the key expired
// behaves as TokenLimiter after an eviction: an extra lands on a fresh bucket, a refund
// is discarded. Durations have the resolution described at gcraRateLimitScript().
//
// Keys are redisKey(keyNamespace, kTokenLimitKeyKind, id); the rule travels with every
// call and is not part of the key (a bucket used under another rule keeps the time it
// owes; use distinct ids for distinct rules). rule.algorithm is ignored (always GCRA);
// an invalid rule is sanitised as GcraLimiter does; the period is rounded up to whole
// milliseconds.
//
// Errors: the session's, Server for a script error, Protocol for an answer not shaped as
// the script's. Callback rules as RedisSession::command(). Holds no state but the
// scripts; the session must outlive it. Thread affinity: the session's thread.
class RedisTokenLimiter {
public:
    using AdmissionCallback = std::function<void(Result<RedisTokenAdmission, StoreError>)>;
    // The bucket after the call, as peek() would report it.
    using DecisionCallback = std::function<void(Result<policy::RateLimitDecision, StoreError>)>;

    // `keyNamespace`: the <namespace> part of the keys (no ':'), e.g. the deployment.
    explicit RedisTokenLimiter(RedisSession &session, QByteArray keyNamespace = QByteArrayLiteral("default"));

    // Admits and reserves `estimatedTokens` on bucket `id`, or refuses.
    void reserve(const QByteArray &id, const policy::RateRule &rule, std::int64_t estimatedTokens, QObject *context,
                 AdmissionCallback callback);
    // Settles a reservation of `reservedTokens` (RedisTokenAdmission::reservedTokens)
    // against `actualTokens` (negative counts as 0). The callback's decision describes the
    // bucket afterwards as a 0-token request: allowed is false while the key is in debt,
    // and retryAfter is then the time until the debt is paid off.
    void reconcile(const QByteArray &id, const policy::RateRule &rule, std::int64_t reservedTokens,
                   std::int64_t actualTokens, QObject *context, DecisionCallback callback);
    // Refunds the whole reservation (the request never reached the upstream):
    // reconcile() with 0 actual tokens.
    void cancel(const QByteArray &id, const policy::RateRule &rule, std::int64_t reservedTokens, QObject *context,
                DecisionCallback callback);
    // The bucket as a 0-token request would find it; changes nothing (e.g. for the
    // x-ratelimit-*-tokens headers).
    void peek(const QByteArray &id, const policy::RateRule &rule, QObject *context, DecisionCallback callback);

    QByteArray keyFor(const QByteArray &id) const;
    const QByteArray &keyNamespace() const { return m_keyNamespace; }
    // The GCRA script (reserve(), peek()); the same source as RedisRateLimiter's.
    const RedisScript &reserveScript() const { return m_reserveScript; }
    // The settlement script (reconcile(), cancel()).
    const RedisScript &settleScript() const { return m_settleScript; }

private:
    RedisSession &m_session;
    QByteArray m_keyNamespace;
    RedisScript m_reserveScript;
    RedisScript m_settleScript;
};

} // namespace sluice::store
