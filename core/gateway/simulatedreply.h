#pragma once

#include "gateway/apierror.h"
#include "gateway/chatresponse.h"
#include "gateway/ratelimitheaders.h"
#include "gateway/tokenusage.h"
#include "policy/clock.h"

#include <QByteArray>
#include <QList>
#include <QString>

#include <optional>

namespace sluice::gateway {

enum class SimulatedFault {
    None,            // a complete answer
    ModelNotFound,   // 404: the model is not in SimulatorOptions::models
    QuotaExceeded,   // 429: the emulated quota is exhausted (Retry-After when waiting helps)
    RateLimited,     // 429 drawn from FaultRates::rateLimited (Retry-After)
    ServerError,     // 500
    Overloaded,      // 503 (OpenAI) / 529 (Anthropic)
    Timeout,         // no response at all; the connection stays open
    ConnectionReset, // the connection is closed without a response
    TruncatedStream, // the body starts, then the connection is closed mid-body
};

// "none", "model_not_found", "quota_exceeded", "rate_limited", "server_error",
// "overloaded", "timeout", "connection_reset", "truncated_stream".
QString simulatedFaultName(SimulatedFault fault);

// Wait `delay` (after the request arrived, or after the previous chunk), then write
// `bytes`. Empty bytes: only wait.
struct TimedChunk {
    policy::Nanoseconds delay{0};
    QByteArray bytes;
};

// Everything the socket layer needs to act out one simulated answer.
//
// How to send it: unless neverResponds, write the status line and headers with the
// first chunk (a non-stream body declares Content-Length: body.size()), then each chunk
// after its delay; afterwards close the connection abruptly if closesConnection,
// otherwise end the response normally.
struct SimulatedReply {
    quint64 requestIndex = 0; // 0-based position in the provider's request sequence
    SimulatedFault fault = SimulatedFault::None;
    int httpStatus = 200;     // 0 when no response is sent (Timeout, ConnectionReset)
    // content-type, the request-id header, the emulated quota's rate-limit headers,
    // retry-after on 429s when waiting helps, and for OpenAI openai-processing-ms.
    // No content-length or transfer-encoding: those belong to the HTTP layer.
    HeaderList headers;
    bool stream = false;      // body is an SSE stream (only for successful answers)
    // The complete body: the JSON answer, the SSE bytes, or the error JSON. Empty when
    // no response is sent.
    QByteArray body;
    // What is written and when: non-stream and error bodies as one chunk; a stream as
    // one chunk per event; a TruncatedStream cut short; ConnectionReset a lone wait.
    QList<TimedChunk> chunks;
    bool closesConnection = false; // ConnectionReset, TruncatedStream
    bool neverResponds = false;    // Timeout

    // The answer (also for a TruncatedStream, of which only part is sent). Empty on errors.
    QString text;
    policy::TokenUsage usage;
    FinishReason finishReason = FinishReason::Stop;
    std::optional<ApiError> error;

    // Latency model: the first output token arrives timeToFirstToken after the request;
    // interTokenDelays[i] separates output token i from token i + 1 (usage.outputTokens - 1
    // entries). A non-stream answer is sent whole once the last token is generated.
    policy::Nanoseconds timeToFirstToken{0};
    QList<policy::Nanoseconds> interTokenDelays;

    // The sum of the chunk delays: when the last byte is written.
    policy::Nanoseconds totalDuration() const;
    // The first header named `name` (lower case); empty when absent.
    QByteArray header(QByteArrayView name) const;
};

} // namespace sluice::gateway
