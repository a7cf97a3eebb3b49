#include "gateway/unixsignals.h"

#include <QSocketNotifier>

#include <csignal>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace sluice::gateway {

namespace {

// Written by the handler, read by the watcher; the only state a handler may touch.
volatile int g_signalWriteFd = -1; // NOLINT: a signal handler needs a global

void onSignal(int signalNumber)
{
    const int savedErrno = errno;
    const unsigned char byte = static_cast<unsigned char>(signalNumber);
    if (g_signalWriteFd >= 0)
        (void)!::write(g_signalWriteFd, &byte, 1);
    errno = savedErrno;
}

constexpr std::array<int, 3> kSignals{SIGTERM, SIGINT, SIGHUP};

} // namespace

UnixSignals::UnixSignals(QObject *parent)
    : QObject(parent)
{
    int sockets[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) != 0)
        return;
    m_sockets = {sockets[0], sockets[1]};
    ::fcntl(m_sockets[1], F_SETFL, ::fcntl(m_sockets[1], F_GETFL) | O_NONBLOCK);
    g_signalWriteFd = m_sockets[1];
    struct sigaction action = {};
    action.sa_handler = onSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    for (const int number : kSignals)
        ::sigaction(number, &action, nullptr);
    m_notifier = new QSocketNotifier(m_sockets[0], QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &UnixSignals::onReadable);
}

UnixSignals::~UnixSignals()
{
    for (const int number : kSignals)
        ::signal(number, SIG_DFL);
    g_signalWriteFd = -1;
    for (const int fd : m_sockets) {
        if (fd >= 0)
            ::close(fd);
    }
}

void UnixSignals::onReadable()
{
    unsigned char byte = 0;
    if (::read(m_sockets[0], &byte, 1) != 1)
        return;
    if (byte == SIGHUP)
        emit reloadRequested();
    else
        emit terminateRequested(byte);
}

} // namespace sluice::gateway
