#pragma once

#include "models/secretstore.h"

#include <QHash>

namespace sluice::models {

// Secrets in memory only, gone when the console exits: the "ask each time" mode (the
// console asks for a secret and keeps it for the session) and the store tests use.
// Never fails except NotFound. Callbacks are queued to `context`, like every SecretStore.
//
// Thread affinity: the thread that created it.
class SessionSecretStore final : public SecretStore {
public:
    void read(const QString &key, QObject *context, ReadCallback done) override;
    void write(const QString &key, const QString &secret, QObject *context, WriteCallback done) override;
    void remove(const QString &key, QObject *context, WriteCallback done) override;

    // Synchronous look-ups, for the console's own "ask each time" bookkeeping and tests.
    bool contains(const QString &key) const { return m_secrets.contains(key); }
    QStringList keys() const { return m_secrets.keys(); }
    void clear() { m_secrets.clear(); }

private:
    QHash<QString, QString> m_secrets;
};

} // namespace sluice::models
