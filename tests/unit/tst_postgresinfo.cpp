#include <QSignalSpy>
#include <QTest>

#include <memory>

#include "clients/postgresinfopoller.h"
#include "postgresfixture.h"
#include "store/usagewriter.h"

using sluice::clients::PostgresInfo;
using sluice::clients::PostgresInfoPoller;
using sluice::clients::PostgresInfoPollerOptions;
using sluice::clients::SourceError;
using sluice::clients::SourceErrorKind;
using sluice::test::PostgresFixture;

namespace {

constexpr int kWaitMs = 20'000;

PostgresInfoPollerOptions pollerOptions(const QString &connection)
{
    PostgresInfoPollerOptions options;
    options.connectionString = connection;
    options.intervalMs = 200;
    options.reconnectMinMs = 100;
    options.reconnectMaxMs = 500;
    return options;
}

bool hasFailureOfKind(const QSignalSpy &failures, SourceErrorKind kind)
{
    for (const QList<QVariant> &signal : failures) {
        if (signal.at(0).value<SourceError>().kind == kind)
            return true;
    }
    return false;
}

} // namespace

class TestPostgresInfo : public QObject {
    Q_OBJECT

private slots:
    void initTestCase()
    {
        m_postgres = std::make_unique<PostgresFixture>();
        if (!m_postgres->available())
            QSKIP(qPrintable(m_postgres->reason()));
        QVERIFY2(m_postgres->isRunning(), qPrintable(m_postgres->lastError()));
    }

    void cleanupTestCase() { m_postgres.reset(); }

    void init()
    {
        if (m_postgres && m_postgres->available() && !m_postgres->isRunning())
            QVERIFY2(m_postgres->start(), qPrintable(m_postgres->lastError()));
    }

    void endpointOfConnectionStrings_data()
    {
        QTest::addColumn<QString>("connection");
        QTest::addColumn<QString>("endpoint");
        QTest::newRow("key/value") << QStringLiteral("host=db.internal port=6432 user=sluice") << QStringLiteral("db.internal:6432");
        QTest::newRow("defaults") << QStringLiteral("dbname=sluice") << QStringLiteral("localhost:5432");
        QTest::newRow("quoted") << QStringLiteral("host='db one' dbname=x") << QStringLiteral("db one:5432");
        QTest::newRow("host list") << QStringLiteral("host=a,b port=1,2") << QStringLiteral("a:1");
        QTest::newRow("uri") << QStringLiteral("postgresql://u:secret@10.0.0.5:5433/sluice") << QStringLiteral("10.0.0.5:5433");
        QTest::newRow("uri ipv6") << QStringLiteral("postgres://[::1]/sluice") << QStringLiteral("[::1]:5432");
    }

    void endpointOfConnectionStrings()
    {
        QFETCH(QString, connection);
        QFETCH(QString, endpoint);
        QCOMPARE(sluice::clients::postgresEndpoint(connection), endpoint);
    }

