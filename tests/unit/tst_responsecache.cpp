#include <QTest>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>

#include "policy/clock.h"
#include "policy/responsecache.h"

using namespace std::chrono_literals;
using sluice::policy::CacheLimits;
using sluice::policy::CacheStats;
using sluice::policy::CacheValue;
using sluice::policy::ManualClock;
using sluice::policy::Nanoseconds;
using sluice::policy::ResponseCache;

Q_DECLARE_METATYPE(Nanoseconds)
Q_DECLARE_METATYPE(std::optional<Nanoseconds>)

namespace {

CacheValue valueOf(std::size_t sizeBytes, char fill = 'x')
{
    return std::make_shared<const std::string>(sizeBytes, fill);
}

CacheLimits roomyLimits()
{
    return CacheLimits{1000, 1 << 20, 1 << 16, 60s};
}

// Size of an entry in namespace "ns" under a two-character key.
std::size_t sizeOf(std::size_t valueBytes)
{
    return ResponseCache::entrySizeBytes("ns", "k0", valueBytes);
}

QStringList liveKeys(ResponseCache &cache, const QStringList &candidates)
{
    QStringList live;
    for (const QString &key : candidates) {
        if (cache.get("ns", key.toStdString()))
            live << key;
    }
    return live;
}

void verifyStatsAddUp(const CacheStats &stats)
{
    QCOMPARE(stats.entries, stats.insertions - stats.replacements - stats.evictions - stats.expirations - stats.removed);
}

} // namespace

class TestResponseCache : public QObject {
    Q_OBJECT
private slots:
    void hitReturnsTheStoredValueWithoutCopy()
    {
        ManualClock clock;
        ResponseCache cache(roomyLimits(), clock);
        const CacheValue stored = valueOf(100);
        QVERIFY(cache.put("ns", "k", stored));
        const CacheValue hit = cache.get("ns", "k");
        QCOMPARE(hit.get(), stored.get());
        QVERIFY(!cache.get("ns", "other"));
        QVERIFY(!cache.get("other", "k"));
        const CacheStats stats = cache.stats();
        QCOMPARE(stats.hits, 1u);
        QCOMPARE(stats.misses, 2u);
        QCOMPARE(stats.entries, 1u);
        QCOMPARE(stats.sizeBytes, ResponseCache::entrySizeBytes("ns", "k", 100));
    }

    void expiresAtExactlyTheConfiguredMoment_data()
    {
        QTest::addColumn<std::optional<Nanoseconds>>("ttl");
        QTest::addColumn<Nanoseconds>("expectedLifetime");
        QTest::newRow("default ttl") << std::optional<Nanoseconds>() << Nanoseconds(60s);
        QTest::newRow("explicit 1 ns") << std::optional<Nanoseconds>(1ns) << Nanoseconds(1ns);
        QTest::newRow("explicit 5 s") << std::optional<Nanoseconds>(5s) << Nanoseconds(5s);
        QTest::newRow("explicit 1 day") << std::optional<Nanoseconds>(24h) << Nanoseconds(24h);
    }

    void expiresAtExactlyTheConfiguredMoment()
    {
        QFETCH(std::optional<Nanoseconds>, ttl);
        QFETCH(Nanoseconds, expectedLifetime);
        ManualClock clock(1h);
        ResponseCache cache(roomyLimits(), clock);
        QVERIFY(cache.put("ns", "k", valueOf(10), ttl));
        clock.advance(expectedLifetime - 1ns);
        QVERIFY(cache.get("ns", "k"));
        clock.advance(1ns);
        QVERIFY(!cache.get("ns", "k"));
        const CacheStats stats = cache.stats();
        QCOMPARE(stats.hits, 1u);
        QCOMPARE(stats.misses, 1u);
        QCOMPARE(stats.expirations, 1u);
        QCOMPARE(stats.entries, 0u);
        QCOMPARE(stats.sizeBytes, 0u);
        verifyStatsAddUp(stats);
    }

