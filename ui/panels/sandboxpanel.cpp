#include "panels/sandboxpanel.h"

#include "panels/emptystate.h"

#include <QVBoxLayout>

namespace sluice::ui {

SandboxPanel::SandboxPanel(QWidget *parent)
    : QWidget(parent),
      m_emptyState(new EmptyState(tr("The sandbox is not running"),
                                  tr("A local gateway with a simulated provider and simulated users will run here, so policies can be tried safely."),
                                  this))
{
    setObjectName(QStringLiteral("sandboxPanel"));
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_emptyState);
}

} // namespace sluice::ui
