#include "statusbar/sourcestatus.h"

namespace sluice::ui {

QString sourceStateText(SourceStatus::State state)
{
    switch (state) {
    case SourceStatus::State::Disconnected:
        return QStringLiteral("disconnected");
    case SourceStatus::State::Connecting:
        return QStringLiteral("connecting");
    case SourceStatus::State::Connected:
        return QStringLiteral("connected");
    case SourceStatus::State::Error:
        return QStringLiteral("error");
    }
    return QStringLiteral("unknown");
}

QString formatUpdateAge(const QDateTime &lastUpdate, const QDateTime &now)
{
    if (!lastUpdate.isValid())
        return QStringLiteral("never");
    const qint64 seconds = lastUpdate.secsTo(now);
    if (seconds < 1)
        return QStringLiteral("just now");
    if (seconds < 120)
        return QStringLiteral("%1 s ago").arg(seconds);
    if (seconds < 2 * 3600)
        return QStringLiteral("%1 min ago").arg(seconds / 60);
    return QStringLiteral("%1 h ago").arg(seconds / 3600);
}

} // namespace sluice::ui
