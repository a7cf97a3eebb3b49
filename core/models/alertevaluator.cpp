#include "models/alertevaluator.h"

#include <QLocale>

#include <cmath>

namespace sluice::models {

QString alertStateName(AlertState state)
{
    switch (state) {
    case AlertState::Inactive:
        return QStringLiteral("inactive");
    case AlertState::Pending:
        return QStringLiteral("pending");
    case AlertState::Firing:
        return QStringLiteral("firing");
    }
    return {};
}

QString AlertTransition::text() const
{
    return QStringLiteral("%1: %2 (%3), value %4")
        .arg(kind == Kind::Firing ? QStringLiteral("Firing") : QStringLiteral("Resolved"), rule.name,
             rule.conditionText(), QString::number(value, 'g', QLocale::FloatingPointShortest));
}

AlertEvaluator::AlertEvaluator(QObject *parent) : QObject(parent) {}

AlertEvaluator::Tracked *AlertEvaluator::find(const QString &name)
{
    for (Tracked &tracked : m_rules) {
        if (tracked.rule.name == name)
            return &tracked;
    }
    return nullptr;
}

const AlertEvaluator::Tracked *AlertEvaluator::find(const QString &name) const
{
    return const_cast<AlertEvaluator *>(this)->find(name);
}

void AlertEvaluator::setRules(const QList<AlertRule> &rules)
{
    QList<Tracked> next;
    QStringList names;
    for (const AlertRule &rule : rules) {
        if (!validateAlertRule(rule, names).isEmpty())
            continue;
        names.append(rule.name);
        Tracked tracked;
        if (const Tracked *existing = find(rule.name))
            tracked = *existing;
        tracked.rule = rule;
        next.append(tracked);
    }
    for (const Tracked &old : std::as_const(m_rules)) {
        if (!names.contains(old.rule.name) && old.state != AlertState::Inactive)
            m_queuedStateChanges.append({old.rule.name, AlertState::Inactive});
    }
    m_rules = next;
    reconcileAll();
    flush();
}

QList<AlertRule> AlertEvaluator::rules() const
{
    QList<AlertRule> result;
    result.reserve(m_rules.size());
    for (const Tracked &tracked : m_rules)
        result.append(tracked.rule);
    return result;
}

bool AlertEvaluator::setRuleMuted(const QString &name, bool muted)
{
    Tracked *tracked = find(name);
    if (!tracked)
        return false;
    tracked->rule.muted = muted;
    reconcile(*tracked);
    flush();
    return true;
}

void AlertEvaluator::muteAll(qint64 untilMs)
{
    if (m_lastTimeMs && untilMs <= *m_lastTimeMs) {
        unmuteAll();
        return;
    }
    m_globalMuteUntilMs = untilMs;
}

void AlertEvaluator::unmuteAll()
{
    m_globalMuteUntilMs.reset();
    reconcileAll();
    flush();
}

bool AlertEvaluator::isMuted(const Tracked &tracked) const
{
    return tracked.rule.muted || m_globalMuteUntilMs.has_value();
}

bool AlertEvaluator::evaluate(qint64 timeMs, const QHash<QString, double> &values)
{
    if (m_lastTimeMs && timeMs < *m_lastTimeMs)
        return false;
    m_lastTimeMs = timeMs;
    if (m_globalMuteUntilMs && timeMs >= *m_globalMuteUntilMs)
        m_globalMuteUntilMs.reset();

    for (Tracked &tracked : m_rules) {
        const auto found = values.constFind(tracked.rule.valueKey);
        if (found == values.cend() || std::isnan(found.value()))
            continue;
        const double value = found.value();
        const bool holds = tracked.rule.holds(value);
        const qint64 forMs = qint64(tracked.rule.forSeconds) * 1000;
        switch (tracked.state) {
        case AlertState::Inactive:
            if (!holds)
                break;
            tracked.pendingSinceMs = timeMs;
            setState(tracked, forMs == 0 ? AlertState::Firing : AlertState::Pending, timeMs, value);
            break;
        case AlertState::Pending:
            if (!holds)
                setState(tracked, AlertState::Inactive, timeMs, value);
            else if (timeMs - tracked.pendingSinceMs >= forMs)
                setState(tracked, AlertState::Firing, timeMs, value);
            break;
        case AlertState::Firing:
            if (!holds)
                setState(tracked, AlertState::Inactive, timeMs, value);
            break;
        }
    }
    reconcileAll();
    flush();
    return true;
}

void AlertEvaluator::setState(Tracked &tracked, AlertState state, qint64 timeMs, double value)
{
    const bool wasFiring = tracked.state == AlertState::Firing;
    tracked.state = state;
    m_queuedStateChanges.append({tracked.rule.name, state});
    if (state == AlertState::Firing)
        tracked.lastTransition = {AlertTransition::Kind::Firing, tracked.rule, timeMs, value};
    else if (wasFiring)
        tracked.lastTransition = {AlertTransition::Kind::Resolved, tracked.rule, timeMs, value};
}

// Sends what the rule's state calls for and was not sent yet, unless it is muted. Both
// the plain transitions and the catch-up at a mute's end come through here, so Firing
// and Resolved always alternate.
void AlertEvaluator::reconcile(Tracked &tracked)
{
    if (isMuted(tracked))
        return;
    const bool firing = tracked.state == AlertState::Firing;
    if (firing == tracked.firingNotified)
        return;
    tracked.firingNotified = firing;
    AlertTransition transition = tracked.lastTransition;
    transition.rule = tracked.rule;
    m_queuedNotifications.append(transition);
}

void AlertEvaluator::reconcileAll()
{
    for (Tracked &tracked : m_rules)
        reconcile(tracked);
}

void AlertEvaluator::flush()
{
    const auto changes = std::exchange(m_queuedStateChanges, {});
    const auto notifications = std::exchange(m_queuedNotifications, {});
    for (const auto &[name, state] : changes)
        emit stateChanged(name, state);
    for (const AlertTransition &transition : notifications)
        emit notification(transition);
}

AlertState AlertEvaluator::state(const QString &name) const
{
    const Tracked *tracked = find(name);
    return tracked ? tracked->state : AlertState::Inactive;
}

QStringList AlertEvaluator::firingRules() const
{
    QStringList names;
    for (const Tracked &tracked : m_rules) {
        if (tracked.state == AlertState::Firing)
            names.append(tracked.rule.name);
    }
    return names;
}

} // namespace sluice::models
