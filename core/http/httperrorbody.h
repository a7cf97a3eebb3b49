#pragma once

#include <QByteArray>
#include <QString>

namespace sluice::http {

// The body of an error the HTTP server answers by itself, in the OpenAI error shape:
// {"error":{"message":"…","type":"invalid_request_error","code":"…"}}
// type is "server_error" for 500, "invalid_request_error" otherwise; code is
// errorCodeForStatus(status).
QByteArray defaultErrorBody(int status, const QString &message);

// "malformed_request" (400), "request_timeout" (408), "request_too_large" (413),
// "expectation_failed" (417), "header_too_large" (431), "server_error" (500),
// "not_implemented" (501), "http_version_not_supported" (505), "http_error" otherwise.
QByteArray errorCodeForStatus(int status);

} // namespace sluice::http
