#include "panels/redispanel.h"

#include "panels/emptystate.h"

#include <QVBoxLayout>

namespace sluice::ui {

RedisPanel::RedisPanel(QWidget *parent)
    : QWidget(parent),
      m_emptyState(new EmptyState(tr("No Redis connected"),
                                  tr("Connect a deployment with a Redis address to see memory, clients and Sluice's shared limit and cache keys."),
                                  this))
{
    setObjectName(QStringLiteral("redisPanel"));
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_emptyState);
}

} // namespace sluice::ui
