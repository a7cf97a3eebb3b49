#pragma once

#include <QString>
#include <QStringList>

namespace sluice::gateway {

// A random quantity of the simulation. Samples are never negative.
struct Distribution {
    enum class Shape {
        Fixed,     // always `mean`
        Uniform,   // uniform on [mean - spread, mean + spread]
        Normal,    // mean `mean`, standard deviation `spread`
        LogNormal, // right-skewed like real latencies; mean and standard deviation of the
                   // samples themselves are `mean` and `spread`
    };
    Shape shape = Shape::Fixed;
    double mean = 0;
    double spread = 0;
};

// Per-request fault probabilities, each in [0, 1], summing to at most 1; one draw per
// request decides which (if any) applies.
struct FaultRates {
    double rateLimited = 0;      // 429 rate_limit_error with Retry-After: retryAfterSeconds
    double serverError = 0;      // 500
    double overloaded = 0;       // 503 (OpenAI) / 529 (Anthropic)
    double timeout = 0;          // accepts the request and never answers
    double connectionReset = 0;  // closes the connection without answering
    double truncatedStream = 0;  // starts the answer, then closes mid-body
    qint64 retryAfterSeconds = 1;
};

// The provider quota the simulator emulates, per minute; 0 means unlimited and that
// limit's headers are not sent. Buckets refill continuously (limit/60 a second), as
// both providers describe their limits.
struct SimulatorQuota {
    qint64 requestsPerMinute = 0;
    qint64 tokensPerMinute = 0;        // input + output
    qint64 inputTokensPerMinute = 0;   // reported by the Anthropic shape only
    qint64 outputTokensPerMinute = 0;  // reported by the Anthropic shape only
};

struct SimulatorOptions {
    // Same seed + same request sequence (and clock readings) → same replies.
    quint64 seed = 1;
    // When > 0, sets perTokenLatencyMilliseconds.mean to 1000 / tokensPerSecond; 0 keeps
    // perTokenLatencyMilliseconds.mean as given.
    double tokensPerSecond = 50;
    Distribution timeToFirstTokenMilliseconds{Distribution::Shape::LogNormal, 400, 150};
    Distribution perTokenLatencyMilliseconds{Distribution::Shape::Normal, 20, 5};
    // Answer length before the max_tokens cap; rounded, at least 1. Drawn from the seed
    // and the prompt, so the same prompt gets the same answer.
    Distribution outputTokens{Distribution::Shape::LogNormal, 200, 120};
    FaultRates faults;
    SimulatorQuota quota;
    // Models it serves; empty serves any. Others get 404 not found.
    QStringList models;
    // The Unix time in milliseconds at the clock's zero, for "created" and Anthropic's
    // reset times; negative: derived from the system clock when the provider is built.
    qint64 unixMillisecondsAtClockZero = -1;

    // Empty when usable; otherwise what is wrong, naming the field
    // ("faults: rates must sum to at most 1").
    QString validationError() const;
};

} // namespace sluice::gateway
