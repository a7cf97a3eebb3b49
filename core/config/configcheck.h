#pragma once

#include <QString>
#include <QStringList>

// What `sluice-gateway --check-config FILE` reports, kept out of main() so it
// can be tested and reused by the console.
namespace sluice::config {

struct ConfigCheckReport {
    bool ok = false;
    // On success: "FILE: ok (version N, hash XXXXXXXXXXXX)" (the first 12
    // characters of contentHash()). Empty on failure.
    QString summary;
    // On failure: one "path: reason" line per error.
    QStringList errors;
};

ConfigCheckReport checkConfigFile(const QString &path);

} // namespace sluice::config
