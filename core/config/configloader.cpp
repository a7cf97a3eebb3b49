#include "config/configloader.h"

#include <algorithm>
#include <cmath>

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>

#include "config/configpath.h"
#include "config/configrules.h"
#include "config/configschema.h"
#include "config/configvalidator.h"
#include "config/jsontext.h"

namespace sluice::config {
namespace {

using schema::Constraints;

// Reads one JSON object into a section, recording every problem. Fields keep
// their defaults when absent or unreadable; array elements keep their index
// (a bad element is replaced by a default one) so later paths stay right.
class Reader {
public:
    Reader(const QJsonObject &object, QString path, ConfigErrors &errors)
        : m_object(object), m_path(std::move(path)), m_errors(errors)
    {
    }

    template <typename T, typename... C>
    void field(QStringView key, T &member, C... constraints)
    {
        schema::requireRangeFor<T, C...>();
        const QString name = key.toString();
        m_knownKeys.append(name);
        const QString path = pathWithKey(m_path, name);
        const auto found = m_object.constFind(name);
        const Constraints gathered = schema::constraintsOf(constraints...);
        if (found == m_object.constEnd()) {
            if (gathered.required)
                fail(path, QStringLiteral("required field is missing"));
            return;
        }
        read(*found, path, member, gathered);
    }

    void retryOn(QStringView key, RetryConfig &retries);

    // Unknown keys are errors: a misspelt limit must not be silently ignored.
    void finish()
    {
        for (auto it = m_object.constBegin(); it != m_object.constEnd(); ++it) {
            if (!m_knownKeys.contains(it.key()))
                fail(pathWithKey(m_path, it.key()),
                     rules::withSuggestion(QStringLiteral("unknown field"), it.key(), m_knownKeys));
        }
    }

private:
    void fail(const QString &path, const QString &reason) { m_errors.push_back({path, reason}); }

    void typeError(const QString &path, const char *expected, const QJsonValue &value)
    {
        fail(path, QStringLiteral("must be %1, got %2").arg(QLatin1String(expected), rules::describeValue(value)));
    }

    std::optional<std::int64_t> readInteger(const QJsonValue &value, const QString &path, schema::IntRange range)
    {
        const double number = value.toDouble();
        if (!value.isDouble() || !std::isfinite(number) || number != std::trunc(number)) {
            typeError(path, "an integer", value);
            return std::nullopt;
        }
        // Compared as doubles, so 1e300 is simply too large instead of overflowing.
        if (number < double(range.min)) {
            fail(path, rules::mustBeAtLeast(QString::number(range.min), rules::describeValue(value)));
            return std::nullopt;
        }
        if (number > double(range.max)) {
            fail(path, rules::mustBeAtMost(QString::number(range.max), rules::describeValue(value)));
            return std::nullopt;
        }
        return static_cast<std::int64_t>(number);
    }

    template <typename E>
    bool readEnum(const QJsonValue &value, const QString &path, E &member)
    {
        const auto names = enumNames(E{});
        const QString text = value.toString();
        for (std::size_t i = 0; value.isString() && i < names.size(); ++i) {
            if (text == QLatin1String(names[i].data(), qsizetype(names[i].size()))) {
                member = static_cast<E>(i);
                return true;
            }
        }
        fail(path, rules::mustBeOneOf(names, rules::describeValue(value)));
        return false;
    }

    template <typename T>
    void read(const QJsonValue &value, const QString &path, T &member, const Constraints &constraints)
    {
        if constexpr (std::is_same_v<T, bool>) {
            if (value.isBool())
                member = value.toBool();
            else
                typeError(path, "a boolean", value);
        } else if constexpr (std::is_integral_v<T>) {
            if (const auto number = readInteger(value, path, *constraints.integers))
                member = static_cast<T>(*number);
        } else if constexpr (schema::IsDuration<T>::value) {
            if (const auto number = readInteger(value, path, *constraints.integers))
                member = T(*number);
        } else if constexpr (std::is_floating_point_v<T>) {
            const schema::RealRange range = *constraints.reals;
            if (!value.isDouble())
                typeError(path, "a number", value);
            else if (value.toDouble() < range.min)
                fail(path, rules::mustBeAtLeast(QString::number(range.min), rules::describeValue(value)));
            else if (value.toDouble() > range.max)
                fail(path, rules::mustBeAtMost(QString::number(range.max), rules::describeValue(value)));
            else
                member = value.toDouble();
        } else if constexpr (std::is_same_v<T, QString>) {
            if (value.isString())
                member = value.toString();
            else
                typeError(path, "a string", value);
        } else if constexpr (std::is_enum_v<T>) {
            readEnum(value, path, member);
        } else if constexpr (std::is_same_v<T, QStringList>) {
            if (!value.isArray())
                return typeError(path, "an array of strings", value);
            member.clear();
            const QJsonArray array = value.toArray();
            for (qsizetype i = 0; i < array.size(); ++i) {
                member.append(QString());
                read(array.at(i), pathWithIndex(path, i), member.back(), constraints);
            }
        } else if constexpr (schema::IsVector<T>::value) {
            if (!value.isArray())
                return typeError(path, "an array", value);
            member.clear();
            const QJsonArray array = value.toArray();
            for (qsizetype i = 0; i < array.size(); ++i) {
                member.emplace_back();
                read(array.at(i), pathWithIndex(path, i), member.back(), constraints);
            }
        } else if constexpr (schema::IsStringMap<T>::value) {
            if (!value.isObject())
                return typeError(path, "an object", value);
            member.clear();
            const QJsonObject object = value.toObject();
            for (auto it = object.constBegin(); it != object.constEnd(); ++it) {
                const std::size_t before = m_errors.size();
                typename T::mapped_type mapped{};
                read(it.value(), pathWithKey(path, it.key()), mapped, constraints);
                if (m_errors.size() == before)
                    member.emplace(it.key(), std::move(mapped));
            }
        } else {
            if (!value.isObject())
                return typeError(path, "an object", value);
            Reader section(value.toObject(), path, m_errors);
            schema::describe(section, member);
            section.finish();
        }
    }

