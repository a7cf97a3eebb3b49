#include "policy/pricetable.h"

namespace sluice::policy {

namespace {

bool isSeparator(char c)
{
    return c == '-' || c == '@' || c == ':';
}

} // namespace

std::optional<PriceTable::Match> PriceTable::find(std::string_view modelName) const
{
    if (const auto exact = models.find(modelName); exact != models.end())
        return Match{exact->first, exact->second};

    // Walking from the end finds the longest candidate first.
    for (std::size_t length = modelName.size(); length-- > 1;) {
        if (!isSeparator(modelName[length]))
            continue;
        if (const auto hit = models.find(modelName.substr(0, length)); hit != models.end())
            return Match{hit->first, hit->second};
    }
    return std::nullopt;
}

} // namespace sluice::policy
