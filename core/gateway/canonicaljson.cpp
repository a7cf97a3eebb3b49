#include "gateway/canonicaljson.h"

#include <QJsonArray>
#include <QJsonObject>

#include <algorithm>
#include <charconv>
#include <cmath>

namespace sluice::gateway {

namespace {

void writeValue(const QJsonValue &value, QByteArray &out);

void writeString(const QString &text, QByteArray &out)
{
    static constexpr char hexDigits[] = "0123456789abcdef";
    out += '"';
    for (const char byte : text.toUtf8()) {
        const auto code = static_cast<unsigned char>(byte);
        switch (byte) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\b':
            out += "\\b";
            break;
        case '\f':
            out += "\\f";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            if (code < 0x20) {
                out += "\\u00";
                out += hexDigits[code >> 4];
                out += hexDigits[code & 0xF];
            } else {
                out += byte;
            }
        }
    }
    out += '"';
}

void writeNumber(double number, QByteArray &out)
{
    constexpr double exactIntegerLimit = 9007199254740992.0; // 2^53
    if (std::floor(number) == number && std::fabs(number) < exactIntegerLimit) {
        out += QByteArray::number(static_cast<qint64>(number));
        return;
    }
    char buffer[32];
    const std::to_chars_result written = std::to_chars(std::begin(buffer), std::end(buffer), number);
    out.append(buffer, written.ptr - buffer);
}

void writeObject(const QJsonObject &object, QByteArray &out)
{
    QStringList keys = object.keys();
    std::sort(keys.begin(), keys.end());
    out += '{';
    for (qsizetype i = 0; i < keys.size(); ++i) {
        if (i > 0)
            out += ',';
        writeString(keys.at(i), out);
        out += ':';
        writeValue(object.value(keys.at(i)), out);
    }
    out += '}';
}

void writeValue(const QJsonValue &value, QByteArray &out)
{
    switch (value.type()) {
    case QJsonValue::Null:
    case QJsonValue::Undefined:
        out += "null";
        break;
    case QJsonValue::Bool:
        out += value.toBool() ? "true" : "false";
        break;
    case QJsonValue::Double:
        writeNumber(value.toDouble(), out);
        break;
    case QJsonValue::String:
        writeString(value.toString(), out);
        break;
    case QJsonValue::Array: {
        const QJsonArray array = value.toArray();
        out += '[';
        for (qsizetype i = 0; i < array.size(); ++i) {
            if (i > 0)
                out += ',';
            writeValue(array.at(i), out);
        }
        out += ']';
        break;
    }
    case QJsonValue::Object:
        writeObject(value.toObject(), out);
        break;
    }
}

} // namespace

QByteArray canonicalJson(const QJsonValue &value)
{
    QByteArray out;
    writeValue(value, out);
    return out;
}

} // namespace sluice::gateway
