#include "panels/usagepanel.h"

#include "panels/emptystate.h"

#include <QVBoxLayout>

namespace sluice::ui {

UsagePanel::UsagePanel(QWidget *parent)
    : QWidget(parent),
      m_emptyState(new EmptyState(tr("No usage data yet"),
                                  tr("Connect a deployment with a PostgreSQL connection to see requests, tokens and spend per key and model."),
                                  this))
{
    setObjectName(QStringLiteral("usagePanel"));
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_emptyState);
}

} // namespace sluice::ui
