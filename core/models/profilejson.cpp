#include "models/profilejson.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>

#include <cmath>
#include <limits>

namespace sluice::models {

namespace {

const QString kFormat = QStringLiteral("sluice-profiles");

// Reads typed members of one JSON object, collecting "<path>.<key>: must be ..." for
// members of the wrong type; a missing member leaves the output untouched.
class MemberReader {
public:
    MemberReader(const QJsonObject &object, QString path, QStringList &errors)
        : m_object(object), m_path(std::move(path)), m_errors(errors)
    {
    }

    void text(const QString &key, QString &out)
    {
        const QJsonValue value = m_object.value(key);
        if (value.isUndefined() || value.isNull())
            return;
        if (!value.isString())
            return fail(key, QStringLiteral("must be a string"));
        out = value.toString();
    }

    void boolean(const QString &key, bool &out)
    {
        const QJsonValue value = m_object.value(key);
        if (value.isUndefined() || value.isNull())
            return;
        if (!value.isBool())
            return fail(key, QStringLiteral("must be true or false"));
        out = value.toBool();
    }

    void integer(const QString &key, int &out)
    {
        const QJsonValue value = m_object.value(key);
        if (value.isUndefined() || value.isNull())
            return;
        const double number = value.toDouble(std::numeric_limits<double>::quiet_NaN());
        if (!value.isDouble() || std::trunc(number) != number || number < std::numeric_limits<int>::min()
            || number > std::numeric_limits<int>::max())
            return fail(key, QStringLiteral("must be an integer"));
        out = int(number);
    }

    void textList(const QString &key, QStringList &out)
    {
        const QJsonValue value = m_object.value(key);
        if (value.isUndefined() || value.isNull())
            return;
        if (!value.isArray())
            return fail(key, QStringLiteral("must be an array of strings"));
        QStringList list;
        const QJsonArray array = value.toArray();
        for (qsizetype i = 0; i < array.size(); ++i) {
            if (!array[i].isString())
                return fail(QStringLiteral("%1[%2]").arg(key).arg(i), QStringLiteral("must be a string"));
            list.append(array[i].toString());
        }
        out = list;
    }

