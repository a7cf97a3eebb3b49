#include "config/configcheck.h"

#include "config/configloader.h"
#include "config/configwriter.h"

namespace sluice::config {

ConfigCheckReport checkConfigFile(const QString &path)
{
    ConfigCheckReport report;
    const ConfigResult loaded = loadConfigFile(path);
    if (!loaded) {
        report.errors = toStringList(loaded.error());
        return report;
    }
    report.ok = true;
    // One multi-argument arg(): a "%1" inside the path must stay as it is.
    report.summary = QStringLiteral("%1: ok (version %2, hash %3)")
                         .arg(path, QString::number(loaded->version), contentHash(*loaded).left(12));
    return report;
}

} // namespace sluice::config
