#include "store/auditwrites.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>
#include <QUuid>

#include <pqxx/pqxx>

#include <optional>
#include <string>

namespace sluice::store {

namespace {

constexpr const char *insertVersionKeepSql =
    "INSERT INTO config_versions (version, applied_at, who, comment, config)"
    " VALUES ($1, $2::timestamptz, $3, $4, $5::jsonb)"
    " ON CONFLICT (version) DO NOTHING";

// The instance that made the version knows who asked and why; an adopting instance that
// happened to commit first only knew "redis".
constexpr const char *insertVersionReplaceSql =
    "INSERT INTO config_versions (version, applied_at, who, comment, config)"
    " VALUES ($1, $2::timestamptz, $3, $4, $5::jsonb)"
    " ON CONFLICT (version) DO UPDATE SET applied_at = EXCLUDED.applied_at, who = EXCLUDED.who,"
    "  comment = EXCLUDED.comment, config = EXCLUDED.config";

constexpr const char *insertAuditSql =
    "INSERT INTO audit (ts, who, from_address, action, diff, event_id)"
    " VALUES ($1::timestamptz, $2, $3, $4, NULLIF($5, '')::jsonb, $6)"
    " ON CONFLICT (event_id) DO NOTHING";

QString withoutNul(QString text)
{
    return text.remove(QChar(u'\0'));
}

QJsonValue withoutNul(const QJsonValue &value)
{
    if (value.isString())
        return withoutNul(value.toString());
    if (value.isArray()) {
        QJsonArray cleaned;
        for (const QJsonValue &element : value.toArray())
            cleaned.append(withoutNul(element));
        return cleaned;
    }
    if (value.isObject()) {
        const QJsonObject object = value.toObject();
        QJsonObject cleaned;
        for (auto it = object.begin(); it != object.end(); ++it)
            cleaned.insert(withoutNul(it.key()), withoutNul(it.value()));
        return cleaned;
    }
    return value;
}

// Any JSON value (QJsonDocument only parses arrays and objects, hence the brackets), with
// NUL removed, as compact text; nullopt when `text` is not one JSON value.
std::optional<QByteArray> storableJson(const QByteArray &text, bool objectRequired)
{
    QJsonParseError error{};
    const QJsonDocument wrapped = QJsonDocument::fromJson('[' + text + ']', &error);
    if (error.error != QJsonParseError::NoError || !wrapped.isArray() || wrapped.array().size() != 1)
        return std::nullopt;
    const QJsonValue value = withoutNul(wrapped.array().first());
    if (objectRequired && !value.isObject())
        return std::nullopt;
    const QByteArray compact = QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact);
    return compact.mid(1, compact.size() - 2);
}

std::string utf8(const QString &text)
{
    return text.toUtf8().toStdString();
}

std::string timestampText(const QDateTime &timestamp)
{
    return timestamp.toUTC().toString(Qt::ISODateWithMs).toStdString();
}

QDateTime validOrNow(const QDateTime &timestamp)
{
    if (!timestamp.isValid() || timestamp.date().year() < 1 || timestamp.date().year() > 9999)
        return QDateTime::currentDateTimeUtc();
    return timestamp;
}

} // namespace

bool prepareAuditItem(AuditItem &item)
{
    if (auto *version = std::get_if<ConfigVersionRecord>(&item)) {
        const auto json = storableJson(version->configJson, true);
        if (!json)
            return false;
        version->configJson = *json;
        version->appliedAt = validOrNow(version->appliedAt);
        version->who = withoutNul(version->who);
        version->comment = withoutNul(version->comment);
        return true;
    }
    auto &event = std::get<AuditEvent>(item);
    if (!event.diffJson.isEmpty()) {
        const auto json = storableJson(event.diffJson, false);
        if (!json)
            return false;
        event.diffJson = *json;
    }
    event.timestamp = validOrNow(event.timestamp);
    event.who = withoutNul(event.who);
    event.fromAddress = withoutNul(event.fromAddress);
    event.action = withoutNul(event.action);
    event.eventId = withoutNul(event.eventId);
    if (event.eventId.isEmpty())
        event.eventId = QUuid::createUuid().toString(QUuid::WithoutBraces);
    return true;
}

void insertAuditItems(pqxx::transaction_base &txn, const std::vector<AuditItem> &items)
{
    for (const AuditItem &item : items) {
        if (const auto *version = std::get_if<ConfigVersionRecord>(&item)) {
            txn.exec_params(version->originatedHere ? insertVersionReplaceSql : insertVersionKeepSql,
                            static_cast<long long>(version->version), timestampText(version->appliedAt),
                            utf8(version->who), utf8(version->comment), version->configJson.toStdString());
            continue;
        }
        const auto &event = std::get<AuditEvent>(item);
        txn.exec_params(insertAuditSql, timestampText(event.timestamp), utf8(event.who), utf8(event.fromAddress),
                        utf8(event.action), event.diffJson.toStdString(), utf8(event.eventId));
    }
}

} // namespace sluice::store
