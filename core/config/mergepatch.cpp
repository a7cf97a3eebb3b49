#include "config/mergepatch.h"

namespace sluice::config {

QJsonValue applyMergePatch(const QJsonValue &target, const QJsonValue &patch)
{
    if (!patch.isObject())
        return patch;
    QJsonObject result = target.isObject() ? target.toObject() : QJsonObject();
    const QJsonObject members = patch.toObject();
    for (auto it = members.constBegin(); it != members.constEnd(); ++it) {
        if (it.value().isNull())
            result.remove(it.key());
        else
            result.insert(it.key(), applyMergePatch(result.value(it.key()), it.value()));
    }
    return result;
}

QJsonObject applyMergePatch(const QJsonObject &base, const QJsonObject &patch)
{
    return applyMergePatch(QJsonValue(base), QJsonValue(patch)).toObject();
}

} // namespace sluice::config
