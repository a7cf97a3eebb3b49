#pragma once

#include "gateway/providerprotocol.h"

#include <QByteArray>
#include <QString>

#include <optional>

namespace sluice::gateway {

// An error as a provider reports it, in neutral form. errorBody() renders it in the
// provider's exact JSON shape, so the official client libraries raise the same
// exception class they would raise against the real API.
struct ApiError {
    int httpStatus = 500;
    // The provider's error type ("invalid_request_error", "rate_limit_error", OpenAI's
    // "requests"/"tokens" for 429s, ...). Empty: defaultErrorType(kind, httpStatus).
    QString type;
    // OpenAI's "code" ("rate_limit_exceeded", "invalid_api_key", ...); empty renders as
    // null. Anthropic's shape has no code, so it is not rendered there.
    QString code;
    QString message;
    // OpenAI's "param": the request field at fault; empty renders as null. Not rendered
    // for Anthropic (its messages name the field instead).
    QString param;
    // Anthropic's top-level "request_id"; omitted when empty. Not rendered for OpenAI.
    QString requestId;
};

// Status → type as each provider documents it.
// OpenAI: 429 → "requests", 5xx → "server_error", other 4xx → "invalid_request_error".
// Anthropic: 400 invalid_request_error, 401 authentication_error, 402 billing_error,
// 403 permission_error, 404 not_found_error, 413 request_too_large, 429 rate_limit_error,
// 500 api_error, 503/529 overloaded_error, 504 timeout_error; other 4xx
// invalid_request_error, other 5xx api_error.
QString defaultErrorType(ProviderKind kind, int httpStatus);
// OpenAI only (empty for Anthropic): 401 "invalid_api_key", 413 "request_too_large",
// 429 "rate_limit_exceeded", 504 "timeout"; empty (null) otherwise.
QString defaultErrorCode(ProviderKind kind, int httpStatus);

// The HTTP status an error type stands for, for errors that arrive without one
// (mid-stream error events): the inverse of defaultErrorType(); OpenAI "requests",
// "tokens" and "insufficient_quota" → 429; unknown types → 500.
int statusForErrorType(ProviderKind kind, const QString &type);

// A complete ApiError for a status: default type and code, and `message` or, when
// empty, a short default text ("Overloaded", "Rate limit exceeded", ...).
ApiError errorForStatus(ProviderKind kind, int httpStatus, const QString &message = {});
// A 400 invalid_request_error naming the offending field in `param`.
ApiError invalidRequest(const QString &message, const QString &param = {}, const QString &code = {});

// The response body, compact JSON:
// OpenAI:    {"error":{"message":…,"type":…,"param":…|null,"code":…|null}}
// Anthropic: {"type":"error","error":{"type":…,"message":…}[,"request_id":…]}
// Also the data of a mid-stream error event (Anthropic: `event: error`).
QByteArray errorBody(ProviderKind kind, const ApiError &error);

// The inverse of errorBody(), for bodies coming back from an upstream: nullopt when
// `body` is not that provider's error shape. httpStatus is taken from the argument.
std::optional<ApiError> parseErrorBody(ProviderKind kind, int httpStatus, QByteArrayView body);

} // namespace sluice::gateway
