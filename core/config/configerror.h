#pragma once

#include <vector>

#include <QString>
#include <QStringList>

namespace sluice::config {

// One problem with a configuration, shown as "path: reason".
//
// path is a field path: dotted keys, [i] for array indexes and ["key"] for
// map keys that are not plain words, e.g. upstreams[1].kind,
// cache.model_ttl_seconds["gpt-4.1"]. It is "$" for the document itself,
// "line L, column C" (1-based, columns in characters) for a JSON syntax
// error, and the file name for a file that cannot be read.
struct ConfigError {
    QString path;
    QString reason;

    QString toString() const { return path + QStringLiteral(": ") + reason; }

    friend bool operator==(const ConfigError &, const ConfigError &) = default;
};

using ConfigErrors = std::vector<ConfigError>;

// One "path: reason" line per error, in order.
QStringList toStringList(const ConfigErrors &errors);

} // namespace sluice::config
