#include "models/connectionprofile.h"

#include <QUrl>

#include <algorithm>

namespace sluice::models {

namespace {

void checkHttpUrl(const QString &text, const QString &field, QList<FieldIssue> &issues)
{
    const QUrl url(text, QUrl::StrictMode);
    if (!url.isValid()) {
        issues.append({field, QStringLiteral("\"%1\" is not a valid URL: %2").arg(text, url.errorString())});
        return;
    }
    const QString scheme = url.scheme().toLower();
    if (scheme != QLatin1String("http") && scheme != QLatin1String("https")) {
        issues.append({field, QStringLiteral("\"%1\" must be an http or https URL").arg(text)});
        return;
    }
    if (url.host().isEmpty())
        issues.append({field, QStringLiteral("\"%1\" has no host").arg(text)});
}

} // namespace

QString environmentTagName(EnvironmentTag tag)
{
    switch (tag) {
    case EnvironmentTag::Production:
        return QStringLiteral("production");
    case EnvironmentTag::Staging:
        return QStringLiteral("staging");
    case EnvironmentTag::Development:
        return QStringLiteral("development");
    case EnvironmentTag::Sandbox:
        return QStringLiteral("sandbox");
    case EnvironmentTag::Custom:
        return QStringLiteral("custom");
    }
    return {};
}

std::optional<EnvironmentTag> environmentTagFromName(const QString &name)
{
    for (EnvironmentTag tag : {EnvironmentTag::Production, EnvironmentTag::Staging, EnvironmentTag::Development,
                               EnvironmentTag::Sandbox, EnvironmentTag::Custom}) {
        if (name.compare(environmentTagName(tag), Qt::CaseInsensitive) == 0)
            return tag;
    }
    return std::nullopt;
}

QColor defaultTagColour(EnvironmentTag tag)
{
    switch (tag) {
    case EnvironmentTag::Production:
        return QColor(0xd3, 0x2f, 0x2f);
    case EnvironmentTag::Staging:
        return QColor(0xf5, 0x7c, 0x00);
    case EnvironmentTag::Development:
        return QColor(0x19, 0x76, 0xd2);
    case EnvironmentTag::Sandbox:
        return QColor(0x38, 0x8e, 0x3c);
    case EnvironmentTag::Custom:
        return QColor(0x75, 0x75, 0x75);
    }
    return {};
}

QString ConnectionProfile::environmentLabel() const
{
    return environment == EnvironmentTag::Custom ? customEnvironment : environmentTagName(environment);
}

QColor ConnectionProfile::effectiveColour() const
{
    return colour.isValid() ? colour : defaultTagColour(environment);
}

bool ConnectionProfile::postgresIsSecret() const
{
    return postgresConnection && connectionStringHoldsPassword(*postgresConnection);
}

QString FieldIssue::toString() const
{
    return field + QStringLiteral(": ") + message;
}

bool connectionStringHoldsPassword(const QString &connection)
{
    // Any mention of "password" counts ("password=", "?password=", a PGPASSWORD-like
    // word): a false positive only moves a harmless string into the secret store.
    if (connection.contains(QLatin1String("password"), Qt::CaseInsensitive))
        return true;
    const qsizetype schemeEnd = connection.indexOf(QLatin1String("://"));
    if (schemeEnd < 0)
        return false;
    const qsizetype authorityStart = schemeEnd + 3;
    qsizetype authorityEnd = connection.size();
    for (const QChar stop : {QLatin1Char('/'), QLatin1Char('?'), QLatin1Char('#')}) {
        const qsizetype at = connection.indexOf(stop, authorityStart);
        if (at >= 0)
            authorityEnd = std::min(authorityEnd, at);
    }
    const QStringView authority = QStringView(connection).mid(authorityStart, authorityEnd - authorityStart);
    const qsizetype userInfoEnd = authority.lastIndexOf(QLatin1Char('@'));
    return userInfoEnd >= 0 && authority.left(userInfoEnd).contains(QLatin1Char(':'));
}

QList<FieldIssue> validateProfile(const ConnectionProfile &profile, const QStringList &otherNames)
{
    QList<FieldIssue> issues;
    if (profile.name.trimmed().isEmpty())
        issues.append({QStringLiteral("name"), QStringLiteral("must not be empty")});
    else if (otherNames.contains(profile.name))
        issues.append({QStringLiteral("name"), QStringLiteral("a profile named \"%1\" already exists").arg(profile.name)});

    if (profile.environment == EnvironmentTag::Custom && profile.customEnvironment.trimmed().isEmpty())
        issues.append({QStringLiteral("environment"), QStringLiteral("a custom environment needs a name")});

    if (profile.adminUrls.isEmpty() && !profile.discoverFromRedis) {
        issues.append({QStringLiteral("admin_urls"),
                       QStringLiteral("give at least one admin URL, or turn on discovery from Redis")});
    }
    for (qsizetype i = 0; i < profile.adminUrls.size(); ++i)
        checkHttpUrl(profile.adminUrls[i], QStringLiteral("admin_urls[%1]").arg(i), issues);

    if (!profile.prometheusUrl.isEmpty())
        checkHttpUrl(profile.prometheusUrl, QStringLiteral("prometheus_url"), issues);

    if (profile.discoverFromRedis && profile.redis.host.trimmed().isEmpty())
        issues.append({QStringLiteral("redis.host"), QStringLiteral("needed for discovery from Redis")});
    if (profile.redis.port < 1 || profile.redis.port > 65535)
        issues.append({QStringLiteral("redis.port"), QStringLiteral("%1 is out of range 1..65535").arg(profile.redis.port)});
    if (profile.redis.db < 0)
        issues.append({QStringLiteral("redis.db"), QStringLiteral("%1 must not be negative").arg(profile.redis.db)});

    if (profile.refreshIntervalSeconds < 1 || profile.refreshIntervalSeconds > 30) {
        issues.append({QStringLiteral("refresh_interval_seconds"),
                       QStringLiteral("%1 is out of range 1..30").arg(profile.refreshIntervalSeconds)});
    }
    return issues;
}

} // namespace sluice::models
