#pragma once

#include "gateway/sseevent.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QList>

namespace sluice::gateway {

// Incremental parser for a text/event-stream body, following the WHATWG rules: bytes
// may arrive split anywhere (mid-line, between "\r" and "\n"); lines end in "\r\n",
// "\n" or "\r"; a leading UTF-8 BOM is skipped; ":" lines are comments; "event" and
// "data" fields are kept ("id", "retry" and unknown fields are ignored); a blank line
// dispatches the event, and an event without any data line is not dispatched. Garbage
// is skipped the same way: a line that is no known field changes nothing.
//
// Memory is bounded: when the bytes of an undispatched event (its pending line, name and
// data) would exceed maxPendingBytes, the event is dropped, counted in
// droppedEventCount(), and parsing resumes after the next blank line.
//
// Not thread-safe; one parser per stream.
class SseParser {
public:
    static constexpr qsizetype defaultMaxPendingBytes = qsizetype{1} << 20;

    explicit SseParser(qsizetype maxPendingBytes = defaultMaxPendingBytes);

    // Consumes `bytes` and returns the events they completed, in order.
    QList<SseEvent> feed(QByteArrayView bytes);

    // True while an event or line is incomplete: a stream that ends now was cut short.
    bool hasPendingData() const;
    qsizetype droppedEventCount() const { return m_droppedEventCount; }
    qsizetype maxPendingBytes() const { return m_maxPendingBytes; }

private:
    void appendToLine(QByteArrayView bytes);
    void finishLine(QList<SseEvent> &events);
    void resetEvent();

    qsizetype m_maxPendingBytes;
    QByteArray m_line;
    QByteArray m_eventName;
    QByteArray m_data;
    bool m_lineHasBytes = false;
    bool m_eventHasData = false;
    bool m_skipNextLineFeed = false;
    bool m_discardingEvent = false;
    bool m_atStreamStart = true;
    qsizetype m_droppedEventCount = 0;
};

} // namespace sluice::gateway
