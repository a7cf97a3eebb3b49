#pragma once

#include <QWidget>

namespace sluice::ui {

class EmptyState;

// Connection profiles: gateway admin URLs, Prometheus, Redis and PostgreSQL of each deployment.
// Until that is built it shows an EmptyState saying what will appear and what it needs.
// objectName: "connectionsPanel".
class ConnectionsPanel : public QWidget {
    Q_OBJECT
public:
    explicit ConnectionsPanel(QWidget *parent = nullptr);

    EmptyState *emptyState() const { return m_emptyState; }

private:
    EmptyState *m_emptyState = nullptr;
};

} // namespace sluice::ui
