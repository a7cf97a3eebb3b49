#include <QAbstractItemModelTester>
#include <QPersistentModelIndex>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTest>

#include "models/instancetablemodel.h"

#include <limits>

using namespace sluice::models;

namespace {

InstanceRow instance(const QString &id, qint64 configVersion = 7, double requestsPerSecond = 10.0)
{
    InstanceRow row;
    row.id = id;
    row.version = QStringLiteral("0.1.0");
    row.uptimeSeconds = 3600;
    row.requestsPerSecond = requestsPerSecond;
    row.latencyP95Seconds = 0.25;
    row.configVersion = configVersion;
    row.state = InstanceState::Up;
    row.address = id + QStringLiteral(":8080");
    return row;
}

QStringList idsOf(const QAbstractItemModel &model)
{
    QStringList ids;
    for (int row = 0; row < model.rowCount(); ++row)
        ids.append(model.index(row, InstanceTableModel::IdColumn).data().toString());
    return ids;
}

} // namespace

class TestInstanceTableModel : public QObject {
    Q_OBJECT

private slots:
    void showsFormattedAndRawValues()
    {
        InstanceTableModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        InstanceRow row = instance(QStringLiteral("gw-1"));
        row.uptimeSeconds = 3 * 3600 + 12 * 60 + 30;
        row.requestsPerSecond = 12.345;
        row.latencyP95Seconds = 0.1234;
        row.state = InstanceState::Stale;
        model.setInstances({row});
        QCOMPARE(model.rowCount(), 1);
        QCOMPARE(model.columnCount(), int(InstanceTableModel::ColumnCount));
        const auto cell = [&](int column, int role = Qt::DisplayRole) { return model.index(0, column).data(role); };
        QCOMPARE(cell(InstanceTableModel::UptimeColumn).toString(), QStringLiteral("3 h 12 m"));
        QCOMPARE(cell(InstanceTableModel::RequestsPerSecondColumn).toString(), QStringLiteral("12.3"));
        QCOMPARE(cell(InstanceTableModel::LatencyP95Column).toString(), QStringLiteral("123 ms"));
        QCOMPARE(cell(InstanceTableModel::StateColumn).toString(), QStringLiteral("stale"));
        QCOMPARE(cell(InstanceTableModel::ConfigVersionColumn).toString(), QStringLiteral("7"));
        QCOMPARE(cell(InstanceTableModel::AddressColumn).toString(), QStringLiteral("gw-1:8080"));
        QCOMPARE(cell(InstanceTableModel::UptimeColumn, InstanceTableModel::SortRole).toDouble(), 11550.0);
        QCOMPARE(cell(InstanceTableModel::LatencyP95Column, InstanceTableModel::SortRole).toDouble(), 0.1234);
        QCOMPARE(cell(InstanceTableModel::ConfigVersionColumn, InstanceTableModel::SortRole).toLongLong(), 7);
        QCOMPARE(cell(InstanceTableModel::StateColumn, InstanceTableModel::SortRole).toInt(), int(InstanceState::Stale));
        QCOMPARE(cell(InstanceTableModel::AddressColumn, InstanceTableModel::InstanceIdRole).toString(), QStringLiteral("gw-1"));
        QCOMPARE(model.headerData(InstanceTableModel::LatencyP95Column, Qt::Horizontal).toString(), QStringLiteral("p95 latency"));
    }

    void unknownNumbersAreEmpty()
    {
        InstanceTableModel model;
        InstanceRow row;
        row.id = QStringLiteral("gw-x");
        model.setInstances({row});
        QCOMPARE(model.index(0, InstanceTableModel::UptimeColumn).data().toString(), QString());
        QCOMPARE(model.index(0, InstanceTableModel::LatencyP95Column).data().toString(), QString());
        QCOMPARE(model.index(0, InstanceTableModel::ConfigVersionColumn).data().toString(), QString());
        QVERIFY(!model.index(0, 0).data(InstanceTableModel::ConfigDiffersRole).toBool());
    }

