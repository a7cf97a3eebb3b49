#pragma once

#include <span>
#include <string_view>

#include <QJsonValue>
#include <QString>
#include <QStringList>

#include "config/configerror.h"

// Checks and message wording shared by the loader and the validator, so an
// error reads the same whether the config came from JSON or from code.
// Internal to the config library. Reentrant.
namespace sluice::config::rules {

// "-5", "1.5", "\"abc\"", "an array": the value as quoted in a message.
// Long strings are shortened.
QString describeValue(const QJsonValue &value);

QString mustBeAtLeast(const QString &bound, const QString &got);
QString mustBeAtMost(const QString &bound, const QString &got);
QString mustBeOneOf(std::span<const std::string_view> names, const QString &got);

// The candidate closest to word by edit distance (case-insensitive), if close
// enough to be a likely typo; empty otherwise.
QString closestMatch(const QString &word, const QStringList &candidates);
// reason, plus ` (did you mean "x"?)` when closestMatch() finds one.
QString withSuggestion(const QString &reason, const QString &word, const QStringList &candidates);

inline constexpr qsizetype kMaxNameLength = 64;
// [a-z0-9_-]{1,64}: upstream names, api key ids, rule names.
bool isName(QStringView text);
bool isSha256Hex(QStringView text);
// [A-Za-z_][A-Za-z0-9_]*
bool isEnvironmentName(QStringView text);
bool isIpLiteral(QStringView text);
// A DNS name (RFC 1123): dot-separated labels of [A-Za-z0-9-]{1,63}, no
// label starting or ending with '-', at most 253 characters, the last label
// not all digits (so "256.1.1.1" is neither a name nor an address).
bool isHostName(QStringView text);
bool isLoopbackAddress(QStringView text);
bool isWildcardAddress(QStringView text);

// Stable sort by top-level section in document order, then by element of
// the section's array ("$" and syntax locations first), so a report reads
// top-down.
void sortBySection(ConfigErrors &errors);

} // namespace sluice::config::rules