    void hugeTtlDoesNotOverflow()
    {
        ManualClock clock(1h);
        ResponseCache cache(roomyLimits(), clock);
        QVERIFY(cache.put("ns", "k", valueOf(1), Nanoseconds::max()));
        clock.advance(24h * 365 * 100);
        QVERIFY(cache.get("ns", "k"));
    }

    void nonPositiveTtlIsNotCached_data()
    {
        QTest::addColumn<std::optional<Nanoseconds>>("ttl");
        QTest::addColumn<Nanoseconds>("defaultTtl");
        QTest::newRow("explicit 0") << std::optional<Nanoseconds>(0ns) << Nanoseconds(60s);
        QTest::newRow("explicit negative") << std::optional<Nanoseconds>(-1s) << Nanoseconds(60s);
        QTest::newRow("default 0") << std::optional<Nanoseconds>() << Nanoseconds(0ns);
    }

    void nonPositiveTtlIsNotCached()
    {
        QFETCH(std::optional<Nanoseconds>, ttl);
        QFETCH(Nanoseconds, defaultTtl);
        ManualClock clock;
        CacheLimits limits = roomyLimits();
        limits.defaultTtl = defaultTtl;
        ResponseCache cache(limits, clock);
        QVERIFY(!cache.put("ns", "k", valueOf(10), ttl));
        QVERIFY(!cache.get("ns", "k"));
        QCOMPARE(cache.stats().rejected, 1u);
        QCOMPARE(cache.stats().insertions, 0u);
        QCOMPARE(cache.stats().entries, 0u);
    }

    void nullValueIsRejected()
    {
        ManualClock clock;
        ResponseCache cache(roomyLimits(), clock);
        QVERIFY(!cache.put("ns", "k", nullptr));
        QCOMPARE(cache.stats().rejected, 1u);
        QCOMPARE(cache.stats().entries, 0u);
    }

    void lruEvictionByEntryCount_data()
    {
        QTest::addColumn<QStringList>("operations");
        QTest::addColumn<QStringList>("expectedLive");
        QTest::addColumn<int>("expectedEvictions");
        // maxEntries is 3 in every row.
        QTest::newRow("fits") << QStringList{"put a", "put b", "put c"} << QStringList{"a", "b", "c"} << 0;
        QTest::newRow("oldest goes") << QStringList{"put a", "put b", "put c", "put d"} << QStringList{"b", "c", "d"} << 1;
        QTest::newRow("get refreshes") << QStringList{"put a", "put b", "put c", "get a", "put d"}
                                       << QStringList{"a", "c", "d"} << 1;
        QTest::newRow("replace refreshes") << QStringList{"put a", "put b", "put c", "put a", "put d", "put e"}
                                           << QStringList{"a", "d", "e"} << 2;
        QTest::newRow("miss does not refresh") << QStringList{"put a", "put b", "put c", "get z", "put d"}
                                               << QStringList{"b", "c", "d"} << 1;
        QTest::newRow("churn") << QStringList{"put a", "put b", "put c", "put d", "put e", "put f", "put g"}
                               << QStringList{"e", "f", "g"} << 4;
    }

    void lruEvictionByEntryCount()
    {
        QFETCH(QStringList, operations);
        QFETCH(QStringList, expectedLive);
        QFETCH(int, expectedEvictions);
        ManualClock clock;
        CacheLimits limits = roomyLimits();
        limits.maxEntries = 3;
        ResponseCache cache(limits, clock);
        for (const QString &operation : operations) {
            const std::string key = operation.section(' ', 1).toStdString();
            if (operation.startsWith("put"))
                QVERIFY(cache.put("ns", key, valueOf(8)));
            else
                cache.get("ns", key);
        }
        QCOMPARE(cache.stats().evictions, std::uint64_t(expectedEvictions));
        QCOMPARE(cache.stats().entries, std::size_t(expectedLive.size()));
        QCOMPARE(liveKeys(cache, {"a", "b", "c", "d", "e", "f", "g"}), expectedLive);
        verifyStatsAddUp(cache.stats());
    }

