#pragma once

#include "store/storeerror.h"

#include <QByteArrayView>

namespace sluice::store {

// The one place Redis failures become StoreErrors.

// A connection-level failure reported by hiredis: `code` is the context's err
// (REDIS_ERR_IO, REDIS_ERR_EOF, REDIS_ERR_PROTOCOL, REDIS_ERR_OOM, REDIS_ERR_OTHER),
// `message` its errstr. Refused for refused / unreachable / unresolvable addresses,
// Timeout for a timed-out connect, Protocol for a garbled stream, NotConnected for the
// rest (connection reset, closed by the server).
StoreError storeErrorFromHiredis(int code, QByteArrayView message);

// An error answer from the server ("-WRONGPASS invalid username-password pair"):
// Authentication for NOAUTH, WRONGPASS, NOPERM and Redis 5's "invalid password",
// Server for everything else. The message is the server's text.
StoreError storeErrorFromServer(QByteArrayView message);

// The first word of a server error ("NOSCRIPT", "ERR", "WRONGTYPE").
QByteArrayView serverErrorCode(QByteArrayView message);

} // namespace sluice::store
