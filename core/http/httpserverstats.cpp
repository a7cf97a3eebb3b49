#include "http/httpserverstats.h"

namespace sluice::http {

HttpServerStats HttpServerCounters::snapshot() const
{
    const auto read = [](const Counter &counter) { return counter.load(std::memory_order_relaxed); };
    HttpServerStats stats;
    stats.connectionsAccepted = read(connectionsAccepted);
    stats.connectionsActive = read(connectionsActive);
    stats.requests = read(requests);
    stats.badRequests = read(badRequests);
    stats.headerTooLarge = read(headerTooLarge);
    stats.bodyTooLarge = read(bodyTooLarge);
    stats.unsupported = read(unsupported);
    stats.headerTimeouts = read(headerTimeouts);
    stats.bodyTimeouts = read(bodyTimeouts);
    stats.idleTimeouts = read(idleTimeouts);
    stats.sendTimeouts = read(sendTimeouts);
    stats.clientAborts = read(clientAborts);
    stats.writesRefused = read(writesRefused);
    stats.abandonedResponses = read(abandonedResponses);
    stats.bytesIn = read(bytesIn);
    stats.bytesOut = read(bytesOut);
    return stats;
}

} // namespace sluice::http
