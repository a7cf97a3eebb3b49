#include "panels/costcapacitypanel.h"

#include "panels/emptystate.h"

#include <QVBoxLayout>

namespace sluice::ui {

CostCapacityPanel::CostCapacityPanel(QWidget *parent)
    : QWidget(parent),
      m_emptyState(new EmptyState(tr("Cost and capacity planning is not available yet"),
                                  tr("Projections from the price table and recorded usage arrive with the cost and capacity work."),
                                  this))
{
    setObjectName(QStringLiteral("costCapacityPanel"));
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_emptyState);
}

} // namespace sluice::ui
