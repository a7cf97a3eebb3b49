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

// Rate-limit decisions shared by every gateway instance: one GCRA bucket per key in
// Redis, decided and charged atomically by one script call (gcraRateLimitScript()), on
// the server's clock. The same semantics as policy::GcraLimiter, to the millisecond in
// the durations it reports (see gcraRateLimitScript() for the resolution).
//
// Keys are redisKey(keyNamespace, "ratelimit", id). The rule is not part of the key:
// a bucket decided under one rule and then another keeps the time it owes (use distinct
// ids for distinct rules, e.g. "<client>:rpm" and "<client>:tpm").
//
// Holds no state but the script; the session must outlive it. Thread affinity: the
// session's thread.
class RedisRateLimiter {
public:
    using Callback = std::function<void(Result<policy::RateLimitDecision, StoreError>)>;

    // `keyNamespace`: the <namespace> part of the keys (no ':'), e.g. the deployment.
    explicit RedisRateLimiter(RedisSession &session, QByteArray keyNamespace = QByteArrayLiteral("default"));

    // Decides `cost` units against `rule` for bucket `id` and charges them when allowed.
    // rule.algorithm is ignored (always GCRA); an invalid rule is sanitised as
    // GcraLimiter does; the period is rounded up to whole milliseconds. A negative cost
    // counts as 0. Errors: the session's, Server for a script error, Protocol for an
    // answer not shaped as the script's. Callback rules as RedisSession::command().
    void decide(const QByteArray &id, const policy::RateRule &rule, std::int64_t cost, QObject *context,
                Callback callback);

    QByteArray keyFor(const QByteArray &id) const;
    const QByteArray &keyNamespace() const { return m_keyNamespace; }
    const RedisScript &script() const { return m_script; }

    // The script's answer as a decision (`limit` fills RateLimitDecision::limit).
    static Result<policy::RateLimitDecision, StoreError> decisionFromReply(const RedisReply &reply, std::int64_t limit);

private:
    RedisSession &m_session;
    QByteArray m_keyNamespace;
    RedisScript m_script;
};

} // namespace sluice::store
