#pragma once

#include "config/gatewayconfig.h"
#include "gateway/ratelimitrules.h"
#include "policy/result.h"
#include "store/redisadmission.h"

#include <QByteArrayView>

#include <chrono>
#include <optional>
#include <vector>

namespace sluice::gateway {

// The bridge between the gateway's limit rules and their decision in Redis
// (store::RedisAdmission): the same rules and the same all-or-nothing admission as
// RateLimitRules::admit(), on one bucket per rule × dimension × scope value for the whole
// deployment instead of one per instance.

// The Redis checks for `plan`, in its order: requests cost 1, tokens cost
// `estimatedTokens`. Keys: redisKey(keyNamespace, "ratelimit", "<rule>|<r|t|p>|<scope>").
std::vector<store::AdmissionCheck> admissionChecks(const std::vector<PlannedCheck> &plan, QByteArrayView keyNamespace,
                                                   qint64 estimatedTokens);

// The verdict on admissionChecks(plan, ...) as RateLimitRules::admit() would answer:
// the refusal of the first check that said no, or holds whose `redis` settlements give
// back the token reservations and the lease `leaseId` (and no local holds). A verdict
// with a cached value (the shared-cache entry existed) reserved no tokens and took no
// lease, so its holds have nothing to settle.
Result<AdmissionHolds, LimitRefusal> holdsFromVerdict(const std::vector<PlannedCheck> &plan,
                                                      const std::vector<store::AdmissionCheck> &checks,
                                                      const store::AdmissionVerdict &verdict, QByteArray leaseId);

// The settlements of `holds` for the true token count (nullopt: refund, as
// RateLimitRules::settle()).
std::vector<store::AdmissionSettlement> settlementsFor(const AdmissionHolds &holds, std::optional<qint64> actualTokens);

// How long a parallel-lease slot stays taken if its request never settles (its instance
// died): the longest a request can live — queue wait plus the upstream's total time
// limit — and a minute of margin; an hour when there is no total limit.
std::chrono::milliseconds leaseLifetime(const config::GatewayConfig &config);

} // namespace sluice::gateway
