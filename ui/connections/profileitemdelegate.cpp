#include "connections/profileitemdelegate.h"

#include "models/connectionprofile.h"
#include "models/profilelistmodel.h"
#include "theme.h"

#include <QApplication>
#include <QPainter>

namespace sluice::ui {

using models::ProfileListModel;

namespace {

bool isProduction(const QModelIndex &index)
{
    return index.data(ProfileListModel::EnvironmentRole).toInt() == int(models::EnvironmentTag::Production);
}

} // namespace

QSize ProfileItemDelegate::sizeHint(const QStyleOptionViewItem &option, const QModelIndex &index) const
{
    QSize size = QStyledItemDelegate::sizeHint(option, index);
    size.setHeight(std::max(size.height(), option.fontMetrics.height() + 12));
    return size;
}

void ProfileItemDelegate::paint(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const
{
    QStyleOptionViewItem base = option;
    initStyleOption(&base, index);
    // The background and focus from the style; the text and the tag drawn here.
    base.text.clear();
    base.icon = QIcon();
    base.features &= ~QStyleOptionViewItem::HasDecoration;
    const QWidget *widget = option.widget;
    QStyle *style = widget ? widget->style() : QApplication::style();
    style->drawControl(QStyle::CE_ItemViewItem, &base, painter, widget);

    const bool production = isProduction(index);
    const QString label = index.data(ProfileListModel::EnvironmentLabelRole).toString();
    QColor tagColour = index.data(ProfileListModel::ColourRole).value<QColor>();
    if (!tagColour.isValid())
        tagColour = Theme::environmentColor(label);
    const QColor tagText = tagColour.lightnessF() > 0.6 ? QColor(Qt::black) : QColor(Qt::white);

    painter->save();
    QFont font = option.font;
    font.setBold(production);
    painter->setFont(font);
    const QFontMetrics metrics(font);
    const QRect area = option.rect.adjusted(6, 0, -6, 0);

    QFont tagFont = option.font;
    tagFont.setPointSizeF(std::max(6.0, tagFont.pointSizeF() * 0.85));
    tagFont.setBold(true);
    const QFontMetrics tagMetrics(tagFont);
    QString tag = label.toUpper();
    if (index.data(ProfileListModel::ReadOnlyRole).toBool())
        tag += QStringLiteral(" · ") + tr("READ-ONLY");
    const int tagWidth = tagMetrics.horizontalAdvance(tag) + 12;
    const int tagHeight = tagMetrics.height() + 4;
    const QRect tagRect(area.right() - tagWidth, area.center().y() - tagHeight / 2, tagWidth, tagHeight);

    const bool selected = option.state & QStyle::State_Selected;
    painter->setPen(option.palette.color(selected ? QPalette::HighlightedText : QPalette::Text));
    const QRect textRect(area.left(), area.top(), std::max(0, tagRect.left() - area.left() - 6), area.height());
    painter->drawText(textRect, Qt::AlignVCenter | Qt::AlignLeft,
                      metrics.elidedText(index.data(Qt::DisplayRole).toString(), Qt::ElideRight, textRect.width()));

    painter->setRenderHint(QPainter::Antialiasing);
    painter->setPen(Qt::NoPen);
    painter->setBrush(tagColour);
    painter->drawRoundedRect(tagRect, 4, 4);
    painter->setFont(tagFont);
    painter->setPen(tagText);
    painter->drawText(tagRect, Qt::AlignCenter, tag);
    painter->restore();
}

} // namespace sluice::ui
