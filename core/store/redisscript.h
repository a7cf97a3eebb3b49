#pragma once

#include "store/redissession.h"

#include <QByteArray>
#include <QList>

#include <memory>

namespace sluice::store {

// A Lua script run with EVALSHA, so only its SHA-1 travels per call. The server caches
// scripts until it restarts or SCRIPT FLUSH; when an EVALSHA meets NOSCRIPT, the script
// sends SCRIPT LOAD and the EVALSHA again, back to back on the same session (one extra
// round trip), and the caller sees only the second answer. load() preloads it, e.g.
// whenever a session becomes Ready, so a first call needs no retry at all.
//
// A copy shares the source and the counters. Thread affinity: the sessions' thread.
class RedisScript {
public:
    explicit RedisScript(QByteArray source);

    const QByteArray &source() const { return m_shared->source; }
    // Lowercase hex, as SCRIPT LOAD answers it.
    const QByteArray &sha1() const { return m_shared->sha1; }

    // EVALSHA sha1 numkeys keys... args... on `session`. The callback gets the script's
    // answer, or the error: Server for a script error (its message) or for a SCRIPT LOAD
    // that failed (its message, e.g. a compile error), or the session's own errors.
    // Callback rules as RedisSession::command(); the session must outlive the call.
    void run(RedisSession &session, const QList<QByteArray> &keys, const QList<QByteArray> &args, QObject *context,
             RedisSession::Callback callback) const;

    // SCRIPT LOAD; the answer is the SHA-1 (checked against sha1(): Protocol if it differs).
    void load(RedisSession &session, QObject *context, RedisSession::Callback callback) const;

    // NOSCRIPT answers met and handled by re-loading, over the script's life.
    quint64 reloads() const { return m_shared->reloads; }

private:
    struct Shared {
        QByteArray source;
        QByteArray sha1;
        quint64 reloads = 0;
    };
    static void sendLoad(const std::shared_ptr<Shared> &shared, RedisSession &session, QObject *context,
                         RedisSession::Callback callback);

    std::shared_ptr<Shared> m_shared;
};

} // namespace sluice::store
