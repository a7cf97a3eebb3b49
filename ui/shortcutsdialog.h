#pragma once

#include <QDialog>
#include <QList>
#include <QString>

class QAction;
class QTreeWidget;

namespace sluice::ui {

// One line of the shortcuts list: an action's text (mnemonic ampersands removed) and
// all its key sequences in the platform's native notation, comma-separated.
struct ShortcutRow {
    QString action;
    QString keys;

    friend bool operator==(const ShortcutRow &, const ShortcutRow &) = default;
};

// The rows for every action that has at least one shortcut, in the order given;
// actions without a shortcut are left out, and an action listed twice appears once.
QList<ShortcutRow> shortcutRows(const QList<QAction *> &actions);

// Lists keyboard shortcuts generated from QActions, so the list cannot drift from what
// the keys really do. Built once from the actions given; create a new one to reflect
// later changes. Non-modal-blocking: show it with open() or show().
class ShortcutsDialog : public QDialog {
    Q_OBJECT
public:
    explicit ShortcutsDialog(const QList<QAction *> &actions, QWidget *parent = nullptr);

    QList<ShortcutRow> rows() const { return m_rows; }

private:
    QList<ShortcutRow> m_rows;
    QTreeWidget *m_list = nullptr;
};

} // namespace sluice::ui
