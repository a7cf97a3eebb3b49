#include "config/configpath.h"

#include <span>

#include <QJsonArray>
#include <QJsonDocument>

#include "config/jsontext.h"

namespace sluice::config {
namespace {

bool isPlainWord(QStringView text)
{
    if (text.isEmpty())
        return false;
    for (const QChar c : text) {
        const bool plain = (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z')
            || (c >= u'0' && c <= u'9') || c == u'_' || c == u'-';
        if (!plain)
            return false;
    }
    return true;
}

// Reads a JSON string literal starting at text[pos] == '"'; advances pos past it.
std::optional<QString> readQuoted(QStringView text, qsizetype &pos)
{
    qsizetype end = pos + 1;
    while (end < text.size() && text[end] != u'"')
        end += text[end] == u'\\' ? 2 : 1;
    if (end >= text.size())
        return std::nullopt;
    const QByteArray literal = QByteArrayLiteral("[") + text.mid(pos, end - pos + 1).toUtf8() + "]";
    const QJsonDocument parsed = QJsonDocument::fromJson(literal);
    if (!parsed.isArray() || !parsed.array().at(0).isString())
        return std::nullopt;
    pos = end + 1;
    return parsed.array().at(0).toString();
}

QString readWord(QStringView text, qsizetype &pos, QStringView stopAt)
{
    const qsizetype start = pos;
    while (pos < text.size() && !stopAt.contains(text[pos]))
        ++pos;
    return text.mid(start, pos - start).toString();
}

qsizetype findMatch(const QJsonArray &array, const PathSegment &segment)
{
    for (qsizetype i = 0; i < array.size(); ++i) {
        const QJsonValue field = array.at(i).toObject().value(segment.key);
        if (field.isString() && field.toString() == segment.value)
            return i;
    }
    return -1;
}

Result<QJsonValue, QString> setIn(const QJsonValue &node, std::span<const PathSegment> segments,
                                  const QJsonValue &value)
{
    if (segments.empty())
        return value;
    const PathSegment &segment = segments.front();
    const auto rest = segments.subspan(1);
    const bool removing = rest.empty() && value.isUndefined();

    if (segment.kind == PathSegment::Kind::Key) {
        if (!node.isObject() && !node.isUndefined())
            return unexpected(QStringLiteral("\"%1\" is inside %2, not an object").arg(segment.key, jsonTypeName(node)));
        QJsonObject object = node.toObject();
        if (removing) {
            if (!object.contains(segment.key))
                return unexpected(QStringLiteral("no field \"%1\" to remove").arg(segment.key));
            object.remove(segment.key);
            return QJsonValue(object);
        }
        auto child = setIn(object.value(segment.key), rest, value);
        if (!child)
            return child;
        object.insert(segment.key, *child);
        return QJsonValue(object);
    }

    if (!node.isArray())
        return unexpected(QStringLiteral("an element is addressed inside %1, not an array").arg(jsonTypeName(node)));
    QJsonArray array = node.toArray();
    qsizetype index = segment.index;
    if (segment.kind == PathSegment::Kind::Match) {
        index = findMatch(array, segment);
        if (index < 0) {
            if (removing)
                return unexpected(QStringLiteral("no element with %1 \"%2\"").arg(segment.key, segment.value));
            index = array.size();
            array.append(QJsonObject{{segment.key, segment.value}});
        }
    } else if (index > array.size() || (index == array.size() && removing)) {
        return unexpected(QStringLiteral("index %1 is out of range (size %2)").arg(index).arg(array.size()));
    }
    if (removing) {
        array.removeAt(index);
        return QJsonValue(array);
    }
    auto child = setIn(index < array.size() ? array.at(index) : QJsonValue(QJsonValue::Undefined), rest, value);
    if (!child)
        return child;
    if (index == array.size())
        array.append(*child);
    else
        array.replace(index, *child);
    return QJsonValue(array);
}

} // namespace

QString pathWithKey(const QString &path, const QString &key)
{
    if (!isPlainWord(key))
        return path + QLatin1Char('[') + jsonText(key) + QLatin1Char(']');
    return path.isEmpty() ? key : path + QLatin1Char('.') + key;
}

QString pathWithIndex(const QString &path, qsizetype index)
{
    return path + QLatin1Char('[') + QString::number(index) + QLatin1Char(']');
}

QString pathWithMatch(const QString &path, const QString &field, const QString &value)
{
    return path + QLatin1Char('[') + field + QLatin1Char('=')
        + (isPlainWord(value) ? value : jsonText(value)) + QLatin1Char(']');
}

bool isWithinPath(QStringView path, QStringView ancestor)
{
    if (!path.startsWith(ancestor))
        return false;
    return path.size() == ancestor.size() || path[ancestor.size()] == u'.' || path[ancestor.size()] == u'['
        || ancestor.isEmpty();
}

Result<std::vector<PathSegment>, QString> parsePath(QStringView path)
{
    std::vector<PathSegment> segments;
    qsizetype pos = 0;
    const auto malformed = [&](const char *what) {
        return unexpected(QStringLiteral("malformed path at character %1: %2").arg(pos + 1).arg(QLatin1String(what)));
    };
    while (pos < path.size()) {
        PathSegment segment;
        if (path[pos] == u'[') {
            ++pos;
            if (pos < path.size() && path[pos] == u'"') {
                auto key = readQuoted(path, pos);
                if (!key)
                    return malformed("bad quoted key");
                segment.key = *key;
            } else {
                const QString word = readWord(path, pos, u"=]");
                if (pos < path.size() && path[pos] == u'=') {
                    ++pos;
                    segment.kind = PathSegment::Kind::Match;
                    segment.key = word;
                    if (pos < path.size() && path[pos] == u'"') {
                        auto value = readQuoted(path, pos);
                        if (!value)
                            return malformed("bad quoted value");
                        segment.value = *value;
                    } else {
                        segment.value = readWord(path, pos, u"]");
                    }
                    if (!isPlainWord(segment.key))
                        return malformed("bad field name");
                } else {
                    bool isNumber = false;
                    segment.kind = PathSegment::Kind::Index;
                    segment.index = word.toLongLong(&isNumber);
                    if (!isNumber || segment.index < 0 || !isPlainWord(word))
                        return malformed("bad index");
                }
            }
            if (pos >= path.size() || path[pos] != u']')
                return malformed("expected ]");
            ++pos;
        } else {
            if (path[pos] == u'.') {
                if (segments.empty())
                    return malformed("unexpected .");
                ++pos;
            } else if (!segments.empty()) {
                return malformed("expected . or [");
            }
            segment.key = readWord(path, pos, u".[");
            if (!isPlainWord(segment.key))
                return malformed("bad key");
        }
        segments.push_back(std::move(segment));
    }
    if (segments.empty())
        return unexpected(QStringLiteral("empty path"));
    return segments;
}

QJsonValue valueAtPath(const QJsonValue &root, QStringView path)
{
    const auto segments = parsePath(path);
    if (!segments)
        return QJsonValue(QJsonValue::Undefined);
    QJsonValue node = root;
    for (const PathSegment &segment : *segments) {
        switch (segment.kind) {
        case PathSegment::Kind::Key:
            node = node.toObject().value(segment.key);
            break;
        case PathSegment::Kind::Index: {
            const QJsonArray array = node.toArray();
            node = segment.index < array.size() ? array.at(segment.index) : QJsonValue(QJsonValue::Undefined);
            break;
        }
        case PathSegment::Kind::Match: {
            const QJsonArray array = node.toArray();
            const qsizetype index = findMatch(array, segment);
            node = index >= 0 ? array.at(index) : QJsonValue(QJsonValue::Undefined);
            break;
        }
        }
        if (node.isUndefined())
            break;
    }
    return node;
}

Result<QJsonObject, QString> setValueAtPath(const QJsonObject &root, QStringView path, const QJsonValue &value)
{
    auto segments = parsePath(path);
    if (!segments)
        return unexpected(std::move(segments).error());
    auto updated = setIn(root, *segments, value);
    if (!updated)
        return unexpected(std::move(updated).error());
    return updated->toObject();
}

} // namespace sluice::config