    void lruEvictionByBytes_data()
    {
        QTest::addColumn<QList<int>>("valueSizes");   // put as k0, k1, ... in order
        QTest::addColumn<qulonglong>("maxBytes");
        QTest::addColumn<QStringList>("expectedLive");
        QTest::newRow("exactly full") << QList<int>{100, 200, 300} << qulonglong(sizeOf(100) + sizeOf(200) + sizeOf(300))
                                      << QStringList{"k0", "k1", "k2"};
        QTest::newRow("one byte short") << QList<int>{100, 200, 300}
                                        << qulonglong(sizeOf(100) + sizeOf(200) + sizeOf(300) - 1)
                                        << QStringList{"k1", "k2"};
        QTest::newRow("big newcomer evicts several") << QList<int>{10, 10, 10, 1000}
                                                     << qulonglong(sizeOf(10) + sizeOf(1000))
                                                     << QStringList{"k2", "k3"};
        QTest::newRow("newcomer fills everything") << QList<int>{10, 10, 10, 1000} << qulonglong(sizeOf(1000))
                                                   << QStringList{"k3"};
        QTest::newRow("small ones after a big one") << QList<int>{1000, 10, 10}
                                                    << qulonglong(sizeOf(1000) + sizeOf(10))
                                                    << QStringList{"k1", "k2"};
    }

    void lruEvictionByBytes()
    {
        QFETCH(QList<int>, valueSizes);
        QFETCH(qulonglong, maxBytes);
        QFETCH(QStringList, expectedLive);
        ManualClock clock;
        CacheLimits limits = roomyLimits();
        limits.maxBytes = maxBytes;
        ResponseCache cache(limits, clock);
        QStringList keys;
        for (int index = 0; index < valueSizes.size(); ++index) {
            keys << QString("k%1").arg(index);
            QVERIFY(cache.put("ns", keys.last().toStdString(), valueOf(std::size_t(valueSizes[index]))));
            QVERIFY(cache.stats().sizeBytes <= maxBytes);
        }
        const CacheStats stats = cache.stats();
        QCOMPARE(stats.evictions, std::uint64_t(valueSizes.size() - expectedLive.size()));
        std::size_t expectedBytes = 0;
        for (const QString &key : expectedLive)
            expectedBytes += sizeOf(std::size_t(valueSizes[key.mid(1).toInt()]));
        QCOMPARE(stats.sizeBytes, expectedBytes);
        QCOMPARE(liveKeys(cache, keys), expectedLive);
    }

    void maxEntryBytesRejection_data()
    {
        QTest::addColumn<qulonglong>("valueBytes");
        QTest::addColumn<bool>("accepted");
        // maxEntryBytes = sizeOf(1000), maxBytes = sizeOf(5000).
        QTest::newRow("empty") << qulonglong(0) << true;
        QTest::newRow("exactly the bound") << qulonglong(1000) << true;
        QTest::newRow("one byte over") << qulonglong(1001) << false;
        QTest::newRow("far over") << qulonglong(100000) << false;
    }

    void maxEntryBytesRejection()
    {
        QFETCH(qulonglong, valueBytes);
        QFETCH(bool, accepted);
        ManualClock clock;
        ResponseCache cache(CacheLimits{100, sizeOf(5000), sizeOf(1000), 60s}, clock);
        QVERIFY(cache.put("ns", "k0", valueOf(1)));
        QCOMPARE(cache.put("ns", "k1", valueOf(valueBytes)), accepted);
        QCOMPARE(bool(cache.get("ns", "k1")), accepted);
        QCOMPARE(cache.stats().rejected, accepted ? 0u : 1u);
        QVERIFY(cache.get("ns", "k0")); // a rejected put evicts nothing
    }

