#pragma once

#include "models/connectionprofile.h"

#include <QAbstractListModel>
#include <QList>

namespace sluice::models {

class ProfileStore;

// The profiles of a ProfileStore as a list, in the store's order, following its changes
// (profileInserted / profileChanged / profileRemoved) row by row.
//
// Roles: Qt::DisplayRole the name; Qt::DecorationRole the tag colour (QColor);
// Qt::ToolTipRole "production · read-only"; NameRole, EnvironmentRole (EnvironmentTag as
// int), EnvironmentLabelRole ("production" or the custom text), ColourRole (QColor),
// ReadOnlyRole (bool). Read-only: edit through the store.
//
// `store` must outlive the model, or the model must be destroyed first. Thread affinity:
// the store's thread.
class ProfileListModel : public QAbstractListModel {
    Q_OBJECT
public:
    enum Role {
        NameRole = Qt::UserRole,
        EnvironmentRole,
        EnvironmentLabelRole,
        ColourRole,
        ReadOnlyRole,
    };
    Q_ENUM(Role)

    explicit ProfileListModel(ProfileStore &store, QObject *parent = nullptr);

    // -1 when there is none.
    int rowOf(const QString &name) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

private:
    void onInserted(int row);
    void onChanged(int row);
    void onRemoved(int row);

    ProfileStore &m_store;
    QList<ConnectionProfile> m_rows; // the store's profiles as the views last saw them
};

} // namespace sluice::models
