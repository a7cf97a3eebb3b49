#include <QTest>

#include <string>
#include <vector>

#include "policy/clock.h"
#include "policy/keyedstore.h"

using namespace std::chrono_literals;
using sluice::policy::KeyedLimits;
using sluice::policy::KeyedStore;
using sluice::policy::MonoTime;
using sluice::policy::Nanoseconds;

namespace {

// A state is busy when it holds a positive value.
struct PositiveIsBusy {
    bool operator()(int state, MonoTime) const { return state > 0; }
};

using Store = KeyedStore<int>;

QStringList oldestFirst(const Store &store)
{
    QStringList keys;
    store.forEachOldestFirst([&](std::string_view key, const Store::Entry &) {
        keys << QString::fromUtf8(key.data(), qsizetype(key.size()));
    });
    return keys;
}

} // namespace

class TestKeyedStore : public QObject {
    Q_OBJECT
private slots:
    void obtainCreatesOnceAndFindsWithoutCreating()
    {
        Store store(KeyedLimits{10, 1min});
        QVERIFY(!store.find("a"));
        store.obtain("a", MonoTime{0}).state = 7;
        QCOMPARE(store.obtain(std::string("a"), MonoTime{1s}).state, 7);
        QCOMPARE(store.size(), std::size_t(1));
        QVERIFY(store.find("a"));
        QCOMPARE(store.find("a")->state, 7);
        QCOMPARE(store.find("a")->lastUsed(), MonoTime{1s});
        QVERIFY(store.erase("a"));
        QVERIFY(!store.erase("a"));
        QCOMPARE(store.size(), std::size_t(0));
    }

    void idleExpiryAtTheConfiguredMoment_data()
    {
        QTest::addColumn<qint64>("idleNs");
        QTest::newRow("1 s") << qint64(Nanoseconds(1s).count());
        QTest::newRow("10 min") << qint64(Nanoseconds(10min).count());
        QTest::newRow("2 ns") << qint64(2);
    }

    void idleExpiryAtTheConfiguredMoment()
    {
        QFETCH(qint64, idleNs);
        const Nanoseconds idle(idleNs);
        Store store(KeyedLimits{10, idle});
        const MonoTime touched{5s};
        store.obtain("a", touched).state = 1;
        store.obtain("b", touched + 1ns).state = 1;

        QCOMPARE(store.purgeIdle(touched + idle - 1ns), std::size_t(0));
        QVERIFY(store.find("a"));
        QCOMPARE(store.counters().expirations, std::uint64_t(0));

        QCOMPARE(store.purgeIdle(touched + idle), std::size_t(1));
        QVERIFY(!store.find("a"));
        QVERIFY(store.find("b"));
        QCOMPARE(store.counters().expirations, std::uint64_t(1));
    }

    void lazyExpiryResetsOnAccess()
    {
        Store store(KeyedLimits{10, 10s});
        store.obtain("a", MonoTime{0}).state = 5;
        QCOMPARE(store.obtain("a", MonoTime{10s - 1ns}).state, 5);
        // The access above restarted the idle timer.
        QCOMPARE(store.obtain("a", MonoTime{20s - 2ns}).state, 5);
        QCOMPARE(store.counters().expirations, std::uint64_t(0));
        QCOMPARE(store.obtain("a", MonoTime{30s}).state, 0);
        QCOMPARE(store.counters().expirations, std::uint64_t(1));
        QCOMPARE(store.size(), std::size_t(1));
    }

    void insertsSweepIdleKeys()
    {
        Store store(KeyedLimits{10, 10s});
        store.obtain("a", MonoTime{0});
        store.obtain("b", MonoTime{1s});
        store.obtain("c", MonoTime{2s});
        store.obtain("d", MonoTime{11s});
        QCOMPARE(oldestFirst(store), QStringList({"c", "d"}));
        QCOMPARE(store.counters().expirations, std::uint64_t(2));
    }

    void evictsLeastRecentlyUsedAtMaxKeys()
    {
        Store store(KeyedLimits{3, 1h});
        store.obtain("a", MonoTime{1s});
        store.obtain("b", MonoTime{2s});
        store.obtain("c", MonoTime{3s});
        QCOMPARE(oldestFirst(store), QStringList({"a", "b", "c"}));
        store.obtain("a", MonoTime{4s});
        QCOMPARE(oldestFirst(store), QStringList({"b", "c", "a"}));

        store.obtain("d", MonoTime{5s});
        QCOMPARE(oldestFirst(store), QStringList({"c", "a", "d"}));
        store.obtain("e", MonoTime{6s});
        QCOMPARE(oldestFirst(store), QStringList({"a", "d", "e"}));
        QCOMPARE(store.size(), std::size_t(3));
        QCOMPARE(store.counters().evictions, std::uint64_t(2));
        QCOMPARE(store.counters().busyEvictions, std::uint64_t(0));
        QCOMPARE(store.counters().expirations, std::uint64_t(0));
    }