    void samplesConnectionsAndMaxConnections()
    {
        if (!m_postgres->available())
            QSKIP("no PostgreSQL");
        PostgresInfoPoller poller(pollerOptions(m_postgres->connectionString()));
        QSignalSpy failures(&poller, &PostgresInfoPoller::failed);
        poller.start();
        QTRY_VERIFY_WITH_TIMEOUT(poller.latest().has_value(), kWaitMs);
        const PostgresInfo info = *poller.latest();
        QVERIFY2(failures.isEmpty(), qPrintable(failures.isEmpty() ? QString() : failures.first().at(0).value<SourceError>().message));
        QCOMPARE(info.maxConnections, 60); // the fixture's -c max_connections=60
        QVERIFY(info.connections >= 1);     // the poller's own
        QVERIFY(info.backends >= info.connections);
        QVERIFY(info.databaseSizeBytes > 0);
        QCOMPARE(info.database, m_postgres->databaseName());
        QVERIFY(!info.serverVersion.isEmpty());
        QVERIFY(info.sampledAt.isValid());
        QVERIFY(info.connectionUse() > 0 && info.connectionUse() <= 1);
        poller.stop();
        QVERIFY(poller.waitForStopped(10'000));
    }

    void readsSluiceUsageTables()
    {
        if (!m_postgres->available())
            QSKIP("no PostgreSQL");
        QVERIFY2(m_postgres->createDatabase(QStringLiteral("usage_info")), qPrintable(m_postgres->lastError()));
        const QString connection = m_postgres->connectionString(QStringLiteral("usage_info"));

        // Before the migrations: no Sluice tables, and the sample says so.
        {
            PostgresInfoPoller poller(pollerOptions(connection));
            poller.start();
            QTRY_VERIFY_WITH_TIMEOUT(poller.latest().has_value(), kWaitMs);
            QVERIFY(!poller.latest()->sluiceTables);
            QVERIFY(!poller.latest()->usageDailyRows.has_value());
            poller.stop();
            QVERIFY(poller.waitForStopped(10'000));
        }

        const QDateTime newest = QDateTime::fromString(QStringLiteral("2024-05-01T12:00:00.250Z"), Qt::ISODateWithMs);
        {
            sluice::store::UsageWriterOptions writerOptions;
            writerOptions.connectionString = connection;
            writerOptions.flushIntervalMs = 50;
            sluice::store::UsageWriter writer(writerOptions);
            writer.start();
            for (int index = 0; index < 3; ++index) {
                sluice::store::UsageRecord record;
                record.timestamp = newest.addSecs(-index);
                record.instance = QStringLiteral("gw-1");
                record.apiKeyId = QStringLiteral("key-1");
                record.model = QStringLiteral("gpt-test");
                record.upstream = QStringLiteral("openai");
                record.httpStatus = 200;
                QVERIFY(writer.submit(record));
            }
            QTRY_COMPARE_WITH_TIMEOUT(writer.writtenCount(), 3, kWaitMs);
            QCOMPARE(writer.stop(5'000), 0);
        }

        PostgresInfoPoller poller(pollerOptions(connection));
        poller.start();
        QTRY_VERIFY_WITH_TIMEOUT(poller.latest().has_value() && poller.latest()->sluiceTables, kWaitMs);
        QCOMPARE(poller.latest()->newestUsage, newest);
        QCOMPARE(poller.latest()->usageDailyRows.value_or(-1), 1); // one day, key and model
        // The statistics collector's count catches up within a moment of the commit.
        QTRY_VERIFY_WITH_TIMEOUT(poller.latest()->usageRowsEstimate.value_or(0) == 3, kWaitMs);
        poller.stop();
        QVERIFY(poller.waitForStopped(10'000));
    }

    void unreachableServerFailsAndStopSilencesIt()
    {
        PostgresInfoPoller poller(pollerOptions(PostgresFixture::unreachableConnectionString()));
        QSignalSpy failures(&poller, &PostgresInfoPoller::failed);
        QSignalSpy updates(&poller, &PostgresInfoPoller::updated);
        poller.start();
        QTRY_VERIFY_WITH_TIMEOUT(failures.count() >= 2, kWaitMs); // failed, and tried again
        QVERIFY(updates.isEmpty());
        QVERIFY(hasFailureOfKind(failures, SourceErrorKind::Refused));
        const SourceError error = failures.first().at(0).value<SourceError>();
        QCOMPARE(error.endpoint, poller.endpoint());
        poller.stop();
        QVERIFY(!poller.isRunning());
        const int afterStop = failures.count();
        QVERIFY(poller.waitForStopped(10'000));
        QCoreApplication::processEvents();
        QCOMPARE(failures.count(), afterStop); // nothing after stop()
    }

    void outageFailsThenRecovers()
    {
        if (!m_postgres->available())
            QSKIP("no PostgreSQL");
        PostgresInfoPoller poller(pollerOptions(m_postgres->connectionString()));
        QSignalSpy failures(&poller, &PostgresInfoPoller::failed);
        QSignalSpy updates(&poller, &PostgresInfoPoller::updated);
        poller.start();
        QTRY_VERIFY_WITH_TIMEOUT(!updates.isEmpty(), kWaitMs);

        QVERIFY(m_postgres->stop());
        QTRY_VERIFY_WITH_TIMEOUT(hasFailureOfKind(failures, SourceErrorKind::Refused), kWaitMs);

        const int before = updates.count();
        QVERIFY2(m_postgres->start(), qPrintable(m_postgres->lastError()));
        QTRY_VERIFY_WITH_TIMEOUT(updates.count() > before, kWaitMs);
        QCOMPARE(poller.latest()->maxConnections, 60);
        poller.stop();
        QVERIFY(poller.waitForStopped(10'000));
    }

    void pausedPollerSamplesNothing()
    {
        if (!m_postgres->available())
            QSKIP("no PostgreSQL");
        PostgresInfoPoller poller(pollerOptions(m_postgres->connectionString()));
        QSignalSpy updates(&poller, &PostgresInfoPoller::updated);
        poller.start();
        QTRY_VERIFY_WITH_TIMEOUT(!updates.isEmpty(), kWaitMs);
        poller.setPaused(true);
        QTest::qWait(300); // a sample already under way lands
        const int paused = updates.count();
        QTest::qWait(800);
        QCOMPARE(updates.count(), paused);
        poller.pollNow();
        QTRY_COMPARE_WITH_TIMEOUT(updates.count(), paused + 1, kWaitMs);
        poller.stop();
        QVERIFY(poller.waitForStopped(10'000));
    }

private:
    std::unique_ptr<PostgresFixture> m_postgres;
};

QTEST_GUILESS_MAIN(TestPostgresInfo)
#include "tst_postgresinfo.moc"
