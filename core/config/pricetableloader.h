#pragma once

#include <string>
#include <vector>

#include <QByteArray>
#include <QString>

#include "policy/pricetable.h"
#include "policy/result.h"

// Reads the dated price table (resources/prices/default-prices.json, or an
// operator's own file of the same shape):
//
//   {
//     "as_of": "2025-08-15",            required, a date YYYY-MM-DD
//     "currency": "USD",                required, must be "USD"
//     "source": "where these come from", optional string
//     "models": {                       required, at least one model
//       "gpt-4o": {                     exact model name or family prefix
//         "input_per_mtok": 2.5,        required, USD per million tokens, >= 0
//         "output_per_mtok": 10,        required, USD per million tokens, >= 0
//         "cached_input_per_mtok": 1.25, optional, >= 0; absent = input price
//         "cache_write_per_mtok": 3.75, optional, >= 0; absent = input price
//         "per_request_usd": 0          optional, USD per request, >= 0; default 0
//       }
//     }
//   }
//
// Unknown fields are errors (a misspelt price must not be silently ignored).
// All problems are reported, one string each, as "path: reason", where path
// is "$" for the document itself, then dotted fields and ["name"] for model
// names, e.g.
//   models["gpt-4o"].input_per_mtok: must be >= 0, got -1
// A JSON syntax error is one string "line L, column C: reason" (1-based;
// columns count characters, not bytes).
//
// Reentrant; safe to call from any thread.
namespace sluice::config {

using PriceTableErrors = std::vector<std::string>;
using PriceTableResult = Result<policy::PriceTable, PriceTableErrors>;

PriceTableResult loadPriceTable(const QByteArray &json);

// As loadPriceTable(), with every error prefixed by "<path>: ". A file that
// cannot be read gives one error "<path>: cannot read: <reason>".
PriceTableResult loadPriceTableFile(const QString &path);

// The table compiled into the library (:/sluice/prices/default-prices.json).
// Needs no set-up by the caller (no Q_INIT_RESOURCE, no QCoreApplication).
// Fails only if the build is broken; the unit tests guard that.
PriceTableResult defaultPriceTable();

} // namespace sluice::config
