#pragma once

#include <chrono>
#include <optional>

namespace sluice::policy {

// Spend extrapolated from one observation, for the console's cost panel.
struct CostProjection {
    double perHourUsd = 0.0;
    double perDayUsd = 0.0;
    // A 30-day month (the usual billing-estimate convention), not a calendar month.
    double perMonthUsd = 0.0;
};

// Projects `spentUsd` observed over `interval` (the real sampling interval,
// not the nominal one) linearly to an hour, a day and 30 days. Pure.
// Returns nullopt when the observation cannot be projected: interval <= 0,
// or spentUsd negative or not finite (e.g. a counter reset the caller did
// not handle), or a projection that would overflow to infinity.
std::optional<CostProjection> projectCost(double spentUsd, std::chrono::duration<double> interval);

} // namespace sluice::policy
