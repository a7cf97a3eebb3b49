#pragma once

#include "models/alertevaluator.h"
#include "models/alertrule.h"

#include <QAbstractTableModel>
#include <QHash>
#include <QList>

namespace sluice::models {

// The alert rules of the current profile as an editable table, for the alert editor.
//
// Columns: name, value key, comparator (">", ">=", "<", "<="), threshold, for (seconds),
// muted (a check box: Qt::CheckStateRole), state (read-only; the evaluator's, pushed in
// with setRuleState()). Edits go through setData(Qt::EditRole) and are refused (false,
// nothing changes) when the rule would fail validateAlertRule or the comparator is not
// one of the four symbols. Every accepted change — setData, insertRows, removeRows,
// addRule — emits rulesEdited(), so the owner can hand rules() to the AlertEvaluator
// and save them (ProfileStore::setAlertRules). setRules() (a load) resets the model and
// emits nothing else.
//
// Roles: Qt::DisplayRole / Qt::EditRole the value (threshold as a double, for-seconds as
// an int, muted as a bool); RuleNameRole the row's rule name in every column; StateRole
// the AlertState as int.
//
// Thread affinity: the GUI thread.
class AlertRuleModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { NameColumn, ValueKeyColumn, ComparatorColumn, ThresholdColumn, ForSecondsColumn, MutedColumn, StateColumn, ColumnCount };
    Q_ENUM(Column)

    enum Role { RuleNameRole = Qt::UserRole, StateRole };
    Q_ENUM(Role)

    explicit AlertRuleModel(QObject *parent = nullptr);

    // Invalid rules and repeats of a name are dropped. States are kept for names that
    // stay.
    void setRules(const QList<AlertRule> &rules);
    const QList<AlertRule> &rules() const { return m_rules; }
    // Appends `rule`; its row, or -1 (nothing changes) when it fails validation.
    int addRule(const AlertRule &rule);
    // -1 when there is none.
    int rowOf(const QString &name) const;

    // Shows `state` for the rule called `name` (ignored for an unknown rule). Connect
    // AlertEvaluator::stateChanged here.
    void setRuleState(const QString &name, sluice::models::AlertState state);
    AlertState ruleState(const QString &name) const { return m_states.value(name, AlertState::Inactive); }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    bool setData(const QModelIndex &index, const QVariant &value, int role = Qt::EditRole) override;
    Qt::ItemFlags flags(const QModelIndex &index) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;
    // Inserts valid default rules ("rule 1", "rule 2", ... — the first free names — on
    // latency_p95_seconds > 1).
    bool insertRows(int row, int count, const QModelIndex &parent = {}) override;
    bool removeRows(int row, int count, const QModelIndex &parent = {}) override;

signals:
    void rulesEdited();

private:
    QStringList namesExcept(int row) const;

    QList<AlertRule> m_rules;
    QHash<QString, AlertState> m_states;
};

} // namespace sluice::models
