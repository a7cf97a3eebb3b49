#pragma once

#include <string>
#include <string_view>

namespace sluice::metrics {

// True if `text` is well-formed UTF-8: no truncated or overlong sequences,
// no surrogates, nothing above U+10FFFF. Prometheus requires label values
// and help texts to be UTF-8.
bool isValidUtf8(std::string_view text);

// `text` with every ill-formed sequence replaced by U+FFFD, so a label value
// taken from a request can never make a whole scrape unreadable.
std::string toValidUtf8(std::string_view text);

} // namespace sluice::metrics
