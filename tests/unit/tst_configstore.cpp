#include <QRegularExpression>
#include <QTest>

#include "config/configwriter.h"
#include "config/gatewayconfig.h"
#include "gateway/configstore.h"

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using sluice::config::GatewayConfig;
using sluice::gateway::ApplyOrigin;
using sluice::gateway::ConfigApplyError;
using sluice::gateway::ConfigStore;

namespace {

GatewayConfig initialConfig(std::int64_t version = 7)
{
    GatewayConfig config = sluice::config::defaultConfig();
    config.version = version;
    return config;
}

GatewayConfig withTtl(std::shared_ptr<const GatewayConfig> base, std::chrono::seconds ttl)
{
    GatewayConfig config = *base;
    config.cache.ttl = ttl;
    return config;
}

ApplyOrigin origin(const QString &comment = {})
{
    return ApplyOrigin{QStringLiteral("tester"), QStringLiteral("10.0.0.9"), comment};
}

} // namespace

class TestConfigStore : public QObject {
    Q_OBJECT
private slots:
    void startsWithTheInitialConfig()
    {
        ConfigStore store(initialConfig());
        QCOMPARE(store.current()->version, std::int64_t(7));
        QCOMPARE(*store.current(), initialConfig());
        const auto history = store.history();
        QCOMPARE(history.size(), 1);
        QCOMPARE(history[0].version, std::int64_t(7));
        QCOMPARE(history[0].who, QStringLiteral("startup"));
        QCOMPARE(history[0].changeCount, 0);
        QVERIFY(history[0].appliedAtUtc.isValid());
        QCOMPARE(history[0].appliedAtUtc.timeSpec(), Qt::UTC);
    }

    void applyBumpsTheVersionAndReportsTheChanges()
    {
        ConfigStore store(initialConfig());
        GatewayConfig candidate = withTtl(store.current(), 60s);
        candidate.version = 1000; // ignored: the store numbers versions
        const auto applied = store.apply(candidate, std::nullopt, origin(QStringLiteral("shorter ttl")));
        QVERIFY(applied.ok());
        QCOMPARE(applied->config->version, std::int64_t(8));
        QCOMPARE(applied->config->cache.ttl, 60s);
        QCOMPARE(store.current(), applied->config);
        QCOMPARE(applied->diff.size(), 1);
        QCOMPARE(applied->diff[0].path, QStringLiteral("cache.ttl_seconds"));
        QCOMPARE(applied->diff[0].before, QStringLiteral("300"));
        QCOMPARE(applied->diff[0].after, QStringLiteral("60"));
        QCOMPARE(applied->etag, store.etag());

        const auto history = store.history();
        QCOMPARE(history.size(), 2);
        QCOMPARE(history.last().version, std::int64_t(8));
        QCOMPARE(history.last().who, QStringLiteral("tester"));
        QCOMPARE(history.last().from, QStringLiteral("10.0.0.9"));
        QCOMPARE(history.last().comment, QStringLiteral("shorter ttl"));
        QCOMPARE(history.last().changeCount, 1);
    }

    void applyingTheSameSettingsStillMakesANewVersion()
    {
        ConfigStore store(initialConfig());
        const auto applied = store.apply(*store.current(), std::nullopt, origin());
        QVERIFY(applied.ok());
        QCOMPARE(applied->config->version, std::int64_t(8));
        QVERIFY(applied->diff.isEmpty());
    }

    void etagHasVersionAndContentHash()
    {
        ConfigStore store(initialConfig());
        const QString first = store.etag();
        const QRegularExpression shape(QStringLiteral("^\"7-[0-9a-f]{16}\"$"));
        QVERIFY2(shape.match(first).hasMatch(), qPrintable(first));
        QCOMPARE(first.mid(3, 16), sluice::config::contentHash(*store.current()).left(16));

        QVERIFY(store.apply(withTtl(store.current(), 60s), std::nullopt, origin()).ok());
        const QString second = store.etag();
        QVERIFY(second.startsWith(QStringLiteral("\"8-")));
        QVERIFY(second.mid(3, 16) != first.mid(3, 16));

        // Only the comment differs: same settings, same hash part, new version.
        GatewayConfig commented = *store.current();
        commented.comment = QStringLiteral("just a note");
        QVERIFY(store.apply(commented, std::nullopt, origin()).ok());
        QCOMPARE(store.etag().mid(3, 16), second.mid(3, 16));
        QCOMPARE(store.snapshot().etag, store.etag());
        QCOMPARE(store.snapshot().config->version, std::int64_t(9));
    }

