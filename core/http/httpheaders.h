#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>

#include <utility>
#include <vector>

namespace sluice::http {

// An ordered list of HTTP header fields. Names compare ASCII case-insensitively;
// repeated fields are kept in arrival order (Set-Cookie, or a client that sends
// the same field twice) and written out as they are. Names and values are raw
// bytes (values without surrounding whitespace); nothing is decoded.
// A value type: not thread-safe, copy it to share.
class HttpHeaders {
public:
    using Field = std::pair<QByteArray, QByteArray>;
    using const_iterator = std::vector<Field>::const_iterator;

    HttpHeaders() = default;
    HttpHeaders(std::initializer_list<Field> fields);

    // Appends a field, keeping earlier ones of the same name.
    void add(QByteArray name, QByteArray value);
    // Replaces every field of that name by one (appended at the end if none existed).
    void set(QByteArrayView name, QByteArray value);
    // Removes every field of that name; returns how many were removed.
    qsizetype remove(QByteArrayView name);

    bool contains(QByteArrayView name) const;
    // The first field of that name, or defaultValue.
    QByteArray value(QByteArrayView name, const QByteArray &defaultValue = {}) const;
    // Every field of that name, in order.
    QList<QByteArray> values(QByteArrayView name) const;
    // Every field of that name joined by ", " (RFC 9110 §5.3 list combination).
    QByteArray combinedValue(QByteArrayView name) const;
    // Whether the comma-separated list in the fields of that name holds `token`
    // (case-insensitive), as in `Connection: keep-alive, Upgrade`.
    bool hasToken(QByteArrayView name, QByteArrayView token) const;

    qsizetype size() const { return qsizetype(m_fields.size()); }
    bool isEmpty() const { return m_fields.empty(); }
    const Field &at(qsizetype index) const { return m_fields[std::size_t(index)]; }
    const_iterator begin() const { return m_fields.begin(); }
    const_iterator end() const { return m_fields.end(); }

    // Appends "Name: value\r\n" for each field. A field whose name is not an RFC 9110
    // token or whose value holds CR, LF or NUL is skipped (no header injection from
    // forwarded upstream headers); returns how many fields were skipped.
    qsizetype appendTo(QByteArray &out) const;

    static bool isValidName(QByteArrayView name);
    static bool isValidValue(QByteArrayView value);
    static bool namesEqual(QByteArrayView left, QByteArrayView right);

    friend bool operator==(const HttpHeaders &, const HttpHeaders &) = default;

private:
    std::vector<Field> m_fields;
};

} // namespace sluice::http
