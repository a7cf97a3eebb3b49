#pragma once

#include "policy/clock.h"

#include <optional>
#include <random>

namespace sluice::policy {

// Retry pacing for one upstream. Negative durations are treated as 0; a multiplier
// below 1 as 1; maxAttempts below 1 as 1.
struct BackoffPolicy {
    // Ceiling of the first retry's delay.
    Nanoseconds base = std::chrono::milliseconds(500);
    // No ceiling grows beyond this (a server's Retry-After may; see maxRetryAfter).
    Nanoseconds cap = std::chrono::seconds(8);
    // Growth of the ceiling per attempt.
    double multiplier = 2.0;
    // Tries in total, the first one included (gRPC's convention): 3 allows 2 retries.
    int maxAttempts = 3;
    // The longest server Retry-After worth waiting for; longer means give up now.
    Nanoseconds maxRetryAfter = std::chrono::seconds(60);
};

struct RetryDelay {
    enum class Kind {
        Retry,             // wait `delay`, then try again
        AttemptsExhausted, // give up: no attempts left
        RetryAfterTooLong, // give up: the server asked for more than maxRetryAfter
    };
    Kind kind = Kind::Retry;
    Nanoseconds delay{0}; // meaningful only for Retry

    bool shouldRetry() const { return kind == Kind::Retry; }
};

// Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff
// and Jitter"): after the attempt numbered `attempt` (0 = the first try) failed, wait a
// uniform random time in [0, ceiling(attempt)], ceiling(n) = min(cap, base * multiplier^n).
// A server's Retry-After is a floor: the delay is max(jittered delay, Retry-After), which
// may exceed cap, unless it exceeds maxRetryAfter, in which case the answer is give up.
// Running out of attempts is checked first.
//
// Immutable after construction; const methods are thread-safe, the rng is the caller's.
class Backoff {
public:
    explicit Backoff(BackoffPolicy policy = {});

    const BackoffPolicy &policy() const { return m_policy; }

    // min(cap, base * multiplier^attempt); saturates at cap for any attempt, however large.
    // A negative attempt counts as 0.
    Nanoseconds ceiling(int attempt) const;

    // `attempt` is the 0-based number of the try that just failed.
    RetryDelay nextDelay(int attempt, std::optional<Nanoseconds> serverRetryAfter, std::mt19937_64 &rng) const;

private:
    BackoffPolicy m_policy;
};

} // namespace sluice::policy
