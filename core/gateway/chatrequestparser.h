#pragma once

#include "gateway/apierror.h"
#include "gateway/chatrequest.h"
#include "policy/result.h"

#include <QByteArray>

namespace sluice::gateway {

// Parse and validate a client's request body into a ChatRequest. Pure functions;
// thread-safe. On failure the ApiError is a 400 invalid_request_error whose message
// names the field path first ("messages[2].role: must be one of user, assistant") and
// whose param is that path, ready for errorBody(). Validation covers what the gateway
// relies on and the well-known range checks; unknown fields are accepted and forwarded.
//
// Rules shared by both shapes: the body is a JSON object ("invalid JSON at offset N:
// <reason>" otherwise); "model" is a non-empty string; "messages" is a non-empty array
// of objects with a known role and content that is a string or an array of typed
// parts/blocks; "stream" is a boolean; explicit null counts as absent for optional
// fields.
// OpenAI: max_completion_tokens / max_tokens integers >= 1; temperature 0..2; top_p 0..1;
// n 1..128; presence/frequency_penalty -2..2; seed integer; stop a string or up to 4
// strings; stream_options only with stream true; tool messages need tool_call_id;
// content may be null only for an assistant message with tool_calls or function_call.
// Anthropic: max_tokens required, integer >= 1; roles user and assistant only (a
// "system" role is pointed to the top-level system field); system a string or text
// blocks; temperature 0..1; top_p 0..1; top_k integer >= 0; stop_sequences strings.
Result<ChatRequest, ApiError> parseOpenAIChatRequest(const QByteArray &body);
Result<ChatRequest, ApiError> parseAnthropicMessagesRequest(const QByteArray &body);
Result<ChatRequest, ApiError> parseChatRequest(ProviderKind kind, const QByteArray &body);

} // namespace sluice::gateway
