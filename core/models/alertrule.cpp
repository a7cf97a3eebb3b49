#include "models/alertrule.h"

#include <QLocale>
#include <QSettings>

#include <cmath>

namespace sluice::models {

namespace {

QString alertsGroup(const QString &group)
{
    return group.isEmpty() ? QStringLiteral("alerts") : group + QStringLiteral("/alerts");
}

} // namespace

QString comparatorSymbol(AlertComparator comparator)
{
    switch (comparator) {
    case AlertComparator::Greater:
        return QStringLiteral(">");
    case AlertComparator::GreaterOrEqual:
        return QStringLiteral(">=");
    case AlertComparator::Less:
        return QStringLiteral("<");
    case AlertComparator::LessOrEqual:
        return QStringLiteral("<=");
    }
    return {};
}

std::optional<AlertComparator> comparatorFromSymbol(const QString &symbol)
{
    const QString trimmed = symbol.trimmed();
    for (AlertComparator comparator : {AlertComparator::Greater, AlertComparator::GreaterOrEqual,
                                       AlertComparator::Less, AlertComparator::LessOrEqual}) {
        if (trimmed == comparatorSymbol(comparator))
            return comparator;
    }
    return std::nullopt;
}

bool AlertRule::holds(double value) const
{
    if (std::isnan(value))
        return false;
    switch (comparator) {
    case AlertComparator::Greater:
        return value > threshold;
    case AlertComparator::GreaterOrEqual:
        return value >= threshold;
    case AlertComparator::Less:
        return value < threshold;
    case AlertComparator::LessOrEqual:
        return value <= threshold;
    }
    return false;
}

QString AlertRule::conditionText() const
{
    QString text = QStringLiteral("%1 %2 %3")
                       .arg(valueKey, comparatorSymbol(comparator),
                            QString::number(threshold, 'g', QLocale::FloatingPointShortest));
    if (forSeconds > 0)
        text += QStringLiteral(" for %1 s").arg(forSeconds);
    return text;
}

QList<FieldIssue> validateAlertRule(const AlertRule &rule, const QStringList &otherNames)
{
    QList<FieldIssue> issues;
    if (rule.name.trimmed().isEmpty())
        issues.append({QStringLiteral("name"), QStringLiteral("must not be empty")});
    else if (otherNames.contains(rule.name))
        issues.append({QStringLiteral("name"), QStringLiteral("a rule named \"%1\" already exists").arg(rule.name)});
    if (rule.valueKey.trimmed().isEmpty())
        issues.append({QStringLiteral("value_key"), QStringLiteral("must not be empty")});
    if (!std::isfinite(rule.threshold))
        issues.append({QStringLiteral("threshold"), QStringLiteral("must be a finite number")});
    if (rule.forSeconds < 0)
        issues.append({QStringLiteral("for_seconds"), QStringLiteral("%1 must not be negative").arg(rule.forSeconds)});
    return issues;
}

void saveAlertRules(QSettings &settings, const QString &group, const QList<AlertRule> &rules)
{
    settings.remove(alertsGroup(group));
    settings.beginGroup(alertsGroup(group));
    settings.beginWriteArray(QStringLiteral("rules"), int(rules.size()));
    for (int i = 0; i < int(rules.size()); ++i) {
        const AlertRule &rule = rules[i];
        settings.setArrayIndex(i);
        settings.setValue(QStringLiteral("name"), rule.name);
        settings.setValue(QStringLiteral("value_key"), rule.valueKey);
        settings.setValue(QStringLiteral("comparator"), comparatorSymbol(rule.comparator));
        // Text in the C locale's shortest round-trip form, so a reload gives the same double.
        settings.setValue(QStringLiteral("threshold"), QString::number(rule.threshold, 'g', QLocale::FloatingPointShortest));
        settings.setValue(QStringLiteral("for_seconds"), rule.forSeconds);
        settings.setValue(QStringLiteral("muted"), rule.muted);
    }
    settings.endArray();
    settings.endGroup();
}

QList<AlertRule> loadAlertRules(QSettings &settings, const QString &group)
{
    QList<AlertRule> rules;
    QStringList names;
    settings.beginGroup(alertsGroup(group));
    const int size = settings.beginReadArray(QStringLiteral("rules"));
    for (int i = 0; i < size; ++i) {
        settings.setArrayIndex(i);
        AlertRule rule;
        rule.name = settings.value(QStringLiteral("name")).toString();
        rule.valueKey = settings.value(QStringLiteral("value_key")).toString();
        const auto comparator = comparatorFromSymbol(settings.value(QStringLiteral("comparator")).toString());
        bool thresholdOk = false;
        rule.threshold = settings.value(QStringLiteral("threshold")).toString().toDouble(&thresholdOk);
        bool forOk = false;
        rule.forSeconds = settings.value(QStringLiteral("for_seconds")).toInt(&forOk);
        rule.muted = settings.value(QStringLiteral("muted")).toBool();
        if (!comparator || !thresholdOk || !forOk || !validateAlertRule(rule, names).isEmpty())
            continue;
        rule.comparator = *comparator;
        names.append(rule.name);
        rules.append(rule);
    }
    settings.endArray();
    settings.endGroup();
    return rules;
}

} // namespace sluice::models
