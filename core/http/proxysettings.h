#pragma once

#include <QHash>
#include <QString>
#include <QStringList>
#include <QUrl>

#include <optional>

namespace sluice::http {

// Which forward proxy, if any, an upstream call goes through, curl-style from the
// environment: http_proxy / HTTP_PROXY for http URLs (the request goes to the proxy in
// absolute form), https_proxy / HTTPS_PROXY for https URLs (a CONNECT tunnel, then TLS
// to the origin through it), no_proxy / NO_PROXY for the exceptions. A lower-case
// variable wins over its upper-case twin when it is set and not empty.
//
// Proxy values: "[http://][user:password@]host[:port]"; a missing scheme means http,
// a missing port 1080 (as curl). Only http:// proxies are supported; any other scheme,
// or a value that does not parse, is ignored (no proxy). Credentials become
// Proxy-Authorization: Basic.
//
// no_proxy: a comma (or space) separated list of host names, domain suffixes
// (".example.com", "*.example.com" and "example.com" all match example.com and its
// subdomains) and literal IP addresses, compared case-insensitively; ports given in an
// entry are ignored; "*" alone turns proxying off. CIDR ranges are not supported.
// Loopback targets (localhost, *.localhost, 127.0.0.0/8, ::1) are always direct.
//
// A value type.
struct ProxySettings {
    QUrl httpProxy;  // normalized (scheme http, explicit port); empty: no proxy for http URLs
    QUrl httpsProxy; // same, for https URLs
    QStringList noProxy; // lower case, trimmed, without empty entries

    // Reads the six variables of the process environment.
    static ProxySettings fromEnvironment();
    // The same from a variable name → value map (names as in the environment, e.g.
    // "https_proxy", "NO_PROXY"); for tests and for configuration files.
    static ProxySettings fromValues(const QHash<QString, QString> &variables);
    // A proxy value parsed and normalized as described above; empty when unusable.
    static QUrl parseProxyUrl(const QString &value);

    // The proxy to use for `target`, or nullopt to connect directly.
    std::optional<QUrl> proxyFor(const QUrl &target) const;
    // Whether `host` (as in a URL, IPv6 without brackets) is exempt from proxying.
    bool bypassesProxy(const QString &host) const;
    // "Basic <base64(user:password)>" for a proxy URL with a user name; empty otherwise.
    static QByteArray proxyAuthorization(const QUrl &proxy);
};

} // namespace sluice::http
