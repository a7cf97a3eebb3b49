#include "models/instancerow.h"

#include <cmath>

namespace sluice::models {

namespace {

bool sameNumber(double a, double b)
{
    return a == b || (std::isnan(a) && std::isnan(b));
}

} // namespace

QString instanceStateName(InstanceState state)
{
    switch (state) {
    case InstanceState::Up:
        return QStringLiteral("up");
    case InstanceState::Stale:
        return QStringLiteral("stale");
    case InstanceState::Down:
        return QStringLiteral("down");
    }
    return {};
}

bool InstanceRow::sameAs(const InstanceRow &other) const
{
    return id == other.id && version == other.version && sameNumber(uptimeSeconds, other.uptimeSeconds)
        && sameNumber(requestsPerSecond, other.requestsPerSecond)
        && sameNumber(latencyP95Seconds, other.latencyP95Seconds) && configVersion == other.configVersion
        && state == other.state && address == other.address;
}

} // namespace sluice::models
