#pragma once

#include "http/httpheaders.h"

#include <QByteArray>
#include <QByteArrayView>

namespace sluice::http {

// Reassembles header fields from the pieces libhttp-parser hands to its on_header_field
// and on_header_value callbacks (a name or value may arrive split across reads), and adds
// each complete field to an HttpHeaders. Shared by the request and the response parser.
// Not thread-safe; one per parser.
class HttpFieldCollector {
public:
    void reset()
    {
        m_field.clear();
        m_value.clear();
        m_lastWasValue = false;
    }
    // on_header_field: a new name starts after a value, so the previous field is added
    // first. False when that field's name is invalid (nothing added).
    bool addNamePiece(QByteArrayView piece, HttpHeaders &into)
    {
        if (m_lastWasValue && !commit(into))
            return false;
        m_field.append(piece);
        return true;
    }
    // on_header_value.
    void addValuePiece(QByteArrayView piece)
    {
        m_value.append(piece);
        m_lastWasValue = true;
    }
    // Adds the pending field (value trimmed), if any; at the end of the header block.
    // False when its name is not an RFC 9110 token (nothing added).
    bool commit(HttpHeaders &into)
    {
        if (m_field.isEmpty())
            return true;
        if (!HttpHeaders::isValidName(m_field))
            return false;
        into.add(std::move(m_field), m_value.trimmed());
        reset();
        return true;
    }

private:
    QByteArray m_field;
    QByteArray m_value;
    bool m_lastWasValue = false;
};

} // namespace sluice::http
