#include "store/rediskeysweep.h"

#include <memory>

namespace sluice::store {

namespace {

struct Sweep {
    RedisSession *session = nullptr; // alive whenever a step runs (see unlinkMatching)
    QObject *context = nullptr;
    QByteArray pattern;
    qint64 unlinked = 0;
    std::function<void(Result<qint64, StoreError>)> done;

    void finish(Result<qint64, StoreError> result)
    {
        if (done)
            done(std::move(result));
    }
};

StoreError malformedScan(const RedisReply &reply)
{
    return {StoreErrorKind::Protocol,
            QStringLiteral("SCAN answered a malformed %1").arg(QLatin1String(RedisReply::typeName(reply.type())))};
}

void scanPage(const std::shared_ptr<Sweep> &sweep, const QByteArray &cursor)
{
    sweep->session->command(
        {QByteArrayLiteral("SCAN"), cursor, QByteArrayLiteral("MATCH"), sweep->pattern, QByteArrayLiteral("COUNT"),
         QByteArrayLiteral("500")},
        sweep->context, [sweep](Result<RedisReply, StoreError> reply) {
            if (!reply) {
                sweep->finish(unexpected(reply.error()));
                return;
            }
            const auto &page = reply->elements();
            if (!reply->isArray() || page.size() != 2 || !page[0].isString() || !page[1].isArray()) {
                sweep->finish(unexpected(malformedScan(*reply)));
                return;
            }
            const QByteArray next = page[0].bytes();
            QList<QByteArray> unlink{QByteArrayLiteral("UNLINK")};
            for (const RedisReply &key : page[1].elements())
                unlink.append(key.bytes());
            const auto advance = [sweep, next] {
                if (next == "0")
                    sweep->finish(sweep->unlinked);
                else
                    scanPage(sweep, next);
            };
            if (unlink.size() == 1) {
                advance();
                return;
            }
            sweep->session->command(std::move(unlink), sweep->context,
                                    [sweep, advance](Result<RedisReply, StoreError> removed) {
                                        if (!removed) {
                                            sweep->finish(unexpected(removed.error()));
                                            return;
                                        }
                                        sweep->unlinked += removed->toInteger();
                                        advance();
                                    });
        });
}

} // namespace

void unlinkMatching(RedisSession &session, QByteArray pattern, QObject *context,
                    std::function<void(Result<qint64, StoreError>)> done)
{
    auto sweep = std::make_shared<Sweep>();
    sweep->session = &session;
    sweep->context = context;
    sweep->pattern = std::move(pattern);
    sweep->done = std::move(done);
    scanPage(sweep, QByteArrayLiteral("0"));
}

} // namespace sluice::store
