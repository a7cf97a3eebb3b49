#include "panels/emptystate.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

namespace sluice::ui {

EmptyState::EmptyState(const QString &title, const QString &message, QWidget *parent)
    : QWidget(parent), m_title(new QLabel(title, this)), m_message(new QLabel(message, this))
{
    setObjectName(QStringLiteral("emptyState"));
    m_title->setObjectName(QStringLiteral("emptyStateTitle"));
    m_message->setObjectName(QStringLiteral("emptyStateMessage"));

    QFont titleFont = m_title->font();
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.4);
    titleFont.setBold(true);
    m_title->setFont(titleFont);
    m_title->setAlignment(Qt::AlignHCenter);
    m_title->setWordWrap(true);
    m_message->setAlignment(Qt::AlignHCenter | Qt::AlignTop);
    m_message->setWordWrap(true);
    m_message->setForegroundRole(QPalette::PlaceholderText);
    m_message->setTextInteractionFlags(Qt::TextSelectableByMouse);

    // Word-wrapped labels only get a height for their width when the layout stretches
    // them (no alignment flag), so the column is narrowed by a maximum width and
    // centred by stretches instead.
    auto *column = new QWidget(this);
    column->setMaximumWidth(m_message->fontMetrics().averageCharWidth() * 72);
    auto *columnLayout = new QVBoxLayout(column);
    columnLayout->setContentsMargins(0, 0, 0, 0);
    columnLayout->addWidget(m_title);
    columnLayout->addWidget(m_message);

    auto *row = new QHBoxLayout;
    row->addStretch(1);
    row->addWidget(column, 4);
    row->addStretch(1);

    auto *layout = new QVBoxLayout(this);
    layout->addStretch(1);
    layout->addLayout(row);
    layout->addStretch(2);
}

QString EmptyState::title() const
{
    return m_title->text();
}

QString EmptyState::message() const
{
    return m_message->text();
}

} // namespace sluice::ui
