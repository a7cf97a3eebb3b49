#include "connections/fallbacksecretstore.h"

#include <QtGlobal>

namespace sluice::ui {

using models::SecretError;

FallbackSecretStore::FallbackSecretStore(std::unique_ptr<models::SecretStore> keychain)
    : m_keychain(std::move(keychain)), m_alive(std::make_shared<FallbackSecretStore *>(this))
{
}

FallbackSecretStore::~FallbackSecretStore() = default;

bool FallbackSecretStore::keychainLikelyUsable()
{
#if defined(Q_OS_MACOS) || defined(Q_OS_WIN)
    return true;
#else
    return !qEnvironmentVariableIsEmpty("DBUS_SESSION_BUS_ADDRESS");
#endif
}

void FallbackSecretStore::fallBack()
{
    // Jobs already started by the keychain store delete themselves; their callbacks only
    // hold the weak token below.
    m_keychain.reset();
}

void FallbackSecretStore::read(const QString &key, QObject *context, ReadCallback done)
{
    if (!m_keychain) {
        m_session.read(key, context, std::move(done));
        return;
    }
    std::weak_ptr<FallbackSecretStore *> alive = m_alive;
    m_keychain->read(key, context, [alive, key, context, done = std::move(done)](Result<QString, SecretError> value) mutable {
        const auto self = alive.lock();
        if (!self)
            return;
        if (!value && value.error().kind == SecretError::Kind::Unavailable) {
            (*self)->fallBack();
            (*self)->m_session.read(key, context, std::move(done));
            return;
        }
        if (done)
            done(std::move(value));
    });
}

void FallbackSecretStore::write(const QString &key, const QString &secret, QObject *context, WriteCallback done)
{
    if (!m_keychain) {
        m_session.write(key, secret, context, std::move(done));
        return;
    }
    std::weak_ptr<FallbackSecretStore *> alive = m_alive;
    m_keychain->write(key, secret, context,
                      [alive, key, secret, context, done = std::move(done)](std::optional<SecretError> error) mutable {
                          const auto self = alive.lock();
                          if (!self)
                              return;
                          if (error && error->kind == SecretError::Kind::Unavailable) {
                              (*self)->fallBack();
                              (*self)->m_session.write(key, secret, context, std::move(done));
                              return;
                          }
                          if (done)
                              done(std::move(error));
                      });
}

void FallbackSecretStore::remove(const QString &key, QObject *context, WriteCallback done)
{
    if (!m_keychain) {
        m_session.remove(key, context, std::move(done));
        return;
    }
    std::weak_ptr<FallbackSecretStore *> alive = m_alive;
    m_keychain->remove(key, context, [alive, key, context, done = std::move(done)](std::optional<SecretError> error) mutable {
        const auto self = alive.lock();
        if (!self)
            return;
        if (error && error->kind == SecretError::Kind::Unavailable) {
            (*self)->fallBack();
            (*self)->m_session.remove(key, context, std::move(done));
            return;
        }
        if (done)
            done(std::move(error));
    });
}

} // namespace sluice::ui