    void entryLargerThanMaxBytesIsRejected()
    {
        ManualClock clock;
        ResponseCache cache(CacheLimits{100, sizeOf(500), sizeOf(1000), 60s}, clock);
        QVERIFY(cache.put("ns", "k0", valueOf(10)));
        QVERIFY(!cache.put("ns", "k1", valueOf(600)));
        QVERIFY(cache.get("ns", "k0"));
        QCOMPARE(cache.stats().rejected, 1u);
        QCOMPARE(cache.stats().evictions, 0u);
    }

    void rejectedPutKeepsTheOlderEntry()
    {
        ManualClock clock;
        ResponseCache cache(CacheLimits{100, 1 << 20, sizeOf(100), 60s}, clock);
        const CacheValue original = valueOf(10, 'a');
        QVERIFY(cache.put("ns", "k0", original));
        QVERIFY(!cache.put("ns", "k0", valueOf(200, 'b')));
        QVERIFY(!cache.put("ns", "k0", valueOf(10, 'c'), 0s));
        QCOMPARE(cache.get("ns", "k0").get(), original.get());
    }

    void replacingAKeyUpdatesBytesAndExpiry()
    {
        ManualClock clock;
        ResponseCache cache(roomyLimits(), clock);
        QVERIFY(cache.put("ns", "k0", valueOf(10), 10s));
        QVERIFY(cache.put("ns", "k1", valueOf(20), 10s));
        QCOMPARE(cache.stats().sizeBytes, sizeOf(10) + sizeOf(20));
        clock.advance(5s);
        QVERIFY(cache.put("ns", "k0", valueOf(300, 'n'), 10s));
        CacheStats stats = cache.stats();
        QCOMPARE(stats.entries, 2u);
        QCOMPARE(stats.sizeBytes, sizeOf(300) + sizeOf(20));
        QCOMPARE(stats.replacements, 1u);
        QCOMPARE(stats.insertions, 3u);
        QCOMPARE(cache.namespaceUsage("ns").sizeBytes, sizeOf(300) + sizeOf(20));
        QCOMPARE(*cache.get("ns", "k0"), std::string(300, 'n'));
        clock.advance(5s); // k1 (put at 0 s) expires, the replaced k0 (put at 5 s) lives on
        QVERIFY(!cache.get("ns", "k1"));
        QVERIFY(cache.get("ns", "k0"));
        QVERIFY(cache.put("ns", "k0", valueOf(1)));
        QCOMPARE(cache.stats().sizeBytes, sizeOf(1));
        verifyStatsAddUp(cache.stats());
    }

    void namespacesAreIndependentAndFlushOnlyOne()
    {
        ManualClock clock;
        ResponseCache cache(roomyLimits(), clock);
        for (int index = 0; index < 5; ++index)
            QVERIFY(cache.put("tenant-a", "k" + std::to_string(index), valueOf(10, 'a')));
        for (int index = 0; index < 3; ++index)
            QVERIFY(cache.put("tenant-b", "k" + std::to_string(index), valueOf(20, 'b')));
        QCOMPARE(*cache.get("tenant-a", "k0"), std::string(10, 'a'));
        QCOMPARE(*cache.get("tenant-b", "k0"), std::string(20, 'b'));
        QCOMPARE(cache.namespaceUsage("tenant-a").entries, 5u);
        QCOMPARE(cache.namespaceUsage("tenant-b").entries, 3u);
        QCOMPARE(cache.namespaceUsage("tenant-b").sizeBytes, 3 * ResponseCache::entrySizeBytes("tenant-b", "k0", 20));
        auto names = cache.namespaces();
        std::sort(names.begin(), names.end());
        QCOMPARE(names, (std::vector<std::string>{"tenant-a", "tenant-b"}));

        QCOMPARE(cache.flush("tenant-a"), 5u);
        QCOMPARE(cache.flush("tenant-a"), 0u);
        QCOMPARE(cache.flush("nobody"), 0u);
        QVERIFY(!cache.get("tenant-a", "k1"));
        QVERIFY(cache.get("tenant-b", "k1"));
        QCOMPARE(cache.namespaceUsage("tenant-a").entries, 0u);
        QCOMPARE(cache.namespaces(), std::vector<std::string>{"tenant-b"});
        const CacheStats stats = cache.stats();
        QCOMPARE(stats.entries, 3u);
        QCOMPARE(stats.sizeBytes, cache.namespaceUsage("tenant-b").sizeBytes);
        QCOMPARE(stats.removed, 5u);

        QVERIFY(cache.put("tenant-a", "k9", valueOf(1)));
        QCOMPARE(cache.flushAll(), 4u);
        QCOMPARE(cache.stats().entries, 0u);
        QCOMPARE(cache.stats().sizeBytes, 0u);
        QVERIFY(cache.namespaces().empty());
        verifyStatsAddUp(cache.stats());
    }

