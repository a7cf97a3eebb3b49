#pragma once

#include "gateway/loadoptions.h"
#include "gateway/loadpacer.h"
#include "gateway/loadstats.h"
#include "gateway/simulatorrandom.h"
#include "policy/clock.h"

#include <QObject>
#include <QTimer>
#include <QUrl>

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace sluice::http {
class UpstreamCall;
class UpstreamClient;
} // namespace sluice::http

namespace sluice::gateway {

// Simulated chat users sending real HTTP requests (over http::UpstreamClient, with
// keep-alive) to a gateway or a provider: the sandbox's traffic, `sluice-gateway
// load`, and the integration tests' load driver.
//
// Each user: sends one request, waits for the whole answer (or its failure), thinks
// for a draw of thinkTimeMs, and sends again (closed model). A user's first request
// comes after a uniform draw in [0, thinkTimeMs.mean), so users do not all start in
// the same instant. With requestsPerSecond > 0, a request also needs a slot of the
// LoadPacer schedule, shared by all users in the order they became ready. Streams are
// read as SSE: the time to the first content delta is the TTFT, and the usage block is
// read from the stream (OpenAI requests ask for it with stream_options.include_usage).
//
// Lifecycle: start() begins; sending ends when stop() is called, durationSeconds has
// passed, maxRequests were sent, or the URL proved unreachable
// (unreachableAttemptsLimit). Requests in flight then FINISH (each bounded by
// timeoutMs); abort() cancels them instead (counted as aborted). finished() is emitted
// once, from the event loop, when sending has ended and nothing is in flight. A
// generator runs once: start() after that does nothing.
//
// The setters change a running generator: new requests use the new values, requests in
// flight are not touched. Fewer users: idle and thinking users leave at once, busy ones
// after their answer.
//
// Thread affinity: the thread that created it (its event loop drives everything);
// every method except stats() must be called there. stats() is thread-safe. Never
// blocks, never throws, runs no nested event loop.
class LoadGenerator : public QObject {
    Q_OBJECT
public:
    // `options` must be valid (validationError() empty); otherwise start() emits
    // finished() at once without sending. `clock` (optional, must outlive this object)
    // times the pacing, the elapsed time and the latencies; default: a steady clock.
    explicit LoadGenerator(LoadOptions options, QObject *parent = nullptr);
    LoadGenerator(LoadOptions options, const policy::Clock &clock, QObject *parent = nullptr);
    ~LoadGenerator() override;

    const LoadOptions &options() const { return m_options; }

    void start();
    // Stops sending; requests in flight finish. Idempotent.
    void stop();
    // Stops sending and cancels the requests in flight (counted as aborted).
    void abort();
    bool isRunning() const { return m_state == State::Running || m_state == State::Stopping; }
    bool isSending() const { return m_state == State::Running; }

    void setUsers(int users);                     // clamped to 0..10000
    void setRequestsPerSecond(double requestsPerSecond); // 0: unlimited
    void setThinkTimeMs(Distribution thinkTimeMs);
    void setRepeatShare(double share);            // clamped to [0, 1]
    void setStreamShare(double share);            // clamped to [0, 1]
    void setPromptTokens(Distribution promptTokens);
    void setMaxTokens(Distribution maxTokens);
    void setModels(const QStringList &models);    // empty: the protocol's default

    // Thread-safe snapshot.
    LoadStats stats() const;

signals:
    // At most every 250 ms while running.
    void statsUpdated(const sluice::gateway::LoadStats &stats);
    // Once, when sending has ended and nothing is in flight.
    void finished(const sluice::gateway::LoadStats &stats);

private:
    enum class State { Idle, Running, Stopping, Finished };
    struct User;
    struct Exchange;
    struct PoolEntry {
        QString model;
        QString prompt;
        qint64 maxTokens = 1;
    };

    void addUsers(int count, bool staggered);
    void removeUsers(int count);
    void scheduleUser(int userId, policy::MonoTime wakeAt);
    void onTick();
    void dispatchReady(policy::MonoTime now);
    void armTick(policy::MonoTime now);
    bool maySend(policy::MonoTime now) const;
    void send(int userId, policy::MonoTime now);
    void onHead(const std::shared_ptr<Exchange> &exchange, int status, bool cacheHit, bool eventStream);
    void onBody(const std::shared_ptr<Exchange> &exchange, const QByteArray &bytes);
    void onComplete(const std::shared_ptr<Exchange> &exchange);
    void onError(const std::shared_ptr<Exchange> &exchange, const QString &kind, bool connectFailure);
    void requestDone(const std::shared_ptr<Exchange> &exchange);
    void endSending();
    void maybeFinish();
    void emitStats();
    void rebuildPool();
    QByteArray buildBody(const QString &model, const QString &prompt, qint64 maxTokens, bool stream) const;
    QString promptText(SimulatorRandom &random, qint64 tokens) const;
    qint64 drawTokens(const Distribution &distribution);
    LoadStats snapshotLocked(policy::MonoTime now) const;

    LoadOptions m_options;
    policy::SteadyClock m_steadyClock;
    const policy::Clock &m_clock;
    State m_state = State::Idle;
    SimulatorRandom m_random;
    quint64 m_runId = 0; // makes unique prompts unique across runs and processes
    LoadPacer m_pacer;
    std::vector<PoolEntry> m_pool;
    QUrl m_endpoint; // options.endpointUrl()

    std::map<int, std::unique_ptr<User>> m_users;
    int m_nextUserId = 0;
    int m_targetUsers = 0;
    std::multimap<policy::MonoTime, int> m_wakeups; // thinking users by wake-up time
    std::deque<int> m_ready;                          // users waiting for a rate slot
    QTimer m_tickTimer;
    QTimer m_statsTimer;
    QTimer m_durationTimer;
    policy::MonoTime m_startedAt{0};
    std::optional<policy::MonoTime> m_deadline;
    quint64 m_unique = 0;
    int m_consecutiveConnectFailures = 0;
    bool m_finishQueued = false;

    mutable std::mutex m_statsMutex; // guards the members below
    LoadStats m_counters;            // counts only; quantiles and rates filled by snapshots
    LatencyHistogram m_latency;
    LatencyHistogram m_ttft;
    std::optional<policy::MonoTime> m_sendingEndedAt;
    std::optional<policy::MonoTime> m_finishedAt;
    bool m_startedStats = false;

    // Last: destroyed first, cancelling its calls without callbacks.
    std::unique_ptr<http::UpstreamClient> m_client;
};

} // namespace sluice::gateway
