#include "policy/costprojection.h"

#include <cmath>

namespace sluice::policy {

std::optional<CostProjection> projectCost(double spentUsd, std::chrono::duration<double> interval)
{
    const double intervalSeconds = interval.count();
    // `!(x > 0)` also rejects NaN.
    if (!(intervalSeconds > 0.0) || !std::isfinite(intervalSeconds) || !(spentUsd >= 0.0)
        || !std::isfinite(spentUsd))
        return std::nullopt;

    const double perSecondUsd = spentUsd / intervalSeconds;
    const double perHourUsd = perSecondUsd * 3600.0;
    const double perDayUsd = perHourUsd * 24.0;
    const double perMonthUsd = perDayUsd * 30.0;
    // A vanishingly short interval can overflow the month to infinity.
    if (!std::isfinite(perMonthUsd))
        return std::nullopt;
    return CostProjection{perHourUsd, perDayUsd, perMonthUsd};
}

} // namespace sluice::policy
