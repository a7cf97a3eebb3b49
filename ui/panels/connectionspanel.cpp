#include "panels/connectionspanel.h"

#include "panels/emptystate.h"

#include <QVBoxLayout>

namespace sluice::ui {

ConnectionsPanel::ConnectionsPanel(QWidget *parent)
    : QWidget(parent),
      m_emptyState(new EmptyState(tr("No connection profiles yet"),
                                  tr("Profiles with a deployment's admin URLs, Prometheus, Redis and PostgreSQL addresses will be listed and edited here."),
                                  this))
{
    setObjectName(QStringLiteral("connectionsPanel"));
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_emptyState);
}

} // namespace sluice::ui
