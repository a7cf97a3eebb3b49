#include <QTest>

#include "postgresfixture.h"
#include "store/usagewriter.h"

#include <QSignalSpy>

#include <pqxx/pqxx>

#include <atomic>
#include <limits>
#include <map>
#include <memory>
#include <thread>
#include <tuple>
#include <vector>

using sluice::store::StoreError;
using sluice::store::StoreErrorKind;
using sluice::store::UsageRecord;
using sluice::store::UsageWriter;
using sluice::store::UsageWriterOptions;
using sluice::test::PostgresFixture;

namespace {

constexpr int writeTimeoutMs = 30000;

// Record `index` of a deterministic set: 3 keys x 2 models over 2 UTC days, costs in
// whole micro-dollars so sums are exact.
UsageRecord record(int index, const QDateTime &now)
{
    UsageRecord usage;
    usage.timestamp = index % 4 < 2 ? now : now.addDays(-1);
    usage.instance = QStringLiteral("gw-%1").arg(index % 2);
    usage.apiKeyId = QStringLiteral("key-%1").arg(index % 3);
    usage.model = index % 2 ? QStringLiteral("gpt-4o") : QStringLiteral("claude-sonnet");
    usage.upstream = index % 2 ? QStringLiteral("openai") : QStringLiteral("anthropic");
    usage.tokens.inputTokens = 10 + index % 17;
    usage.tokens.outputTokens = 5 + index % 13;
    usage.tokens.cachedInputTokens = index % 5;
    usage.tokens.cacheWriteTokens = index % 3;
    usage.costUsd = (index % 7 + 1) * 0.000125;
    usage.latencyMs = 100 + index;
    if (index % 2)
        usage.ttftMs = 20 + index % 10;
    usage.httpStatus = index % 10 == 0 ? 429 : 200;
    usage.cacheHit = index % 6 == 0;
    usage.requestId = QStringLiteral("req-%1").arg(index);
    return usage;
}

struct DailyTotals {
    long long requests = 0, errors = 0, cacheHits = 0, input = 0, output = 0, cached = 0, written = 0;
    long long costMicroUsd = 0, latencySum = 0;
    friend bool operator==(const DailyTotals &, const DailyTotals &) = default;
};

using DailyKey = std::tuple<std::string, std::string, std::string>; // day, key, model

void add(std::map<DailyKey, DailyTotals> &totals, int index, const QDateTime &now)
{
    const UsageRecord usage = record(index, now);
    DailyTotals &row = totals[{usage.timestamp.toUTC().date().toString(Qt::ISODate).toStdString(),
                               usage.apiKeyId.toStdString(), usage.model.toStdString()}];
    ++row.requests;
    row.errors += usage.httpStatus >= 400;
    row.cacheHits += usage.cacheHit;
    row.input += usage.tokens.inputTokens;
    row.output += usage.tokens.outputTokens;
    row.cached += usage.tokens.cachedInputTokens;
    row.written += usage.tokens.cacheWriteTokens;
    row.costMicroUsd += (index % 7 + 1) * 125;
    row.latencySum += usage.latencyMs;
}

} // namespace

class TestUsageWriter : public QObject {
    Q_OBJECT

    std::unique_ptr<PostgresFixture> m_postgres;
    int m_databases = 0;

    // A new, empty database (the writer migrates it); returns its connection string.
    QString freshDatabase()
    {
        const QString name = QStringLiteral("usage_%1").arg(++m_databases);
        return m_postgres->createDatabase(name) ? m_postgres->connectionString(name) : QString();
    }

    static UsageWriterOptions options(const QString &connectionString)
    {
        UsageWriterOptions options;
        options.connectionString = connectionString;
        options.batchSize = 100;
        options.flushIntervalMs = 50;
        options.reconnectMinMs = 50;
        options.reconnectMaxMs = 400;
        options.connectTimeoutSeconds = 2;
        return options;
    }

    static long long scalar(const QString &connectionString, const char *sql)
    {
        pqxx::connection connection(connectionString.toStdString());
        pqxx::nontransaction txn(connection);
        return txn.exec(sql)[0][0].as<long long>();
    }

