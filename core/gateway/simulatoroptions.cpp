#include "gateway/simulatoroptions.h"

#include <cmath>

namespace sluice::gateway {

namespace {

bool isRate(double value)
{
    return std::isfinite(value) && value >= 0 && value <= 1;
}

QString distributionError(const QString &name, const Distribution &distribution)
{
    if (!std::isfinite(distribution.mean) || !std::isfinite(distribution.spread) || distribution.mean < 0
        || distribution.spread < 0)
        return name + QStringLiteral(": mean and spread must be finite and >= 0");
    return {};
}

} // namespace

QString SimulatorOptions::validationError() const
{
    if (!std::isfinite(tokensPerSecond) || tokensPerSecond < 0)
        return QStringLiteral("tokensPerSecond: must be >= 0");
    for (const auto &[name, distribution] :
         {std::pair{QStringLiteral("timeToFirstTokenMilliseconds"), timeToFirstTokenMilliseconds},
          std::pair{QStringLiteral("perTokenLatencyMilliseconds"), perTokenLatencyMilliseconds},
          std::pair{QStringLiteral("outputTokens"), outputTokens}}) {
        const QString error = distributionError(name, distribution);
        if (!error.isEmpty())
            return error;
    }
    const double rates[] = {faults.rateLimited, faults.serverError,     faults.overloaded,
                            faults.timeout,     faults.connectionReset, faults.truncatedStream};
    double sum = 0;
    for (const double rate : rates) {
        if (!isRate(rate))
            return QStringLiteral("faults: every rate must be between 0 and 1");
        sum += rate;
    }
    if (sum > 1 + 1e-9)
        return QStringLiteral("faults: rates must sum to at most 1");
    if (faults.retryAfterSeconds < 0)
        return QStringLiteral("faults.retryAfterSeconds: must be >= 0");
    if (quota.requestsPerMinute < 0 || quota.tokensPerMinute < 0 || quota.inputTokensPerMinute < 0
        || quota.outputTokensPerMinute < 0)
        return QStringLiteral("quota: limits must be >= 0");
    return {};
}

} // namespace sluice::gateway
