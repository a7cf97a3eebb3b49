#include "config/configdiff.h"

#include <algorithm>
#include <optional>

#include <QJsonArray>
#include <QJsonObject>

#include "config/configpath.h"
#include "config/configwriter.h"
#include "config/jsontext.h"

namespace sluice::config {
namespace {

// Top-level arrays whose entries are identified by a field rather than position.
QString identityFieldOf(const QString &path)
{
    if (path == u"upstreams" || path == u"rate_limits")
        return QStringLiteral("name");
    if (path == u"api_keys")
        return QStringLiteral("id");
    return {};
}

QJsonValue elementAt(const QJsonArray &array, qsizetype index)
{
    return index < array.size() ? array.at(index) : QJsonValue(QJsonValue::Undefined);
}

bool hasObjects(const QJsonArray &array)
{
    return std::any_of(array.begin(), array.end(), [](const QJsonValue &value) { return value.isObject(); });
}

// Names of the entries, or nothing if some entry has no unique, non-empty name.
std::optional<QStringList> identitiesOf(const QJsonArray &array, const QString &field)
{
    QStringList names;
    for (const QJsonValue &entry : array) {
        const QString name = entry.toObject().value(field).toString();
        if (name.isEmpty() || names.contains(name))
            return std::nullopt;
        names.append(name);
    }
    return names;
}

class Differ {
public:
    std::vector<FieldChange> changes;

    void compare(const QString &path, const QJsonValue &before, const QJsonValue &after)
    {
        if (before == after)
            return;
        if (before.isObject() && after.isObject())
            return compareObjects(path, before.toObject(), after.toObject());
        if (before.isArray() && after.isArray()) {
            const QJsonArray beforeArray = before.toArray();
            const QJsonArray afterArray = after.toArray();
            if (hasObjects(beforeArray) || hasObjects(afterArray))
                return compareArrays(path, beforeArray, afterArray);
        }
        changes.push_back({path, jsonText(before), jsonText(after)});
    }

private:
    void compareObjects(const QString &path, const QJsonObject &before, const QJsonObject &after)
    {
        QStringList keys = before.keys() + after.keys();
        keys.removeDuplicates();
        keys.sort();
        for (const QString &key : keys)
            compare(pathWithKey(path, key), before.value(key), after.value(key));
    }

    void compareArrays(const QString &path, const QJsonArray &before, const QJsonArray &after)
    {
        const QString field = identityFieldOf(path);
        const auto beforeNames = field.isEmpty() ? std::nullopt : identitiesOf(before, field);
        const auto afterNames = field.isEmpty() ? std::nullopt : identitiesOf(after, field);
        if (!beforeNames || !afterNames) {
            const qsizetype common = std::max(before.size(), after.size());
            for (qsizetype i = 0; i < common; ++i)
                compare(pathWithIndex(path, i), elementAt(before, i), elementAt(after, i));
            return;
        }

        QStringList beforeKept;
        QStringList afterKept;
        for (const QString &name : *beforeNames) {
            if (afterNames->contains(name))
                beforeKept.append(name);
        }
        for (const QString &name : *afterNames) {
            if (beforeNames->contains(name))
                afterKept.append(name);
        }
        if (beforeKept != afterKept)
            changes.push_back({path, jsonText(QJsonArray::fromStringList(beforeKept)),
                               jsonText(QJsonArray::fromStringList(afterKept))});

        for (qsizetype i = 0; i < before.size(); ++i) {
            const QString &name = beforeNames->at(i);
            const qsizetype j = afterNames->indexOf(name);
            compare(pathWithMatch(path, field, name), before.at(i),
                    j >= 0 ? after.at(j) : QJsonValue(QJsonValue::Undefined));
        }
        for (qsizetype j = 0; j < after.size(); ++j) {
            const QString &name = afterNames->at(j);
            if (!beforeNames->contains(name))
                compare(pathWithMatch(path, field, name), QJsonValue(QJsonValue::Undefined), after.at(j));
        }
    }
};

} // namespace

std::vector<FieldChange> diffConfigs(const GatewayConfig &before, const GatewayConfig &after)
{
    Differ differ;
    differ.compare(QString(), toJson(before), toJson(after));
    return std::move(differ.changes);
}

} // namespace sluice::config
