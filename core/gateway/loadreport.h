#pragma once

#include "gateway/loadstats.h"

#include <QJsonObject>
#include <QString>

namespace sluice::gateway {

// Reports of a LoadGenerator run for `sluice-gateway load`, the sandbox and tests.
// Pure; thread-safe.

// One JSON object:
//   {"sent":N,"completed":N,"failed":N,"aborted":N,"in_flight":N,
//    "status":{"200":n,"429":n,...},"transport_errors":{"connection_refused":n,...},
//    "cache_hits":n,"stream_errors":n,"duration_seconds":x,"requests_per_second":x,
//    "completed_per_second":x,"latency_seconds":{"count":n,"p50":x,"p95":x,"p99":x,"max":x},
//    "ttft_seconds":{...the same...},"tokens":{"input":n,"output":n},
//    "users":n,"reached_server":b,"gave_up":b,"skipped_rate_slots":n}
// duration_seconds is LoadStats::elapsedSeconds, requests_per_second the achieved send
// rate (LoadStats::requestsPerSecond).
QJsonObject loadStatsJson(const LoadStats &stats);

// A multi-line table for people, ending in a newline; `title` (may be empty) is its
// first line.
QString formatLoadReport(const LoadStats &stats, const QString &title = {});

// One progress line without a newline: elapsed time, sent, completed, in flight,
// statuses, errors, cache hits, latency p50/p95 and the achieved rate.
QString formatLoadProgress(const LoadStats &stats);

} // namespace sluice::gateway
