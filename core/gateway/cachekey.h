#pragma once

#include "gateway/providerprotocol.h"

#include <QByteArray>
#include <QJsonObject>
#include <QStringList>

namespace sluice::gateway {

// The response-cache key of a chat request: two requests get the same key exactly when
// they ask the model the same thing. Pure; thread-safe.
//
// Every top-level field takes part except those known not to change the answer, so a
// field Sluice has never heard of (a new sampling parameter) can only cause a miss,
// never a wrong hit. Left out:
// - cacheNeutralFields(): stream, stream_options, user, metadata, store, service_tier,
//   safety_identifier, prompt_cache_key, prompt_cache_retention, request_id;
// - top-level fields whose value is null (the same as absent for both providers);
// - "cache_control" members at any depth (Anthropic prompt-caching markers).
// Whatever remains (model, messages, system, tools, tool_choice, functions, temperature,
// top_p, top_k, max_tokens, max_completion_tokens, stop, stop_sequences, response_format,
// seed, penalties, logit_bias, n, reasoning settings, ...) is what cacheKeyFields()
// returns.
QStringList cacheNeutralFields();
QJsonObject cacheKeyFields(const QJsonObject &request);

// 64 lowercase hex characters: SHA-256 of "sluice-cache-v1\n" + providerName(kind) +
// "\n" + canonicalJson(cacheKeyFields(request)). The provider is part of the key: the
// same JSON means different things to different APIs.
QByteArray cacheKey(ProviderKind kind, const QJsonObject &request);

} // namespace sluice::gateway
