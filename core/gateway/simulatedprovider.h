#pragma once

#include "gateway/chatrequest.h"
#include "gateway/simulatedquota.h"
#include "gateway/simulatedreply.h"
#include "gateway/simulatorrandom.h"
#include "gateway/simulatoroptions.h"
#include "policy/clock.h"

#include <QByteArray>

namespace sluice::gateway {

// The simulated provider's model: decides, for each request, what a real OpenAI or
// Anthropic endpoint would answer and when — status or fault, headers (rate-limit
// headers from its own emulated quota), body or SSE events, usage and latencies. It
// opens no socket; a server replays the SimulatedReply.
//
// Deterministic: the same options (seed), the same request sequence and the same clock
// readings give the same replies. Per request, the fault, latencies and ids come from a
// random stream derived from (seed, request index); the answer's length and words from
// one derived from (seed, model and prompt), so a repeated prompt gets the same text.
//
// Order of decisions: unknown model → 404; emulated quota (1 request, and the tokens
// admission would reserve: estimateInputTokens() + reservedOutputTokens()) → 429 with
// Retry-After, nothing consumed; otherwise the request is counted against the quota
// and the fault draw decides; an answered request (None, TruncatedStream) then takes
// its true input + output tokens from the token buckets.
//
// Usage: inputTokens = estimateInputTokens(request) (no prompt caching is emulated, so
// cached and cache-write counts are 0); outputTokens = the length draw capped at the
// request's max tokens (finish reason Length when capped). One choice only (n ignored).
//
// Rates in FaultRates past a cumulative 1 are never drawn. Not thread-safe: use it from
// one thread. `clock` must outlive the provider.
class SimulatedProvider {
public:
    SimulatedProvider(const policy::Clock &clock, SimulatorOptions options);

    SimulatedReply plan(ProviderKind kind, const ChatRequest &request);
    // Parses and validates `body` first (parseChatRequest); a request that fails gets a
    // 400 in the provider's shape, counted in requestCount() but not against the quota.
    SimulatedReply plan(ProviderKind kind, const QByteArray &body);

    const SimulatorOptions &options() const { return m_options; }
    quint64 requestCount() const { return m_requestCount; }
    // The emulated quota as its headers would report it now.
    RateLimitState quotaState();

private:
    static QByteArray requestId(quint64 bits);
    // Status, error body and one chunk after `delay`, then the common headers.
    void finishErrorReply(SimulatedReply &reply, ProviderKind kind, ApiError error, policy::Nanoseconds delay,
                          policy::MonoTime now, const QByteArray &requestIdValue);
    // content-type, request id, rate-limit headers at `now`, openai-processing-ms.
    void addCommonHeaders(SimulatedReply &reply, ProviderKind kind, policy::MonoTime now,
                          const QByteArray &requestIdValue);
    void planAnswer(SimulatedReply &reply, ProviderKind kind, const ChatRequest &request, SimulatorRandom &random,
                    policy::MonoTime now);
    qint64 unixMilliseconds(policy::MonoTime now) const;

    const policy::Clock &m_clock;
    SimulatorOptions m_options;
    SimulatedQuota m_quota;
    qint64 m_unixMillisecondsAtClockZero;
    quint64 m_requestCount = 0;
};

} // namespace sluice::gateway