    static std::map<DailyKey, DailyTotals> dailyRows(const QString &connectionString)
    {
        pqxx::connection connection(connectionString.toStdString());
        pqxx::nontransaction txn(connection);
        std::map<DailyKey, DailyTotals> rows;
        for (const auto &row : txn.exec("SELECT day::text, api_key_id, model, requests, errors, cache_hits, input_tokens,"
                                        " output_tokens, cached_input_tokens, cache_write_tokens,"
                                        " (cost_usd * 1000000)::bigint, latency_ms_sum FROM usage_daily")) {
            rows[{row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>()}] = DailyTotals{
                row[3].as<long long>(), row[4].as<long long>(), row[5].as<long long>(), row[6].as<long long>(),
                row[7].as<long long>(), row[8].as<long long>(), row[9].as<long long>(), row[10].as<long long>(),
                row[11].as<long long>()};
        }
        return rows;
    }

private slots:
    void initTestCase()
    {
        qRegisterMetaType<StoreError>();
        m_postgres = std::make_unique<PostgresFixture>();
        if (!m_postgres->available())
            QSKIP(qPrintable(m_postgres->reason()));
        QVERIFY2(m_postgres->isRunning(), qPrintable(m_postgres->lastError()));
    }

    void cleanupTestCase() { m_postgres.reset(); }

    void init()
    {
        // An outage test that failed half-way must not leave the next test without a server.
        if (m_postgres && m_postgres->available() && !m_postgres->isRunning())
            QVERIFY2(m_postgres->start(), qPrintable(m_postgres->lastError()));
    }

    void writesEveryRecordAndRollsUp()
    {
        const QString database = freshDatabase();
        QVERIFY(!database.isEmpty());
        UsageWriter writer(options(database));
        QSignalSpy connected(&writer, &UsageWriter::connectedChanged);
        writer.start();
        QTRY_VERIFY_WITH_TIMEOUT(writer.isConnected(), writeTimeoutMs);
        QCOMPARE(connected.count(), 1);
        QCOMPARE(connected.first().first().toBool(), true);

        // submit() from several threads at once.
        const QDateTime now = QDateTime::currentDateTimeUtc();
        constexpr int total = 1000;
        constexpr int submitters = 4;
        std::vector<std::thread> threads;
        std::atomic<int> refused{0};
        for (int part = 0; part < submitters; ++part) {
            threads.emplace_back([&, part] {
                for (int index = part; index < total; index += submitters) {
                    if (!writer.submit(record(index, now)))
                        ++refused;
                }
            });
        }
        for (std::thread &thread : threads)
            thread.join();
        QCOMPARE(refused.load(), 0);

        QTRY_COMPARE_WITH_TIMEOUT(writer.writtenCount(), qint64(total), writeTimeoutMs);
        const auto stats = writer.stats();
        QCOMPARE(stats.accepted, std::uint64_t(total));
        QCOMPARE(stats.dropped, std::uint64_t(0));
        QCOMPARE(stats.pending, std::uint64_t(0));
        QCOMPARE(stats.duplicates, std::uint64_t(0));
        QCOMPARE(stats.failures, std::uint64_t(0));

        QCOMPARE(scalar(database, "SELECT count(*) FROM usage"), (long long)total);
        QCOMPARE(scalar(database, "SELECT count(DISTINCT request_id) FROM usage"), (long long)total);
        QCOMPARE(scalar(database, "SELECT count(*) FROM usage WHERE ttft_ms IS NULL"), (long long)total / 2);
        QCOMPARE(scalar(database, "SELECT (sum(cost_usd) * 1000000)::bigint FROM usage"),
                 [] {
                     long long sum = 0;
                     for (int index = 0; index < total; ++index)
                         sum += (index % 7 + 1) * 125;
                     return sum;
                 }());

        std::map<DailyKey, DailyTotals> expected;
        for (int index = 0; index < total; ++index)
            add(expected, index, now);
        const auto actual = dailyRows(database);
        QCOMPARE(actual.size(), expected.size());
        for (const auto &[key, totals] : expected) {
            const auto found = actual.find(key);
            QVERIFY2(found != actual.end(), std::get<0>(key).c_str());
            QVERIFY2(found->second == totals, (std::get<0>(key) + " " + std::get<1>(key) + " " + std::get<2>(key)).c_str());
        }
        QCOMPARE(writer.stop(5000), qint64(0));
    }

