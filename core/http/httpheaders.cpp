#include "http/httpheaders.h"

#include <algorithm>

namespace sluice::http {

namespace {

char lowerAscii(char c)
{
    return (c >= 'A' && c <= 'Z') ? char(c + ('a' - 'A')) : c;
}

bool isTokenChar(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
        return true;
    default:
        return false;
    }
}

QByteArrayView trimmed(QByteArrayView text)
{
    while (!text.isEmpty() && (text.front() == ' ' || text.front() == '\t'))
        text = text.sliced(1);
    while (!text.isEmpty() && (text.back() == ' ' || text.back() == '\t'))
        text.chop(1);
    return text;
}

} // namespace

HttpHeaders::HttpHeaders(std::initializer_list<Field> fields) : m_fields(fields) {}

bool HttpHeaders::namesEqual(QByteArrayView left, QByteArrayView right)
{
    if (left.size() != right.size())
        return false;
    for (qsizetype index = 0; index < left.size(); ++index) {
        if (lowerAscii(left[index]) != lowerAscii(right[index]))
            return false;
    }
    return true;
}

void HttpHeaders::add(QByteArray name, QByteArray value)
{
    m_fields.emplace_back(std::move(name), std::move(value));
}

void HttpHeaders::set(QByteArrayView name, QByteArray value)
{
    remove(name);
    m_fields.emplace_back(name.toByteArray(), std::move(value));
}

qsizetype HttpHeaders::remove(QByteArrayView name)
{
    const auto removed = std::erase_if(m_fields, [name](const Field &field) { return namesEqual(field.first, name); });
    return qsizetype(removed);
}

bool HttpHeaders::contains(QByteArrayView name) const
{
    return std::any_of(m_fields.begin(), m_fields.end(),
                       [name](const Field &field) { return namesEqual(field.first, name); });
}

QByteArray HttpHeaders::value(QByteArrayView name, const QByteArray &defaultValue) const
{
    for (const Field &field : m_fields) {
        if (namesEqual(field.first, name))
            return field.second;
    }
    return defaultValue;
}

QList<QByteArray> HttpHeaders::values(QByteArrayView name) const
{
    QList<QByteArray> result;
    for (const Field &field : m_fields) {
        if (namesEqual(field.first, name))
            result.append(field.second);
    }
    return result;
}

QByteArray HttpHeaders::combinedValue(QByteArrayView name) const
{
    QByteArray result;
    for (const Field &field : m_fields) {
        if (!namesEqual(field.first, name))
            continue;
        if (!result.isEmpty())
            result += ", ";
        result += field.second;
    }
    return result;
}

bool HttpHeaders::hasToken(QByteArrayView name, QByteArrayView token) const
{
    for (const Field &field : m_fields) {
        if (!namesEqual(field.first, name))
            continue;
        QByteArrayView rest(field.second);
        while (!rest.isEmpty()) {
            const qsizetype comma = rest.indexOf(',');
            const QByteArrayView item = comma < 0 ? rest : rest.first(comma);
            if (namesEqual(trimmed(item), token))
                return true;
            if (comma < 0)
                break;
            rest = rest.sliced(comma + 1);
        }
    }
    return false;
}

bool HttpHeaders::isValidName(QByteArrayView name)
{
    return !name.isEmpty() && std::all_of(name.begin(), name.end(), isTokenChar);
}

bool HttpHeaders::isValidValue(QByteArrayView value)
{
    return std::none_of(value.begin(), value.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

qsizetype HttpHeaders::appendTo(QByteArray &out) const
{
    qsizetype skipped = 0;
    for (const Field &field : m_fields) {
        if (!isValidName(field.first) || !isValidValue(field.second)) {
            ++skipped;
            continue;
        }
        out += field.first;
        out += ": ";
        out += field.second;
        out += "\r\n";
    }
    return skipped;
}

} // namespace sluice::http
