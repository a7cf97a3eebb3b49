#pragma once

#include "statusbar/sourcestatus.h"

#include <QWidget>

class QLabel;

namespace sluice::ui {

class StatusDot;

// One source in the status bar: a coloured dot, the source's name and its state text.
// The tooltip (name, state, detail, "updated N s ago") is composed when it is asked
// for, so the age is current without a timer.
class SourceIndicator : public QWidget {
    Q_OBJECT
public:
    explicit SourceIndicator(const SourceStatus &status, QWidget *parent = nullptr);

    const SourceStatus &status() const { return m_status; }
    void setStatus(const SourceStatus &status);

    QString nameText() const;
    QString stateText() const;
    // The tooltip as it would read at `now`.
    QString toolTipText(const QDateTime &now) const;

protected:
    bool event(QEvent *event) override;

private:
    void refresh();

    SourceStatus m_status;
    StatusDot *m_dot = nullptr;
    QLabel *m_name = nullptr;
    QLabel *m_state = nullptr;
};

// The dot: a circle painted in Theme::toneColor() for the state, recomputed from the
// widget's palette on each paint so it follows light/dark changes.
class StatusDot : public QWidget {
    Q_OBJECT
public:
    explicit StatusDot(QWidget *parent = nullptr);

    void setState(SourceStatus::State state);
    SourceStatus::State state() const { return m_state; }
    QColor color() const;

    QSize sizeHint() const override;

protected:
    void paintEvent(QPaintEvent *event) override;

private:
    SourceStatus::State m_state = SourceStatus::State::Disconnected;
};

} // namespace sluice::ui
