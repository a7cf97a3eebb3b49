#pragma once

#include "store/storeerror.h"

#include <exception>

namespace sluice::store {

// The one place PostgreSQL (libpqxx) failures become StoreErrors. Call it from the catch
// block of the worker thread that owns the connection; nothing from libpqxx is thrown
// further than that.
//   pqxx::broken_connection  Refused (refused / unreachable / unknown host),
//                            Timeout (connect timed out), Authentication (password,
//                            pg_hba, unknown role), else NotConnected
//   pqxx::sql_error          by SQLSTATE: 08xxx and 57P0x NotConnected, 28xxx
//                            Authentication, 57014 and 55P03 Timeout, else Server
//   pqxx::in_doubt_error     NotConnected (the commit's outcome is unknown)
//   transaction_rollback     Server (serialization failure, deadlock)
//   conversion / range       Protocol (an answer of an unexpected shape)
//   anything else            Server
// The message is libpqxx's first line, prefixed with the SQLSTATE when there is one.
StoreError storeErrorFromPostgres(const std::exception &error);

} // namespace sluice::store
