#pragma once

#include "policy/result.h"

#include <QHostAddress>
#include <QString>

namespace sluice::http {

struct HttpListenError {
    enum class Kind {
        AddressInUse,        // EADDRINUSE: another process (or server) holds the port
        PermissionDenied,    // EACCES/EPERM: a port below 1024 without the capability
        AddressNotAvailable, // EADDRNOTAVAIL: the address is not one of this host's
        InvalidAddress,      // a null or unsupported QHostAddress
        AlreadyListening,
        Other,
    };
    Kind kind = Kind::Other;
    QString message;     // "cannot listen on 127.0.0.1:8080: Address already in use"
    int systemError = 0; // errno, when it came from a system call
};

// A non-blocking, close-on-exec TCP socket bound to address:port and listening,
// ready for QTcpServer::setSocketDescriptor(); the caller owns the descriptor.
// SO_REUSEADDR is always set (restart while old connections are in TIME_WAIT);
// SO_REUSEPORT when `reusePort`. QHostAddress::Any binds dual-stack ("::" with
// IPV6_V6ONLY off), AnyIPv6 IPv6 only, AnyIPv4 IPv4 only.
Result<int, HttpListenError> openListeningSocket(const QHostAddress &address, quint16 port, bool reusePort,
                                                 int backlog);

// The port a bound socket got (for port 0); 0 on failure.
quint16 boundPort(int descriptor);

} // namespace sluice::http
