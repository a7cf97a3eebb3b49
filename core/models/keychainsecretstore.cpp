#include "models/keychainsecretstore.h"

#include <qt6keychain/keychain.h>

namespace sluice::models {

namespace {

SecretError toSecretError(const QKeychain::Job &job)
{
    SecretError error;
    error.message = job.errorString();
    switch (job.error()) {
    case QKeychain::EntryNotFound:
        error.kind = SecretError::Kind::NotFound;
        break;
    case QKeychain::AccessDenied:
    case QKeychain::AccessDeniedByUser:
        error.kind = SecretError::Kind::AccessDenied;
        break;
    case QKeychain::NoBackendAvailable:
    case QKeychain::NotImplemented:
        error.kind = SecretError::Kind::Unavailable;
        break;
    case QKeychain::NoError:
    case QKeychain::CouldNotDeleteEntry:
    case QKeychain::OtherError:
        error.kind = SecretError::Kind::Other;
        break;
    }
    if (error.message.isEmpty())
        error.message = QStringLiteral("keychain error %1").arg(int(job.error()));
    return error;
}

// The job deletes itself after finished() (autoDelete, QtKeychain's default); the
// connection to `context` drops the callback if the context dies first.
template <typename Job, typename Handler>
void startJob(Job *job, const QString &key, QObject *context, Handler handler)
{
    job->setAutoDelete(true);
    job->setInsecureFallback(false);
    job->setKey(key);
    QObject::connect(job, &QKeychain::Job::finished, context,
                     [handler = std::move(handler)](QKeychain::Job *finished) { handler(*static_cast<Job *>(finished)); });
    job->start();
}

} // namespace

KeychainSecretStore::KeychainSecretStore(QString service) : m_service(std::move(service)) {}

void KeychainSecretStore::read(const QString &key, QObject *context, ReadCallback done)
{
    Q_ASSERT(context);
    startJob(new QKeychain::ReadPasswordJob(m_service), key, context,
             [done = std::move(done)](const QKeychain::ReadPasswordJob &job) {
                 if (!done)
                     return;
                 if (job.error() != QKeychain::NoError)
                     done(unexpected(toSecretError(job)));
                 else
                     done(job.textData());
             });
}

void KeychainSecretStore::write(const QString &key, const QString &secret, QObject *context, WriteCallback done)
{
    Q_ASSERT(context);
    auto *job = new QKeychain::WritePasswordJob(m_service);
    job->setTextData(secret);
    startJob(job, key, context, [done = std::move(done)](const QKeychain::WritePasswordJob &finished) {
        if (!done)
            return;
        if (finished.error() != QKeychain::NoError)
            done(toSecretError(finished));
        else
            done(std::nullopt);
    });
}

void KeychainSecretStore::remove(const QString &key, QObject *context, WriteCallback done)
{
    Q_ASSERT(context);
    startJob(new QKeychain::DeletePasswordJob(m_service), key, context,
             [done = std::move(done)](const QKeychain::DeletePasswordJob &job) {
                 if (!done)
                     return;
                 // Deleting what is not there leaves the wanted state: nothing stored.
                 if (job.error() != QKeychain::NoError && job.error() != QKeychain::EntryNotFound)
                     done(toSecretError(job));
                 else
                     done(std::nullopt);
             });
}

} // namespace sluice::models
