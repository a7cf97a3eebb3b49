#include "http/httperrorbody.h"

#include <QJsonDocument>
#include <QJsonObject>

namespace sluice::http {

QByteArray errorCodeForStatus(int status)
{
    switch (status) {
    case 400: return "malformed_request";
    case 408: return "request_timeout";
    case 413: return "request_too_large";
    case 417: return "expectation_failed";
    case 431: return "header_too_large";
    case 500: return "server_error";
    case 501: return "not_implemented";
    case 505: return "http_version_not_supported";
    default: return "http_error";
    }
}

QByteArray defaultErrorBody(int status, const QString &message)
{
    const QJsonObject error{
        {QStringLiteral("message"), message},
        {QStringLiteral("type"),
         status == 500 ? QStringLiteral("server_error") : QStringLiteral("invalid_request_error")},
        {QStringLiteral("code"), QString::fromLatin1(errorCodeForStatus(status))},
    };
    return QJsonDocument(QJsonObject{{QStringLiteral("error"), error}}).toJson(QJsonDocument::Compact);
}

} // namespace sluice::http
