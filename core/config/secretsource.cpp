#include "config/secretsource.h"

#include <QFile>
#include <QtGlobal>

namespace sluice::config {

Result<QByteArray, QString> readSecret(const SecretSource &source)
{
    if (!source.envName.isEmpty()) {
        const QByteArray value = qgetenv(source.envName.toLocal8Bit().constData()).trimmed();
        if (value.isEmpty())
            return unexpected(QStringLiteral("%1: environment variable %2 is not set or empty")
                                  .arg(source.envField, source.envName));
        return value;
    }
    if (!source.filePath.isEmpty()) {
        QFile file(source.filePath);
        if (!file.open(QIODevice::ReadOnly))
            return unexpected(QStringLiteral("%1: cannot read %2: %3")
                                  .arg(source.fileField, source.filePath, file.errorString()));
        const QByteArray value = file.read(64 * 1024).trimmed();
        if (value.isEmpty())
            return unexpected(QStringLiteral("%1: %2 is empty").arg(source.fileField, source.filePath));
        return value;
    }
    return QByteArray();
}

} // namespace sluice::config
