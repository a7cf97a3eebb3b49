#pragma once

#include <QtGlobal>

#include <atomic>

namespace sluice::http {

// A snapshot of the server's counters. All are monotonic totals since listen(),
// except connectionsActive. Each value is read atomically; the set as a whole is
// not one instant (counters move while it is taken).
struct HttpServerStats {
    quint64 connectionsAccepted = 0;
    quint64 connectionsActive = 0;
    quint64 requests = 0;        // complete requests handed to the handler
    quint64 badRequests = 0;     // 400 malformed, 417, 505
    quint64 headerTooLarge = 0;  // 431
    quint64 bodyTooLarge = 0;    // 413
    quint64 unsupported = 0;     // 501 (Transfer-Encoding)
    quint64 headerTimeouts = 0;  // 408 while reading the header block
    quint64 bodyTimeouts = 0;    // 408 while reading the body
    quint64 idleTimeouts = 0;    // silent closes of idle connections
    quint64 sendTimeouts = 0;    // aborted: the client stopped reading
    quint64 clientAborts = 0;    // responses cancelled because the client went away or was aborted
    quint64 writesRefused = 0;   // HttpResponder::write() calls refused by backpressure
    quint64 abandonedResponses = 0; // responders dropped without an answer (500 sent)
    quint64 bytesIn = 0;
    quint64 bytesOut = 0;
};

// The live counters behind HttpServerStats, shared by every connection thread.
// Thread-safe; relaxed atomics (they order nothing).
class HttpServerCounters {
public:
    using Counter = std::atomic<quint64>;
    Counter connectionsAccepted{0};
    Counter connectionsActive{0};
    Counter requests{0};
    Counter badRequests{0};
    Counter headerTooLarge{0};
    Counter bodyTooLarge{0};
    Counter unsupported{0};
    Counter headerTimeouts{0};
    Counter bodyTimeouts{0};
    Counter idleTimeouts{0};
    Counter sendTimeouts{0};
    Counter clientAborts{0};
    Counter writesRefused{0};
    Counter abandonedResponses{0};
    Counter bytesIn{0};
    Counter bytesOut{0};

    static void add(Counter &counter, quint64 amount = 1) { counter.fetch_add(amount, std::memory_order_relaxed); }
    static void subtract(Counter &counter, quint64 amount = 1)
    {
        counter.fetch_sub(amount, std::memory_order_relaxed);
    }
    HttpServerStats snapshot() const;
};

} // namespace sluice::http
