#include "http/httplistensocket.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace sluice::http {

namespace {

HttpListenError systemFailure(const char *step, const QHostAddress &address, quint16 port, int error)
{
    HttpListenError failure;
    failure.systemError = error;
    switch (error) {
    case EADDRINUSE: failure.kind = HttpListenError::Kind::AddressInUse; break;
    case EACCES:
    case EPERM: failure.kind = HttpListenError::Kind::PermissionDenied; break;
    case EADDRNOTAVAIL: failure.kind = HttpListenError::Kind::AddressNotAvailable; break;
    default: failure.kind = HttpListenError::Kind::Other; break;
    }
    failure.message = QStringLiteral("cannot listen on %1:%2: %3 (%4)")
                          .arg(address.toString())
                          .arg(port)
                          .arg(QString::fromLocal8Bit(std::strerror(error)), QString::fromLatin1(step));
    return failure;
}

} // namespace

Result<int, HttpListenError> openListeningSocket(const QHostAddress &address, quint16 port, bool reusePort,
                                                 int backlog)
{
    sockaddr_storage storage{};
    socklen_t length = 0;
    int family = AF_INET;
    int v6only = 1;
    if (address == QHostAddress(QHostAddress::Any) || address.protocol() == QAbstractSocket::IPv6Protocol) {
        family = AF_INET6;
        auto *v6 = reinterpret_cast<sockaddr_in6 *>(&storage);
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        if (address == QHostAddress(QHostAddress::Any)) {
            v6->sin6_addr = in6addr_any;
            v6only = 0;
        } else {
            const Q_IPV6ADDR bytes = address.toIPv6Address();
            std::memcpy(&v6->sin6_addr, bytes.c, sizeof bytes.c);
            v6->sin6_scope_id = address.scopeId().toUInt();
        }
        length = sizeof(sockaddr_in6);
    } else if (address.protocol() == QAbstractSocket::IPv4Protocol) {
        auto *v4 = reinterpret_cast<sockaddr_in *>(&storage);
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        v4->sin_addr.s_addr = htonl(address.toIPv4Address());
        length = sizeof(sockaddr_in);
    } else {
        return unexpected(HttpListenError{HttpListenError::Kind::InvalidAddress,
                                          QStringLiteral("cannot listen on '%1': not an IP address").arg(address.toString()),
                                          0});
    }

    const int descriptor = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (descriptor < 0)
        return unexpected(systemFailure("socket", address, port, errno));
    const auto fail = [&](const char *step) {
        const int error = errno;
        ::close(descriptor);
        return systemFailure(step, address, port, error);
    };
    const int on = 1;
    if (::setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0)
        return unexpected(fail("SO_REUSEADDR"));
    if (reusePort && ::setsockopt(descriptor, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0)
        return unexpected(fail("SO_REUSEPORT"));
    if (family == AF_INET6 && ::setsockopt(descriptor, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only) != 0)
        return unexpected(fail("IPV6_V6ONLY"));
    if (::bind(descriptor, reinterpret_cast<const sockaddr *>(&storage), length) != 0)
        return unexpected(fail("bind"));
    if (::listen(descriptor, backlog > 0 ? backlog : SOMAXCONN) != 0)
        return unexpected(fail("listen"));
    return descriptor;
}

quint16 boundPort(int descriptor)
{
    sockaddr_storage storage{};
    socklen_t length = sizeof storage;
    if (::getsockname(descriptor, reinterpret_cast<sockaddr *>(&storage), &length) != 0)
        return 0;
    if (storage.ss_family == AF_INET6)
        return ntohs(reinterpret_cast<const sockaddr_in6 *>(&storage)->sin6_port);
    if (storage.ss_family == AF_INET)
        return ntohs(reinterpret_cast<const sockaddr_in *>(&storage)->sin_port);
    return 0;
}

} // namespace sluice::http
