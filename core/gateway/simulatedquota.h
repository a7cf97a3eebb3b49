#pragma once

#include "gateway/ratelimitheaders.h"
#include "gateway/simulatoroptions.h"
#include "policy/clock.h"

#include <array>
#include <optional>

namespace sluice::gateway {

// The provider quota the simulated provider emulates: one token bucket per configured
// per-minute limit, full at start, refilled continuously at limit/60 a second up to the
// limit. Waits are reported in whole milliseconds, rounded up. Not thread-safe; owned
// by its SimulatedProvider.
class SimulatedQuota {
public:
    enum class Bucket { Requests, Tokens, InputTokens, OutputTokens };

    // What a request takes from each bucket.
    struct Demand {
        qint64 requests = 1;
        qint64 tokens = 0;
        qint64 inputTokens = 0;
        qint64 outputTokens = 0;
    };

    struct Refusal {
        Bucket bucket = Bucket::Requests;
        qint64 limit = 0;
        qint64 requested = 0;
        qint64 remaining = 0;
        // Until the bucket holds the demand; nullopt when the demand exceeds the limit
        // itself and waiting cannot help.
        std::optional<policy::Nanoseconds> retryAfter;
    };

    SimulatedQuota(const SimulatorQuota &limits, policy::MonoTime start);

    // nullopt when every bucket holds its part of `demand` at `now`. Otherwise the
    // refusal that waiting cannot cure, else the one with the longest wait.
    std::optional<Refusal> check(const Demand &demand, policy::MonoTime now);
    // Takes `demand` at `now`; a bucket may go below zero (debt), as when a request's
    // true output exceeds what admission reserved.
    void consume(const Demand &demand, policy::MonoTime now);
    // What the rate-limit headers report at `now`.
    RateLimitState state(policy::MonoTime now);

private:
    struct TokenBucket {
        double limit = 0; // 0: unlimited
        double level = 0;
    };

    void refill(policy::MonoTime now);
    static qint64 demandFor(Bucket bucket, const Demand &demand);
    policy::Nanoseconds timeToReach(const TokenBucket &bucket, double level) const;

    std::array<TokenBucket, 4> m_buckets;
    policy::MonoTime m_updated;
};

} // namespace sluice::gateway
