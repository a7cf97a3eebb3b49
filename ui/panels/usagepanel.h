#pragma once

#include <QWidget>

namespace sluice::ui {

class EmptyState;

// Requests, tokens and spend per key and model, aggregated from PostgreSQL.
// Until that is built it shows an EmptyState saying what will appear and what it needs.
// objectName: "usagePanel".
class UsagePanel : public QWidget {
    Q_OBJECT
public:
    explicit UsagePanel(QWidget *parent = nullptr);

    EmptyState *emptyState() const { return m_emptyState; }

private:
    EmptyState *m_emptyState = nullptr;
};

} // namespace sluice::ui
