#pragma once

#include <QByteArray>
#include <QByteArrayView>

namespace sluice::store {

// Redis key names, one scheme for every shared-state feature (DESIGN.md):
// sluice:<namespace>:<kind>:<id>, e.g. "sluice:prod:ratelimit:key=ab12:rpm".
// `keyNamespace` separates deployments sharing one Redis and `kind` the features; both
// are short identifiers and must not contain ':'. `id` is arbitrary bytes (hash secrets
// such as API keys before they get here: key names show up in SCAN and MONITOR).
QByteArray redisKey(QByteArrayView keyNamespace, QByteArrayView kind, QByteArrayView id);

// `text` with the glob characters of SCAN's MATCH (* ? [ ] \) escaped, so it matches
// literally.
QByteArray escapeRedisGlob(QByteArrayView text);

// The kind of rate-limit state ("ratelimit").
inline constexpr char kRateLimitKeyKind[] = "ratelimit";
// The kind of shared response-cache entries ("cache"); ids are "<cache namespace>:<key>".
inline constexpr char kCacheKeyKind[] = "cache";

} // namespace sluice::store
