#pragma once

#include "gateway/simulatedreply.h"
#include "gateway/simulatoroptions.h"
#include "http/httplistensocket.h"
#include "http/httpserverstats.h"
#include "policy/clock.h"
#include "policy/result.h"

#include <QByteArray>
#include <QHostAddress>
#include <QObject>
#include <QString>

#include <array>
#include <cstddef>
#include <memory>

namespace sluice::http {
class HttpServer;
}

namespace sluice::gateway {

struct SimulatorServerState; // internal, defined in simulatorserver.cpp

struct SimulatorServerOptions {
    SimulatorOptions simulator;
    QHostAddress address = QHostAddress(QHostAddress::LocalHost);
    quint16 port = 0; // 0: any free port; listen() and serverPort() tell which
    int threads = 1;  // event-loop threads; 0: one per core (QThread::idealThreadCount())
    // Non-empty: every /v1/ request must carry it (OpenAI: "Authorization: Bearer KEY",
    // Anthropic: "x-api-key: KEY"), otherwise 401 in the provider's shape. Empty: any
    // key, or none, is accepted.
    QByteArray requiredApiKey;
};

inline constexpr std::size_t simulatedFaultCount = std::size_t(SimulatedFault::TruncatedStream) + 1;

// A snapshot of SimulatorServer's counters: totals since construction, except inFlight.
// Each value is read atomically; the set as a whole is not one instant.
struct SimulatorServerStats {
    quint64 requestsReceived = 0; // every request the HTTP layer handed over, any path
    quint64 chatRequests = 0;     // chat requests planned by the provider (the sum of byFault)
    // Chat requests by SimulatedReply::fault, indexed by SimulatedFault. A body that is
    // not a valid request gets a 400 and counts as None.
    std::array<quint64, simulatedFaultCount> byFault{};
    quint64 answered = 0;  // complete answers sent, any status and path (401, 404, /healthz included)
    quint64 cutOff = 0;    // ConnectionReset and TruncatedStream acted out: connection closed mid-answer
    quint64 cancelled = 0; // the client went away (or the server stopped) before the answer was complete
    // Accepted and not yet answered, cut off or cancelled; a Timeout reply stays here
    // until its client goes away.
    quint64 inFlight = 0;

    quint64 faultCount(SimulatedFault fault) const { return byFault[std::size_t(fault)]; }
};

// The simulated provider served over real sockets: an OpenAI- and Anthropic-compatible
// HTTP endpoint whose answers (status, headers, body, SSE timing, faults, emulated
// quota) come from a SimulatedProvider and are acted out in real time with timers.
//
// Routes:
//   POST /v1/chat/completions    OpenAI Chat Completions (stream or not)
//   POST /v1/messages            Anthropic Messages; requires an anthropic-version header (400)
//   GET  /v1/models[/ID]         the configured models (SimulatorOptions::models; an empty
//                                list serves any model and lists none) in OpenAI's list
//                                shape, or Anthropic's when anthropic-version is sent
//   GET  /healthz                200 {"status":"ok"}, no authentication
//   anything else                404, or 405 (with Allow) for a known path and wrong method,
//                                in the OpenAI error shape
//
// Replay of a SimulatedReply: chunk i is written when the sum of the delays up to i has
// passed since the request arrived. A non-stream answer or error is one respond(); a
// stream is beginStream() plus one write() per chunk (pausing on backpressure until
// drained) and end(). closesConnection: HttpResponder::abort() after the last chunk
// (a truncated non-stream body is sent chunked, so the cut is visible to the client);
// ConnectionReset: abort() after its delay with nothing sent; Timeout: never answered,
// held until the client goes away. A client leaving mid-reply stops its timers.
//
// Thread affinity: create, listen() and destroy it on one thread with a running event
// loop (the HTTP threads are its own; requests are planned under a mutex and acted out
// on their connection's thread). stats(), httpStats(), serverPort(), baseUrl() and
// isListening() may be called from any thread once listen() returned. Destroying it
// aborts the connections still open (their replies count as cancelled) and joins the
// threads.
class SimulatorServer : public QObject {
    Q_OBJECT
public:
    // Runs the provider on a steady clock.
    explicit SimulatorServer(SimulatorServerOptions options, QObject *parent = nullptr);
    // Runs the provider on `clock` (quota refill, timestamps); it must outlive this
    // object and be readable from the HTTP threads (a ManualClock that is not advanced
    // while requests are served qualifies). Chunk delays always run on real time.
    SimulatorServer(SimulatorServerOptions options, const policy::Clock &clock, QObject *parent = nullptr);
    ~SimulatorServer() override;

    // Binds and starts serving. Fails if the address cannot be bound, if already
    // listening (AlreadyListening), or if options.simulator.validationError() is not
    // empty (Other, with that message).
    Result<quint16, http::HttpListenError> listen();
    bool isListening() const { return m_port != 0; }
    quint16 serverPort() const { return m_port; }
    // "http://127.0.0.1:PORT" ("http://[::1]:PORT" for IPv6; a wildcard address is
    // reported as the loopback address of its family). Empty before listen().
    QString baseUrl() const;
    const SimulatorServerOptions &options() const { return m_options; }

    // Thread-safe.
    SimulatorServerStats stats() const;
    // The HTTP layer's counters (connections, bytes, timeouts). Thread-safe.
    http::HttpServerStats httpStats() const;

private:
    SimulatorServerOptions m_options;
    std::shared_ptr<SimulatorServerState> m_state;
    std::unique_ptr<http::HttpServer> m_server;
    quint16 m_port = 0;
};

} // namespace sluice::gateway