    void everyRecordSurvivesAnOutage()
    {
        const QString database = freshDatabase();
        QVERIFY(!database.isEmpty());
        UsageWriter writer(options(database));
        QSignalSpy failed(&writer, &UsageWriter::writeFailed);
        writer.start();
        const QDateTime now = QDateTime::currentDateTimeUtc();
        for (int index = 0; index < 300; ++index)
            QVERIFY(writer.submit(record(index, now)));
        QTRY_COMPARE_WITH_TIMEOUT(writer.writtenCount(), qint64(300), writeTimeoutMs);
        QVERIFY(writer.isConnected());

        QVERIFY(m_postgres->stop());
        for (int index = 300; index < 1000; ++index) {
            QVERIFY(writer.submit(record(index, now)));
            if (index % 100 == 0)
                QTest::qWait(20); // submission goes on while the worker notices the outage
        }
        QTRY_VERIFY_WITH_TIMEOUT(!writer.isConnected(), writeTimeoutMs);
        QTRY_VERIFY_WITH_TIMEOUT(writer.failureCount() >= 2, writeTimeoutMs); // the batch, then reconnects
        QTest::qWait(500); // down for a while: several reconnect attempts fail
        QCOMPARE(writer.writtenCount(), qint64(300));
        QCOMPARE(writer.pendingCount(), qint64(700));
        QVERIFY(!failed.isEmpty());
        const std::optional<StoreError> error = writer.lastError();
        QVERIFY(error.has_value());
        QVERIFY2(error->kind == StoreErrorKind::Refused || error->kind == StoreErrorKind::NotConnected,
                 qPrintable(error->message));

        QVERIFY2(m_postgres->start(), qPrintable(m_postgres->lastError()));
        QTRY_COMPARE_WITH_TIMEOUT(writer.writtenCount(), qint64(1000), writeTimeoutMs);
        QTRY_VERIFY_WITH_TIMEOUT(writer.isConnected(), writeTimeoutMs);
        QCOMPARE(writer.pendingCount(), qint64(0));
        QCOMPARE(writer.droppedCount(), qint64(0));
        QVERIFY(writer.stats().reconnects >= 1);

        QCOMPARE(scalar(database, "SELECT count(*) FROM usage"), 1000LL);
        QCOMPARE(scalar(database, "SELECT count(DISTINCT request_id) FROM usage"), 1000LL);
        QCOMPARE(scalar(database, "SELECT sum(requests) FROM usage_daily"), 1000LL);
        QCOMPARE(writer.stop(5000), qint64(0));
    }

    void fullBufferDropsExactlyTheExcess()
    {
        const QString database = freshDatabase();
        QVERIFY(!database.isEmpty());
        UsageWriterOptions writerOptions = options(database);
        writerOptions.bufferCapacity = 100;
        writerOptions.batchSize = 10;
        UsageWriter writer(writerOptions);
        const QDateTime now = QDateTime::currentDateTimeUtc();
        // Not started yet: nothing drains, so the bound is all that decides.
        int accepted = 0;
        for (int index = 0; index < 150; ++index)
            accepted += writer.submit(record(index, now));
        QCOMPARE(accepted, 100);
        QCOMPARE(writer.droppedCount(), qint64(50));
        QCOMPARE(writer.pendingCount(), qint64(100));

        writer.start();
        QTRY_COMPARE_WITH_TIMEOUT(writer.writtenCount(), qint64(100), writeTimeoutMs);
        QCOMPARE(writer.pendingCount(), qint64(0));
        // The first 100 were kept, the rest dropped.
        QCOMPARE(scalar(database, "SELECT count(*) FROM usage"), 100LL);
        QCOMPARE(scalar(database, "SELECT max(substr(request_id, 5)::integer) FROM usage"), 99LL);
    }

    void boundCountsTheBatchInFlight()
    {
        const QString database = freshDatabase();
        QVERIFY(!database.isEmpty());
        UsageWriterOptions writerOptions = options(database);
        writerOptions.bufferCapacity = 100;
        writerOptions.batchSize = 10;
        UsageWriter writer(writerOptions);
        writer.start();
        QTRY_VERIFY_WITH_TIMEOUT(writer.isConnected(), writeTimeoutMs);

        QVERIFY(m_postgres->stop());
        const QDateTime now = QDateTime::currentDateTimeUtc();
        // Whether or not the worker has taken a batch out of the buffer, a batch it holds
        // still counts against the bound.
        int accepted = 0;
        for (int index = 0; index < 130; ++index) {
            accepted += writer.submit(record(index, now));
            if (index == 20)
                QTRY_VERIFY_WITH_TIMEOUT(writer.failureCount() >= 1, writeTimeoutMs);
        }
        QCOMPARE(accepted, 100);
        QCOMPARE(writer.droppedCount(), qint64(30));
        QCOMPARE(writer.pendingCount(), qint64(100));
        QCOMPARE(writer.writtenCount(), qint64(0));

        QVERIFY2(m_postgres->start(), qPrintable(m_postgres->lastError()));
        QTRY_COMPARE_WITH_TIMEOUT(writer.writtenCount(), qint64(100), writeTimeoutMs);
        QCOMPARE(scalar(database, "SELECT count(*) FROM usage"), 100LL);
        QCOMPARE(writer.droppedCount(), qint64(30));
    }

