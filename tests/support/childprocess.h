#pragma once

// What every fixture that runs a server as a child process needs (header-only): a free
// port on 127.0.0.1, a start that retries on another port when the chosen one was taken
// meanwhile, and a stop by pid (SIGTERM, then SIGKILL after a grace period).

#include <QHostAddress>
#include <QList>
#include <QProcess>
#include <QString>
#include <QTcpServer>

#include <csignal>
#include <functional>

#include <sys/types.h>

namespace sluice::test {

// A port nothing listens on right now on 127.0.0.1; 0 when none could be found.
// Another process may take it before the child binds it: see launchOnFreePort().
inline quint16 freeLocalPort()
{
    QTcpServer probe;
    if (!probe.listen(QHostAddress::LocalHost, 0))
        return 0;
    return probe.serverPort();
}

// Picks a free port into `port` and calls `launch()`; when that fails because the port
// was taken meanwhile (`error` says "address already in use", in any case), tries again
// with another port, five attempts in all. `error` is the fixture's error text, which
// `launch()` sets on failure.
inline bool launchOnFreePort(quint16 &port, QString &error, const std::function<bool()> &launch)
{
    for (int attempt = 0; attempt < 5; ++attempt) {
        port = freeLocalPort();
        if (port == 0) {
            error = QStringLiteral("no free port on 127.0.0.1");
            return false;
        }
        if (launch())
            return true;
        if (!error.contains(QLatin1String("address already in use"), Qt::CaseInsensitive))
            return false;
    }
    return false;
}

// SIGTERM to `process`; if it has not exited within `graceMs`, SIGKILL to `alsoKill`
// (e.g. its workers) and to it. Does nothing when it is not running.
inline void terminateChild(QProcess &process, int graceMs, const QList<pid_t> &alsoKill = {})
{
    if (process.state() == QProcess::NotRunning)
        return;
    const pid_t pid = pid_t(process.processId());
    ::kill(pid, SIGTERM);
    if (process.waitForFinished(graceMs))
        return;
    for (const pid_t other : alsoKill)
        ::kill(other, SIGKILL);
    ::kill(pid, SIGKILL);
    process.waitForFinished(graceMs);
}

} // namespace sluice::test
