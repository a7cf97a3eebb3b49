#include "models/sessionsecretstore.h"

#include <QMetaObject>

namespace sluice::models {

// The change is made at once and only the answer is queued, so later operations see it
// (the order guarantee) and the callback still never runs inside the call.

void SessionSecretStore::read(const QString &key, QObject *context, ReadCallback done)
{
    Q_ASSERT(context);
    Result<QString, SecretError> result = m_secrets.contains(key)
        ? Result<QString, SecretError>(m_secrets.value(key))
        : Result<QString, SecretError>(
              unexpected(SecretError{SecretError::Kind::NotFound, QStringLiteral("no secret stored for %1").arg(key)}));
    QMetaObject::invokeMethod(
        context, [done = std::move(done), result = std::move(result)] { if (done) done(result); },
        Qt::QueuedConnection);
}

void SessionSecretStore::write(const QString &key, const QString &secret, QObject *context, WriteCallback done)
{
    Q_ASSERT(context);
    m_secrets.insert(key, secret);
    QMetaObject::invokeMethod(
        context, [done = std::move(done)] { if (done) done(std::nullopt); }, Qt::QueuedConnection);
}

void SessionSecretStore::remove(const QString &key, QObject *context, WriteCallback done)
{
    Q_ASSERT(context);
    m_secrets.remove(key);
    QMetaObject::invokeMethod(
        context, [done = std::move(done)] { if (done) done(std::nullopt); }, Qt::QueuedConnection);
}

} // namespace sluice::models