    void versionConflictChangesNothing()
    {
        ConfigStore store(initialConfig());
        int calls = 0;
        store.addListener([&](auto, auto, const ApplyOrigin &) { ++calls; });
        const auto before = store.current();
        const QString etagBefore = store.etag();

        const auto stale = store.apply(withTtl(before, 60s), std::int64_t{6}, origin());
        QVERIFY(!stale.ok());
        QCOMPARE(stale.error().kind, ConfigApplyError::VersionConflict);
        QCOMPARE(stale.error().runningVersion, std::int64_t(7));
        QCOMPARE(store.current(), before);
        QCOMPARE(store.etag(), etagBefore);
        QCOMPARE(store.history().size(), 1);
        QCOMPARE(calls, 0);

        const auto matching = store.apply(withTtl(before, 60s), std::int64_t{7}, origin());
        QVERIFY(matching.ok());
        QCOMPARE(matching->config->version, std::int64_t(8));
        QCOMPARE(calls, 1);
    }

    void invalidConfigLeavesTheRunningOneUntouched()
    {
        ConfigStore store(initialConfig());
        int calls = 0;
        store.addListener([&](auto, auto, const ApplyOrigin &) { ++calls; });
        const auto before = store.current();

        GatewayConfig candidate = *before;
        candidate.cache.maxEntries = 0;
        candidate.concurrency.maxInFlight = -5;
        const auto result = store.apply(candidate, std::nullopt, origin());
        QVERIFY(!result.ok());
        QCOMPARE(result.error().kind, ConfigApplyError::Invalid);
        QCOMPARE(result.error().runningVersion, std::int64_t(7));
        QCOMPARE(result.error().errors.size(), 2);
        QCOMPARE(qsizetype(result.error().fieldErrors.size()), 2);
        QVERIFY(result.error().errors.join(u'\n').contains(QStringLiteral("cache.max_entries: ")));
        QVERIFY(result.error().errors.join(u'\n').contains(QStringLiteral("concurrency.max_in_flight: ")));

        QCOMPARE(store.current(), before);
        QCOMPARE(*store.current(), initialConfig());
        QCOMPARE(store.history().size(), 1);
        QCOMPARE(calls, 0);
    }

    void adoptKeepsTheGivenVersion()
    {
        ConfigStore store(initialConfig());
        std::int64_t seenVersion = 0;
        QString seenWho;
        store.addListener([&](auto, std::shared_ptr<const GatewayConfig> newConfig, const ApplyOrigin &from) {
            seenVersion = newConfig->version;
            seenWho = from.who;
        });
        GatewayConfig shared = withTtl(store.current(), 120s);
        shared.version = 12; // another instance's numbering, skipping 8..11
        const auto adopted = store.adopt(shared, ApplyOrigin{QStringLiteral("redis"), {}, {}});
        QVERIFY(adopted.ok());
        QCOMPARE(adopted->config->version, std::int64_t(12));
        QCOMPARE(adopted->diff.size(), 1);
        QCOMPARE(adopted->diff.at(0).path, QStringLiteral("cache.ttl_seconds"));
        QCOMPARE(adopted->etag, ConfigStore::etagFor(*adopted->config));
        QCOMPARE(store.current()->version, std::int64_t(12));
        QCOMPARE(store.current()->cache.ttl, 120s);
        QCOMPARE(seenVersion, std::int64_t(12));
        QCOMPARE(seenWho, QStringLiteral("redis"));
        QCOMPARE(store.history().last().version, std::int64_t(12));
        QCOMPARE(store.history().last().who, QStringLiteral("redis"));
        // apply() goes on from the adopted number.
        const auto next = store.apply(withTtl(store.current(), 130s), std::nullopt, origin());
        QVERIFY(next.ok());
        QCOMPARE(next->config->version, std::int64_t(13));
    }

