#pragma once

#include <optional>

#include "policy/tokenusage.h"

namespace sluice::policy {

// List or contract prices of one model, in US dollars. Token prices are per
// MILLION tokens ("per MTok", the unit every provider's price page uses).
// All prices are >= 0 (the price table loader enforces it).
struct ModelPrice {
    double inputPerMTokUsd = 0.0;
    double outputPerMTokUsd = 0.0;
    // Price of a prompt token read from the cache. Unset means the provider
    // gives no discount: cached tokens cost inputPerMTokUsd.
    std::optional<double> cachedInputPerMTokUsd;
    // Price of a prompt token written to the cache. Unset means no surcharge:
    // written tokens cost inputPerMTokUsd.
    std::optional<double> cacheWritePerMTokUsd;
    // Flat price charged once per upstream request, on top of the tokens.
    double perRequestUsd = 0.0;

    double effectiveCachedInputPerMTokUsd() const { return cachedInputPerMTokUsd.value_or(inputPerMTokUsd); }
    double effectiveCacheWritePerMTokUsd() const { return cacheWritePerMTokUsd.value_or(inputPerMTokUsd); }

    friend bool operator==(const ModelPrice &, const ModelPrice &) = default;
};

// Cost in US dollars of ONE upstream request that used `usage`: every token
// class at its price, plus perRequestUsd (so zero usage still costs
// perRequestUsd). Negative token counts are treated as 0, so the result is
// never negative. Pure and thread-safe.
double costUsd(const ModelPrice &price, const TokenUsage &usage);

} // namespace sluice::policy
