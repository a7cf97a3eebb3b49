#pragma once

#include <QString>

namespace sluice::store {

// The error vocabulary of every shared-state backend (Redis, PostgreSQL), mapped from
// each client library's own codes in one place per backend.
enum class StoreErrorKind {
    NotConnected,   // no connection yet, or it was lost; the command was not sent
    Timeout,        // no answer within the command timeout
    Refused,        // connection refused / host unreachable / name not found
    Authentication, // AUTH / ACL / password rejected
    Protocol,       // an answer of an unexpected type or shape
    Server,         // the server answered with an error (message says which)
    Cancelled,      // the session was closed before the answer arrived
};

struct StoreError {
    StoreErrorKind kind = StoreErrorKind::Server;
    QString message;
};

// "not_connected", "timeout", ...: metric labels and logs.
QString storeErrorKindName(StoreErrorKind kind);

} // namespace sluice::store
