#pragma once

#include <QByteArray>
#include <QList>

namespace sluice::gateway {

// One server-sent event as both providers use them: OpenAI sends only data lines,
// Anthropic names every event ("message_start", "content_block_delta", ...).
struct SseEvent {
    QByteArray event; // the "event:" field; empty when the event had none
    QByteArray data;  // the "data:" lines joined with "\n"

    friend bool operator==(const SseEvent &, const SseEvent &) = default;
};

// The wire form: "event: <name>\n" (only when named), one "data: <line>\n" per line of
// data, then the blank line that ends the event.
QByteArray formatSseEvent(const SseEvent &event);
QByteArray formatSseEvents(const QList<SseEvent> &events);

} // namespace sluice::gateway
