#include "config/configerror.h"

namespace sluice::config {

QStringList toStringList(const ConfigErrors &errors)
{
    QStringList lines;
    lines.reserve(qsizetype(errors.size()));
    for (const ConfigError &error : errors)
        lines.append(error.toString());
    return lines;
}

} // namespace sluice::config
