#include "models/profilelistmodel.h"

#include "models/profilestore.h"

namespace sluice::models {

// The model keeps its own copy of the list: the store has already changed when it
// signals, and a view must see the old row count between beginInsertRows/RemoveRows and
// their end.

ProfileListModel::ProfileListModel(ProfileStore &store, QObject *parent)
    : QAbstractListModel(parent), m_store(store), m_rows(store.profiles())
{
    connect(&store, &ProfileStore::profileInserted, this, &ProfileListModel::onInserted);
    connect(&store, &ProfileStore::profileChanged, this, &ProfileListModel::onChanged);
    connect(&store, &ProfileStore::profileRemoved, this, &ProfileListModel::onRemoved);
}

void ProfileListModel::onInserted(int row)
{
    const QList<ConnectionProfile> profiles = m_store.profiles();
    if (row < 0 || row >= profiles.size() || row > m_rows.size())
        return;
    beginInsertRows({}, row, row);
    m_rows.insert(row, profiles[row]);
    endInsertRows();
}

void ProfileListModel::onChanged(int row)
{
    const QList<ConnectionProfile> profiles = m_store.profiles();
    if (row < 0 || row >= profiles.size() || row >= m_rows.size())
        return;
    m_rows[row] = profiles[row];
    emit dataChanged(index(row), index(row));
}

void ProfileListModel::onRemoved(int row)
{
    if (row < 0 || row >= m_rows.size())
        return;
    beginRemoveRows({}, row, row);
    m_rows.removeAt(row);
    endRemoveRows();
}

int ProfileListModel::rowOf(const QString &name) const
{
    for (int i = 0; i < int(m_rows.size()); ++i) {
        if (m_rows[i].name == name)
            return i;
    }
    return -1;
}

int ProfileListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

QVariant ProfileListModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || !checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const ConnectionProfile &profile = m_rows[index.row()];
    switch (role) {
    case Qt::DisplayRole:
    case NameRole:
        return profile.name;
    case Qt::DecorationRole:
    case ColourRole:
        return profile.effectiveColour();
    case Qt::ToolTipRole:
        return profile.readOnly ? tr("%1 · read-only").arg(profile.environmentLabel()) : profile.environmentLabel();
    case EnvironmentRole:
        return int(profile.environment);
    case EnvironmentLabelRole:
        return profile.environmentLabel();
    case ReadOnlyRole:
        return profile.readOnly;
    }
    return {};
}

QHash<int, QByteArray> ProfileListModel::roleNames() const
{
    QHash<int, QByteArray> names = QAbstractListModel::roleNames();
    names.insert(NameRole, "name");
    names.insert(EnvironmentRole, "environment");
    names.insert(EnvironmentLabelRole, "environmentLabel");
    names.insert(ColourRole, "colour");
    names.insert(ReadOnlyRole, "readOnly");
    return names;
}

} // namespace sluice::models
