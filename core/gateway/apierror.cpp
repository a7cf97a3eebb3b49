#include "gateway/apierror.h"

#include <QJsonDocument>
#include <QJsonObject>

namespace sluice::gateway {

namespace {

QJsonValue stringOrNull(const QString &text)
{
    return text.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(text);
}

QString defaultMessage(int httpStatus)
{
    switch (httpStatus) {
    case 400:
        return QStringLiteral("Bad request");
    case 401:
        return QStringLiteral("Invalid API key");
    case 402:
        return QStringLiteral("Payment required");
    case 403:
        return QStringLiteral("Permission denied");
    case 404:
        return QStringLiteral("Not found");
    case 408:
        return QStringLiteral("Request timed out");
    case 413:
        return QStringLiteral("Request too large");
    case 429:
        return QStringLiteral("Rate limit exceeded");
    case 500:
        return QStringLiteral("Internal server error");
    case 502:
        return QStringLiteral("Bad gateway");
    case 503:
    case 529:
        return QStringLiteral("Overloaded");
    case 504:
        return QStringLiteral("Upstream timed out");
    default:
        return httpStatus >= 500 ? QStringLiteral("Server error") : QStringLiteral("Request error");
    }
}

} // namespace

QString defaultErrorType(ProviderKind kind, int httpStatus)
{
    if (kind == ProviderKind::OpenAI) {
        if (httpStatus == 429)
            return QStringLiteral("requests");
        return httpStatus >= 500 ? QStringLiteral("server_error") : QStringLiteral("invalid_request_error");
    }
    switch (httpStatus) {
    case 401:
        return QStringLiteral("authentication_error");
    case 402:
        return QStringLiteral("billing_error");
    case 403:
        return QStringLiteral("permission_error");
    case 404:
        return QStringLiteral("not_found_error");
    case 413:
        return QStringLiteral("request_too_large");
    case 429:
        return QStringLiteral("rate_limit_error");
    case 503:
    case 529:
        return QStringLiteral("overloaded_error");
    case 504:
        return QStringLiteral("timeout_error");
    default:
        return httpStatus >= 500 ? QStringLiteral("api_error") : QStringLiteral("invalid_request_error");
    }
}

QString defaultErrorCode(ProviderKind kind, int httpStatus)
{
    if (kind != ProviderKind::OpenAI)
        return {};
    switch (httpStatus) {
    case 401:
        return QStringLiteral("invalid_api_key");
    case 413:
        return QStringLiteral("request_too_large");
    case 429:
        return QStringLiteral("rate_limit_exceeded");
    case 504:
        return QStringLiteral("timeout");
    default:
        return {};
    }
}

int statusForErrorType(ProviderKind kind, const QString &type)
{
    if (kind == ProviderKind::OpenAI) {
        if (type == QStringLiteral("requests") || type == QStringLiteral("tokens")
            || type == QStringLiteral("insufficient_quota"))
            return 429;
        if (type == QStringLiteral("invalid_request_error"))
            return 400;
        return 500;
    }
    for (const int status : {400, 401, 402, 403, 404, 413, 429, 500, 504, 529}) {
        if (defaultErrorType(kind, status) == type)
            return status;
    }
    return 500;
}

ApiError errorForStatus(ProviderKind kind, int httpStatus, const QString &message)
{
    ApiError error;
    error.httpStatus = httpStatus;
    error.type = defaultErrorType(kind, httpStatus);
    error.code = defaultErrorCode(kind, httpStatus);
    error.message = message.isEmpty() ? defaultMessage(httpStatus) : message;
    return error;
}

ApiError invalidRequest(const QString &message, const QString &param, const QString &code)
{
    ApiError error;
    error.httpStatus = 400;
    error.type = QStringLiteral("invalid_request_error");
    error.code = code;
    error.message = message;
    error.param = param;
    return error;
}

QByteArray errorBody(ProviderKind kind, const ApiError &error)
{
    const QString type = error.type.isEmpty() ? defaultErrorType(kind, error.httpStatus) : error.type;
    QJsonObject body;
    if (kind == ProviderKind::OpenAI) {
        body.insert(QStringLiteral("error"), QJsonObject{
                                                 {QStringLiteral("message"), error.message},
                                                 {QStringLiteral("type"), type},
                                                 {QStringLiteral("param"), stringOrNull(error.param)},
                                                 {QStringLiteral("code"), stringOrNull(error.code)},
                                             });
    } else {
        body.insert(QStringLiteral("type"), QStringLiteral("error"));
        body.insert(QStringLiteral("error"), QJsonObject{
                                                 {QStringLiteral("type"), type},
                                                 {QStringLiteral("message"), error.message},
                                             });
        if (!error.requestId.isEmpty())
            body.insert(QStringLiteral("request_id"), error.requestId);
    }
    return QJsonDocument(body).toJson(QJsonDocument::Compact);
}

std::optional<ApiError> parseErrorBody(ProviderKind kind, int httpStatus, QByteArrayView body)
{
    const QJsonDocument document = QJsonDocument::fromJson(body.toByteArray());
    if (!document.isObject())
        return std::nullopt;
    const QJsonObject root = document.object();
    if (kind == ProviderKind::Anthropic && root.value(QStringLiteral("type")).toString() != QStringLiteral("error"))
        return std::nullopt;
    const QJsonValue inner = root.value(QStringLiteral("error"));
    if (!inner.isObject())
        return std::nullopt;
    const QJsonObject fields = inner.toObject();
    if (!fields.value(QStringLiteral("message")).isString())
        return std::nullopt;
    ApiError error;
    error.httpStatus = httpStatus;
    error.type = fields.value(QStringLiteral("type")).toString();
    error.message = fields.value(QStringLiteral("message")).toString();
    if (kind == ProviderKind::OpenAI) {
        error.param = fields.value(QStringLiteral("param")).toString();
        error.code = fields.value(QStringLiteral("code")).toString();
    } else {
        error.requestId = root.value(QStringLiteral("request_id")).toString();
    }
    return error;
}

} // namespace sluice::gateway
