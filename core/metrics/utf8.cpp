#include "metrics/utf8.h"

#include <cstdint>

namespace sluice::metrics {

namespace {

// Length of the well-formed sequence at text[position], or 0 if ill-formed
// (Unicode Table 3-7).
std::size_t sequenceLength(std::string_view text, std::size_t position)
{
    const auto byteAt = [&](std::size_t offset) -> int {
        return position + offset < text.size() ? static_cast<unsigned char>(text[position + offset]) : -1;
    };
    const auto inRange = [](int byte, int low, int high) { return byte >= low && byte <= high; };

    const int lead = byteAt(0);
    if (lead < 0x80)
        return 1;
    if (inRange(lead, 0xC2, 0xDF))
        return inRange(byteAt(1), 0x80, 0xBF) ? 2 : 0;
    if (inRange(lead, 0xE0, 0xEF)) {
        const int low = lead == 0xE0 ? 0xA0 : 0x80;
        const int high = lead == 0xED ? 0x9F : 0xBF;
        return inRange(byteAt(1), low, high) && inRange(byteAt(2), 0x80, 0xBF) ? 3 : 0;
    }
    if (inRange(lead, 0xF0, 0xF4)) {
        const int low = lead == 0xF0 ? 0x90 : 0x80;
        const int high = lead == 0xF4 ? 0x8F : 0xBF;
        return inRange(byteAt(1), low, high) && inRange(byteAt(2), 0x80, 0xBF) && inRange(byteAt(3), 0x80, 0xBF)
                   ? 4
                   : 0;
    }
    return 0;
}

} // namespace

bool isValidUtf8(std::string_view text)
{
    for (std::size_t position = 0; position < text.size();) {
        if (static_cast<unsigned char>(text[position]) < 0x80) {
            ++position;
            continue;
        }
        const std::size_t length = sequenceLength(text, position);
        if (length == 0)
            return false;
        position += length;
    }
    return true;
}

std::string toValidUtf8(std::string_view text)
{
    std::string result;
    result.reserve(text.size());
    for (std::size_t position = 0; position < text.size();) {
        const std::size_t length = sequenceLength(text, position);
        if (length == 0) {
            result += "\xEF\xBF\xBD";
            ++position;
        } else {
            result.append(text.substr(position, length));
            position += length;
        }
    }
    return result;
}

} // namespace sluice::metrics