    const QJsonObject m_object;
    const QString m_path;
    ConfigErrors &m_errors;
    QStringList m_knownKeys;
};

void Reader::retryOn(QStringView key, RetryConfig &retries)
{
    const QString name = key.toString();
    m_knownKeys.append(name);
    const QString path = pathWithKey(m_path, name);
    const auto found = m_object.constFind(name);
    if (found == m_object.constEnd())
        return;
    if (!found->isArray())
        return typeError(path, "an array", *found);

    retries.retryOnStatuses.clear();
    retries.retryOnTimeout = false;
    retries.retryOnConnectionReset = false;
    const QJsonArray array = found->toArray();
    for (qsizetype i = 0; i < array.size(); ++i) {
        const QJsonValue entry = array.at(i);
        const QString entryPath = pathWithIndex(path, i);
        bool *flag = nullptr;
        if (entry == QJsonValue(QStringLiteral("timeout")))
            flag = &retries.retryOnTimeout;
        else if (entry == QJsonValue(QStringLiteral("connection_reset")))
            flag = &retries.retryOnConnectionReset;
        const double status = entry.toDouble();
        if (flag) {
            if (*flag)
                fail(entryPath, QStringLiteral("%1 is listed twice").arg(rules::describeValue(entry)));
            *flag = true;
        } else if (entry.isDouble() && status == std::trunc(status) && status >= 400 && status <= 599) {
            if (std::find(retries.retryOnStatuses.begin(), retries.retryOnStatuses.end(), int(status))
                != retries.retryOnStatuses.end())
                fail(entryPath, QStringLiteral("%1 is listed twice").arg(int(status)));
            else
                retries.retryOnStatuses.push_back(int(status));
        } else {
            fail(entryPath, QStringLiteral("must be an HTTP status (an integer 400..599) or one of "
                                           "\"timeout\", \"connection_reset\", got %1")
                                .arg(rules::describeValue(entry)));
        }
    }
}

// Qt reports an unterminated string at the end of the input; its opening quote
// (the last unescaped quote) is where the reader needs to look.
qsizetype openingQuoteBefore(const QByteArray &json, qsizetype offset)
{
    for (qsizetype i = std::min(offset, json.size()) - 1; i >= 0; --i) {
        if (json[i] != '"')
            continue;
        qsizetype backslashes = 0;
        while (i - backslashes - 1 >= 0 && json[i - backslashes - 1] == '\\')
            ++backslashes;
        if (backslashes % 2 == 0)
            return i;
    }
    return offset;
}

} // namespace

ConfigResult loadConfig(const QJsonObject &document)
{
    GatewayConfig config;
    ConfigErrors errors;
    Reader reader(document, QString(), errors);
    schema::describe(reader, config);
    reader.finish();

    for (ConfigError &semantic : validateAfterRead(config, errors))
        errors.push_back(std::move(semantic));
    if (!errors.empty()) {
        rules::sortBySection(errors);
        return unexpected(std::move(errors));
    }
    return config;
}

ConfigResult loadConfig(const QByteArray &json)
{
    if (json.trimmed().isEmpty())
        return unexpected(ConfigErrors{{QStringLiteral("$"), QStringLiteral("the document is empty")}});
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(json, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        qsizetype offset = parseError.offset;
        if (parseError.error == QJsonParseError::UnterminatedString)
            offset = openingQuoteBefore(json, offset);
        else if (parseError.error != QJsonParseError::GarbageAtEnd && parseError.error != QJsonParseError::IllegalNumber)
            offset = std::max<qsizetype>(0, offset - 1); // Qt reports these just past the offending character.
        return unexpected(ConfigErrors{{jsonLocation(json, offset), parseError.errorString()}});
    }
    if (!document.isObject()) {
        return unexpected(ConfigErrors{
            {QStringLiteral("$"), QStringLiteral("must be an object, got %1").arg(jsonTypeName(document.array()))}});
    }
    return loadConfig(document.object());
}

ConfigResult loadConfigFile(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return unexpected(ConfigErrors{{path, QStringLiteral("cannot read: %1").arg(file.errorString())}});
    return loadConfig(file.readAll());
}

} // namespace sluice::config
