#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "metrics/parsedfamily.h"
#include "policy/result.h"

namespace sluice::metrics {

struct ParseError {
    // 1-based line of the text.
    int line = 0;
    std::string message;
};

// Reads the Prometheus text exposition format 0.0.4, as served on /metrics
// by a gateway (or any Prometheus exporter), the way Prometheus' own Go parser
// does. Pure and thread-safe; total on any input (never crashes, never reads
// out of bounds), linear in the size of the text.
//
// Accepted: blank lines; comments (a '#' line that is not HELP or TYPE);
// `# HELP name text` with \\ and \n escapes; `# TYPE name type` with
// counter|gauge|histogram|summary|untyped, any case; sample lines
// `name{label="value",…} value [timestamp]` with blanks (space, tab) between
// tokens, an optional trailing comma in the label set, \\ \" \n escapes in
// label values, values as parseValue() reads them (+Inf, -Inf, NaN, 1e-3, …)
// and timestamps as signed integer milliseconds. Lines end in '\n' (a '\r'
// before it is not stripped); the last one may lack it.
//
// Grouping: HELP and TYPE lines address the family with exactly that name.
// A sample joins the family with exactly its name if there is one; otherwise
// name_bucket / name_sum / name_count join histogram `name`, and name_sum /
// name_count join summary `name`; otherwise it starts an untyped family.
// Families keep the order in which they first appeared and may be empty
// (a TYPE line with no samples); samples keep their order.
//
// Refused, with the line and a message saying what was expected: invalid
// metric or label names, "__name__" as a label name, duplicate labels in a
// sample, unterminated label sets or values, unknown escapes, text that is not
// UTF-8 in help or label values, missing or unreadable values, unreadable
// timestamps, text after the timestamp, unknown types, a second HELP or TYPE
// line for a family, a TYPE line after the family's samples, a histogram
// sample that is not _bucket/_sum/_count, a bucket without a numeric `le`,
// a summary quantile without a numeric `quantile`. Duplicate series are not
// detected.
Result<std::vector<ParsedFamily>, ParseError> parseExposition(std::string_view text);

} // namespace sluice::metrics
