// The gateway writing its usage log to a real PostgreSQL (started by the fixture): one row
// per answered request, and nothing lost while the server is away for a while.
#include "gatewayharness.h"
#include "postgresfixture.h"

#include <QTest>

#include <pqxx/pqxx>

using namespace sluice;
using namespace sluice::test;

namespace {

long long scalar(const QString &connectionString, const char *sql)
{
    try {
        pqxx::connection connection(connectionString.toStdString());
        pqxx::nontransaction txn(connection);
        return txn.exec(sql)[0][0].as<long long>();
    } catch (const std::exception &) {
        return -1;
    }
}

} // namespace

class TestGatewayUsageStore : public QObject {
    Q_OBJECT

private slots:
    void initTestCase()
    {
        m_postgres = std::make_unique<PostgresFixture>();
        if (!m_postgres->available())
            QSKIP(qPrintable(m_postgres->reason()));
        QVERIFY2(m_postgres->isRunning(), qPrintable(m_postgres->lastError()));
        qputenv("SLUICE_TEST_POSTGRES_URL", m_postgres->connectionString().toUtf8());
    }
    void cleanupTestCase() { m_postgres.reset(); }

    void missingConnectionStringRefusesToStart()
    {
        GatewayHarness harness([](config::GatewayConfig &config) {
            config.postgres.enabled = true;
            config.postgres.connectionStringEnv = QStringLiteral("SLUICE_TEST_UNSET_VARIABLE");
        });
        QVERIFY(harness.startError.contains(QStringLiteral("SLUICE_TEST_UNSET_VARIABLE")));
    }

    void everyAnsweredRequestIsARowEvenAcrossAnOutage()
    {
        GatewayHarness harness([](config::GatewayConfig &config) {
            config.postgres.enabled = true;
            config.postgres.connectionStringEnv = QStringLiteral("SLUICE_TEST_POSTGRES_URL");
            config.postgres.flushInterval = std::chrono::milliseconds(50);
            config.apiKeys[0].requestsPerMinute = 100000;
            config.rateLimits.clear();
            config.cache.enabled = false;
        });
        QVERIFY2(harness.startError.isEmpty(), qPrintable(harness.startError));
        const QString database = m_postgres->connectionString();
        auto send = [&](int from, int count) {
            for (int i = from; i < from + count; ++i) {
                const auto response = exchange(harness.port, "POST", "/v1/chat/completions",
                                               chatBody(QStringLiteral("gpt-4o-mini"), QStringLiteral("q%1").arg(i)), bearer());
                if (response.status != 200)
                    return false;
            }
            return true;
        };
        QVERIFY(send(0, 20));
        QTRY_COMPARE_WITH_TIMEOUT(scalar(database, "SELECT count(*) FROM usage"), 20LL, 15000);

        // PostgreSQL goes away; the gateway keeps serving and keeps the records.
        QVERIFY(m_postgres->stop());
        QVERIFY(send(20, 30));
        QTest::qWait(300); // several flush attempts fail meanwhile
        QVERIFY(m_postgres->start());
        QTRY_COMPARE_WITH_TIMEOUT(scalar(database, "SELECT count(*) FROM usage"), 50LL, 30000);
        QCOMPARE(scalar(database, "SELECT count(DISTINCT request_id) FROM usage"), 50LL);
        QCOMPARE(scalar(database, "SELECT sum(requests) FROM usage_daily"), 50LL);
        QCOMPARE(scalar(database, "SELECT count(*) FROM usage WHERE status = 200 AND output_tokens > 0"), 50LL);
        QCOMPARE(metricSum(harness.gw->registry(), "sluice_usage_records_dropped_total"), 0.0);
        QTRY_COMPARE(metricSum(harness.gw->registry(), "sluice_usage_records_written_total"), 50.0);
    }

private:
    std::unique_ptr<PostgresFixture> m_postgres;
};

QTEST_GUILESS_MAIN(TestGatewayUsageStore)
#include "tst_gatewayusagestore.moc"
