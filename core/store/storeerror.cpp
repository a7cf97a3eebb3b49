#include "store/storeerror.h"

namespace sluice::store {

QString storeErrorKindName(StoreErrorKind kind)
{
    switch (kind) {
    case StoreErrorKind::NotConnected: return QStringLiteral("not_connected");
    case StoreErrorKind::Timeout: return QStringLiteral("timeout");
    case StoreErrorKind::Refused: return QStringLiteral("refused");
    case StoreErrorKind::Authentication: return QStringLiteral("authentication");
    case StoreErrorKind::Protocol: return QStringLiteral("protocol");
    case StoreErrorKind::Server: return QStringLiteral("server");
    case StoreErrorKind::Cancelled: return QStringLiteral("cancelled");
    }
    return {};
}

} // namespace sluice::store
