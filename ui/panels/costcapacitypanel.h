#pragma once

#include <QWidget>

namespace sluice::ui {

class EmptyState;

// Spend projections from the price table and the capacity a target load needs.
// Until that is built it shows an EmptyState saying what will appear and what it needs.
// objectName: "costCapacityPanel".
class CostCapacityPanel : public QWidget {
    Q_OBJECT
public:
    explicit CostCapacityPanel(QWidget *parent = nullptr);

    EmptyState *emptyState() const { return m_emptyState; }

private:
    EmptyState *m_emptyState = nullptr;
};

} // namespace sluice::ui
