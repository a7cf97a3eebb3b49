#include "config/configrules.h"

#include <algorithm>
#include <utility>
#include <vector>

#include <QUrl>

#include "config/configschema.h"
#include "config/jsontext.h"

namespace sluice::config::rules {
namespace {

constexpr qsizetype kMaxQuotedLength = 64;

qsizetype editDistance(const QString &a, const QString &b)
{
    std::vector<qsizetype> previous(size_t(b.size()) + 1);
    std::vector<qsizetype> current(size_t(b.size()) + 1);
    for (qsizetype j = 0; j <= b.size(); ++j)
        previous[size_t(j)] = j;
    for (qsizetype i = 1; i <= a.size(); ++i) {
        current[0] = i;
        for (qsizetype j = 1; j <= b.size(); ++j) {
            const qsizetype substitution = previous[size_t(j - 1)] + (a[i - 1] == b[j - 1] ? 0 : 1);
            current[size_t(j)] = std::min({previous[size_t(j)] + 1, current[size_t(j - 1)] + 1, substitution});
        }
        std::swap(previous, current);
    }
    return previous[size_t(b.size())];
}

bool isIpv4(QStringView text)
{
    const auto parts = text.split(u'.');
    if (parts.size() != 4)
        return false;
    for (const QStringView part : parts) {
        if (part.isEmpty() || part.size() > 3 || (part.size() > 1 && part[0] == u'0'))
            return false;
        bool isNumber = false;
        const int value = part.toInt(&isNumber);
        if (!isNumber || value > 255 || !std::all_of(part.begin(), part.end(), [](QChar c) { return c.isDigit(); }))
            return false;
    }
    return true;
}

// QUrl parses IPv6 literals strictly (RFC 3986) and normalises them; reuse it
// rather than a hand-written parser.
QUrl bracketedHostUrl(QStringView text)
{
    return QUrl(QStringLiteral("http://[%1]/").arg(text), QUrl::StrictMode);
}

bool isIpv6(QStringView text)
{
    if (!text.contains(u':'))
        return false;
    const QUrl url = bracketedHostUrl(text);
    return url.isValid() && !url.host().isEmpty();
}

// Top-level keys in document order.
struct KeyLister {
    QStringList keys;
    template <typename T, typename... C>
    void field(QStringView key, const T &, C...)
    {
        keys.append(key.toString());
    }
    void retryOn(QStringView key, const RetryConfig &) { keys.append(key.toString()); }
};

} // namespace

void sortBySection(ConfigErrors &errors)
{
    static const QStringList sections = [] {
        KeyLister lister;
        const GatewayConfig config;
        schema::describe(lister, config);
        return lister.keys;
    }();
    // (section, element index): errors of upstreams[2] come after those of upstreams[0].
    const auto rank = [](const QString &path) {
        qsizetype end = 0;
        while (end < path.size() && path[end] != u'.' && path[end] != u'[')
            ++end;
        const qsizetype index = sections.indexOf(path.left(end));
        // Unknown top-level keys go last; "$" and syntax locations first.
        const qsizetype section = index >= 0 ? index + 1
            : (path.startsWith(u'$') || path.startsWith(u"line ")) ? 0
                                                                   : sections.size() + 1;
        qsizetype element = -1;
        if (end < path.size() && path[end] == u'[') {
            const qsizetype close = path.indexOf(u']', end);
            bool isIndex = false;
            const qsizetype parsed = path.mid(end + 1, close - end - 1).toLongLong(&isIndex);
            if (isIndex)
                element = parsed;
        }
        return std::pair{section, element};
    };
    std::stable_sort(errors.begin(), errors.end(),
                     [&](const ConfigError &a, const ConfigError &b) { return rank(a.path) < rank(b.path); });
}

QString describeValue(const QJsonValue &value)
{
    if (value.isArray() || value.isObject())
        return jsonTypeName(value);
    if (value.isString() && value.toString().size() > kMaxQuotedLength)
        return jsonText(value.toString().left(kMaxQuotedLength)).chopped(1) + QStringLiteral("…\"");
    return jsonText(value);
}

QString mustBeAtLeast(const QString &bound, const QString &got)
{
    return QStringLiteral("must be ≥ %1, got %2").arg(bound, got);
}

QString mustBeAtMost(const QString &bound, const QString &got)
{
    return QStringLiteral("must be ≤ %1, got %2").arg(bound, got);
}

QString mustBeOneOf(std::span<const std::string_view> names, const QString &got)
{
    QStringList quoted;
    for (const std::string_view name : names)
        quoted.append(QLatin1Char('"') + QLatin1String(name.data(), qsizetype(name.size())) + QLatin1Char('"'));
    return QStringLiteral("must be one of %1, got %2").arg(quoted.join(QStringLiteral(", ")), got);
}

QString closestMatch(const QString &word, const QStringList &candidates)
{
    const QString lowered = word.toLower();
    QString best;
    qsizetype bestDistance = 0;
    for (const QString &candidate : candidates) {
        const qsizetype distance = editDistance(lowered, candidate.toLower());
        if (best.isEmpty() || distance < bestDistance) {
            best = candidate;
            bestDistance = distance;
        }
    }
    // Up to two edits, or a quarter of the word for long names: typos, not different words.
    const qsizetype allowed = std::max<qsizetype>(2, best.size() / 4);
    return !best.isEmpty() && bestDistance <= allowed ? best : QString();
}

QString withSuggestion(const QString &reason, const QString &word, const QStringList &candidates)
{
    const QString suggestion = closestMatch(word, candidates);
    if (suggestion.isEmpty())
        return reason;
    return reason + QStringLiteral(" (did you mean \"%1\"?)").arg(suggestion);
}

bool isName(QStringView text)
{
    if (text.isEmpty() || text.size() > kMaxNameLength)
        return false;
    return std::all_of(text.begin(), text.end(), [](QChar c) {
        return (c >= u'a' && c <= u'z') || (c >= u'0' && c <= u'9') || c == u'_' || c == u'-';
    });
}

bool isSha256Hex(QStringView text)
{
    return text.size() == 64 && std::all_of(text.begin(), text.end(), [](QChar c) {
        return (c >= u'0' && c <= u'9') || (c >= u'a' && c <= u'f');
    });
}

bool isEnvironmentName(QStringView text)
{
    if (text.isEmpty() || (text[0] >= u'0' && text[0] <= u'9'))
        return false;
    return std::all_of(text.begin(), text.end(), [](QChar c) {
        return (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z') || (c >= u'0' && c <= u'9') || c == u'_';
    });
}

bool isIpLiteral(QStringView text)
{
    return isIpv4(text) || isIpv6(text);
}

bool isHostName(QStringView text)
{
    constexpr qsizetype kMaxHostNameLength = 253;
    constexpr qsizetype kMaxLabelLength = 63;
    if (text.isEmpty() || text.size() > kMaxHostNameLength)
        return false;
    const auto labels = text.split(u'.');
    for (const QStringView label : labels) {
        if (label.isEmpty() || label.size() > kMaxLabelLength || label.front() == u'-' || label.back() == u'-')
            return false;
        const bool valid = std::all_of(label.begin(), label.end(), [](QChar c) {
            return (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z') || (c >= u'0' && c <= u'9') || c == u'-';
        });
        if (!valid)
            return false;
    }
    // An all-digit last label would make a malformed IPv4 address pass as a name.
    const QStringView last = labels.back();
    return !std::all_of(last.begin(), last.end(), [](QChar c) { return c >= u'0' && c <= u'9'; });
}

bool isLoopbackAddress(QStringView text)
{
    if (isIpv4(text))
        return text.startsWith(u"127.");
    if (!isIpv6(text))
        return false;
    const QUrl url = bracketedHostUrl(text);
    return url.host() == u"::1";
}

bool isWildcardAddress(QStringView text)
{
    if (isIpv4(text))
        return text == u"0.0.0.0";
    if (!isIpv6(text))
        return false;
    const QUrl url = bracketedHostUrl(text);
    return url.host() == u"::";
}

} // namespace sluice::config::rules
