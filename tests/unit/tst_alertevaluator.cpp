#include <QSignalSpy>
#include <QTest>

#include "models/alertevaluator.h"

#include <limits>
#include <vector>

using namespace sluice::models;

namespace {

AlertRule latencyRule(int forSeconds = 60, bool muted = false)
{
    return AlertRule{QStringLiteral("slow"), QString::fromLatin1(kLatencyP95SecondsKey), AlertComparator::Greater, 2.0,
                     forSeconds, muted};
}

QHash<QString, double> latency(double seconds)
{
    return {{QString::fromLatin1(kLatencyP95SecondsKey), seconds}};
}

// Records notifications and state changes in order.
struct Recorder {
    explicit Recorder(AlertEvaluator &evaluator)
    {
        QObject::connect(&evaluator, &AlertEvaluator::notification, &evaluator,
                         [this](const AlertTransition &transition) { notifications.push_back(transition); });
        QObject::connect(&evaluator, &AlertEvaluator::stateChanged, &evaluator,
                         [this](const QString &, AlertState state) { states.push_back(state); });
    }
    std::vector<AlertTransition::Kind> kinds() const
    {
        std::vector<AlertTransition::Kind> result;
        for (const AlertTransition &transition : notifications)
            result.push_back(transition.kind);
        return result;
    }
    std::vector<AlertTransition> notifications;
    std::vector<AlertState> states;
};

using Kind = AlertTransition::Kind;

} // namespace

class TestAlertEvaluator : public QObject {
    Q_OBJECT

private slots:
    void comparators_data()
    {
        QTest::addColumn<QString>("symbol");
        QTest::addColumn<double>("value");
        QTest::addColumn<bool>("holds");
        QTest::newRow("> above") << QStringLiteral(">") << 2.1 << true;
        QTest::newRow("> equal") << QStringLiteral(">") << 2.0 << false;
        QTest::newRow(">= equal") << QStringLiteral(">=") << 2.0 << true;
        QTest::newRow("< below") << QStringLiteral("<") << 1.9 << true;
        QTest::newRow("< equal") << QStringLiteral("<") << 2.0 << false;
        QTest::newRow("<= equal") << QStringLiteral(" <= ") << 2.0 << true;
        QTest::newRow("NaN") << QStringLiteral(">=") << std::numeric_limits<double>::quiet_NaN() << false;
    }

    void comparators()
    {
        QFETCH(QString, symbol);
        QFETCH(double, value);
        QFETCH(bool, holds);
        AlertRule rule = latencyRule();
        const auto comparator = comparatorFromSymbol(symbol);
        QVERIFY(comparator);
        rule.comparator = *comparator;
        QCOMPARE(rule.holds(value), holds);
        QCOMPARE(comparatorSymbol(*comparator), symbol.trimmed());
        QVERIFY(!comparatorFromSymbol(QStringLiteral("=>")));
    }