    void adoptRefusesAVersionNotNewer_data()
    {
        QTest::addColumn<qint64>("version");
        QTest::newRow("older") << qint64(3);
        QTest::newRow("equal") << qint64(7);
    }

    void adoptRefusesAVersionNotNewer()
    {
        QFETCH(qint64, version);
        ConfigStore store(initialConfig());
        int calls = 0;
        store.addListener([&](auto, auto, const ApplyOrigin &) { ++calls; });
        const auto before = store.current();
        GatewayConfig shared = withTtl(before, 120s);
        shared.version = version;
        shared.cache.maxEntries = 0; // invalid too: the version is checked first
        const auto refused = store.adopt(shared, ApplyOrigin{QStringLiteral("redis"), {}, {}});
        QVERIFY(!refused.ok());
        QCOMPARE(refused.error().kind, ConfigApplyError::VersionConflict);
        QCOMPARE(refused.error().runningVersion, std::int64_t(7));
        QCOMPARE(store.current(), before);
        QCOMPARE(store.history().size(), 1);
        QCOMPARE(calls, 0);
    }

    void adoptRefusesAnInvalidConfig()
    {
        ConfigStore store(initialConfig());
        int calls = 0;
        store.addListener([&](auto, auto, const ApplyOrigin &) { ++calls; });
        const auto before = store.current();
        GatewayConfig shared = *before;
        shared.version = 9;
        shared.cache.maxEntries = 0;
        const auto refused = store.adopt(shared, ApplyOrigin{QStringLiteral("redis"), {}, {}});
        QVERIFY(!refused.ok());
        QCOMPARE(refused.error().kind, ConfigApplyError::Invalid);
        QVERIFY(refused.error().errors.join(u'\n').contains(QStringLiteral("cache.max_entries: ")));
        QCOMPARE(store.current(), before);
        QCOMPARE(store.history().size(), 1);
        QCOMPARE(calls, 0);
    }

    void checkIsADryRun()
    {
        ConfigStore store(initialConfig());
        const auto before = store.current();
        const auto changes = store.check(withTtl(before, 90s));
        QVERIFY(changes.ok());
        QCOMPARE(changes->size(), 1);
        QCOMPARE(changes->at(0).path, QStringLiteral("cache.ttl_seconds"));
        QCOMPARE(store.current(), before);

        GatewayConfig invalid = *before;
        invalid.cache.maxEntries = 0;
        const auto refused = store.check(invalid);
        QVERIFY(!refused.ok());
        QCOMPARE(refused.error().kind, ConfigApplyError::Invalid);
        QCOMPARE(store.current(), before);
    }

    void listenersSeeOldAndNewOnTheApplyingThread()
    {
        ConfigStore store(initialConfig());
        std::shared_ptr<const GatewayConfig> seenOld;
        std::shared_ptr<const GatewayConfig> seenNew;
        QString seenComment;
        std::thread::id listenerThread;
        std::shared_ptr<const GatewayConfig> currentInListener;
        const int id = store.addListener([&](std::shared_ptr<const GatewayConfig> oldConfig,
                                             std::shared_ptr<const GatewayConfig> newConfig, const ApplyOrigin &from) {
            seenOld = oldConfig;
            seenNew = newConfig;
            seenComment = from.comment;
            listenerThread = std::this_thread::get_id();
            currentInListener = store.current(); // no deadlock: the swap is done
        });
        QVERIFY(id > 0);
        int secondCalls = 0;
        const int second = store.addListener([&](auto, auto, const ApplyOrigin &) { ++secondCalls; });
        QVERIFY(second != id);

        const auto before = store.current();
        std::thread::id applyingThread;
        bool appliedOk = false;
        std::thread worker([&] {
            applyingThread = std::this_thread::get_id();
            appliedOk = store.apply(withTtl(before, 45s), std::nullopt, origin(QStringLiteral("from a worker"))).ok();
        });
        worker.join();
        QVERIFY(appliedOk);

        QCOMPARE(seenOld, before);
        QCOMPARE(seenNew->version, std::int64_t(8));
        QCOMPARE(seenNew->cache.ttl, 45s);
        QCOMPARE(currentInListener, seenNew);
        QCOMPARE(seenComment, QStringLiteral("from a worker"));
        QVERIFY(listenerThread == applyingThread);
        QCOMPARE(secondCalls, 1);

        QVERIFY(store.removeListener(id));
        QVERIFY(!store.removeListener(id));
        seenNew.reset();
        QVERIFY(store.apply(withTtl(store.current(), 50s), std::nullopt, origin()).ok());
        QVERIFY(!seenNew); // removed: not called again
        QCOMPARE(secondCalls, 2);
    }