    void loweredMaxKeysEvictsOnNextInsert()
    {
        Store store(KeyedLimits{5, 1h});
        for (const char *key : {"a", "b", "c", "d", "e"})
            store.obtain(key, MonoTime{0});
        store.setLimits(KeyedLimits{2, 1h});
        QCOMPARE(store.size(), std::size_t(5));
        store.obtain("f", MonoTime{1s});
        QCOMPARE(oldestFirst(store), QStringList({"e", "f"}));
        QCOMPARE(store.counters().evictions, std::uint64_t(4));
    }

    void busyKeysAreEvictedLast()
    {
        Store store(KeyedLimits{3, 1h});
        store.obtain("a", MonoTime{1s}).state = 1;
        store.obtain("b", MonoTime{2s}).state = 0;
        store.obtain("c", MonoTime{3s}).state = 1;
        store.obtain("d", MonoTime{4s}, PositiveIsBusy{}).state = 1;
        QCOMPARE(oldestFirst(store), QStringList({"a", "c", "d"}));
        QCOMPARE(store.counters().evictions, std::uint64_t(1));
        QCOMPARE(store.counters().busyEvictions, std::uint64_t(0));

        // Every key busy: the oldest goes anyway, and that is counted.
        store.obtain("e", MonoTime{5s}, PositiveIsBusy{});
        QCOMPARE(oldestFirst(store), QStringList({"c", "d", "e"}));
        QCOMPARE(store.counters().evictions, std::uint64_t(2));
        QCOMPARE(store.counters().busyEvictions, std::uint64_t(1));
    }

    void busyKeysSurviveIdleExpiry()
    {
        Store store(KeyedLimits{10, 10s});
        store.obtain("busy", MonoTime{0}).state = 1;
        store.obtain("idle", MonoTime{0}).state = 0;
        QCOMPARE(store.purgeIdle(MonoTime{10s}, PositiveIsBusy{}), std::size_t(1));
        QVERIFY(store.find("busy"));
        QVERIFY(!store.find("idle"));
        // Its idle timer restarted at 10 s.
        QCOMPARE(store.find("busy")->lastUsed(), MonoTime{10s});
        QCOMPARE(store.obtain("busy", MonoTime{25s}, PositiveIsBusy{}).state, 1);

        store.find("busy")->state = 0;
        QCOMPARE(store.purgeIdle(MonoTime{35s}, PositiveIsBusy{}), std::size_t(1));
        QCOMPARE(store.size(), std::size_t(0));
        QCOMPARE(store.counters().expirations, std::uint64_t(2));
    }

    void pinnedKeysAreNeverEvictedNorExpired()
    {
        Store store(KeyedLimits{2, 10s});
        auto &a = store.obtain("a", MonoTime{0});
        store.pin(a);
        QVERIFY(a.isPinned());
        store.obtain("b", MonoTime{1s});
        store.obtain("c", MonoTime{2s});
        QVERIFY(store.find("a"));
        QVERIFY(!store.find("b"));
        QCOMPARE(oldestFirst(store), QStringList({"c"}));

        auto &c = store.obtain("c", MonoTime{3s});
        store.pin(c);
        // Every key pinned: the store grows past maxKeys and says so.
        store.obtain("d", MonoTime{4s});
        QCOMPARE(store.size(), std::size_t(3));
        QCOMPARE(store.counters().overflows, std::uint64_t(1));

        QCOMPARE(store.purgeIdle(MonoTime{1h}), std::size_t(1));
        QVERIFY(store.find("a"));
        QVERIFY(store.find("c"));

        store.unpin(*store.find("a"), MonoTime{1h});
        QVERIFY(!store.find("a")->isPinned());
        QCOMPARE(oldestFirst(store), QStringList({"a"}));
        QCOMPARE(store.purgeIdle(MonoTime{1h + 10s}), std::size_t(1));
        QVERIFY(!store.find("a"));
        QCOMPARE(store.size(), std::size_t(1));
    }

    void erasingAPinnedKeyKeepsOrderIntact()
    {
        Store store(KeyedLimits{10, 10s});
        store.obtain("a", MonoTime{0});
        store.pin(store.obtain("b", MonoTime{1s}));
        store.obtain("c", MonoTime{2s});
        QVERIFY(store.erase("b"));
        QVERIFY(store.erase("a"));
        QCOMPARE(oldestFirst(store), QStringList({"c"}));
        store.clear();
        QCOMPARE(store.size(), std::size_t(0));
        QCOMPARE(oldestFirst(store), QStringList());
    }
};

QTEST_APPLESS_MAIN(TestKeyedStore)
#include "tst_keyedstore.moc"
