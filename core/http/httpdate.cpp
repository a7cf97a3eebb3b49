#include "http/httpdate.h"


#include <cstdio>

namespace sluice::http {

QByteArray HttpDate::format(const QDateTime &time)
{
    if (!time.isValid())
        return {};
    static constexpr const char *dayNames[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    static constexpr const char *monthNames[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const QDateTime utc = time.toUTC();
    const QDate date = utc.date();
    const QTime clock = utc.time();
    char buffer[40];
    const int length = std::snprintf(buffer, sizeof buffer, "%s, %02d %s %04d %02d:%02d:%02d GMT",
                                     dayNames[date.dayOfWeek() - 1], date.day(), monthNames[date.month() - 1],
                                     date.year(), clock.hour(), clock.minute(), clock.second());
    return QByteArray(buffer, length);
}

QByteArray HttpDate::now()
{
    thread_local qint64 cachedSecond = -1;
    thread_local QByteArray cachedText;
    const qint64 millis = QDateTime::currentMSecsSinceEpoch();
    const qint64 second = millis / 1000;
    if (second != cachedSecond) {
        cachedText = format(QDateTime::fromMSecsSinceEpoch(second * 1000, Qt::UTC));
        cachedSecond = second;
    }
    return cachedText;
}

} // namespace sluice::http
