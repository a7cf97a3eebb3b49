#include "http/proxysettings.h"

#include <QHostAddress>
#include <QRegularExpression>

namespace sluice::http {

namespace {

constexpr int kDefaultProxyPort = 1080;

QString pick(const QHash<QString, QString> &variables, const QString &lowerName)
{
    const QString lower = variables.value(lowerName).trimmed();
    if (!lower.isEmpty())
        return lower;
    return variables.value(lowerName.toUpper()).trimmed();
}

bool isLoopbackHost(const QString &host)
{
    if (host == QLatin1String("localhost") || host.endsWith(QLatin1String(".localhost")))
        return true;
    const QHostAddress address(host);
    return !address.isNull() && address.isLoopback();
}

// "*.example.com:8080" → "example.com"; "[::1]" → "::1".
QString normalizedNoProxyEntry(QString entry)
{
    if (entry.startsWith(QLatin1Char('['))) {
        const qsizetype close = entry.indexOf(QLatin1Char(']'));
        return close > 0 ? entry.mid(1, close - 1) : QString();
    }
    if (entry.count(QLatin1Char(':')) == 1)
        entry.truncate(entry.indexOf(QLatin1Char(':')));
    if (entry.startsWith(QLatin1String("*.")))
        entry.remove(0, 2);
    while (entry.startsWith(QLatin1Char('.')))
        entry.remove(0, 1);
    return entry;
}

} // namespace

ProxySettings ProxySettings::fromEnvironment()
{
    QHash<QString, QString> variables;
    for (const char *name : {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY"}) {
        if (qEnvironmentVariableIsSet(name))
            variables.insert(QString::fromLatin1(name), qEnvironmentVariable(name));
    }
    return fromValues(variables);
}

ProxySettings ProxySettings::fromValues(const QHash<QString, QString> &variables)
{
    ProxySettings settings;
    settings.httpProxy = parseProxyUrl(pick(variables, QStringLiteral("http_proxy")));
    settings.httpsProxy = parseProxyUrl(pick(variables, QStringLiteral("https_proxy")));
    static const QRegularExpression separators(QStringLiteral("[,\\s]+"));
    const QStringList entries = pick(variables, QStringLiteral("no_proxy")).split(separators, Qt::SkipEmptyParts);
    for (const QString &entry : entries) {
        const QString trimmed = entry.trimmed().toLower();
        if (!trimmed.isEmpty())
            settings.noProxy.append(trimmed);
    }
    return settings;
}

QUrl ProxySettings::parseProxyUrl(const QString &value)
{
    const QString text = value.trimmed();
    if (text.isEmpty())
        return {};
    QUrl url(text.contains(QLatin1String("://")) ? text : QStringLiteral("http://") + text, QUrl::StrictMode);
    if (!url.isValid() || url.scheme().toLower() != QLatin1String("http") || url.host().isEmpty())
        return {};
    url.setScheme(QStringLiteral("http"));
    if (url.port() < 0)
        url.setPort(kDefaultProxyPort);
    url.setPath(QString());
    url.setQuery(QString());
    url.setFragment(QString());
    return url;
}

bool ProxySettings::bypassesProxy(const QString &host) const
{
    const QString name = host.toLower();
    if (name.isEmpty() || isLoopbackHost(name))
        return true;
    for (const QString &rawEntry : noProxy) {
        if (rawEntry == QLatin1String("*"))
            return true;
        const QString entry = normalizedNoProxyEntry(rawEntry);
        if (entry.isEmpty())
            continue;
        if (name == entry || name.endsWith(QLatin1Char('.') + entry))
            return true;
    }
    return false;
}

std::optional<QUrl> ProxySettings::proxyFor(const QUrl &target) const
{
    const QString scheme = target.scheme().toLower();
    const QUrl *proxy = nullptr;
    if (scheme == QLatin1String("http"))
        proxy = &httpProxy;
    else if (scheme == QLatin1String("https"))
        proxy = &httpsProxy;
    if (!proxy || !proxy->isValid() || proxy->host().isEmpty())
        return std::nullopt;
    if (bypassesProxy(target.host()))
        return std::nullopt;
    return *proxy;
}

QByteArray ProxySettings::proxyAuthorization(const QUrl &proxy)
{
    const QString user = proxy.userName(QUrl::FullyDecoded);
    if (user.isEmpty())
        return {};
    const QByteArray credentials = (user + QLatin1Char(':') + proxy.password(QUrl::FullyDecoded)).toUtf8();
    return "Basic " + credentials.toBase64();
}

} // namespace sluice::http
