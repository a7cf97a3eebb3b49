#include "policy/costmodel.h"

#include <algorithm>

namespace sluice::policy {

namespace {

constexpr double tokensPerMTok = 1'000'000.0;

double tokenCount(std::int64_t tokens)
{
    return static_cast<double>(std::max<std::int64_t>(tokens, 0));
}

} // namespace

double costUsd(const ModelPrice &price, const TokenUsage &usage)
{
    // Sum the per-MTok products first and divide once, so the usual exact
    // cases (e.g. 1000 tokens at $2.50) come out without extra rounding.
    const double perMTokProducts = tokenCount(usage.inputTokens) * price.inputPerMTokUsd
        + tokenCount(usage.outputTokens) * price.outputPerMTokUsd
        + tokenCount(usage.cachedInputTokens) * price.effectiveCachedInputPerMTokUsd()
        + tokenCount(usage.cacheWriteTokens) * price.effectiveCacheWritePerMTokUsd();
    return perMTokProducts / tokensPerMTok + price.perRequestUsd;
}

} // namespace sluice::policy
