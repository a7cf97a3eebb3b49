#include "metrics/promparser.h"

#include <charconv>
#include <climits>
#include <map>
#include <optional>

#include "metrics/exposition.h"
#include "metrics/metricnames.h"
#include "metrics/utf8.h"

namespace sluice::metrics {

namespace {

bool isBlank(char character)
{
    return character == ' ' || character == '\t';
}

// Text from the input inside a message: quoted, escaped as a label value,
// control bytes as \xNN so a message always prints on one line.
std::string quoted(std::string_view text)
{
    static constexpr char kHex[] = "0123456789abcdef";
    std::string result = "\"";
    for (const char character : text) {
        const auto byte = static_cast<unsigned char>(character);
        if (character == '\\' || character == '"') {
            result += '\\';
            result += character;
        } else if (character == '\n') {
            result += "\\n";
        } else if (byte < 0x20 || byte == 0x7F) {
            result += "\\x";
            result += kHex[byte >> 4];
            result += kHex[byte & 0xF];
        } else {
            result += character;
        }
    }
    result += '"';
    return result;
}

// One line, read left to right; never indexes past its end.
class LineCursor {
public:
    explicit LineCursor(std::string_view line) : m_line(line) {}

    bool atEnd() const { return m_position >= m_line.size(); }
    char peek() const { return m_line[m_position]; }
    void skip() { ++m_position; }
    void skipBlanks()
    {
        while (!atEnd() && isBlank(peek()))
            ++m_position;
    }
    template <typename Predicate>
    std::string_view readWhile(Predicate predicate)
    {
        const std::size_t start = m_position;
        while (!atEnd() && predicate(peek()))
            ++m_position;
        return m_line.substr(start, m_position - start);
    }
    std::string_view readToken()
    {
        return readWhile([](char character) { return !isBlank(character); });
    }
    std::string_view rest() const { return atEnd() ? std::string_view() : m_line.substr(m_position); }
    // What the cursor is looking at, for messages.
    std::string found() const
    {
        if (atEnd())
            return "end of line";
        const auto byte = static_cast<unsigned char>(peek());
        if (byte >= 0x20 && byte < 0x7F)
            return std::string("'") + peek() + "'";
        static constexpr char kHex[] = "0123456789abcdef";
        return std::string("byte 0x") + kHex[byte >> 4] + kHex[byte & 0xF];
    }

private:
    std::string_view m_line;
    std::size_t m_position = 0;
};

class Parser {
public:
    Result<std::vector<ParsedFamily>, ParseError> run(std::string_view text);

private:
    struct FamilyState {
        bool hasHelp = false;
        bool hasType = false;
    };

    std::optional<ParseError> parseLine(std::string_view line);
    std::optional<ParseError> parseComment(LineCursor &cursor);
    std::optional<ParseError> parseSample(LineCursor &cursor);
    std::optional<ParseError> parseLabels(LineCursor &cursor, ParsedSample &sample);
    std::optional<ParseError> checkSampleFits(const ParsedFamily &family, const ParsedSample &sample);

    std::size_t familyNamed(std::string_view name);
    std::size_t familyForSample(std::string_view sampleName);
    ParseError error(std::string message) const { return ParseError{m_line, std::move(message)}; }

    std::vector<ParsedFamily> m_families;
    std::vector<FamilyState> m_states;
    std::map<std::string, std::size_t, std::less<>> m_indexByName;
    int m_line = 0;
};

Result<std::vector<ParsedFamily>, ParseError> Parser::run(std::string_view text)
{
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos)
            end = text.size();
        if (m_line < INT_MAX)
            ++m_line;
        if (auto failure = parseLine(text.substr(start, end - start)))
            return unexpected(std::move(*failure));
        start = end + 1;
    }
    return std::move(m_families);
}

std::optional<ParseError> Parser::parseLine(std::string_view line)
{
    LineCursor cursor(line);
    cursor.skipBlanks();
    if (cursor.atEnd())
        return std::nullopt;
    if (cursor.peek() == '#') {
        cursor.skip();
        return parseComment(cursor);
    }
    return parseSample(cursor);
}

