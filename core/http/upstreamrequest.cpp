#include "http/upstreamrequest.h"

#include <array>

namespace sluice::http {

namespace {

// Anything that would end or split the request line.
bool hasLineBreakOrSpace(QByteArrayView text)
{
    for (const char c : text) {
        if (c == ' ' || c == '\r' || c == '\n' || c == '\t' || c == '\0')
            return true;
    }
    return false;
}

} // namespace

bool isManagedUpstreamRequestHeader(QByteArrayView name)
{
    static constexpr std::array<QByteArrayView, 9> managed{
        "connection", "keep-alive", "transfer-encoding", "te",    "upgrade",
        "proxy-connection", "host", "content-length",   "expect"};
    for (const QByteArrayView field : managed) {
        if (HttpHeaders::namesEqual(field, name))
            return true;
    }
    return false;
}

Result<QByteArray, QString> formatUpstreamRequest(const UpstreamRequest &request, UpstreamTargetForm form,
                                                  const QByteArray &proxyAuthorization)
{
    const QUrl &url = request.url;
    if (!url.isValid())
        return unexpected(QStringLiteral("invalid URL: %1").arg(url.errorString()));
    const QString scheme = url.scheme().toLower();
    if (scheme != QLatin1String("http") && scheme != QLatin1String("https"))
        return unexpected(QStringLiteral("unsupported URL scheme \"%1\" (http or https only)").arg(url.scheme()));
    const QByteArray host = url.host(QUrl::FullyEncoded).toLatin1();
    if (host.isEmpty())
        return unexpected(QStringLiteral("URL has no host: %1").arg(url.toString(QUrl::RemoveUserInfo)));
    if (!url.userInfo().isEmpty())
        return unexpected(QStringLiteral("URL user info is not supported; send an Authorization header instead"));
    if (!HttpHeaders::isValidName(request.method))
        return unexpected(QStringLiteral("invalid method \"%1\"").arg(QString::fromLatin1(request.method.left(32))));
    if (request.method == "CONNECT")
        return unexpected(QStringLiteral("method CONNECT is not supported"));

    const int defaultPort = scheme == QLatin1String("https") ? 443 : 80;
    const int port = url.port(defaultPort);
    QByteArray authority = host.contains(':') ? '[' + host + ']' : host;
    if (port != defaultPort)
        authority += ':' + QByteArray::number(port);

    QByteArray target = url.path(QUrl::FullyEncoded).toLatin1();
    if (target.isEmpty())
        target = "/";
    if (url.hasQuery())
        target += '?' + url.query(QUrl::FullyEncoded).toLatin1();
    if (!target.startsWith('/') || hasLineBreakOrSpace(target))
        return unexpected(QStringLiteral("invalid request target \"%1\"").arg(QString::fromLatin1(target.left(64))));
    if (form == UpstreamTargetForm::Absolute)
        target = scheme.toLatin1() + "://" + authority + target;

    HttpHeaders headers;
    for (const auto &[name, value] : request.headers) {
        if (!HttpHeaders::isValidName(name))
            return unexpected(QStringLiteral("invalid header name \"%1\"").arg(QString::fromLatin1(name.left(64))));
        if (!HttpHeaders::isValidValue(value))
            return unexpected(QStringLiteral("invalid value in header %1").arg(QString::fromLatin1(name)));
        if (isManagedUpstreamRequestHeader(name))
            continue;
        if (!proxyAuthorization.isEmpty() && HttpHeaders::namesEqual(name, "proxy-authorization"))
            continue;
        headers.add(name, value);
    }
    headers.add("Host", authority);
    headers.add("Content-Length", QByteArray::number(request.body.size()));
    headers.add("Connection", "keep-alive");
    if (!proxyAuthorization.isEmpty()) {
        if (!HttpHeaders::isValidValue(proxyAuthorization))
            return unexpected(QStringLiteral("invalid proxy credentials"));
        headers.add("Proxy-Authorization", proxyAuthorization);
    }

    QByteArray out;
    out.reserve(request.method.size() + target.size() + 64 * (headers.size() + 1) + request.body.size());
    out += request.method;
    out += ' ';
    out += target;
    out += " HTTP/1.1\r\n";
    headers.appendTo(out);
    out += "\r\n";
    out += request.body;
    return out;
}

} // namespace sluice::http