    void formatsUptime_data()
    {
        QTest::addColumn<double>("seconds");
        QTest::addColumn<QString>("text");
        QTest::newRow("seconds") << 45.9 << QStringLiteral("45 s");
        QTest::newRow("minutes") << 725.0 << QStringLiteral("12 m 5 s");
        QTest::newRow("hours") << 11520.0 << QStringLiteral("3 h 12 m");
        QTest::newRow("days") << 2 * 86400.0 + 3 * 3600.0 + 59.0 << QStringLiteral("2 d 3 h");
        QTest::newRow("unknown") << std::numeric_limits<double>::quiet_NaN() << QString();
        QTest::newRow("negative") << -1.0 << QString();
    }

    void formatsUptime()
    {
        QFETCH(double, seconds);
        QFETCH(QString, text);
        QCOMPARE(InstanceTableModel::formatUptime(seconds), text);
    }

    void formatsLatency()
    {
        QCOMPARE(InstanceTableModel::formatLatency(0.00042), QStringLiteral("0.4 ms"));
        QCOMPARE(InstanceTableModel::formatLatency(1.25), QStringLiteral("1250 ms"));
        QCOMPARE(InstanceTableModel::formatLatency(std::numeric_limits<double>::quiet_NaN()), QString());
    }

    void refreshDiffsByIdWithoutReset()
    {
        InstanceTableModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        model.setInstances({instance(QStringLiteral("a")), instance(QStringLiteral("b")), instance(QStringLiteral("c")),
                            instance(QStringLiteral("d"))});
        const QPersistentModelIndex persistentC(model.index(2, InstanceTableModel::AddressColumn));

        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
        QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);

        // b leaves, c changes, e arrives, a and d stay the same.
        model.setInstances({instance(QStringLiteral("e")), instance(QStringLiteral("d")),
                            instance(QStringLiteral("c"), 7, 99.0), instance(QStringLiteral("a"))});
        QCOMPARE(reset.count(), 0);
        QCOMPARE(removed.count(), 1);
        QCOMPARE(removed.at(0).at(1).toInt(), 1);
        QCOMPARE(removed.at(0).at(2).toInt(), 1);
        QCOMPARE(inserted.count(), 1);
        QCOMPARE(inserted.at(0).at(1).toInt(), 3);
        QCOMPARE(changed.count(), 1);
        QCOMPARE(changed.at(0).at(0).toModelIndex().row(), 1); // c, now row 1
        QCOMPARE(changed.at(0).at(1).toModelIndex().row(), 1);
        QCOMPARE(idsOf(model), (QStringList{QStringLiteral("a"), QStringLiteral("c"), QStringLiteral("d"), QStringLiteral("e")}));
        QVERIFY(persistentC.isValid());
        QCOMPARE(persistentC.row(), 1);
        QCOMPARE(model.index(1, InstanceTableModel::RequestsPerSecondColumn).data().toString(), QStringLiteral("99.0"));

