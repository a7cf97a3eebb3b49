#pragma once

#include "models/secretstore.h"
#include "models/sessionsecretstore.h"

#include <memory>

namespace sluice::ui {

// The console's SecretStore: the OS keychain while it works, else secrets kept for the
// session only (the console then asks for them each time it starts).
//
// With a `keychain` (KeychainSecretStore in the console) every call goes there until one
// answers Unavailable (no secret service on this machine); from then on, that call and
// every later one go to the session store for good (usesKeychain() turns false). Without
// one it is a SessionSecretStore from the start. AccessDenied and other keychain errors
// are passed on: the keychain exists, the user said no.
//
// Callbacks follow SecretStore's rules. A callback that outlives this store is dropped.
// Thread affinity: the thread that created it.
class FallbackSecretStore final : public models::SecretStore {
public:
    explicit FallbackSecretStore(std::unique_ptr<models::SecretStore> keychain = nullptr);
    ~FallbackSecretStore() override;

    // Whether secrets go to the keychain (and so survive the session).
    bool usesKeychain() const { return m_keychain != nullptr; }
    models::SessionSecretStore &sessionStore() { return m_session; }

    void read(const QString &key, QObject *context, ReadCallback done) override;
    void write(const QString &key, const QString &secret, QObject *context, WriteCallback done) override;
    void remove(const QString &key, QObject *context, WriteCallback done) override;

    // True on a Linux desktop session with a D-Bus session bus (where Secret Service or
    // KWallet may answer), and on macOS and Windows. Without a bus QtKeychain can only
    // fail, and may take D-Bus' timeout to do so.
    static bool keychainLikelyUsable();

private:
    void fallBack();

    std::unique_ptr<models::SecretStore> m_keychain;
    models::SessionSecretStore m_session;
    std::shared_ptr<FallbackSecretStore *> m_alive;
};

} // namespace sluice::ui
