#pragma once

#include <QWidget>

namespace sluice::ui {

class EmptyState;

// Redis as the deployment uses it: memory, clients, and Sluice's keys for limits, cache and config.
// Until that is built it shows an EmptyState saying what will appear and what it needs.
// objectName: "redisPanel".
class RedisPanel : public QWidget {
    Q_OBJECT
public:
    explicit RedisPanel(QWidget *parent = nullptr);

    EmptyState *emptyState() const { return m_emptyState; }

private:
    EmptyState *m_emptyState = nullptr;
};

} // namespace sluice::ui
