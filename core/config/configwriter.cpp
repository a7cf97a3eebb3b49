#include "config/configwriter.h"

#include <QCryptographicHash>
#include <QJsonArray>
#include <QJsonDocument>

#include "config/configschema.h"
#include "config/jsontext.h"

namespace sluice::config {
namespace {

class Writer {
public:
    template <typename T, typename... C>
    void field(QStringView key, const T &member, C...)
    {
        m_object.insert(key.toString(), toValue(member));
    }

    void retryOn(QStringView key, const RetryConfig &retries)
    {
        QJsonArray conditions;
        for (const int status : retries.retryOnStatuses)
            conditions.append(status);
        if (retries.retryOnTimeout)
            conditions.append(QStringLiteral("timeout"));
        if (retries.retryOnConnectionReset)
            conditions.append(QStringLiteral("connection_reset"));
        m_object.insert(key.toString(), conditions);
    }

    QJsonObject object() const { return m_object; }

    template <typename T>
    static QJsonValue toValue(const T &member)
    {
        if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, QString> || std::is_floating_point_v<T>) {
            return QJsonValue(member);
        } else if constexpr (std::is_integral_v<T>) {
            return QJsonValue(qint64(member));
        } else if constexpr (schema::IsDuration<T>::value) {
            return QJsonValue(qint64(member.count()));
        } else if constexpr (std::is_enum_v<T>) {
            // A value outside the enum (only possible in code) is written as its
            // number, so that loading the result reports it instead of hiding it.
            const QString name = enumName(member);
            return name.isEmpty() ? QJsonValue(static_cast<int>(member)) : QJsonValue(name);
        } else if constexpr (std::is_same_v<T, QStringList>) {
            return QJsonArray::fromStringList(member);
        } else if constexpr (schema::IsVector<T>::value) {
            QJsonArray array;
            for (const auto &element : member)
                array.append(toValue(element));
            return array;
        } else if constexpr (schema::IsStringMap<T>::value) {
            QJsonObject object;
            for (const auto &[key, value] : member)
                object.insert(key, toValue(value));
            return object;
        } else {
            Writer section;
            schema::describe(section, member);
            return section.object();
        }
    }

private:
    QJsonObject m_object;
};

template <typename T>
struct IsVectorOfSections : std::false_type {};
template <typename T>
struct IsVectorOfSections<std::vector<T>> : std::is_class<T> {};

// Text in document order (the order of gatewayconfig.h), for people: sections
// and fields read top-down as documented; arrays of values stay on one line.
class PrettyWriter {
public:
    explicit PrettyWriter(int depth) : m_depth(depth) {}

    template <typename T, typename... C>
    void field(QStringView key, const T &member, C...)
    {
        m_members.append(memberLine(m_depth + 1, key.toString(), valueText(member, m_depth + 1)));
    }

    void retryOn(QStringView key, const RetryConfig &retries)
    {
        Writer conditions;
        conditions.retryOn(key, retries);
        const QJsonValue array = conditions.object().value(key.toString());
        m_members.append(memberLine(m_depth + 1, key.toString(), valueText(array, m_depth + 1)));
    }

    QString text() const { return enclose(m_members, u'{', u'}', m_depth); }

    // A value whose first line is at indentation depth.
    template <typename T>
    static QString valueText(const T &member, int depth)
    {
        if constexpr (std::is_same_v<T, QJsonValue>) {
            if (!member.isArray())
                return jsonText(member);
            QStringList elements;
            for (const QJsonValue &element : member.toArray())
                elements.append(jsonText(element));
            return QLatin1Char('[') + elements.join(QStringLiteral(", ")) + QLatin1Char(']');
        } else if constexpr (IsVectorOfSections<T>::value) {
            QStringList lines;
            for (const auto &element : member)
                lines.append(indent(depth + 1) + valueText(element, depth + 1));
            return enclose(lines, u'[', u']', depth);
        } else if constexpr (schema::IsStringMap<T>::value) {
            QStringList lines;
            for (const auto &[key, value] : member)
                lines.append(memberLine(depth + 1, key, valueText(value, depth + 1)));
            return enclose(lines, u'{', u'}', depth);
        } else if constexpr (std::is_class_v<T> && !std::is_same_v<T, QString> && !std::is_same_v<T, QStringList>
                             && !schema::IsDuration<T>::value && !schema::IsVector<T>::value) {
            PrettyWriter section(depth);
            schema::describe(section, member);
            return section.text();
        } else {
            return valueText(Writer::toValue(member), depth);
        }
    }

private:
    static QString indent(int depth) { return QString(depth * 2, u' '); }

    static QString memberLine(int depth, const QString &key, const QString &value)
    {
        return indent(depth) + jsonText(key) + QStringLiteral(": ") + value;
    }

    static QString enclose(const QStringList &lines, QChar open, QChar close, int depth)
    {
        if (lines.isEmpty())
            return QString(open) + close;
        return open + QStringLiteral("\n") + lines.join(QStringLiteral(",\n")) + QStringLiteral("\n")
            + indent(depth) + close;
    }

    const int m_depth;
    QStringList m_members;
};

} // namespace

QJsonObject toJson(const GatewayConfig &config)
{
    return Writer::toValue(config).toObject();
}

QByteArray saveConfig(const GatewayConfig &config)
{
    return (PrettyWriter::valueText(config, 0) + QLatin1Char('\n')).toUtf8();
}

QString contentHash(const GatewayConfig &config)
{
    QJsonObject settings = toJson(config);
    settings.remove(QStringLiteral("version"));
    settings.remove(QStringLiteral("comment"));
    const QByteArray canonical = QJsonDocument(settings).toJson(QJsonDocument::Compact);
    return QString::fromLatin1(QCryptographicHash::hash(canonical, QCryptographicHash::Sha256).toHex());
}

} // namespace sluice::config