    void respectsForDuration()
    {
        AlertEvaluator evaluator;
        Recorder recorder(evaluator);
        evaluator.setRules({latencyRule(60)});
        const qint64 t0 = 1'000'000;
        evaluator.evaluate(t0, latency(3.0));
        QCOMPARE(evaluator.state(QStringLiteral("slow")), AlertState::Pending);
        evaluator.evaluate(t0 + 30'000, latency(3.0));
        evaluator.evaluate(t0 + 59'999, latency(3.0));
        QCOMPARE(evaluator.state(QStringLiteral("slow")), AlertState::Pending);
        QVERIFY(recorder.notifications.empty());
        evaluator.evaluate(t0 + 60'000, latency(2.5));
        QCOMPARE(evaluator.state(QStringLiteral("slow")), AlertState::Firing);
        QCOMPARE(recorder.kinds(), std::vector<Kind>{Kind::Firing});
        QCOMPARE(recorder.notifications[0].timeMs, t0 + 60'000);
        QCOMPARE(recorder.notifications[0].value, 2.5);
        QCOMPARE(recorder.notifications[0].rule.name, QStringLiteral("slow"));
        QCOMPARE(recorder.states, (std::vector<AlertState>{AlertState::Pending, AlertState::Firing}));
        QCOMPARE(evaluator.firingRules(), QStringList{QStringLiteral("slow")});
    }

    void dipResetsThePendingClock()
    {
        AlertEvaluator evaluator;
        Recorder recorder(evaluator);
        evaluator.setRules({latencyRule(60)});
        evaluator.evaluate(0, latency(3.0));
        evaluator.evaluate(50'000, latency(1.0)); // condition broken: back to inactive
        QCOMPARE(evaluator.state(QStringLiteral("slow")), AlertState::Inactive);
        evaluator.evaluate(55'000, latency(3.0));
        evaluator.evaluate(100'000, latency(3.0)); // 45 s since it held again
        QCOMPARE(evaluator.state(QStringLiteral("slow")), AlertState::Pending);
        evaluator.evaluate(115'000, latency(3.0));
        QCOMPARE(evaluator.state(QStringLiteral("slow")), AlertState::Firing);
        QCOMPARE(recorder.kinds(), std::vector<Kind>{Kind::Firing});
    }

    void firesOnceAndResolvesOnce()
    {
        AlertEvaluator evaluator;
        Recorder recorder(evaluator);
        evaluator.setRules({latencyRule(0)});
        for (qint64 t = 0; t < 10; ++t)
            evaluator.evaluate(t * 1000, latency(5.0));
        QCOMPARE(recorder.kinds(), std::vector<Kind>{Kind::Firing}); // fired at once, never repeated
        QCOMPARE(recorder.notifications[0].timeMs, 0);
        evaluator.evaluate(10'000, latency(1.0));
        evaluator.evaluate(11'000, latency(1.0));
        QCOMPARE(recorder.kinds(), (std::vector<Kind>{Kind::Firing, Kind::Resolved}));
        QCOMPARE(recorder.notifications[1].timeMs, 10'000);
        QCOMPARE(recorder.notifications[1].value, 1.0);
        QCOMPARE(evaluator.state(QStringLiteral("slow")), AlertState::Inactive);
        QVERIFY(recorder.notifications[1].text().startsWith(QStringLiteral("Resolved: slow (latency_p95_seconds > 2)")));
    }

    void missingOrNaNValuesChangeNothing()
    {
        AlertEvaluator evaluator;
        Recorder recorder(evaluator);
        evaluator.setRules({latencyRule(0)});
        evaluator.evaluate(0, latency(5.0));
        evaluator.evaluate(1000, {});
        evaluator.evaluate(2000, latency(std::numeric_limits<double>::quiet_NaN()));
        evaluator.evaluate(3000, {{QStringLiteral("other"), 0.0}});
        QCOMPARE(evaluator.state(QStringLiteral("slow")), AlertState::Firing);
        QCOMPARE(recorder.kinds(), std::vector<Kind>{Kind::Firing});
    }

    void refusesTimeGoingBackwards()
    {
        AlertEvaluator evaluator;
        evaluator.setRules({latencyRule(0)});
        QVERIFY(evaluator.evaluate(5000, latency(1.0)));
        QVERIFY(!evaluator.evaluate(4000, latency(5.0)));
        QCOMPARE(evaluator.state(QStringLiteral("slow")), AlertState::Inactive);
        QVERIFY(evaluator.lastSampleTimeMs() == 5000);
    }

    void mutedRuleTracksStateButDoesNotNotify()
    {
        AlertEvaluator evaluator;
        Recorder recorder(evaluator);
        evaluator.setRules({latencyRule(0, true)});
        evaluator.evaluate(0, latency(5.0));
        QCOMPARE(evaluator.state(QStringLiteral("slow")), AlertState::Firing);
        QCOMPARE(recorder.states, std::vector<AlertState>{AlertState::Firing});
        QVERIFY(recorder.notifications.empty());
        // Unmuted while still firing: the held-back Firing goes out, with its own time.
        QVERIFY(evaluator.setRuleMuted(QStringLiteral("slow"), false));
        QCOMPARE(recorder.kinds(), std::vector<Kind>{Kind::Firing});
        QCOMPARE(recorder.notifications[0].timeMs, 0);
        QVERIFY(!evaluator.setRuleMuted(QStringLiteral("nobody"), true));
    }

    void episodeWithinAMuteIsNeverSent()
    {
        AlertEvaluator evaluator;
        Recorder recorder(evaluator);
        evaluator.setRules({latencyRule(0, true)});
        evaluator.evaluate(0, latency(5.0));
        evaluator.evaluate(1000, latency(1.0));
        QCOMPARE(recorder.states, (std::vector<AlertState>{AlertState::Firing, AlertState::Inactive}));
        evaluator.setRuleMuted(QStringLiteral("slow"), false);
        QVERIFY(recorder.notifications.empty());
    }

    void resolvedUnderMuteIsSentWhenTheMuteEnds()
    {
        AlertEvaluator evaluator;
        Recorder recorder(evaluator);
        evaluator.setRules({latencyRule(0)});
        evaluator.evaluate(0, latency(5.0));
        evaluator.setRuleMuted(QStringLiteral("slow"), true);
        evaluator.evaluate(1000, latency(1.0));
        QCOMPARE(recorder.kinds(), std::vector<Kind>{Kind::Firing});
        evaluator.setRuleMuted(QStringLiteral("slow"), false);
        QCOMPARE(recorder.kinds(), (std::vector<Kind>{Kind::Firing, Kind::Resolved}));
        QCOMPARE(recorder.notifications[1].timeMs, 1000);
    }

    void globalMuteExpiresWithSampleTime()
    {
        AlertEvaluator evaluator;
        Recorder recorder(evaluator);
        AlertRule quota{QStringLiteral("quota"), QString::fromLatin1(kQuotaUsedShareKey), AlertComparator::GreaterOrEqual,
                        0.9, 0, false};
        evaluator.setRules({latencyRule(0), quota});
        evaluator.evaluate(0, {});
        evaluator.muteAll(10'000);
        QVERIFY(evaluator.isGloballyMuted());
        evaluator.evaluate(1000, {{QString::fromLatin1(kLatencyP95SecondsKey), 5.0},
                                  {QString::fromLatin1(kQuotaUsedShareKey), 0.95}});
        QCOMPARE(evaluator.firingRules(), (QStringList{QStringLiteral("slow"), QStringLiteral("quota")}));
        QVERIFY(recorder.notifications.empty());
        evaluator.evaluate(5000, {{QString::fromLatin1(kQuotaUsedShareKey), 0.5}}); // quota resolves under the mute
        QVERIFY(recorder.notifications.empty());
        evaluator.evaluate(10'000, {});
        QVERIFY(!evaluator.isGloballyMuted());
        QCOMPARE(recorder.notifications.size(), size_t(1)); // only what is still firing
        QCOMPARE(recorder.notifications[0].rule.name, QStringLiteral("slow"));
        QCOMPARE(recorder.notifications[0].timeMs, 1000);

        evaluator.muteAll(5000); // already past: no mute
        QVERIFY(!evaluator.isGloballyMuted());
        evaluator.muteAll(std::numeric_limits<qint64>::max());
        evaluator.evaluate(11'000, latency(1.0));
        QCOMPARE(recorder.notifications.size(), size_t(1));
        evaluator.unmuteAll();
        QCOMPARE(recorder.kinds(), (std::vector<Kind>{Kind::Firing, Kind::Resolved}));
    }

    void setRulesKeepsStateByName()
    {
        AlertEvaluator evaluator;
        Recorder recorder(evaluator);
        AlertRule other{QStringLiteral("errors"), QString::fromLatin1(kRate429ShareKey), AlertComparator::Greater, 0.1, 0,
                        false};
        evaluator.setRules({latencyRule(0), other});
        evaluator.evaluate(0, {{QString::fromLatin1(kLatencyP95SecondsKey), 5.0}, {QString::fromLatin1(kRate429ShareKey), 0.5}});
        recorder.states.clear();
        QSignalSpy changed(&evaluator, &AlertEvaluator::stateChanged);

        AlertRule stricter = latencyRule(0);
        stricter.threshold = 10.0;
        AlertRule invalid = other;
        invalid.name.clear();
        evaluator.setRules({stricter, invalid}); // "errors" is removed; the invalid rule ignored
        QCOMPARE(evaluator.rules(), QList<AlertRule>{stricter});
        QCOMPARE(evaluator.state(QStringLiteral("slow")), AlertState::Firing); // kept until the next sample
        QCOMPARE(changed.count(), 1);
        QCOMPARE(changed.at(0).at(0).toString(), QStringLiteral("errors"));
        QCOMPARE(evaluator.state(QStringLiteral("errors")), AlertState::Inactive);
        QCOMPARE(recorder.kinds(), (std::vector<Kind>{Kind::Firing, Kind::Firing})); // no resolve for the removed rule

        evaluator.evaluate(1000, latency(5.0)); // below the new threshold
        QCOMPARE(evaluator.state(QStringLiteral("slow")), AlertState::Inactive);
        QCOMPARE(recorder.notifications.back().kind, Kind::Resolved);
    }

    void slotsMayCallBackIn()
    {
        AlertEvaluator evaluator;
        evaluator.setRules({latencyRule(0)});
        int seen = 0;
        connect(&evaluator, &AlertEvaluator::notification, this, [&](const AlertTransition &) {
            ++seen;
            evaluator.setRules({}); // the UI deleting the rule from inside the notification
        });
        evaluator.evaluate(0, latency(5.0));
        QCOMPARE(seen, 1);
        QVERIFY(evaluator.rules().isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestAlertEvaluator)
#include "tst_alertevaluator.moc"
