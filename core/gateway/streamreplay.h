#pragma once

#include "gateway/apierror.h"
#include "gateway/providerprotocol.h"
#include "gateway/sseevent.h"
#include "policy/result.h"

#include <QJsonObject>
#include <QList>
#include <QStringList>

namespace sluice::gateway {

struct StreamReplayOptions {
    // OpenAI stream_options.include_usage: every chunk carries "usage": null and a last
    // chunk with "choices": [] carries the usage. Anthropic streams always carry usage.
    bool includeUsage = false;
    // Generated text is cut where a word starts, and no piece is longer than this.
    qsizetype maxPieceCharacters = 32;
};

// The stream a client would have received for a complete non-stream response.
struct ReplayedStream {
    QList<SseEvent> events;
    // Indexes into `events` of the events that carry generated content (a piece of text,
    // refusal, thinking, or tool-call arguments), in order: where a live provider would
    // pause between tokens.
    QList<qsizetype> contentEventIndexes;

    QByteArray bytes() const { return formatSseEvents(events); }
};

// Replays a cached non-stream response body as the provider's SSE stream. Pure;
// thread-safe.
// OpenAI (chat.completion → chat.completion.chunk): per choice, a chunk with
// {"role":"assistant","content":""} (content null when the message had none), the
// content / refusal pieces, for each tool call a chunk with its id, type and name then
// its argument pieces, and a chunk with an empty delta and the finish_reason; then the
// usage chunk when includeUsage; then "data: [DONE]". id, created, model,
// system_fingerprint and service_tier are copied to every chunk; logprobs are not
// replayed (null).
// Anthropic: message_start (the message with empty content, null stop_reason and the
// input usage, output_tokens at most 1), per content block content_block_start, deltas
// (text_delta, input_json_delta with the compact input JSON, thinking_delta then
// signature_delta; other block types arrive whole in content_block_start) and
// content_block_stop, one ping after the first block start (or after message_start
// when there is no block), message_delta (stop_reason, stop_sequence and
// usage.output_tokens), message_stop.
// Fails with a reason when `response` is not that provider's chat response shape.
Result<ReplayedStream, QString> replayAsStream(ProviderKind kind, const QJsonObject &response,
                                               const StreamReplayOptions &options = {});

// `text` cut into pieces that concatenate back to it: a new piece starts where a word
// starts (whitespace belongs to the word after it) or when a piece reaches
// maxPieceCharacters (never between the two halves of a surrogate pair).
QStringList splitForStreaming(const QString &text, qsizetype maxPieceCharacters);

// The "data: [DONE]" event that ends an OpenAI stream.
SseEvent openAIDoneEvent();
// A mid-stream error event: OpenAI `data: {"error":{…}}`, Anthropic `event: error`.
SseEvent streamErrorEvent(ProviderKind kind, const ApiError &error);

} // namespace sluice::gateway
