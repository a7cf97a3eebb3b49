#include "config/apikeyhash.h"

#include <QCryptographicHash>

namespace sluice::config {

QString hashApiKey(QStringView plaintextKey)
{
    return QString::fromLatin1(
        QCryptographicHash::hash(plaintextKey.toUtf8(), QCryptographicHash::Sha256).toHex());
}

} // namespace sluice::config
