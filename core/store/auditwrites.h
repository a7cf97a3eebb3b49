#pragma once

#include "store/auditrecord.h"

#include <vector>

namespace pqxx {
class transaction_base;
}

namespace sluice::store {

// The SQL of the audit writes (config_versions and audit rows), used by UsageWriter's
// worker inside its flush transaction.

// Makes `item` storable, on the submitting thread: fills an invalid timestamp with now and
// an empty eventId with a random UUID, removes NUL characters from the text fields and
// from the JSON (PostgreSQL's text and jsonb cannot hold U+0000). False, with `item` left
// unusable, when its JSON is not valid JSON (a config that is not an object counts too):
// such an item could never be written and must not stall the batches behind it.
bool prepareAuditItem(AuditItem &item);

// Inserts `items` (prepared) in `txn`: config_versions with ON CONFLICT (version), a row
// that originatedHere replacing who/comment/applied_at/config, any other leaving the
// existing row; audit rows with ON CONFLICT (event_id) DO NOTHING. So the same batch
// retried after a commit whose outcome was unknown changes nothing more. Throws what
// libpqxx throws; the caller, which owns the connection, catches it.
void insertAuditItems(pqxx::transaction_base &txn, const std::vector<AuditItem> &items);

} // namespace sluice::store
