#pragma once

#include <QWidget>

namespace sluice::ui {

class EmptyState;

// Live throughput, latency percentiles, cache hit rate and quota usage of the connected deployment.
// Until that is built it shows an EmptyState saying what will appear and what it needs.
// objectName: "dashboardPanel".
class DashboardPanel : public QWidget {
    Q_OBJECT
public:
    explicit DashboardPanel(QWidget *parent = nullptr);

    EmptyState *emptyState() const { return m_emptyState; }

private:
    EmptyState *m_emptyState = nullptr;
};

} // namespace sluice::ui