    void eraseRemovesOneEntry()
    {
        ManualClock clock;
        ResponseCache cache(roomyLimits(), clock);
        QVERIFY(cache.put("ns", "k0", valueOf(1)));
        QVERIFY(cache.put("ns", "k1", valueOf(1)));
        QVERIFY(cache.erase("ns", "k0"));
        QVERIFY(!cache.erase("ns", "k0"));
        QVERIFY(!cache.get("ns", "k0"));
        QVERIFY(cache.get("ns", "k1"));
        QCOMPARE(cache.stats().removed, 1u);
    }

    void purgeExpiredSweepsOnlyExpired()
    {
        ManualClock clock;
        ResponseCache cache(roomyLimits(), clock);
        QVERIFY(cache.put("a", "short1", valueOf(1), 1s));
        QVERIFY(cache.put("b", "short2", valueOf(1), 2s));
        QVERIFY(cache.put("a", "long", valueOf(1), 10s));
        clock.advance(2s);
        QCOMPARE(cache.purgeExpired(), 2u);
        QCOMPARE(cache.purgeExpired(), 0u);
        const CacheStats stats = cache.stats();
        QCOMPARE(stats.expirations, 2u);
        QCOMPARE(stats.misses, 0u);
        QCOMPARE(stats.entries, 1u);
        QCOMPARE(cache.namespaces(), std::vector<std::string>{"a"});
        QVERIFY(cache.get("a", "long"));
    }

    void shrinkingLimitsEvictsAtOnce_data()
    {
        QTest::addColumn<qulonglong>("maxEntries");
        QTest::addColumn<qulonglong>("maxBytes");
        QTest::addColumn<qulonglong>("maxEntryBytes");
        QTest::addColumn<QStringList>("expectedLive");
        // Held before the change, least recently used first: k0 (10), k1 (500), k2 (10), k3 (10).
        const qulonglong all = sizeOf(10) * 3 + sizeOf(500);
        QTest::newRow("unchanged") << qulonglong(10) << all << qulonglong(sizeOf(1000))
                                   << QStringList{"k0", "k1", "k2", "k3"};
        QTest::newRow("entries 2") << qulonglong(2) << all << qulonglong(sizeOf(1000)) << QStringList{"k2", "k3"};
        QTest::newRow("entries 0") << qulonglong(0) << all << qulonglong(sizeOf(1000)) << QStringList{};
        QTest::newRow("bytes one short") << qulonglong(10) << all - 1 << qulonglong(sizeOf(1000))
                                         << QStringList{"k1", "k2", "k3"};
        QTest::newRow("bytes for three small") << qulonglong(10) << qulonglong(sizeOf(10) * 3)
                                               << qulonglong(sizeOf(1000)) << QStringList{"k2", "k3"};
        QTest::newRow("entry bytes") << qulonglong(10) << all << qulonglong(sizeOf(100))
                                     << QStringList{"k0", "k2", "k3"};
    }