    QString path(const QString &key) const { return m_path + QLatin1Char('.') + key; }
    void fail(const QString &key, const QString &message) { m_errors.append(path(key) + QStringLiteral(": ") + message); }

private:
    const QJsonObject &m_object;
    QString m_path;
    QStringList &m_errors;
};

} // namespace

QJsonObject profileToJson(const ConnectionProfile &profile)
{
    QJsonObject object;
    object.insert(QStringLiteral("name"), profile.name);
    object.insert(QStringLiteral("environment"), environmentTagName(profile.environment));
    if (profile.environment == EnvironmentTag::Custom)
        object.insert(QStringLiteral("environment_label"), profile.customEnvironment);
    if (profile.colour.isValid())
        object.insert(QStringLiteral("colour"), profile.colour.name(QColor::HexRgb));
    object.insert(QStringLiteral("admin_urls"), QJsonArray::fromStringList(profile.adminUrls));
    object.insert(QStringLiteral("discover_from_redis"), profile.discoverFromRedis);
    object.insert(QStringLiteral("prometheus_url"), profile.prometheusUrl);
    QJsonObject redis;
    redis.insert(QStringLiteral("host"), profile.redis.host);
    redis.insert(QStringLiteral("port"), profile.redis.port);
    redis.insert(QStringLiteral("db"), profile.redis.db);
    redis.insert(QStringLiteral("user"), profile.redis.user);
    object.insert(QStringLiteral("redis"), redis);
    if (profile.postgresConnection && !profile.postgresIsSecret())
        object.insert(QStringLiteral("postgres"), *profile.postgresConnection);
    object.insert(QStringLiteral("read_only"), profile.readOnly);
    object.insert(QStringLiteral("refresh_interval_seconds"), profile.refreshIntervalSeconds);
    return object;
}

QByteArray profilesToJson(const QList<ConnectionProfile> &profiles)
{
    QJsonArray array;
    for (const ConnectionProfile &profile : profiles)
        array.append(profileToJson(profile));
    QJsonObject root;
    root.insert(QStringLiteral("format"), kFormat);
    root.insert(QStringLiteral("version"), 1);
    root.insert(QStringLiteral("profiles"), array);
    return QJsonDocument(root).toJson(QJsonDocument::Indented);
}

Result<ParsedProfiles, QString> parseProfilesJson(const QByteArray &json)
{
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(json, &parseError);
    if (parseError.error != QJsonParseError::NoError)
        return unexpected(QStringLiteral("not JSON: %1 at offset %2").arg(parseError.errorString()).arg(parseError.offset));
    if (!document.isObject())
        return unexpected(QStringLiteral("not a profile file: the top level must be a JSON object"));
    const QJsonObject root = document.object();
    const QJsonValue format = root.value(QStringLiteral("format"));
    if (!format.isUndefined() && format.toString() != kFormat)
        return unexpected(QStringLiteral("format: expected \"%1\"").arg(kFormat));
    const QJsonValue profilesValue = root.value(QStringLiteral("profiles"));
    if (!profilesValue.isArray())
        return unexpected(QStringLiteral("profiles: must be an array"));

    ParsedProfiles parsed;
    const QJsonArray array = profilesValue.toArray();
    for (qsizetype i = 0; i < array.size(); ++i) {
        const QString path = QStringLiteral("profiles[%1]").arg(i);
        if (!array[i].isObject()) {
            parsed.rejected.append(path + QStringLiteral(": must be an object"));
            continue;
        }
        const QJsonObject object = array[i].toObject();
        QStringList errors;
        MemberReader reader(object, path, errors);
        ConnectionProfile profile;
        reader.text(QStringLiteral("name"), profile.name);

        QString environment = environmentTagName(profile.environment);
        reader.text(QStringLiteral("environment"), environment);
        if (const auto tag = environmentTagFromName(environment))
            profile.environment = *tag;
        else
            reader.fail(QStringLiteral("environment"), QStringLiteral("unknown environment \"%1\"").arg(environment));
        reader.text(QStringLiteral("environment_label"), profile.customEnvironment);

        QString colour;
        reader.text(QStringLiteral("colour"), colour);
        if (!colour.isEmpty()) {
            profile.colour = QColor::fromString(colour);
            if (!profile.colour.isValid())
                reader.fail(QStringLiteral("colour"), QStringLiteral("\"%1\" is not a colour").arg(colour));
        }
        reader.textList(QStringLiteral("admin_urls"), profile.adminUrls);
        reader.boolean(QStringLiteral("discover_from_redis"), profile.discoverFromRedis);
        reader.text(QStringLiteral("prometheus_url"), profile.prometheusUrl);
        reader.boolean(QStringLiteral("read_only"), profile.readOnly);
        reader.integer(QStringLiteral("refresh_interval_seconds"), profile.refreshIntervalSeconds);

        QStringList secrets;
        const QJsonValue redisValue = object.value(QStringLiteral("redis"));
        if (redisValue.isObject()) {
            const QJsonObject redis = redisValue.toObject();
            MemberReader redisReader(redis, path + QStringLiteral(".redis"), errors);
            redisReader.text(QStringLiteral("host"), profile.redis.host);
            redisReader.integer(QStringLiteral("port"), profile.redis.port);
            redisReader.integer(QStringLiteral("db"), profile.redis.db);
            redisReader.text(QStringLiteral("user"), profile.redis.user);
            if (redis.contains(QStringLiteral("password")))
                secrets.append(QStringLiteral("redis.password"));
        } else if (!redisValue.isUndefined() && !redisValue.isNull()) {
            reader.fail(QStringLiteral("redis"), QStringLiteral("must be an object"));
        }

        QString postgres;
        reader.text(QStringLiteral("postgres"), postgres);
        if (connectionStringHoldsPassword(postgres))
            secrets.append(QStringLiteral("postgres"));
        else if (object.contains(QStringLiteral("postgres")))
            profile.postgresConnection = postgres;
        for (const QString &key : {QStringLiteral("admin_token"), QStringLiteral("redis_password")}) {
            if (object.contains(key))
                secrets.append(key);
        }

        if (!errors.isEmpty()) {
            parsed.rejected.append(errors);
            continue;
        }
        if (!secrets.isEmpty()) {
            secrets.sort();
            parsed.ignoredSecrets.append(QStringLiteral("%1: ignored %2 (secrets are never imported)")
                                             .arg(profile.name.isEmpty() ? path : profile.name, secrets.join(QStringLiteral(", "))));
        }
        parsed.profiles.append(profile);
    }
    return parsed;
}

} // namespace sluice::models
