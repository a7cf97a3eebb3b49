#include "statusbar/sourceindicator.h"

#include "theme.h"

#include <QHBoxLayout>
#include <QHelpEvent>
#include <QLabel>
#include <QPainter>
#include <QToolTip>

namespace sluice::ui {

namespace {

Theme::Tone toneFor(SourceStatus::State state)
{
    switch (state) {
    case SourceStatus::State::Connected:
        return Theme::Tone::Good;
    case SourceStatus::State::Connecting:
        return Theme::Tone::Pending;
    case SourceStatus::State::Disconnected:
        return Theme::Tone::Idle;
    case SourceStatus::State::Error:
        return Theme::Tone::Bad;
    }
    return Theme::Tone::Idle;
}

} // namespace

StatusDot::StatusDot(QWidget *parent) : QWidget(parent)
{
    setSizePolicy(QSizePolicy::Fixed, QSizePolicy::Fixed);
}

void StatusDot::setState(SourceStatus::State state)
{
    if (state == m_state)
        return;
    m_state = state;
    update();
}

QColor StatusDot::color() const
{
    return Theme::toneColor(toneFor(m_state), Theme::isDarkPalette(palette()));
}

QSize StatusDot::sizeHint() const
{
    const int side = fontMetrics().height() * 2 / 3;
    return {side, side};
}

void StatusDot::paintEvent(QPaintEvent *)
{
    QPainter painter(this);
    painter.setRenderHint(QPainter::Antialiasing);
    painter.setPen(Qt::NoPen);
    painter.setBrush(color());
    const int side = qMin(width(), height()) - 2;
    painter.drawEllipse(QRectF((width() - side) / 2.0, (height() - side) / 2.0, side, side));
}

SourceIndicator::SourceIndicator(const SourceStatus &status, QWidget *parent)
    : QWidget(parent), m_dot(new StatusDot(this)), m_name(new QLabel(this)), m_state(new QLabel(this))
{
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(6, 0, 6, 0);
    layout->setSpacing(4);
    layout->addWidget(m_dot);
    layout->addWidget(m_name);
    layout->addWidget(m_state);
    m_state->setForegroundRole(QPalette::PlaceholderText);
    setStatus(status);
}

void SourceIndicator::setStatus(const SourceStatus &status)
{
    m_status = status;
    refresh();
}

QString SourceIndicator::nameText() const
{
    return m_name->text();
}

QString SourceIndicator::stateText() const
{
    return m_state->text();
}

QString SourceIndicator::toolTipText(const QDateTime &now) const
{
    QStringList lines;
    lines << QStringLiteral("%1: %2").arg(m_status.name, sourceStateText(m_status.state));
    if (!m_status.detail.isEmpty()) {
        const QString label = m_status.state == SourceStatus::State::Error ? QStringLiteral("Last error: %1")
                                                                             : QStringLiteral("%1");
        lines << label.arg(m_status.detail);
    }
    if (m_status.lastUpdate.isValid())
        lines << QStringLiteral("Updated %1").arg(formatUpdateAge(m_status.lastUpdate, now));
    else
        lines << QStringLiteral("No answer yet");
    return lines.join(QLatin1Char('\n'));
}

bool SourceIndicator::event(QEvent *event)
{
    if (event->type() == QEvent::ToolTip) {
        const auto *help = static_cast<QHelpEvent *>(event);
        QToolTip::showText(help->globalPos(), toolTipText(QDateTime::currentDateTimeUtc()), this);
        return true;
    }
    return QWidget::event(event);
}

void SourceIndicator::refresh()
{
    setObjectName(QStringLiteral("source:") + m_status.id);
    m_dot->setState(m_status.state);
    m_name->setText(m_status.name);
    m_state->setText(sourceStateText(m_status.state));
    setAccessibleName(QStringLiteral("%1 %2").arg(m_status.name, sourceStateText(m_status.state)));
    setAccessibleDescription(m_status.detail);
}

} // namespace sluice::ui
