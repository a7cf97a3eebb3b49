#pragma once

#include <QStyledItemDelegate>

namespace sluice::ui {

// Draws a ProfileListModel row: the name, then its environment as a coloured tag
// (Theme::environmentColor(), with the profile's own colour when it has one); production
// rows are bold with a red tag so they stand out, read-only ones say so.
class ProfileItemDelegate : public QStyledItemDelegate {
    Q_OBJECT
public:
    using QStyledItemDelegate::QStyledItemDelegate;

    void paint(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const override;
    QSize sizeHint(const QStyleOptionViewItem &option, const QModelIndex &index) const override;
};

} // namespace sluice::ui
