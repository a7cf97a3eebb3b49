#include "store/rediskey.h"

namespace sluice::store {

QByteArray redisKey(QByteArrayView keyNamespace, QByteArrayView kind, QByteArrayView id)
{
    QByteArray key;
    key.reserve(7 + keyNamespace.size() + 1 + kind.size() + 1 + id.size());
    key.append("sluice:").append(keyNamespace).append(':').append(kind).append(':').append(id);
    return key;
}

QByteArray escapeRedisGlob(QByteArrayView text)
{
    QByteArray escaped;
    escaped.reserve(text.size());
    for (const char c : text) {
        if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\')
            escaped.append('\\');
        escaped.append(c);
    }
    return escaped;
}

} // namespace sluice::store
