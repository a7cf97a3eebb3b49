#include "panels/dashboardpanel.h"

#include "panels/emptystate.h"

#include <QVBoxLayout>

namespace sluice::ui {

DashboardPanel::DashboardPanel(QWidget *parent)
    : QWidget(parent),
      m_emptyState(new EmptyState(tr("No live data yet"),
                                  tr("Connect a deployment with a Prometheus URL or gateway admin URLs to see live charts."),
                                  this))
{
    setObjectName(QStringLiteral("dashboardPanel"));
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_emptyState);
}

} // namespace sluice::ui