    void historyIsBounded()
    {
        ConfigStore store(initialConfig(0));
        for (int round = 1; round <= 60; ++round)
            QVERIFY(store.apply(withTtl(store.current(), std::chrono::seconds(round)), std::nullopt, origin()).ok());
        const auto history = store.history();
        QCOMPARE(history.size(), ConfigStore::kHistoryLimit);
        QCOMPARE(history.first().version, std::int64_t(11));
        QCOMPARE(history.last().version, std::int64_t(60));
        for (qsizetype index = 1; index < history.size(); ++index)
            QCOMPARE(history[index].version, history[index - 1].version + 1);
    }

    void currentIsConsistentWhileAnotherThreadApplies()
    {
        // Every applied config has ttl = version seconds, so a reader can tell a torn
        // or half-built config from a whole one.
        ConfigStore store(initialConfig(0));
        constexpr int kApplies = 300;
        std::atomic<bool> done{false};
        std::atomic<int> problems{0};
        std::atomic<long> reads{0};

        auto reader = [&] {
            std::int64_t lastVersion = 0;
            while (!done.load()) {
                const auto config = store.current();
                if (config->version < lastVersion)
                    ++problems;
                if (config->version > 0 && config->cache.ttl.count() != config->version)
                    ++problems;
                lastVersion = config->version;
                const ConfigStore::Snapshot snapshot = store.snapshot();
                if (!snapshot.etag.startsWith(QStringLiteral("\"%1-").arg(snapshot.config->version)))
                    ++problems;
                ++reads;
            }
        };
        std::vector<std::thread> readers;
        for (int index = 0; index < 2; ++index)
            readers.emplace_back(reader);

        std::atomic<int> failedApplies{0};
        std::thread writer([&] {
            for (int round = 1; round <= kApplies; ++round) {
                GatewayConfig candidate = *store.current();
                candidate.cache.ttl = std::chrono::seconds(round);
                if (!store.apply(candidate, std::int64_t{round - 1}, origin()).ok())
                    ++failedApplies;
            }
        });
        writer.join();
        done = true;
        for (auto &thread : readers)
            thread.join();

        QCOMPARE(failedApplies.load(), 0);
        QCOMPARE(problems.load(), 0);
        QVERIFY(reads.load() > 0);
        QCOMPARE(store.current()->version, std::int64_t(kApplies));
    }

    void concurrentAppliesAreSerialised()
    {
        ConfigStore store(initialConfig(0));
        std::vector<std::int64_t> notified;
        std::mutex notifiedMutex;
        store.addListener([&](auto oldConfig, auto newConfig, const ApplyOrigin &) {
            std::lock_guard lock(notifiedMutex);
            if (newConfig->version != oldConfig->version + 1)
                notified.push_back(-1);
            notified.push_back(newConfig->version);
        });
        std::vector<std::thread> writers;
        for (int thread = 0; thread < 4; ++thread) {
            writers.emplace_back([&store] {
                for (int round = 0; round < 25; ++round)
                    (void)store.apply(*store.current(), std::nullopt, origin());
            });
        }
        for (auto &thread : writers)
            thread.join();
        QCOMPARE(store.current()->version, std::int64_t(100));
        QCOMPARE(notified.size(), std::size_t(100));
        for (std::size_t index = 0; index < notified.size(); ++index)
            QCOMPARE(notified[index], std::int64_t(index + 1)); // in order, none torn
    }
};

QTEST_GUILESS_MAIN(TestConfigStore)
#include "tst_configstore.moc"
