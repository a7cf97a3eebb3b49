#include <QAbstractItemModelTester>
#include <QSettings>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "models/alertevaluator.h"
#include "models/alertrulemodel.h"

using namespace sluice::models;

namespace {

AlertRule rule(const QString &name, double threshold = 1.0)
{
    return AlertRule{name, QString::fromLatin1(kRate429ShareKey), AlertComparator::GreaterOrEqual, threshold, 30, false};
}

} // namespace

class TestAlertRuleModel : public QObject {
    Q_OBJECT

private slots:
    void showsRules()
    {
        AlertRuleModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        model.setRules({rule(QStringLiteral("a"), 0.25), rule(QStringLiteral("a")), rule(QString())});
        QCOMPARE(model.rowCount(), 1); // the repeat and the nameless rule are dropped
        const auto cell = [&](int column, int role = Qt::DisplayRole) { return model.index(0, column).data(role); };
        QCOMPARE(cell(AlertRuleModel::NameColumn).toString(), QStringLiteral("a"));
        QCOMPARE(cell(AlertRuleModel::ValueKeyColumn).toString(), QStringLiteral("rate_429_share"));
        QCOMPARE(cell(AlertRuleModel::ComparatorColumn).toString(), QStringLiteral(">="));
        QCOMPARE(cell(AlertRuleModel::ThresholdColumn).toString(), QStringLiteral("0.25"));
        QCOMPARE(cell(AlertRuleModel::ThresholdColumn, Qt::EditRole).toDouble(), 0.25);
        QCOMPARE(cell(AlertRuleModel::ForSecondsColumn).toInt(), 30);
        QCOMPARE(cell(AlertRuleModel::MutedColumn, Qt::CheckStateRole).toInt(), int(Qt::Unchecked));
        QCOMPARE(cell(AlertRuleModel::StateColumn).toString(), QStringLiteral("inactive"));
        QVERIFY(model.flags(model.index(0, AlertRuleModel::MutedColumn)) & Qt::ItemIsUserCheckable);
        QVERIFY(!(model.flags(model.index(0, AlertRuleModel::StateColumn)) & Qt::ItemIsEditable));
        QVERIFY(model.flags(model.index(0, AlertRuleModel::ThresholdColumn)) & Qt::ItemIsEditable);
    }

    void editsAreValidated()
    {
        AlertRuleModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        model.setRules({rule(QStringLiteral("a")), rule(QStringLiteral("b"))});
        QSignalSpy edited(&model, &AlertRuleModel::rulesEdited);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);

        QVERIFY(!model.setData(model.index(1, AlertRuleModel::NameColumn), QStringLiteral("a"))); // duplicate
        QVERIFY(!model.setData(model.index(1, AlertRuleModel::NameColumn), QString()));
        QVERIFY(!model.setData(model.index(1, AlertRuleModel::ComparatorColumn), QStringLiteral("==")));
        QVERIFY(!model.setData(model.index(1, AlertRuleModel::ThresholdColumn), QStringLiteral("lots")));
        QVERIFY(!model.setData(model.index(1, AlertRuleModel::ForSecondsColumn), -5));
        QVERIFY(!model.setData(model.index(1, AlertRuleModel::StateColumn), QStringLiteral("firing")));
        QCOMPARE(edited.count(), 0);
        QCOMPARE(changed.count(), 0);

