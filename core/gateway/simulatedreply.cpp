#include "gateway/simulatedreply.h"

namespace sluice::gateway {

QString simulatedFaultName(SimulatedFault fault)
{
    switch (fault) {
    case SimulatedFault::None:
        return QStringLiteral("none");
    case SimulatedFault::ModelNotFound:
        return QStringLiteral("model_not_found");
    case SimulatedFault::QuotaExceeded:
        return QStringLiteral("quota_exceeded");
    case SimulatedFault::RateLimited:
        return QStringLiteral("rate_limited");
    case SimulatedFault::ServerError:
        return QStringLiteral("server_error");
    case SimulatedFault::Overloaded:
        return QStringLiteral("overloaded");
    case SimulatedFault::Timeout:
        return QStringLiteral("timeout");
    case SimulatedFault::ConnectionReset:
        return QStringLiteral("connection_reset");
    case SimulatedFault::TruncatedStream:
        return QStringLiteral("truncated_stream");
    }
    return {};
}

policy::Nanoseconds SimulatedReply::totalDuration() const
{
    policy::Nanoseconds total{0};
    for (const TimedChunk &chunk : chunks)
        total += chunk.delay;
    return total;
}

QByteArray SimulatedReply::header(QByteArrayView name) const
{
    for (const auto &[key, value] : headers) {
        if (key == name)
            return value;
    }
    return {};
}

} // namespace sluice::gateway
