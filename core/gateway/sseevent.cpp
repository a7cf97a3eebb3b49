#include "gateway/sseevent.h"

namespace sluice::gateway {

QByteArray formatSseEvent(const SseEvent &event)
{
    QByteArray out;
    out.reserve(event.event.size() + event.data.size() + 16);
    if (!event.event.isEmpty())
        out += "event: " + event.event + '\n';
    qsizetype lineStart = 0;
    for (;;) {
        const qsizetype lineEnd = event.data.indexOf('\n', lineStart);
        out += "data: ";
        out += QByteArrayView(event.data).sliced(lineStart, (lineEnd < 0 ? event.data.size() : lineEnd) - lineStart);
        out += '\n';
        if (lineEnd < 0)
            break;
        lineStart = lineEnd + 1;
    }
    out += '\n';
    return out;
}

QByteArray formatSseEvents(const QList<SseEvent> &events)
{
    QByteArray out;
    for (const SseEvent &event : events)
        out += formatSseEvent(event);
    return out;
}

} // namespace sluice::gateway
