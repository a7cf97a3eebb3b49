#pragma once

#include "models/instancerow.h"

#include <QAbstractTableModel>
#include <QHash>

#include <vector>

namespace sluice::models {

// The Connections/Dashboard table of gateway instances, one row per InstanceRow.
//
// setInstances() replaces the whole list but diffs it by id against the rows shown:
// rows that left are removed, rows that stayed are updated in place (dataChanged for
// the rows whose cells changed), new ids are appended, in the order given. The model is
// never reset by a refresh, so a view's selection and scroll position survive it.
// Row order is arrival order; sort with a QSortFilterProxyModel on SortRole.
//
// Config drift: the reference configuration version is the most common known one
// (configVersion != 0) among the rows; on a tie, the highest of the tied versions. A row
// with a known version other than the reference has ConfigDiffersRole true in every
// column, and Qt::ToolTipRole explains it.
//
// Roles per column: Qt::DisplayRole the formatted text (uptime "3 h 12 m", latency in
// ms, rates with one decimal, unknown numbers empty); SortRole (Qt::UserRole) the raw
// value (seconds, requests/s, the state as int; NaN for unknown numbers);
// Qt::TextAlignmentRole right-aligned numbers. Read-only.
//
// Thread affinity: the GUI thread.
class InstanceTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column {
        IdColumn,
        VersionColumn,
        UptimeColumn,
        RequestsPerSecondColumn,
        LatencyP95Column,
        ConfigVersionColumn,
        StateColumn,
        AddressColumn,
        ColumnCount
    };
    Q_ENUM(Column)

    enum Role {
        SortRole = Qt::UserRole,
        ConfigDiffersRole,
        InstanceIdRole,
    };
    Q_ENUM(Role)

    explicit InstanceTableModel(QObject *parent = nullptr);

    // Rows with an empty id are ignored, and so is every repeat of an id after its
    // first occurrence.
    void setInstances(const std::vector<InstanceRow> &instances);
    const std::vector<InstanceRow> &instances() const { return m_rows; }
    // -1 when no row has that id.
    int rowOf(const QString &id) const;
    // The version rows are compared with; 0 when no row has a known version.
    qint64 referenceConfigVersion() const { return m_referenceVersion; }
    bool configDiffers(int row) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

    // "45 s", "12 m 5 s", "3 h 12 m", "2 d 3 h"; empty for NaN or negative.
    static QString formatUptime(double seconds);
    // "0.4 ms", "12 ms", "1250 ms"; empty for NaN.
    static QString formatLatency(double seconds);

private:
    void recomputeReference();
    QString configToolTip(int row) const;
    void reindex();

    std::vector<InstanceRow> m_rows;
    QHash<QString, int> m_rowById;
    qint64 m_referenceVersion = 0;
    int m_referenceCount = 0;
    int m_knownVersionCount = 0;
    bool m_referenceFromTie = false;
};

} // namespace sluice::models
