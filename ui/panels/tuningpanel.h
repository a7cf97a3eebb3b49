#pragma once

#include <QWidget>

namespace sluice::ui {

class EmptyState;

// Rate limits, concurrency and cache TTLs, edited on every instance of the deployment at once.
// Until that is built it shows an EmptyState saying what will appear and what it needs.
// objectName: "tuningPanel".
class TuningPanel : public QWidget {
    Q_OBJECT
public:
    explicit TuningPanel(QWidget *parent = nullptr);

    EmptyState *emptyState() const { return m_emptyState; }

private:
    EmptyState *m_emptyState = nullptr;
};

} // namespace sluice::ui