    void shrinkingLimitsEvictsAtOnce()
    {
        QFETCH(qulonglong, maxEntries);
        QFETCH(qulonglong, maxBytes);
        QFETCH(qulonglong, maxEntryBytes);
        QFETCH(QStringList, expectedLive);
        ManualClock clock;
        ResponseCache cache(CacheLimits{10, 1 << 20, sizeOf(1000), 60s}, clock);
        const int sizes[] = {10, 500, 10, 10};
        for (int index = 0; index < 4; ++index)
            QVERIFY(cache.put("ns", "k" + std::to_string(index), valueOf(std::size_t(sizes[index]))));
        cache.setLimits(CacheLimits{maxEntries, maxBytes, maxEntryBytes, 60s});
        const CacheStats stats = cache.stats();
        // Counted before liveKeys() touches anything.
        QCOMPARE(stats.entries, std::size_t(expectedLive.size()));
        QCOMPARE(stats.evictions, std::uint64_t(4 - expectedLive.size()));
        QVERIFY(stats.sizeBytes <= maxBytes);
        QCOMPARE(liveKeys(cache, {"k0", "k1", "k2", "k3"}), expectedLive);
    }

    void newDefaultTtlAppliesToNewEntriesOnly()
    {
        ManualClock clock;
        ResponseCache cache(roomyLimits(), clock); // default 60 s
        QVERIFY(cache.put("ns", "old", valueOf(1)));
        CacheLimits limits = roomyLimits();
        limits.defaultTtl = 10s;
        cache.setLimits(limits);
        QCOMPARE(cache.limits(), limits);
        QVERIFY(cache.put("ns", "new", valueOf(1)));
        clock.advance(10s);
        QVERIFY(!cache.get("ns", "new"));
        QVERIFY(cache.get("ns", "old"));
        clock.advance(50s);
        QVERIFY(!cache.get("ns", "old"));
    }

    void statsAddUpUnderMixedLoad()
    {
        ManualClock clock;
        ResponseCache cache(CacheLimits{50, sizeOf(64) * 40, sizeOf(200), 3s}, clock);
        std::uint32_t random = 12345;
        auto next = [&random](std::uint32_t bound) {
            random = random * 1664525u + 1013904223u;
            return (random >> 8) % bound;
        };
        std::uint64_t gets = 0;
        for (int step = 0; step < 5000; ++step) {
            const std::string nameSpace = "ns" + std::to_string(next(3));
            const std::string key = "k" + std::to_string(next(120));
            switch (next(10)) {
            case 0:
                clock.advance(Nanoseconds(next(1000)) * 1'000'000);
                break;
            case 1:
                cache.erase(nameSpace, key);
                break;
            case 2:
                if (next(20) == 0)
                    cache.flush(nameSpace);
                else if (next(5) == 0)
                    cache.purgeExpired();
                break;
            case 3:
            case 4:
            case 5:
                cache.put(nameSpace, key, valueOf(next(250)), Nanoseconds(next(4000)) * 1'000'000);
                break;
            default:
                cache.get(nameSpace, key);
                ++gets;
                break;
            }
            const CacheStats stats = cache.stats();
            QVERIFY(stats.entries <= 50);
            QVERIFY(stats.sizeBytes <= sizeOf(64) * 40);
        }
        const CacheStats stats = cache.stats();
        verifyStatsAddUp(stats);
        QCOMPARE(stats.hits + stats.misses, gets);
        QVERIFY(stats.hits > 0);
        QVERIFY(stats.evictions > 0);
        QVERIFY(stats.expirations > 0);
        QVERIFY(stats.rejected > 0);
        std::size_t entries = 0;
        std::size_t sizeBytes = 0;
        for (const std::string &name : cache.namespaces()) {
            entries += cache.namespaceUsage(name).entries;
            sizeBytes += cache.namespaceUsage(name).sizeBytes;
        }
        QCOMPARE(entries, stats.entries);
        QCOMPARE(sizeBytes, stats.sizeBytes);
        QCOMPARE(cache.flushAll(), stats.entries);
    }
};

QTEST_APPLESS_MAIN(TestResponseCache)
#include "tst_responsecache.moc"
