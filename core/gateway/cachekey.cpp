#include "gateway/cachekey.h"

#include "gateway/canonicaljson.h"

#include <QCryptographicHash>
#include <QJsonArray>

namespace sluice::gateway {

namespace {

QJsonValue withoutCacheControl(const QJsonValue &value)
{
    if (value.isObject()) {
        QJsonObject object = value.toObject();
        object.remove(QStringLiteral("cache_control"));
        for (auto it = object.begin(); it != object.end(); ++it)
            *it = withoutCacheControl(*it);
        return object;
    }
    if (value.isArray()) {
        QJsonArray array = value.toArray();
        for (auto it = array.begin(); it != array.end(); ++it)
            *it = withoutCacheControl(*it);
        return array;
    }
    return value;
}

} // namespace

QStringList cacheNeutralFields()
{
    return {QStringLiteral("stream"),          QStringLiteral("stream_options"),
            QStringLiteral("user"),            QStringLiteral("metadata"),
            QStringLiteral("store"),           QStringLiteral("service_tier"),
            QStringLiteral("safety_identifier"), QStringLiteral("prompt_cache_key"),
            QStringLiteral("prompt_cache_retention"), QStringLiteral("request_id")};
}

QJsonObject cacheKeyFields(const QJsonObject &request)
{
    static const QStringList neutral = cacheNeutralFields();
    QJsonObject fields;
    for (auto it = request.begin(); it != request.end(); ++it) {
        if (neutral.contains(it.key()) || it.value().isNull())
            continue;
        fields.insert(it.key(), withoutCacheControl(it.value()));
    }
    return fields;
}

QByteArray cacheKey(ProviderKind kind, const QJsonObject &request)
{
    QCryptographicHash hash(QCryptographicHash::Sha256);
    hash.addData(QByteArrayView("sluice-cache-v1\n"));
    hash.addData(providerName(kind).toUtf8());
    hash.addData(QByteArrayView("\n"));
    hash.addData(canonicalJson(cacheKeyFields(request)));
    return hash.result().toHex();
}

} // namespace sluice::gateway
