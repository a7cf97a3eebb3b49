#pragma once

#include "http/httphandler.h"
#include "http/httpserveroptions.h"
#include "http/httpserverstats.h"

#include <atomic>
#include <vector>

namespace sluice::http {

class HttpWorker;

// Internal. What every thread of one HttpServer shares. options, handler and
// workers are fixed before the threads start and read-only afterwards; the
// counters are atomics. Owned jointly (shared_ptr) by the server and its workers.
struct HttpServerContext {
    HttpServerOptions options;
    HttpHandler handler;
    HttpServerCounters counters;
    std::atomic<quint64> nextConnectionId{1};
    // Valid until the server's destructor has joined the threads.
    std::vector<HttpWorker *> workers;
    std::atomic<unsigned> nextWorker{0};
};

} // namespace sluice::http
