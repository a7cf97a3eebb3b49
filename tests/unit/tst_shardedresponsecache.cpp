#include <QTest>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "policy/clock.h"
#include "policy/shardedresponsecache.h"

using namespace std::chrono_literals;
using sluice::policy::CacheLimits;
using sluice::policy::CacheStats;
using sluice::policy::CacheValue;
using sluice::policy::ManualClock;
using sluice::policy::ResponseCache;
using sluice::policy::ShardedResponseCache;

namespace {

CacheValue valueOf(const std::string &text)
{
    return std::make_shared<const std::string>(text);
}

} // namespace

class TestShardedResponseCache : public QObject {
    Q_OBJECT
private slots:
    void limitsAreSplitExactly_data()
    {
        QTest::addColumn<qulonglong>("maxEntries");
        QTest::addColumn<qulonglong>("maxBytes");
        QTest::addColumn<qulonglong>("shardCount");
        QTest::newRow("even") << qulonglong(1600) << qulonglong(1 << 20) << qulonglong(16);
        QTest::newRow("remainder") << qulonglong(1003) << qulonglong(1000007) << qulonglong(16);
        QTest::newRow("fewer entries than shards") << qulonglong(5) << qulonglong(100) << qulonglong(8);
        QTest::newRow("one shard") << qulonglong(7) << qulonglong(99) << qulonglong(1);
    }

    void limitsAreSplitExactly()
    {
        QFETCH(qulonglong, maxEntries);
        QFETCH(qulonglong, maxBytes);
        QFETCH(qulonglong, shardCount);
        const CacheLimits total{maxEntries, maxBytes, 4096, 30s};
        std::size_t entries = 0;
        std::size_t sizeBytes = 0;
        for (std::size_t index = 0; index < shardCount; ++index) {
            const CacheLimits share = ShardedResponseCache::shardLimits(total, shardCount, index);
            QVERIFY(share.maxEntries == maxEntries / shardCount || share.maxEntries == maxEntries / shardCount + 1);
            QCOMPARE(share.maxEntryBytes, total.maxEntryBytes);
            QCOMPARE(share.defaultTtl, total.defaultTtl);
            entries += share.maxEntries;
            sizeBytes += share.maxBytes;
        }
        QCOMPARE(entries, maxEntries);
        QCOMPARE(sizeBytes, maxBytes);
    }

    void behavesLikeOneCache()
    {
        ManualClock clock;
        ShardedResponseCache cache(CacheLimits{1000, 1 << 20, 4096, 10s}, clock, 4);
        QCOMPARE(cache.shardCount(), 4u);
        for (int index = 0; index < 100; ++index) {
            QVERIFY(cache.put("a", "k" + std::to_string(index), valueOf("a" + std::to_string(index))));
            QVERIFY(cache.put("b", "k" + std::to_string(index), valueOf("b" + std::to_string(index)), 20s));
        }
        for (int index = 0; index < 100; ++index) {
            const CacheValue value = cache.get("a", "k" + std::to_string(index));
            QVERIFY(value);
            QCOMPARE(*value, "a" + std::to_string(index));
        }
        QVERIFY(!cache.get("a", "missing"));
        QCOMPARE(cache.namespaceUsage("a").entries, 100u);
        QCOMPARE(cache.namespaceUsage("b").entries, 100u);

        QVERIFY(cache.erase("b", "k0"));
        QCOMPARE(cache.flush("a"), 100u);
        QCOMPARE(cache.namespaceUsage("a").entries, 0u);
        clock.advance(20s);
        QCOMPARE(cache.purgeExpired(), 99u);

        const CacheStats stats = cache.stats();
        QCOMPARE(stats.insertions, 200u);
        QCOMPARE(stats.hits, 100u);
        QCOMPARE(stats.misses, 1u);
        QCOMPARE(stats.removed, 101u);
        QCOMPARE(stats.expirations, 99u);
        QCOMPARE(stats.entries, 0u);
        QCOMPARE(stats.sizeBytes, 0u);
    }

    void shrinkingTotalLimitsEvictsInEveryShard()
    {
        ManualClock clock;
        ShardedResponseCache cache(CacheLimits{1000, 1 << 20, 4096, 10s}, clock, 4);
        for (int index = 0; index < 400; ++index)
            QVERIFY(cache.put("ns", "k" + std::to_string(index), valueOf("v")));
        const CacheLimits smaller{40, 1 << 20, 4096, 10s};
        cache.setLimits(smaller);
        QCOMPARE(cache.limits(), smaller);
        const CacheStats stats = cache.stats();
        QVERIFY(stats.entries <= 40);
        QCOMPARE(stats.evictions, 400u - stats.entries);
        // With 400 keys over 4 shards every shard overflowed its share of 10.
        QCOMPARE(stats.entries, 40u);
    }

    void twoThreadsReadAndWriteConsistently()
    {
        ManualClock clock;
        constexpr int keysPerThread = 2000;
        constexpr int rounds = 5;
        ShardedResponseCache cache(CacheLimits{100'000, std::size_t{64} << 20, 4096, 1h}, clock, 8);
        std::atomic<int> wrongValues{0};
        std::atomic<int> lostValues{0};
        auto work = [&](const std::string &nameSpace) {
            for (int round = 0; round < rounds; ++round) {
                for (int index = 0; index < keysPerThread; ++index) {
                    const std::string key = "k" + std::to_string(index);
                    cache.put(nameSpace, key, valueOf(nameSpace + key + "#" + std::to_string(round)));
                    const CacheValue value = cache.get(nameSpace, key);
                    if (!value)
                        ++lostValues;
                    else if (*value != nameSpace + key + "#" + std::to_string(round))
                        ++wrongValues;
                    // Reads of the other thread's namespace: any answer is fine, it just must not crash.
                    cache.get(nameSpace == "one" ? "two" : "one", key);
                }
            }
        };
        std::thread first(work, std::string("one"));
        std::thread second(work, std::string("two"));
        first.join();
        second.join();

        QCOMPARE(wrongValues.load(), 0);
        QCOMPARE(lostValues.load(), 0);
        const CacheStats stats = cache.stats();
        QCOMPARE(stats.insertions, std::uint64_t(2 * keysPerThread * rounds));
        QCOMPARE(stats.replacements, std::uint64_t(2 * keysPerThread * (rounds - 1)));
        QCOMPARE(stats.hits + stats.misses, std::uint64_t(4 * keysPerThread * rounds));
        QVERIFY(stats.hits >= std::uint64_t(2 * keysPerThread * rounds));
        QCOMPARE(stats.entries, std::size_t(2 * keysPerThread));
        QCOMPARE(cache.namespaceUsage("one").entries, std::size_t(keysPerThread));
        QCOMPARE(cache.namespaceUsage("two").sizeBytes, stats.sizeBytes / 2);
    }
};

QTEST_APPLESS_MAIN(TestShardedResponseCache)
#include "tst_shardedresponsecache.moc"
