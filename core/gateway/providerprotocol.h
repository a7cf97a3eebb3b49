#pragma once

#include <QByteArray>
#include <QString>

#include <optional>

namespace sluice::gateway {

// The wire protocols Sluice speaks, on both sides: what clients send to the gateway
// and what the gateway (or the simulated provider) answers.
enum class ProviderKind {
    OpenAI,    // Chat Completions: POST /v1/chat/completions
    Anthropic, // Messages: POST /v1/messages
};

// "openai" / "anthropic": the names used in configuration, metrics labels and cache keys.
QString providerName(ProviderKind kind);
// Inverse of providerName(), case-insensitive; nullopt for anything else.
std::optional<ProviderKind> providerFromName(QStringView name);

// The request path of the chat endpoint, e.g. "/v1/chat/completions".
QByteArray chatEndpointPath(ProviderKind kind);
// The provider whose chat endpoint is `path` (query string ignored, trailing slash
// tolerated); nullopt for any other path.
std::optional<ProviderKind> providerForPath(QByteArrayView path);

// The response header carrying the request id: "x-request-id" / "request-id".
QByteArray requestIdHeader(ProviderKind kind);

// The status a provider uses for "overloaded, try later": 503 for OpenAI, 529 for Anthropic.
int overloadedStatus(ProviderKind kind);

inline constexpr char jsonContentType[] = "application/json";
inline constexpr char eventStreamContentType[] = "text/event-stream; charset=utf-8";

} // namespace sluice::gateway