std::optional<ParseError> Parser::parseComment(LineCursor &cursor)
{
    cursor.skipBlanks();
    const std::string_view keyword = cursor.readToken();
    const bool isHelp = keyword == "HELP";
    if ((!isHelp && keyword != "TYPE") || cursor.atEnd())
        return std::nullopt; // An ordinary comment.
    cursor.skipBlanks();
    if (cursor.atEnd())
        return std::nullopt;
    const std::string_view name = cursor.readWhile(isMetricNameChar);
    if (name.empty() || !isMetricNameStart(name.front()) || (!cursor.atEnd() && !isBlank(cursor.peek()))) {
        const std::string_view token = std::string_view(name.data(), name.size() + cursor.readToken().size());
        return error("invalid metric name " + quoted(token) + " in " + std::string(keyword) + " line");
    }
    const std::size_t index = familyNamed(name);
    ParsedFamily &family = m_families[index];
    FamilyState &state = m_states[index];
    cursor.skipBlanks();

    if (isHelp) {
        if (state.hasHelp)
            return error("second HELP line for metric " + quoted(name));
        std::string help;
        const std::string_view raw = cursor.rest();
        for (std::size_t position = 0; position < raw.size(); ++position) {
            if (raw[position] != '\\') {
                help += raw[position];
                continue;
            }
            if (++position == raw.size())
                return error("HELP text of " + quoted(name) + " ends in a lone backslash");
            if (raw[position] == '\\')
                help += '\\';
            else if (raw[position] == 'n')
                help += '\n';
            else
                return error("invalid escape sequence \"\\" + std::string(1, raw[position]) + "\" in HELP text of " +
                             quoted(name) + " (only \\\\ and \\n are allowed)");
        }
        if (!isValidUtf8(help))
            return error("HELP text of " + quoted(name) + " is not valid UTF-8");
        family.help = std::move(help);
        state.hasHelp = true;
        return std::nullopt;
    }

    if (state.hasType)
        return error("second TYPE line for metric " + quoted(name));
    if (!family.samples.empty())
        return error("TYPE line for metric " + quoted(name) + " comes after its samples");
    std::string_view typeName = cursor.rest();
    while (!typeName.empty() && isBlank(typeName.back()))
        typeName.remove_suffix(1);
    if (typeName.empty())
        return error("TYPE line for metric " + quoted(name) + " names no type");
    const auto type = metricTypeFromName(typeName);
    if (!type) {
        return error("unknown metric type " + quoted(typeName) + " for metric " + quoted(name) +
                     " (expected counter, gauge, histogram, summary or untyped)");
    }
    family.type = *type;
    state.hasType = true;
    return std::nullopt;
}

std::optional<ParseError> Parser::parseSample(LineCursor &cursor)
{
    ParsedSample sample;
    const std::string_view name = cursor.readWhile(isMetricNameChar);
    if (name.empty() || !isMetricNameStart(name.front()) ||
        (!cursor.atEnd() && !isBlank(cursor.peek()) && cursor.peek() != '{')) {
        const std::string_view tail =
            cursor.readWhile([](char character) { return !isBlank(character) && character != '{'; });
        return error("invalid metric name " + quoted(std::string_view(name.data(), name.size() + tail.size())));
    }
    sample.name = name;
    cursor.skipBlanks();
    if (!cursor.atEnd() && cursor.peek() == '{') {
        cursor.skip();
        if (auto failure = parseLabels(cursor, sample))
            return failure;
        cursor.skipBlanks();
    }

    const std::string_view valueText = cursor.readToken();
    if (valueText.empty())
        return error("missing value for sample " + quoted(name));
    const auto value = parseValue(valueText);
    if (!value)
        return error("invalid value " + quoted(valueText) + " for sample " + quoted(name) +
                     " (expected a float, +Inf, -Inf or NaN)");
    sample.value = *value;

    cursor.skipBlanks();
    if (!cursor.atEnd()) {
        std::string_view timestampText = cursor.readToken();
        std::string_view digits = timestampText;
        if (!digits.empty() && digits.front() == '+')
            digits.remove_prefix(1);
        std::int64_t timestampMs = 0;
        const auto [end, failure] = std::from_chars(digits.data(), digits.data() + digits.size(), timestampMs);
        if (digits.empty() || failure != std::errc{} || end != digits.data() + digits.size() ||
            (digits.size() != timestampText.size() && digits.front() == '-')) {
            return error("invalid timestamp " + quoted(timestampText) + " for sample " + quoted(name) +
                         " (expected integer milliseconds)");
        }
        sample.timestampMs = timestampMs;
        cursor.skipBlanks();
        if (!cursor.atEnd())
            return error("unexpected text " + quoted(cursor.rest()) + " after the timestamp of sample " +
                         quoted(name));
    }

    const std::size_t index = familyForSample(name);
    if (auto failure = checkSampleFits(m_families[index], sample))
        return failure;
    m_families[index].samples.push_back(std::move(sample));
    return std::nullopt;
}

