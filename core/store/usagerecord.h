#pragma once

#include "policy/tokenusage.h"

#include <QDateTime>
#include <QString>

#include <optional>

namespace sluice::store {

// One upstream request as it is accounted: a row of the `usage` table. Plain data,
// cheap to copy (implicitly shared strings); built by the pipeline, handed to
// UsageWriter::submit().
struct UsageRecord {
    QDateTime timestamp;       // when the request finished; invalid = the time of submit(); stored as UTC
    QString instance;          // the gateway instance that served it
    QString apiKeyId;          // the key's id, never the key itself
    QString model;
    QString upstream;
    policy::TokenUsage tokens; // the provider's true counts, split by how they are billed
    double costUsd = 0.0;      // US dollars; stored with 10 decimal places, non-finite as 0
    int latencyMs = 0;         // request received → last byte sent
    std::optional<int> ttftMs; // time to first token; unset when the answer was not streamed
    int httpStatus = 0;        // the status answered to the client
    bool cacheHit = false;     // answered from the gateway's response cache
    // Unique per request: a retried batch never counts a request twice. Empty = a random
    // UUID assigned by submit().
    QString requestId;
};

} // namespace sluice::store
