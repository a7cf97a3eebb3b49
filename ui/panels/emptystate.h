#pragma once

#include <QWidget>

class QLabel;

namespace sluice::ui {

// What a panel shows while it has nothing real to show: a short title and one line
// saying what will appear there and what it needs. No numbers, no buttons.
class EmptyState : public QWidget {
    Q_OBJECT
public:
    EmptyState(const QString &title, const QString &message, QWidget *parent = nullptr);

    QString title() const;
    QString message() const;

private:
    QLabel *m_title = nullptr;
    QLabel *m_message = nullptr;
};

} // namespace sluice::ui
