#include "config/gatewayconfig.h"

#include <algorithm>

namespace sluice::config {

QString Upstream::upstreamModel(const QString &requested) const
{
    const auto alias = aliases.find(requested);
    return alias != aliases.end() ? alias->second : requested;
}

bool Upstream::serves(const QString &requested) const
{
    return models.contains(requested) || aliases.contains(requested);
}

QStringList GatewayConfig::routeFor(const QString &model) const
{
    std::vector<const Upstream *> serving;
    for (const Upstream &candidate : upstreams) {
        if (candidate.serves(model))
            serving.push_back(&candidate);
    }
    std::stable_sort(serving.begin(), serving.end(),
                     [](const Upstream *a, const Upstream *b) { return a->priority < b->priority; });
    QStringList names;
    names.reserve(qsizetype(serving.size()));
    for (const Upstream *upstream : serving)
        names.append(upstream->name);
    return names;
}

const Upstream *GatewayConfig::upstream(const QString &name) const
{
    const auto found = std::find_if(upstreams.begin(), upstreams.end(),
                                    [&](const Upstream &candidate) { return candidate.name == name; });
    return found != upstreams.end() ? &*found : nullptr;
}

bool GatewayConfig::isServed(const QString &model) const
{
    return std::any_of(upstreams.begin(), upstreams.end(),
                       [&](const Upstream &candidate) { return candidate.serves(model); });
}

GatewayConfig defaultConfig()
{
    return GatewayConfig{};
}

bool globMatches(QStringView glob, QStringView name)
{
    // Iterative matching with one backtrack point: linear in practice, no recursion.
    qsizetype g = 0;
    qsizetype n = 0;
    qsizetype starAt = -1;
    qsizetype resumeAt = 0;
    while (n < name.size()) {
        if (g < glob.size() && (glob[g] == u'?' || glob[g] == name[n])) {
            ++g;
            ++n;
        } else if (g < glob.size() && glob[g] == u'*') {
            starAt = g++;
            resumeAt = n;
        } else if (starAt >= 0) {
            g = starAt + 1;
            n = ++resumeAt;
        } else {
            return false;
        }
    }
    while (g < glob.size() && glob[g] == u'*')
        ++g;
    return g == glob.size();
}

bool isGlob(QStringView text)
{
    return text.contains(u'*') || text.contains(u'?');
}

QStringList knownRoutes()
{
    return {QStringLiteral("/v1/chat/completions"), QStringLiteral("/v1/completions"),
            QStringLiteral("/v1/embeddings"), QStringLiteral("/v1/messages")};
}

} // namespace sluice::config
