#pragma once

#include "models/connectionprofile.h"

#include <QList>
#include <QString>

#include <optional>

class QSettings;

namespace sluice::models {

// Value keys the dashboard publishes (the keys of AlertEvaluator samples).
inline constexpr char kLatencyP95SecondsKey[] = "latency_p95_seconds";
inline constexpr char kRate429ShareKey[] = "rate_429_share";
inline constexpr char kQuotaUsedShareKey[] = "quota_used_share";

enum class AlertComparator { Greater, GreaterOrEqual, Less, LessOrEqual };

// ">", ">=", "<", "<=".
QString comparatorSymbol(AlertComparator comparator);
// The inverse of comparatorSymbol (surrounding spaces ignored); nullopt otherwise.
std::optional<AlertComparator> comparatorFromSymbol(const QString &symbol);

// A threshold alert on one dashboard value: it fires once `value <comparator> threshold`
// has held for forSeconds (0: at the first sample that satisfies it).
struct AlertRule {
    QString name;     // unique within a profile
    QString valueKey; // e.g. kLatencyP95SecondsKey
    AlertComparator comparator = AlertComparator::Greater;
    double threshold = 0.0; // in the value's own unit (seconds, share 0..1)
    int forSeconds = 0;     // >= 0
    bool muted = false;     // state is still tracked; notifications are held back

    // Whether `value` satisfies the condition; false for NaN.
    bool holds(double value) const;
    // "latency_p95_seconds > 2 for 60 s" ("for ..." left out when forSeconds is 0).
    QString conditionText() const;

    friend bool operator==(const AlertRule &, const AlertRule &) = default;
};

// Problems with `rule` ("name": "must not be empty" / "a rule named \"X\" already
// exists", "value_key": "must not be empty", "threshold": "must be a finite number",
// "for_seconds": "N must not be negative"); `otherNames` are the other rules' names.
QList<FieldIssue> validateAlertRule(const AlertRule &rule, const QStringList &otherNames = {});

// Alert rules in a settings group: array "<group>/alerts/rules", each entry with name,
// value_key, comparator (its symbol), threshold, for_seconds, muted. Saving replaces what
// was there. Loading skips entries that fail validateAlertRule or have an unknown
// comparator, and repeats of a name.
void saveAlertRules(QSettings &settings, const QString &group, const QList<AlertRule> &rules);
QList<AlertRule> loadAlertRules(QSettings &settings, const QString &group);

} // namespace sluice::models
