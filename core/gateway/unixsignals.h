#pragma once

#include <QObject>

#include <array>

class QSocketNotifier;

namespace sluice::gateway {

// Turns SIGTERM, SIGINT and SIGHUP into Qt signals on the thread that created the
// watcher, through a socket pair (the only async-signal-safe way into an event loop).
// At most one watcher per process: it installs process-wide handlers, and restores the
// default ones when destroyed.
class UnixSignals : public QObject {
    Q_OBJECT
public:
    explicit UnixSignals(QObject *parent = nullptr);
    ~UnixSignals() override;
    // False if the socket pair or the handlers could not be installed.
    bool isActive() const { return m_notifier != nullptr; }

signals:
    void terminateRequested(int signalNumber); // SIGTERM, SIGINT
    void reloadRequested();                    // SIGHUP

private:
    void onReadable();

    std::array<int, 2> m_sockets{-1, -1};
    QSocketNotifier *m_notifier = nullptr;
};

} // namespace sluice::gateway
