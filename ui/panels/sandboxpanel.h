#pragma once

#include <QWidget>

namespace sluice::ui {

class EmptyState;

// The embedded sandbox: a local gateway in front of a simulated provider, driven by simulated users.
// Until that is built it shows an EmptyState saying what will appear and what it needs.
// objectName: "sandboxPanel".
class SandboxPanel : public QWidget {
    Q_OBJECT
public:
    explicit SandboxPanel(QWidget *parent = nullptr);

    EmptyState *emptyState() const { return m_emptyState; }

private:
    EmptyState *m_emptyState = nullptr;
};

} // namespace sluice::ui
