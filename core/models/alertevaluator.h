#pragma once

#include "models/alertrule.h"

#include <QHash>
#include <QList>
#include <QObject>
#include <QString>
#include <QStringList>

#include <optional>
#include <utility>

namespace sluice::models {

// Inactive: the condition does not hold (or never had data). Pending: it holds, for less
// than the rule's forSeconds so far. Firing: it has held for forSeconds.
enum class AlertState { Inactive, Pending, Firing };

// "inactive", "pending", "firing".
QString alertStateName(AlertState state);

// A notification: a rule started firing, or stopped.
struct AlertTransition {
    enum class Kind { Firing, Resolved };
    Kind kind = Kind::Firing;
    AlertRule rule;
    qint64 timeMs = 0; // the sample time at which the state changed
    double value = 0.0; // the sample value that changed it

    // "Firing: high latency (latency_p95_seconds > 2 for 60 s), value 2.5" /
    // "Resolved: high latency (latency_p95_seconds > 2 for 60 s), value 1.2".
    QString text() const;
};

// Evaluates threshold alert rules over the dashboard's values. Time is injected: each
// evaluate() carries the sample time; nothing here reads a clock or arms a timer.
//
// Per rule, at each sample that holds its value key with a number (a missing key or a
// NaN leaves the rule exactly as it was, so a source that skipped one refresh does not
// resolve an alert):
//   Inactive → Pending when the condition holds (→ Firing at once when forSeconds is 0);
//   Pending → Firing once the condition has held for forSeconds, i.e. at the first sample
//             at least forSeconds after the sample that made it pending;
//   Pending → Inactive, Firing → Inactive (resolved) when it does not hold.
// stateChanged() reports every change, muted or not.
//
// Notifications — notification(), one Firing then one Resolved per episode, never
// repeated while the state stays — are held back while the rule is muted or the global
// mute is on. When the mute ends, what the rule's state now calls for and was not sent
// is sent (a rule that started firing under the mute and still fires notifies Firing; a
// rule whose Firing was sent and that resolved under the mute notifies Resolved); an
// episode that began and ended under the mute is never sent. The transition carries the
// time and value of the state change, not of the mute's end.
//
// Not thread-safe: use it from one thread (the GUI thread).
class AlertEvaluator : public QObject {
    Q_OBJECT
public:
    explicit AlertEvaluator(QObject *parent = nullptr);

    // Replaces the rules. A rule whose name is kept keeps its state (the new condition
    // applies from the next sample); a removed rule's state is dropped, with
    // stateChanged(name, Inactive) when it was not Inactive, and no notification. Rules
    // failing validateAlertRule, and repeats of a name, are ignored.
    void setRules(const QList<AlertRule> &rules);
    QList<AlertRule> rules() const;
    // false for an unknown rule.
    bool setRuleMuted(const QString &name, bool muted);

    // Mutes every rule until the sample time reaches untilMs (the first evaluate() with
    // timeMs >= untilMs ends it); replaces an earlier global mute. untilMs <= the last
    // sample time: unmuteAll().
    void muteAll(qint64 untilMs);
    void unmuteAll();
    bool isGloballyMuted() const { return m_globalMuteUntilMs.has_value(); }
    std::optional<qint64> globalMuteUntilMs() const { return m_globalMuteUntilMs; }

    // Feeds one sample. Returns false, and ignores it, when timeMs is older than the
    // previous sample's.
    bool evaluate(qint64 timeMs, const QHash<QString, double> &values);

    // Inactive for an unknown rule.
    AlertState state(const QString &name) const;
    QStringList firingRules() const;
    // The last sample time, or nullopt before the first.
    std::optional<qint64> lastSampleTimeMs() const { return m_lastTimeMs; }

signals:
    void stateChanged(const QString &ruleName, sluice::models::AlertState state);
    void notification(const sluice::models::AlertTransition &transition);

private:
    struct Tracked {
        AlertRule rule;
        AlertState state = AlertState::Inactive;
        qint64 pendingSinceMs = 0;
        bool firingNotified = false;
        AlertTransition lastTransition; // of the latest Firing or Resolved change
    };

    bool isMuted(const Tracked &tracked) const;
    void setState(Tracked &tracked, AlertState state, qint64 timeMs, double value);
    void reconcile(Tracked &tracked);
    void reconcileAll();
    Tracked *find(const QString &name);
    const Tracked *find(const QString &name) const;
    // Emits what the last operation queued, after its state changes are complete, so a
    // slot may call back into the evaluator.
    void flush();

    QList<Tracked> m_rules;
    QList<std::pair<QString, AlertState>> m_queuedStateChanges;
    QList<AlertTransition> m_queuedNotifications;
    std::optional<qint64> m_globalMuteUntilMs;
    std::optional<qint64> m_lastTimeMs;
};

} // namespace sluice::models

Q_DECLARE_METATYPE(sluice::models::AlertState)
Q_DECLARE_METATYPE(sluice::models::AlertTransition)