std::optional<ParseError> Parser::parseLabels(LineCursor &cursor, ParsedSample &sample)
{
    const std::string unterminated = "label set of sample " + quoted(sample.name) + " is not closed with '}'";
    while (true) {
        cursor.skipBlanks();
        if (cursor.atEnd())
            return error(unterminated);
        if (cursor.peek() == '}') {
            cursor.skip();
            return std::nullopt;
        }
        const std::string_view labelName = cursor.readWhile(isLabelNameChar);
        if (labelName.empty() || !isLabelNameStart(labelName.front())) {
            return error("expected a label name or '}' in sample " + quoted(sample.name) + ", found " +
                         (labelName.empty() ? cursor.found() : quoted(labelName)));
        }
        if (labelName == "__name__")
            return error("label name \"__name__\" is reserved (sample " + quoted(sample.name) + ")");
        cursor.skipBlanks();
        if (cursor.atEnd() || cursor.peek() != '=')
            return error("expected '=' after label name " + quoted(labelName) + ", found " + cursor.found());
        cursor.skip();
        cursor.skipBlanks();
        if (cursor.atEnd() || cursor.peek() != '"')
            return error("expected '\"' to open the value of label " + quoted(labelName) + ", found " +
                         cursor.found());
        cursor.skip();

        std::string value;
        while (true) {
            if (cursor.atEnd())
                return error("value of label " + quoted(labelName) + " is not closed with '\"'");
            const char character = cursor.peek();
            cursor.skip();
            if (character == '"')
                break;
            if (character != '\\') {
                value += character;
                continue;
            }
            if (cursor.atEnd())
                return error("value of label " + quoted(labelName) + " is not closed with '\"'");
            const char escaped = cursor.peek();
            cursor.skip();
            if (escaped == '\\' || escaped == '"')
                value += escaped;
            else if (escaped == 'n')
                value += '\n';
            else
                return error("invalid escape sequence \"\\" + std::string(1, escaped) + "\" in the value of label " +
                             quoted(labelName) + " (only \\\\, \\\" and \\n are allowed)");
        }
        if (!isValidUtf8(value))
            return error("value of label " + quoted(labelName) + " is not valid UTF-8");
        for (const Label &existing : sample.labels) {
            if (existing.first == labelName)
                return error("duplicate label " + quoted(labelName) + " in sample " + quoted(sample.name));
        }
        sample.labels.emplace_back(std::string(labelName), std::move(value));

        cursor.skipBlanks();
        if (cursor.atEnd())
            return error(unterminated);
        if (cursor.peek() == ',') {
            cursor.skip();
            continue;
        }
        if (cursor.peek() != '}')
            return error("expected ',' or '}' after the value of label " + quoted(labelName) + ", found " +
                         cursor.found());
    }
}

std::optional<ParseError> Parser::checkSampleFits(const ParsedFamily &family, const ParsedSample &sample)
{
    const auto requireNumericLabel = [&](std::string_view labelName) -> std::optional<ParseError> {
        const auto labelValue = sample.label(labelName);
        if (!labelValue)
            return error(std::string(metricTypeName(family.type)) + " sample " + quoted(sample.name) +
                         " has no " + quoted(labelName) + " label");
        if (!parseValue(*labelValue))
            return error("invalid " + quoted(labelName) + " label value " + quoted(*labelValue) + " in sample " +
                         quoted(sample.name));
        return std::nullopt;
    };
    if (family.type == MetricType::Histogram) {
        if (sample.name == family.name)
            return error("histogram " + quoted(family.name) + " has a sample without the _bucket, _sum or _count "
                                                              "suffix");
        if (sample.name.size() == family.name.size() + 7 && sample.name.ends_with("_bucket"))
            return requireNumericLabel("le");
    } else if (family.type == MetricType::Summary && sample.name == family.name) {
        return requireNumericLabel("quantile");
    }
    return std::nullopt;
}

std::size_t Parser::familyNamed(std::string_view name)
{
    if (const auto found = m_indexByName.find(name); found != m_indexByName.end())
        return found->second;
    const std::size_t index = m_families.size();
    m_families.push_back(ParsedFamily{std::string(name), MetricType::Untyped, {}, {}});
    m_states.emplace_back();
    m_indexByName.emplace(std::string(name), index);
    return index;
}

std::size_t Parser::familyForSample(std::string_view sampleName)
{
    if (const auto found = m_indexByName.find(sampleName); found != m_indexByName.end())
        return found->second;
    struct Suffix {
        std::string_view text;
        bool histogram;
        bool summary;
    };
    static constexpr Suffix kSuffixes[] = {{"_bucket", true, false}, {"_sum", true, true}, {"_count", true, true}};
    for (const Suffix &suffix : kSuffixes) {
        if (!sampleName.ends_with(suffix.text))
            continue;
        const std::string_view base = sampleName.substr(0, sampleName.size() - suffix.text.size());
        const auto found = m_indexByName.find(base);
        if (found == m_indexByName.end())
            continue;
        const MetricType type = m_families[found->second].type;
        if ((type == MetricType::Histogram && suffix.histogram) || (type == MetricType::Summary && suffix.summary))
            return found->second;
    }
    return familyNamed(sampleName);
}

} // namespace

Result<std::vector<ParsedFamily>, ParseError> parseExposition(std::string_view text)
{
    return Parser().run(text);
}

} // namespace sluice::metrics