        changed.clear();
        model.setInstances({instance(QStringLiteral("e")), instance(QStringLiteral("d")),
                            instance(QStringLiteral("c"), 7, 99.0), instance(QStringLiteral("a"))});
        QCOMPARE(changed.count(), 0); // nothing changed, nothing signalled
    }

    void removesSeparateRunsAndIgnoresRepeatsAndEmptyIds()
    {
        InstanceTableModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        std::vector<InstanceRow> rows;
        for (const char *id : {"a", "b", "c", "d", "e", "f"})
            rows.push_back(instance(QString::fromLatin1(id)));
        model.setInstances(rows);
        QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
        InstanceRow anonymous = instance(QString());
        model.setInstances({instance(QStringLiteral("a")), instance(QStringLiteral("d")),
                            instance(QStringLiteral("a"), 9), anonymous});
        QCOMPARE(removed.count(), 2); // e-f, then b-c
        QCOMPARE(idsOf(model), (QStringList{QStringLiteral("a"), QStringLiteral("d")}));
        QCOMPARE(model.instances()[0].configVersion, 7); // the first "a" counts
        QCOMPARE(model.rowOf(QStringLiteral("d")), 1);
        QCOMPARE(model.rowOf(QStringLiteral("b")), -1);
        model.setInstances({});
        QCOMPARE(model.rowCount(), 0);
    }

    void flagsConfigDrift()
    {
        InstanceTableModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        model.setInstances({instance(QStringLiteral("a"), 8), instance(QStringLiteral("b"), 8),
                            instance(QStringLiteral("c"), 7), instance(QStringLiteral("d"), 0)});
        QCOMPARE(model.referenceConfigVersion(), 8);
        QVERIFY(!model.configDiffers(0));
        QVERIFY(model.configDiffers(2));
        QVERIFY(!model.configDiffers(3)); // unknown is not drift
        QVERIFY(model.index(2, InstanceTableModel::IdColumn).data(InstanceTableModel::ConfigDiffersRole).toBool());
        QVERIFY(!model.index(0, InstanceTableModel::IdColumn).data(InstanceTableModel::ConfigDiffersRole).toBool());
        const QString why = model.index(2, InstanceTableModel::ConfigVersionColumn).data(Qt::ToolTipRole).toString();
        QVERIFY2(why.contains(QStringLiteral("7")) && why.contains(QStringLiteral("version 8"))
                     && why.contains(QStringLiteral("2 of 3")),
                 qPrintable(why));
        QVERIFY(model.index(0, 0).data(Qt::ToolTipRole).isNull());
    }

    void tieTakesTheHighestVersion()
    {
        InstanceTableModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        model.setInstances({instance(QStringLiteral("a"), 5), instance(QStringLiteral("b"), 6)});
        QCOMPARE(model.referenceConfigVersion(), 6);
        QVERIFY(model.configDiffers(0));
        QVERIFY(!model.configDiffers(1));
        QVERIFY(model.index(0, 0).data(Qt::ToolTipRole).toString().contains(QStringLiteral("highest")));
    }

    void driftChangesAreSignalledForUnchangedRows()
    {
        InstanceTableModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
        model.setInstances({instance(QStringLiteral("a"), 5), instance(QStringLiteral("b"), 5),
                            instance(QStringLiteral("c"), 6)});
        QVERIFY(model.configDiffers(2));
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        // a and b move to 6: c's own data is unchanged, but it no longer differs.
        model.setInstances({instance(QStringLiteral("a"), 6), instance(QStringLiteral("b"), 6),
                            instance(QStringLiteral("c"), 6)});
        QVERIFY(!model.configDiffers(2));
        QCOMPARE(changed.count(), 1);
        QCOMPARE(changed.at(0).at(0).toModelIndex().row(), 0);
        QCOMPARE(changed.at(0).at(1).toModelIndex().row(), 2);
    }

    void sortsThroughAProxyOnRawValues()
    {
        InstanceTableModel model;
        model.setInstances({instance(QStringLiteral("a"), 7, 9.0), instance(QStringLiteral("b"), 7, 10.0),
                            instance(QStringLiteral("c"), 7, 100.0)});
        QSortFilterProxyModel proxy;
        QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::Fatal);
        proxy.setSourceModel(&model);
        proxy.setSortRole(InstanceTableModel::SortRole);
        proxy.sort(InstanceTableModel::RequestsPerSecondColumn, Qt::DescendingOrder);
        // As text "9.0" > "100.0"; as numbers 100 > 10 > 9.
        QCOMPARE(idsOf(proxy), (QStringList{QStringLiteral("c"), QStringLiteral("b"), QStringLiteral("a")}));
        model.setInstances({instance(QStringLiteral("a"), 7, 1000.0), instance(QStringLiteral("b"), 7, 10.0),
                            instance(QStringLiteral("c"), 7, 100.0)});
        QCOMPARE(idsOf(proxy), (QStringList{QStringLiteral("a"), QStringLiteral("c"), QStringLiteral("b")}));
    }
};

QTEST_GUILESS_MAIN(TestInstanceTableModel)
#include "tst_instancetablemodel.moc"