    void retriedRequestIdIsCountedOnce()
    {
        const QString database = freshDatabase();
        QVERIFY(!database.isEmpty());
        UsageWriter writer(options(database));
        writer.start();
        const QDateTime now = QDateTime::currentDateTimeUtc();
        QVERIFY(writer.submit(record(1, now)));
        QVERIFY(writer.submit(record(1, now)));
        UsageRecord anonymous = record(2, now);
        anonymous.requestId.clear(); // gets a generated id
        QVERIFY(writer.submit(anonymous));
        QVERIFY(writer.submit(anonymous));
        QTRY_COMPARE_WITH_TIMEOUT(writer.writtenCount(), qint64(4), writeTimeoutMs);
        QCOMPARE(writer.stats().duplicates, std::uint64_t(1));
        QCOMPARE(scalar(database, "SELECT count(*) FROM usage"), 3LL);
        QCOMPARE(scalar(database, "SELECT sum(requests) FROM usage_daily"), 3LL);
    }

    void awkwardValuesRoundTrip()
    {
        const QString database = freshDatabase();
        QVERIFY(!database.isEmpty());
        UsageWriter writer(options(database));
        writer.start();
        UsageRecord usage;
        usage.instance = QStringLiteral("tab\there\nnew line\\back slash");
        usage.apiKeyId = QStringLiteral("key-\u00e9\u4e2d");
        usage.model = QStringLiteral("nul") + QChar(0) + QStringLiteral("byte");
        usage.upstream = QStringLiteral("\\N");
        usage.costUsd = std::numeric_limits<double>::quiet_NaN();
        usage.requestId = QStringLiteral("awkward");
        usage.httpStatus = 200;
        QVERIFY(writer.submit(usage));
        QTRY_COMPARE_WITH_TIMEOUT(writer.writtenCount(), qint64(1), writeTimeoutMs);

        pqxx::connection connection(database.toStdString());
        pqxx::nontransaction txn(connection);
        const pqxx::row row = txn.exec("SELECT instance, api_key_id, model, upstream, cost_usd::text, ttft_ms IS NULL,"
                                       " ts > now() - interval '1 hour' FROM usage")[0];
        QCOMPARE(QString::fromStdString(row[0].as<std::string>()), usage.instance);
        QCOMPARE(QString::fromStdString(row[1].as<std::string>()), usage.apiKeyId);
        QCOMPARE(QString::fromStdString(row[2].as<std::string>()), QStringLiteral("nulbyte"));
        QCOMPARE(QString::fromStdString(row[3].as<std::string>()), QStringLiteral("\\N"));
        QCOMPARE(row[4].as<std::string>(), std::string("0"));
        QVERIFY(row[5].as<bool>());
        QVERIFY(row[6].as<bool>()); // an invalid timestamp means "now"
    }

    void pruneDeletesOldRowsAndKeepsRollups()
    {
        const QString database = freshDatabase();
        QVERIFY(!database.isEmpty());
        UsageWriter writer(options(database));
        writer.start();
        const QDateTime now = QDateTime::currentDateTimeUtc();
        const QList<int> ageDays{40, 40, 40, 10, 10, 0};
        for (qsizetype index = 0; index < ageDays.size(); ++index) {
            UsageRecord usage = record(int(index), now.addDays(-ageDays[index]));
            usage.timestamp = now.addDays(-ageDays[index]);
            usage.apiKeyId = QStringLiteral("key");
            usage.model = QStringLiteral("model");
            QVERIFY(writer.submit(usage));
        }
        QTRY_COMPARE_WITH_TIMEOUT(writer.writtenCount(), qint64(ageDays.size()), writeTimeoutMs);

        std::optional<sluice::Result<qint64, StoreError>> pruned;
        writer.rollupAndPrune(30, this, [&pruned](sluice::Result<qint64, StoreError> result) { pruned.emplace(std::move(result)); });
        QVERIFY(!pruned.has_value()); // never called back synchronously
        QTRY_VERIFY_WITH_TIMEOUT(pruned.has_value(), writeTimeoutMs);
        QVERIFY2(pruned->ok(), qPrintable(pruned->ok() ? QString() : pruned->error().message));
        QCOMPARE(**pruned, qint64(3));
        QCOMPARE(scalar(database, "SELECT count(*) FROM usage"), 3LL);
        QCOMPARE(scalar(database, "SELECT count(*) FROM usage WHERE ts < now() - interval '30 days'"), 0LL);
        // The roll-ups of the pruned rows stay.
        QCOMPARE(scalar(database, "SELECT sum(requests) FROM usage_daily"), 6LL);
        QCOMPARE(scalar(database, "SELECT requests FROM usage_daily WHERE day = (now() AT TIME ZONE 'UTC')::date - 40"), 3LL);

        pruned.reset();
        writer.rollupAndPrune(5, this, [&pruned](sluice::Result<qint64, StoreError> result) { pruned.emplace(std::move(result)); });
        QTRY_VERIFY_WITH_TIMEOUT(pruned.has_value(), writeTimeoutMs);
        QVERIFY(pruned->ok());
        QCOMPARE(**pruned, qint64(2));
        QCOMPARE(scalar(database, "SELECT count(*) FROM usage"), 1LL);
        QCOMPARE(scalar(database, "SELECT sum(requests) FROM usage_daily"), 6LL);
    }

