#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "policy/costmodel.h"

namespace sluice::policy {

// A dated price list: model name (or family prefix) → price. Built by
// config::loadPriceTable() from JSON; immutable while in use, so concurrent
// find() calls are safe.
struct PriceTable {
    // The date the prices were taken from the providers' pages, YYYY-MM-DD.
    std::string asOf;
    // ISO 4217 code; always "USD" (the cost pipeline counts dollars).
    std::string currency = "USD";
    // Free text: where the prices come from.
    std::string source;
    // Keys are exact model names or family names such as "gpt-4o".
    std::map<std::string, ModelPrice, std::less<>> models;

    struct Match {
        // The table key that matched; points into `models`, valid while the
        // table lives and is not modified.
        std::string_view key;
        ModelPrice price;
    };

    // Looks `modelName` up, case-sensitively:
    // 1. an exact key wins;
    // 2. otherwise the LONGEST key that is a prefix of modelName ending right
    //    before a separator ('-', '@' or ':'), so "gpt-4o-2024-08-06" finds
    //    "gpt-4o", "claude-3-5-sonnet@20240620" finds "claude-3-5-sonnet" and
    //    "gpt-4o-mini-2024-07-18" finds "gpt-4o-mini" before "gpt-4o". A key
    //    never matches in the middle of a name segment ("gpt-4" does not
    //    price "gpt-4o" or "gpt-4.1"), which keeps one family from silently
    //    pricing another.
    // 3. otherwise nullopt: the caller counts the request as unpriced, never
    //    as $0.
    // Cost: O(s log n) for s separators in the name.
    std::optional<Match> find(std::string_view modelName) const;
};

} // namespace sluice::policy
