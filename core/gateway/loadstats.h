#pragma once

#include <QString>
#include <QtGlobal>

#include <chrono>
#include <map>
#include <vector>

namespace sluice::gateway {

// Durations in a log-bucketed histogram (HDR-like): whole microseconds, exact below
// 64 µs, above that 64 buckets per power of two, so a quantile is within 1.6 % of the
// true value; values above 2^40 µs (12.7 days) count as that. Memory is fixed (~18 KiB).
// A value type; not thread-safe.
class LatencyHistogram {
public:
    LatencyHistogram();

    void record(std::chrono::nanoseconds duration);
    void clear();
    quint64 count() const { return m_count; }
    // The q-quantile (q in [0, 1]) in seconds: the midpoint of the bucket holding the
    // ceil(q * count)-th smallest value, clamped to the exact minimum and maximum; 0
    // when empty.
    double quantileSeconds(double q) const;
    double maxSeconds() const;

private:
    std::vector<quint64> m_buckets;
    quint64 m_count = 0;
    qint64 m_minMicroseconds = 0;
    qint64 m_maxMicroseconds = 0;
};

// p50/p95/p99 of one kind of duration, in seconds; all 0 without samples.
struct LoadQuantiles {
    quint64 count = 0; // samples
    double p50 = 0;
    double p95 = 0;
    double p99 = 0;
    double max = 0;

    static LoadQuantiles of(const LatencyHistogram &histogram);
};

// A snapshot of LoadGenerator's counters since start(). A value type.
//
// Every sent request ends up in exactly one of completed (a whole response arrived,
// whatever its status), failed (a transport error, see transportErrors) or aborted
// (cancelled by abort()), or is still in flight:
//   sent == completed + failed + aborted + inFlight.
struct LoadStats {
    quint64 sent = 0;
    quint64 completed = 0;
    quint64 failed = 0;
    quint64 aborted = 0;
    quint64 inFlight = 0;
    // Completed responses by HTTP status; the values sum to `completed`.
    std::map<int, quint64> statusCounts;
    // Failed requests by http::upstreamErrorKindName() ("connection_refused",
    // "total_timeout", ...); the values sum to `failed`.
    std::map<QString, quint64> transportErrors;
    // Completed responses with "x-sluice-cache: hit".
    quint64 cacheHits = 0;
    // Completed streams that carried an error event (OpenAI data {"error":…}, Anthropic
    // "event: error"); they are also counted under their status.
    quint64 streamErrors = 0;
    // From the answers' usage blocks (prompt tokens however billed, and output tokens).
    qint64 inputTokens = 0;
    qint64 outputTokens = 0;
    // From each request's start to the end of its answer: completed requests only.
    LoadQuantiles latencySeconds;
    // From a stream's start to its first content delta: streams that had one.
    LoadQuantiles ttftSeconds;
    // From start() to now, or to the moment the generator finished.
    double elapsedSeconds = 0;
    // sent / the seconds the generator was sending (start() to now, or to when it
    // stopped sending): the achieved request rate, comparable with the rate cap.
    double requestsPerSecond = 0;
    // completed / elapsedSeconds.
    double completedPerSecond = 0;
    int users = 0;       // simulated users now (those retiring after their request excluded)
    bool running = false; // started and not finished
    // Some response (any status) arrived: the URL was reachable.
    bool reachedServer = false;
    // Stopped on its own after LoadOptions::unreachableAttemptsLimit connect failures.
    bool gaveUp = false;
    quint64 skippedRateSlots = 0; // rate slots skipped because no user was free (LoadPacer)

    quint64 statusCount(int status) const;
    quint64 transportErrorCount(const QString &kind) const;
};

} // namespace sluice::gateway