    void pruneCallbackIsBoundToItsContext()
    {
        UsageWriter writer(options(PostgresFixture::unreachableConnectionString()));
        writer.start();
        std::optional<sluice::Result<qint64, StoreError>> answered;
        writer.rollupAndPrune(30, this, [&answered](sluice::Result<qint64, StoreError> result) { answered.emplace(std::move(result)); });
        QTRY_VERIFY_WITH_TIMEOUT(answered.has_value(), writeTimeoutMs);
        QVERIFY(!answered->ok());
        QCOMPARE(answered->error().kind, StoreErrorKind::NotConnected);

        bool called = false;
        auto context = std::make_unique<QObject>();
        writer.rollupAndPrune(30, context.get(), [&called](sluice::Result<qint64, StoreError>) { called = true; });
        context.reset();
        QTest::qWait(200);
        QVERIFY(!called);
    }

    void stopFlushesWhatIsBuffered()
    {
        const QString database = freshDatabase();
        QVERIFY(!database.isEmpty());
        UsageWriterOptions writerOptions = options(database);
        writerOptions.batchSize = 1000;
        writerOptions.flushIntervalMs = 600000; // nothing would flush on its own
        UsageWriter writer(writerOptions);
        writer.start();
        QTRY_VERIFY_WITH_TIMEOUT(writer.isConnected(), writeTimeoutMs);
        const QDateTime now = QDateTime::currentDateTimeUtc();
        for (int index = 0; index < 25; ++index)
            QVERIFY(writer.submit(record(index, now)));
        QTest::qWait(100);
        QCOMPARE(writer.writtenCount(), qint64(0));

        QCOMPARE(writer.stop(10000), qint64(0));
        QCOMPARE(writer.writtenCount(), qint64(25));
        QVERIFY(!writer.isConnected());
        QCOMPARE(scalar(database, "SELECT count(*) FROM usage"), 25LL);
        QVERIFY(!writer.submit(record(99, now)));
        QCOMPARE(writer.droppedCount(), qint64(1));
    }

    void stopGivesUpAtItsDeadline()
    {
        UsageWriter writer(options(PostgresFixture::unreachableConnectionString()));
        writer.start();
        const QDateTime now = QDateTime::currentDateTimeUtc();
        for (int index = 0; index < 5; ++index)
            QVERIFY(writer.submit(record(index, now)));
        QTRY_VERIFY_WITH_TIMEOUT(writer.failureCount() >= 1, writeTimeoutMs);
        QVERIFY(!writer.isConnected());
        QCOMPARE(writer.lastError()->kind, StoreErrorKind::Refused);

        std::optional<sluice::Result<qint64, StoreError>> pruned;
        writer.rollupAndPrune(30, this, [&pruned](sluice::Result<qint64, StoreError> result) { pruned.emplace(std::move(result)); });
        QCOMPARE(writer.stop(300), qint64(5));
        QCOMPARE(writer.pendingCount(), qint64(5));
        QCOMPARE(writer.writtenCount(), qint64(0));
        // A prune asked before stop() has been answered by the time it returns.
        QVERIFY(pruned.has_value());
        QVERIFY(!pruned->ok());
        QVERIFY(pruned->error().kind == StoreErrorKind::NotConnected || pruned->error().kind == StoreErrorKind::Cancelled);
    }
};

QTEST_GUILESS_MAIN(TestUsageWriter)
#include "tst_usagewriter.moc"
