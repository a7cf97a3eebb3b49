#include "panels/tuningpanel.h"

#include "panels/emptystate.h"

#include <QVBoxLayout>

namespace sluice::ui {

TuningPanel::TuningPanel(QWidget *parent)
    : QWidget(parent),
      m_emptyState(new EmptyState(tr("Tuning is not available yet"),
                                  tr("Editing limits and cache TTLs on every instance arrives with the tuning work; it will need gateway admin URLs."),
                                  this))
{
    setObjectName(QStringLiteral("tuningPanel"));
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_emptyState);
}

} // namespace sluice::ui
