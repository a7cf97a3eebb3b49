#include "store/rediserror.h"

#include <hiredis/hiredis.h>

namespace sluice::store {

namespace {

using namespace Qt::StringLiterals;

bool mentions(const QString &text, QLatin1StringView needle)
{
    return text.contains(needle, Qt::CaseInsensitive);
}

} // namespace

StoreError storeErrorFromHiredis(int code, QByteArrayView message)
{
    const QString text = message.isEmpty() ? QStringLiteral("hiredis error %1").arg(code) : QString::fromUtf8(message);
    switch (code) {
    case REDIS_ERR_PROTOCOL:
        return {StoreErrorKind::Protocol, text};
    case REDIS_ERR_OOM:
        return {StoreErrorKind::NotConnected, QStringLiteral("out of memory in hiredis: ") + text};
    case REDIS_ERR_EOF:
        return {StoreErrorKind::NotConnected, QStringLiteral("the server closed the connection")};
    default:
        break;
    }
    // hiredis 0.14 reports connect failures as strerror() text, with or without a prefix.
    if (mentions(text, "refused"_L1) || mentions(text, "unreachable"_L1) || mentions(text, "resolve"_L1)
        || mentions(text, "not known"_L1) || mentions(text, "no address"_L1))
        return {StoreErrorKind::Refused, text};
    if (mentions(text, "timed out"_L1))
        return {StoreErrorKind::Timeout, text};
    return {StoreErrorKind::NotConnected, text};
}

QByteArrayView serverErrorCode(QByteArrayView message)
{
    const qsizetype space = message.indexOf(' ');
    return space < 0 ? message : message.first(space);
}

StoreError storeErrorFromServer(QByteArrayView message)
{
    const QByteArrayView code = serverErrorCode(message);
    const bool authentication = code == "NOAUTH" || code == "WRONGPASS" || code == "NOPERM"
        || message.startsWith("ERR invalid password");
    return {authentication ? StoreErrorKind::Authentication : StoreErrorKind::Server, QString::fromUtf8(message)};
}

} // namespace sluice::store
