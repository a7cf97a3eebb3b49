#pragma once

#include <QString>
#include <QStringView>

namespace sluice::config {

// Lowercase hex SHA-256 of a key's UTF-8 bytes, as stored in api_keys[].key_sha256
// and admin.token_sha256. The plaintext key is used as given (no trimming).
// Reentrant.
QString hashApiKey(QStringView plaintextKey);

} // namespace sluice::config
