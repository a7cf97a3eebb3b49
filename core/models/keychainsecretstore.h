#pragma once

#include "models/secretstore.h"

namespace sluice::models {

// Secrets in the desktop's keychain (Secret Service / KWallet on Linux, Keychain on
// macOS, Credential Manager on Windows) through QtKeychain: service `service`
// ("sluice" for the console), key "<profile>/<field>". Each call starts one QtKeychain
// job; QtKeychain runs them one after another, so they complete in order. Nothing
// blocks: results arrive by callback. The plain-text fallback QtKeychain offers is never
// enabled, so a machine without a secret service answers Unavailable (the console then
// asks each time, with a SessionSecretStore) instead of writing secrets to a file.
//
// Thread affinity: the thread that created it, which needs a running event loop.
class KeychainSecretStore final : public SecretStore {
public:
    explicit KeychainSecretStore(QString service = QStringLiteral("sluice"));

    QString service() const { return m_service; }

    void read(const QString &key, QObject *context, ReadCallback done) override;
    void write(const QString &key, const QString &secret, QObject *context, WriteCallback done) override;
    void remove(const QString &key, QObject *context, WriteCallback done) override;

private:
    QString m_service;
};

} // namespace sluice::models
