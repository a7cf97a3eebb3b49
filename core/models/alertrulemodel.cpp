#include "models/alertrulemodel.h"

#include <QLocale>

#include <cmath>

namespace sluice::models {

AlertRuleModel::AlertRuleModel(QObject *parent) : QAbstractTableModel(parent) {}

QStringList AlertRuleModel::namesExcept(int row) const
{
    QStringList names;
    for (int i = 0; i < int(m_rules.size()); ++i) {
        if (i != row)
            names.append(m_rules[i].name);
    }
    return names;
}

void AlertRuleModel::setRules(const QList<AlertRule> &rules)
{
    beginResetModel();
    m_rules.clear();
    for (const AlertRule &rule : rules) {
        if (validateAlertRule(rule, namesExcept(-1)).isEmpty())
            m_rules.append(rule);
    }
    const QStringList kept = namesExcept(-1);
    for (auto it = m_states.begin(); it != m_states.end();) {
        if (kept.contains(it.key()))
            ++it;
        else
            it = m_states.erase(it);
    }
    endResetModel();
}

int AlertRuleModel::addRule(const AlertRule &rule)
{
    if (!validateAlertRule(rule, namesExcept(-1)).isEmpty())
        return -1;
    const int row = int(m_rules.size());
    beginInsertRows({}, row, row);
    m_rules.append(rule);
    endInsertRows();
    emit rulesEdited();
    return row;
}

int AlertRuleModel::rowOf(const QString &name) const
{
    for (int i = 0; i < int(m_rules.size()); ++i) {
        if (m_rules[i].name == name)
            return i;
    }
    return -1;
}

void AlertRuleModel::setRuleState(const QString &name, AlertState state)
{
    const int row = rowOf(name);
    if (row < 0 || ruleState(name) == state)
        return;
    m_states.insert(name, state);
    emit dataChanged(index(row, StateColumn), index(row, StateColumn));
}

int AlertRuleModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rules.size());
}

int AlertRuleModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant AlertRuleModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || !checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const AlertRule &rule = m_rules[index.row()];
    if (role == RuleNameRole)
        return rule.name;
    if (role == StateRole)
        return int(ruleState(rule.name));
    if (role == Qt::CheckStateRole && index.column() == MutedColumn)
        return int(rule.muted ? Qt::Checked : Qt::Unchecked);
    if (role == Qt::TextAlignmentRole && (index.column() == ThresholdColumn || index.column() == ForSecondsColumn))
        return int(Qt::AlignRight | Qt::AlignVCenter);
    if (role != Qt::DisplayRole && role != Qt::EditRole)
        return {};
    const bool display = role == Qt::DisplayRole;
    switch (index.column()) {
    case NameColumn:
        return rule.name;
    case ValueKeyColumn:
        return rule.valueKey;
    case ComparatorColumn:
        return comparatorSymbol(rule.comparator);
    case ThresholdColumn:
        return display ? QVariant(QString::number(rule.threshold, 'g', QLocale::FloatingPointShortest))
                       : QVariant(rule.threshold);
    case ForSecondsColumn:
        return rule.forSeconds;
    case MutedColumn:
        return display ? QVariant() : QVariant(rule.muted);
    case StateColumn:
        return display ? QVariant(alertStateName(ruleState(rule.name))) : QVariant();
    }
    return {};
}

bool AlertRuleModel::setData(const QModelIndex &index, const QVariant &value, int role)
{
    if (!index.isValid() || !checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return false;
    const bool checkEdit = role == Qt::CheckStateRole && index.column() == MutedColumn;
    if (role != Qt::EditRole && !checkEdit)
        return false;

    const int row = index.row();
    AlertRule edited = m_rules[row];
    bool ok = true;
    switch (index.column()) {
    case NameColumn:
        edited.name = value.toString();
        break;
    case ValueKeyColumn:
        edited.valueKey = value.toString().trimmed();
        break;
    case ComparatorColumn: {
        const auto comparator = comparatorFromSymbol(value.toString());
        ok = comparator.has_value();
        if (ok)
            edited.comparator = *comparator;
        break;
    }
    case ThresholdColumn:
        edited.threshold = value.toDouble(&ok);
        break;
    case ForSecondsColumn:
        edited.forSeconds = value.toInt(&ok);
        break;
    case MutedColumn:
        edited.muted = checkEdit ? Qt::CheckState(value.toInt()) == Qt::Checked : value.toBool();
        break;
    default:
        return false;
    }
    if (!ok || !validateAlertRule(edited, namesExcept(row)).isEmpty())
        return false;
    if (edited == m_rules[row])
        return true;
    if (edited.name != m_rules[row].name)
        m_states.remove(m_rules[row].name);
    m_rules[row] = edited;
    emit dataChanged(this->index(row, 0), this->index(row, ColumnCount - 1));
    emit rulesEdited();
    return true;
}

Qt::ItemFlags AlertRuleModel::flags(const QModelIndex &index) const
{
    if (!index.isValid() || !checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return Qt::NoItemFlags;
    Qt::ItemFlags result = Qt::ItemIsSelectable | Qt::ItemIsEnabled | Qt::ItemNeverHasChildren;
    if (index.column() == MutedColumn)
        result |= Qt::ItemIsUserCheckable;
    else if (index.column() != StateColumn)
        result |= Qt::ItemIsEditable;
    return result;
}

QVariant AlertRuleModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case NameColumn:
        return tr("Name");
    case ValueKeyColumn:
        return tr("Value");
    case ComparatorColumn:
        return tr("Comparator");
    case ThresholdColumn:
        return tr("Threshold");
    case ForSecondsColumn:
        return tr("For (s)");
    case MutedColumn:
        return tr("Muted");
    case StateColumn:
        return tr("State");
    }
    return {};
}

QHash<int, QByteArray> AlertRuleModel::roleNames() const
{
    QHash<int, QByteArray> names = QAbstractTableModel::roleNames();
    names.insert(RuleNameRole, "ruleName");
    names.insert(StateRole, "state");
    return names;
}

bool AlertRuleModel::insertRows(int row, int count, const QModelIndex &parent)
{
    if (parent.isValid() || row < 0 || row > int(m_rules.size()) || count < 1)
        return false;
    QStringList taken = namesExcept(-1);
    QList<AlertRule> fresh;
    int suffix = 1;
    for (int i = 0; i < count; ++i) {
        AlertRule rule;
        do {
            rule.name = QStringLiteral("rule %1").arg(suffix++);
        } while (taken.contains(rule.name));
        rule.valueKey = QString::fromLatin1(kLatencyP95SecondsKey);
        rule.comparator = AlertComparator::Greater;
        rule.threshold = 1.0;
        taken.append(rule.name);
        fresh.append(rule);
    }
    beginInsertRows({}, row, row + count - 1);
    for (int i = 0; i < count; ++i)
        m_rules.insert(row + i, fresh[i]);
    endInsertRows();
    emit rulesEdited();
    return true;
}

bool AlertRuleModel::removeRows(int row, int count, const QModelIndex &parent)
{
    if (parent.isValid() || row < 0 || count < 1 || row + count > int(m_rules.size()))
        return false;
    beginRemoveRows({}, row, row + count - 1);
    for (int i = 0; i < count; ++i)
        m_states.remove(m_rules[row + i].name);
    m_rules.remove(row, count);
    endRemoveRows();
    emit rulesEdited();
    return true;
}

} // namespace sluice::models
