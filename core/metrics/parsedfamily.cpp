#include "metrics/parsedfamily.h"

#include <algorithm>

#include "metrics/exposition.h"

namespace sluice::metrics {

namespace {

// Exact label-set equality regardless of order; `ignored` (if non-empty) is
// left out of the sample's side.
template <typename Wanted>
bool labelsMatch(const std::vector<Label> &sampleLabels, const Wanted &wanted, std::string_view ignored = {})
{
    std::size_t considered = 0;
    for (const Label &label : sampleLabels) {
        if (!ignored.empty() && label.first == ignored)
            continue;
        ++considered;
        const bool present = std::any_of(wanted.begin(), wanted.end(), [&](const auto &want) {
            return std::string_view(want.first) == label.first && std::string_view(want.second) == label.second;
        });
        if (!present)
            return false;
    }
    return considered == static_cast<std::size_t>(std::distance(wanted.begin(), wanted.end()));
}

template <typename Wanted>
const ParsedSample *findSampleIn(const std::vector<ParsedFamily> &families, std::string_view sampleName,
                                 const Wanted &labels)
{
    for (const ParsedFamily &family : families) {
        for (const ParsedSample &sample : family.samples) {
            if (sample.name == sampleName && labelsMatch(sample.labels, labels))
                return &sample;
        }
    }
    return nullptr;
}

template <typename Wanted>
std::vector<std::pair<double, double>> bucketsOf(const ParsedFamily &family, const Wanted &labels)
{
    const std::string bucketName = family.name + "_bucket";
    std::vector<std::pair<double, double>> buckets;
    for (const ParsedSample &sample : family.samples) {
        if (sample.name != bucketName || !labelsMatch(sample.labels, labels, "le"))
            continue;
        const auto le = sample.label("le");
        const auto bound = le ? parseValue(*le) : std::nullopt;
        if (bound)
            buckets.emplace_back(*bound, sample.value);
    }
    std::stable_sort(buckets.begin(), buckets.end(),
                     [](const auto &left, const auto &right) { return left.first < right.first; });
    return buckets;
}

} // namespace

std::optional<std::string_view> ParsedSample::label(std::string_view labelName) const
{
    for (const Label &label : labels) {
        if (label.first == labelName)
            return std::string_view(label.second);
    }
    return std::nullopt;
}

const ParsedFamily *findFamily(const std::vector<ParsedFamily> &families, std::string_view name)
{
    const auto found =
        std::find_if(families.begin(), families.end(), [&](const ParsedFamily &family) { return family.name == name; });
    return found == families.end() ? nullptr : &*found;
}

const ParsedSample *findSample(const std::vector<ParsedFamily> &families, std::string_view sampleName,
                               std::initializer_list<LabelView> labels)
{
    return findSampleIn(families, sampleName, labels);
}

const ParsedSample *findSample(const std::vector<ParsedFamily> &families, std::string_view sampleName,
                               const std::vector<Label> &labels)
{
    return findSampleIn(families, sampleName, labels);
}

std::vector<std::pair<double, double>> histogramBuckets(const ParsedFamily &family,
                                                        std::initializer_list<LabelView> labels)
{
    return bucketsOf(family, labels);
}

std::vector<std::pair<double, double>> histogramBuckets(const ParsedFamily &family, const std::vector<Label> &labels)
{
    return bucketsOf(family, labels);
}

std::string formatExposition(const std::vector<ParsedFamily> &families)
{
    std::string out;
    for (const ParsedFamily &family : families) {
        appendFamilyHeader(out, family.name, family.help, family.type);
        for (const ParsedSample &sample : family.samples) {
            out += sample.name;
            for (std::size_t index = 0; index < sample.labels.size(); ++index)
                appendLabel(out, index == 0, sample.labels[index].first, sample.labels[index].second);
            if (!sample.labels.empty())
                out += '}';
            out += ' ';
            appendValue(out, sample.value);
            if (sample.timestampMs) {
                out += ' ';
                out += std::to_string(*sample.timestampMs);
            }
            out += '\n';
        }
    }
    return out;
}

} // namespace sluice::metrics
