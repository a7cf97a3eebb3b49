#pragma once

#include "policy/result.h"
#include "store/redissession.h"
#include "store/storeerror.h"

#include <QByteArray>
#include <QObject>

#include <functional>

namespace sluice::store {

// Deletes every key matching the SCAN glob `pattern` (escape literal parts with
// escapeRedisGlob()): SCAN pages of COUNT 500, each page's keys UNLINKed (freed in the
// background by the server) before the next page is asked for, so the server is never
// blocked by one big command and the session is never flooded. Keys written during
// the sweep may survive it (SCAN's guarantee covers keys present throughout).
//
// `done` gets the number of keys unlinked, or the first error (keys of earlier pages
// stay deleted). Callback rules as RedisSession::command(); `context` bounds every step
// (null: the session). The session must outlive the sweep.
void unlinkMatching(RedisSession &session, QByteArray pattern, QObject *context,
                    std::function<void(Result<qint64, StoreError>)> done);

} // namespace sluice::store