        QVERIFY(model.setData(model.index(1, AlertRuleModel::NameColumn), QStringLiteral("b2")));
        QVERIFY(model.setData(model.index(1, AlertRuleModel::ComparatorColumn), QStringLiteral("<")));
        QVERIFY(model.setData(model.index(1, AlertRuleModel::ThresholdColumn), QStringLiteral("0.5")));
        QVERIFY(model.setData(model.index(1, AlertRuleModel::ForSecondsColumn), 120));
        QVERIFY(model.setData(model.index(1, AlertRuleModel::MutedColumn), int(Qt::Checked), Qt::CheckStateRole));
        QCOMPARE(edited.count(), 5);
        QCOMPARE(model.rules().at(1),
                 (AlertRule{QStringLiteral("b2"), QStringLiteral("rate_429_share"), AlertComparator::Less, 0.5, 120, true}));
        QVERIFY(model.setData(model.index(1, AlertRuleModel::ForSecondsColumn), 120)); // unchanged: accepted, silent
        QCOMPARE(edited.count(), 5);
    }

    void insertsAndRemovesRows()
    {
        AlertRuleModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        model.setRules({rule(QStringLiteral("rule 1"))});
        QSignalSpy edited(&model, &AlertRuleModel::rulesEdited);
        QVERIFY(model.insertRows(0, 2));
        QCOMPARE(model.rowCount(), 3);
        QCOMPARE(model.rules().at(0).name, QStringLiteral("rule 2"));
        QCOMPARE(model.rules().at(1).name, QStringLiteral("rule 3"));
        QVERIFY(validateAlertRule(model.rules().at(0)).isEmpty());
        QVERIFY(model.removeRows(1, 2));
        QCOMPARE(model.rules(), QList<AlertRule>{model.rules().at(0)});
        QCOMPARE(model.rules().at(0).name, QStringLiteral("rule 2"));
        QVERIFY(!model.removeRows(0, 5));
        QCOMPARE(model.addRule(rule(QStringLiteral("rule 2"))), -1);
        QCOMPARE(model.addRule(rule(QStringLiteral("extra"))), 1);
        QCOMPARE(edited.count(), 3);
    }

    void followsTheEvaluatorsState()
    {
        AlertRuleModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        AlertEvaluator evaluator;
        connect(&evaluator, &AlertEvaluator::stateChanged, &model, &AlertRuleModel::setRuleState);
        connect(&model, &AlertRuleModel::rulesEdited, &evaluator, [&] { evaluator.setRules(model.rules()); });
        AlertRule instant = rule(QStringLiteral("429s"), 0.1);
        instant.forSeconds = 0;
        QCOMPARE(model.addRule(instant), 0);
        QCOMPARE(evaluator.rules().size(), 1);

        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        evaluator.evaluate(0, {{QString::fromLatin1(kRate429ShareKey), 0.3}});
        QCOMPARE(model.index(0, AlertRuleModel::StateColumn).data().toString(), QStringLiteral("firing"));
        QCOMPARE(model.index(0, 0).data(AlertRuleModel::StateRole).toInt(), int(AlertState::Firing));
        QCOMPARE(changed.count(), 1);
        QCOMPARE(changed.at(0).at(0).toModelIndex().column(), int(AlertRuleModel::StateColumn));
        model.setRuleState(QStringLiteral("unknown"), AlertState::Firing); // ignored
        QCOMPARE(changed.count(), 1);
    }

    void settingsRoundTrip()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("alerts.ini"));
        const QList<AlertRule> rules{rule(QStringLiteral("a"), 0.1 + 0.2),
                                     AlertRule{QStringLiteral("b, with comma"), QString::fromLatin1(kLatencyP95SecondsKey),
                                               AlertComparator::LessOrEqual, -3e-9, 0, true}};
        {
            QSettings settings(path, QSettings::IniFormat);
            saveAlertRules(settings, QStringLiteral("profile-x"), rules);
            saveAlertRules(settings, QStringLiteral("profile-y"), {rule(QStringLiteral("other"))});
            saveAlertRules(settings, QStringLiteral("profile-x"), rules); // replaces, not appends
        }
        QSettings settings(path, QSettings::IniFormat);
        QCOMPARE(loadAlertRules(settings, QStringLiteral("profile-x")), rules);
        QCOMPARE(loadAlertRules(settings, QStringLiteral("profile-y")).size(), 1);
        QVERIFY(loadAlertRules(settings, QStringLiteral("profile-z")).isEmpty());

        // Broken entries are skipped, the rest loads (QSettings arrays count from 1).
        settings.setValue(QStringLiteral("profile-x/alerts/rules/2/comparator"), QStringLiteral("~"));
        QCOMPARE(loadAlertRules(settings, QStringLiteral("profile-x")), QList<AlertRule>{rules.first()});
    }
};

QTEST_GUILESS_MAIN(TestAlertRuleModel)
#include "tst_alertrulemodel.moc"
