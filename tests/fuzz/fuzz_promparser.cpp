// libFuzzer target for the Prometheus text parser. Properties checked on every
// input, beyond "no crash, no sanitizer report":
//  - a refusal names a line within the input and says something;
//  - an accepted text, written back with formatExposition(), parses to the
//    same families (so the parser and the writer agree on escapes, values,
//    grouping and order);
//  - the console helpers (findSample, histogramBuckets, histogramQuantile)
//    accept whatever the parser produced.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "metrics/histogramquantile.h"
#include "metrics/parsedfamily.h"
#include "metrics/promparser.h"

using namespace sluice::metrics;

namespace {

bool sameValue(double left, double right)
{
    if (std::isnan(left) || std::isnan(right))
        return std::isnan(left) && std::isnan(right);
    return left == right && std::signbit(left) == std::signbit(right);
}

bool sameFamilies(const std::vector<ParsedFamily> &left, const std::vector<ParsedFamily> &right)
{
    if (left.size() != right.size())
        return false;
    for (std::size_t family = 0; family < left.size(); ++family) {
        const ParsedFamily &a = left[family];
        const ParsedFamily &b = right[family];
        if (a.name != b.name || a.type != b.type || a.help != b.help || a.samples.size() != b.samples.size())
            return false;
        for (std::size_t sample = 0; sample < a.samples.size(); ++sample) {
            const ParsedSample &x = a.samples[sample];
            const ParsedSample &y = b.samples[sample];
            if (x.name != y.name || x.labels != y.labels || x.timestampMs != y.timestampMs ||
                !sameValue(x.value, y.value))
                return false;
        }
    }
    return true;
}

std::size_t countLines(std::string_view text)
{
    std::size_t lines = 1;
    for (const char character : text)
        lines += character == '\n' ? 1 : 0;
    return lines;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char *>(data), size);
    const auto parsed = parseExposition(text);
    if (!parsed.ok()) {
        const ParseError &error = parsed.error();
        if (error.line < 1 || std::size_t(error.line) > countLines(text) || error.message.empty())
            std::abort();
        return 0;
    }

    const std::string formatted = formatExposition(*parsed);
    const auto again = parseExposition(formatted);
    if (!again.ok() || !sameFamilies(*parsed, *again))
        std::abort();

    // Each helper call scans every sample; a budget keeps large inputs linear.
    int helperBudget = 64;
    for (const ParsedFamily &family : *parsed) {
        for (const ParsedSample &sample : family.samples) {
            if (helperBudget-- == 0)
                return 0;
            const ParsedSample *found = findSample(*parsed, sample.name, sample.labels);
            if (found == nullptr)
                std::abort();
            if (family.type != MetricType::Histogram)
                continue;
            std::vector<Label> series;
            for (const Label &label : sample.labels) {
                if (label.first != "le")
                    series.push_back(label);
            }
            const auto buckets = histogramBuckets(family, series);
            for (const double q : {0.0, 0.5, 0.99, 1.0})
                (void)histogramQuantile(q, buckets);
        }
    }
    return 0;
}
