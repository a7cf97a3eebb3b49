#include "store/redisscript.h"

#include "store/rediserror.h"

#include <QCryptographicHash>
#include <QPointer>

#include <optional>

namespace sluice::store {

namespace {

QList<QByteArray> evalShaCommand(const QByteArray &sha1, const QList<QByteArray> &keys, const QList<QByteArray> &args)
{
    QList<QByteArray> command;
    command.reserve(3 + keys.size() + args.size());
    command << QByteArrayLiteral("EVALSHA") << sha1 << QByteArray::number(keys.size());
    command << keys << args;
    return command;
}

bool isNoScript(const Result<RedisReply, StoreError> &result)
{
    return !result && result.error().kind == StoreErrorKind::Server && serverErrorCode(result.error().message.toUtf8()) == "NOSCRIPT";
}

} // namespace

RedisScript::RedisScript(QByteArray source) : m_shared(std::make_shared<Shared>())
{
    m_shared->sha1 = QCryptographicHash::hash(source, QCryptographicHash::Sha1).toHex();
    m_shared->source = std::move(source);
}

void RedisScript::load(RedisSession &session, QObject *context, RedisSession::Callback callback) const
{
    sendLoad(m_shared, session, context, std::move(callback));
}

void RedisScript::sendLoad(const std::shared_ptr<Shared> &shared, RedisSession &session, QObject *context,
                           RedisSession::Callback callback)
{
    session.command({QByteArrayLiteral("SCRIPT"), QByteArrayLiteral("LOAD"), shared->source}, context,
                    [shared, callback = std::move(callback)](Result<RedisReply, StoreError> result) {
                        if (result && (!result->isString() || result->bytes() != shared->sha1)) {
                            result = unexpected(StoreError{StoreErrorKind::Protocol,
                                                           QStringLiteral("SCRIPT LOAD answered %1, expected %2")
                                                               .arg(QString::fromUtf8(result->bytes()),
                                                                    QString::fromUtf8(shared->sha1))});
                        }
                        if (callback)
                            callback(std::move(result));
                    });
}

void RedisScript::run(RedisSession &session, const QList<QByteArray> &keys, const QList<QByteArray> &args,
                      QObject *context, RedisSession::Callback callback) const
{
    QList<QByteArray> command = evalShaCommand(m_shared->sha1, keys, args);
    QPointer<RedisSession> sessionGuard(&session);
    QPointer<QObject> contextGuard(context);
    session.command(command, context,
                    [shared = m_shared, sessionGuard, contextGuard, command, callback = std::move(callback)](
                        Result<RedisReply, StoreError> result) mutable {
                        if (!isNoScript(result) || !sessionGuard) {
                            if (callback)
                                callback(std::move(result));
                            return;
                        }
                        ++shared->reloads;
                        // Pipelined: the load's answer arrives (and is noted) before the retry's.
                        auto loadError = std::make_shared<std::optional<StoreError>>();
                        sendLoad(shared, *sessionGuard, contextGuard.data(),
                                 [loadError](Result<RedisReply, StoreError> loaded) {
                                     if (!loaded)
                                         *loadError = loaded.error();
                                 });
                        sessionGuard->command(command, contextGuard.data(),
                                              [loadError, callback = std::move(callback)](
                                                  Result<RedisReply, StoreError> retried) {
                                                  if (!callback)
                                                      return;
                                                  if (!retried && *loadError)
                                                      callback(unexpected(**loadError));
                                                  else
                                                      callback(std::move(retried));
                                              });
                    });
}

} // namespace sluice::store
