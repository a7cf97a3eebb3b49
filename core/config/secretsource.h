#pragma once

#include "policy/result.h"

#include <QByteArray>
#include <QString>

namespace sluice::config {

// Where the configuration says a secret is: an environment variable or a file (the
// validator allows at most one), with the field paths to name in errors. Secrets are
// never in the configuration itself.
struct SecretSource {
    QString envName;   // the variable's name; empty when not used
    QString envField;  // e.g. "redis.password_env"
    QString filePath;  // empty when not used
    QString fileField; // e.g. "redis.password_file"
};

// Reads the secret: the variable's value, or the file's first 64 KiB, surrounding
// whitespace trimmed. Neither source set: an empty secret (keyless). A source that gives
// nothing is an error naming its field: "<envField>: environment variable X is not set",
// "<fileField>: cannot read F: <reason>", "<fileField>: F is empty". Called when a
// configuration is applied, never per request. Thread-safe.
Result<QByteArray, QString> readSecret(const SecretSource &source);

} // namespace sluice::config
