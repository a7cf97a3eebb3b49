#include "gateway/sseparser.h"

#include <utility>

namespace sluice::gateway {

SseParser::SseParser(qsizetype maxPendingBytes)
    : m_maxPendingBytes(maxPendingBytes)
{
}

QList<SseEvent> SseParser::feed(QByteArrayView bytes)
{
    QList<SseEvent> events;
    qsizetype position = 0;
    while (position < bytes.size()) {
        if (m_skipNextLineFeed) {
            m_skipNextLineFeed = false;
            if (bytes.at(position) == '\n') {
                ++position;
                continue;
            }
        }
        qsizetype end = position;
        while (end < bytes.size() && bytes.at(end) != '\n' && bytes.at(end) != '\r')
            ++end;
        appendToLine(bytes.sliced(position, end - position));
        if (end == bytes.size())
            break;
        m_skipNextLineFeed = bytes.at(end) == '\r';
        finishLine(events);
        position = end + 1;
    }
    return events;
}

bool SseParser::hasPendingData() const
{
    return m_lineHasBytes || m_eventHasData || !m_eventName.isEmpty() || m_discardingEvent;
}

void SseParser::appendToLine(QByteArrayView bytes)
{
    if (bytes.isEmpty())
        return;
    m_lineHasBytes = true;
    if (m_discardingEvent)
        return;
    if (m_line.size() + m_data.size() + m_eventName.size() + bytes.size() > m_maxPendingBytes) {
        m_discardingEvent = true;
        ++m_droppedEventCount;
        m_line.clear();
        resetEvent();
        return;
    }
    m_line += bytes;
}

void SseParser::finishLine(QList<SseEvent> &events)
{
    const bool lineHadBytes = std::exchange(m_lineHasBytes, false);
    const QByteArray bytes = std::exchange(m_line, QByteArray());
    if (m_discardingEvent) {
        m_discardingEvent = lineHadBytes;
        return;
    }
    QByteArrayView line(bytes);
    if (std::exchange(m_atStreamStart, false) && line.startsWith("\xEF\xBB\xBF"))
        line = line.sliced(3);
    if (line.isEmpty()) {
        if (m_eventHasData)
            events.append(SseEvent{m_eventName, m_data});
        resetEvent();
        return;
    }
    if (line.startsWith(':'))
        return;
    const qsizetype colon = line.indexOf(':');
    const QByteArrayView field = colon < 0 ? line : line.first(colon);
    QByteArrayView value = colon < 0 ? QByteArrayView() : line.sliced(colon + 1);
    if (value.startsWith(' '))
        value = value.sliced(1);
    if (field == "event") {
        m_eventName = value.toByteArray();
    } else if (field == "data") {
        if (m_eventHasData)
            m_data += '\n';
        m_data += value;
        m_eventHasData = true;
    }
}

void SseParser::resetEvent()
{
    m_eventName.clear();
    m_data.clear();
    m_eventHasData = false;
}

} // namespace sluice::gateway
