#include "gateway/providerprotocol.h"

namespace sluice::gateway {

QString providerName(ProviderKind kind)
{
    switch (kind) {
    case ProviderKind::OpenAI:
        return QStringLiteral("openai");
    case ProviderKind::Anthropic:
        return QStringLiteral("anthropic");
    }
    return {};
}

std::optional<ProviderKind> providerFromName(QStringView name)
{
    for (const ProviderKind kind : {ProviderKind::OpenAI, ProviderKind::Anthropic}) {
        if (name.compare(providerName(kind), Qt::CaseInsensitive) == 0)
            return kind;
    }
    return std::nullopt;
}

QByteArray chatEndpointPath(ProviderKind kind)
{
    return kind == ProviderKind::OpenAI ? QByteArrayLiteral("/v1/chat/completions")
                                        : QByteArrayLiteral("/v1/messages");
}

std::optional<ProviderKind> providerForPath(QByteArrayView path)
{
    const qsizetype query = path.indexOf('?');
    if (query >= 0)
        path = path.first(query);
    if (path.size() > 1 && path.endsWith('/'))
        path.chop(1);
    for (const ProviderKind kind : {ProviderKind::OpenAI, ProviderKind::Anthropic}) {
        if (path == chatEndpointPath(kind))
            return kind;
    }
    return std::nullopt;
}

QByteArray requestIdHeader(ProviderKind kind)
{
    return kind == ProviderKind::OpenAI ? QByteArrayLiteral("x-request-id")
                                        : QByteArrayLiteral("request-id");
}

int overloadedStatus(ProviderKind kind)
{
    return kind == ProviderKind::OpenAI ? 503 : 529;
}

} // namespace sluice::gateway
