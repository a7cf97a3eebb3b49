#pragma once

#include <vector>

#include <QString>

#include "config/gatewayconfig.h"

namespace sluice::config {

// One changed setting. path uses configpath.h syntax; entries of upstreams,
// api_keys and rate_limits are addressed by name or id
// (upstreams[name=openai].requests_per_minute), other arrays of objects by
// index, and arrays of values (models, scope, retry_on, ...) count as one
// setting. before/after are the compact JSON text of each side; before is
// empty for an added setting or entry, after for a removed one.
struct FieldChange {
    QString path;
    QString before;
    QString after;

    friend bool operator==(const FieldChange &, const FieldChange &) = default;
};

// Field-level differences, in document order (keys sorted as in the
// canonical JSON). Adding one upstream is one change at upstreams[name=x]
// with the entry's JSON as after. When named entries present on both sides
// change order, one change at the array's path lists the names before and
// after (order decides routing ties). Empty if the configs are equal.
// Entries without a usable name (empty or duplicated, so only in invalid
// configs) are compared by index. Reentrant.
std::vector<FieldChange> diffConfigs(const GatewayConfig &before, const GatewayConfig &after);

} // namespace sluice::config
