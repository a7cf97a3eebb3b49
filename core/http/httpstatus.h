#pragma once

#include <QByteArray>

namespace sluice::http {

// The RFC 9110 reason phrase for a status code ("Not Found"), or "Unknown" for a
// code it does not name. Clients ignore the phrase; it is there for humans.
QByteArray reasonPhrase(int status);

// "HTTP/1.1 <status> <reason>\r\n".
QByteArray statusLine(int status);

// Whether a response with this status carries no body by definition (1xx, 204, 304).
bool statusForbidsBody(int status);

} // namespace sluice::http
