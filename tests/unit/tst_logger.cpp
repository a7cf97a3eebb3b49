#include <QDateTime>
#include <QTest>

#include <cstdint>
#include <cstdio>
#include <limits>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gateway/logger.h"

using sluice::gateway::LogLevel;
using sluice::gateway::Logger;

namespace {

// 2026-11-23T10:04:05.123Z
constexpr std::int64_t kSomeTimeMs = 1795428245123;

QByteArray line(std::initializer_list<sluice::gateway::LogField> fields)
{
    return QByteArray::fromStdString(Logger::formatLine(kSomeTimeMs, LogLevel::Info, "e", fields));
}

// Lines written to a FILE*, read back whole.
QByteArray readAll(std::FILE *file)
{
    std::fflush(file);
    std::rewind(file);
    QByteArray content;
    char buffer[4096];
    std::size_t read = 0;
    while ((read = std::fread(buffer, 1, sizeof buffer, file)) > 0)
        content.append(buffer, static_cast<qsizetype>(read));
    return content;
}

struct Collected {
    std::mutex mutex;
    std::vector<std::string> lines;
    Logger::LineSink sink()
    {
        return [this](std::string_view line) {
            std::lock_guard lock(mutex);
            lines.emplace_back(line);
        };
    }
};

} // namespace

class TestLogger : public QObject {
    Q_OBJECT
private slots:
    void formatsOneEvent()
    {
        const QString model = QStringLiteral("gpt-4o");
        const std::string line = Logger::formatLine(kSomeTimeMs, LogLevel::Info, "request_done",
                                                    {{"request_id", "abc"},
                                                     {"model", model},
                                                     {"status", 200},
                                                     {"duration_ms", 12.5},
                                                     {"msg", "served from cache"}});
        QCOMPARE(QByteArray::fromStdString(line),
                 QByteArray("ts=2026-11-23T10:04:05.123Z level=info event=request_done request_id=abc "
                            "model=gpt-4o status=200 duration_ms=12.5 msg=\"served from cache\""));
    }

    void levelNames_data()
    {
        QTest::addColumn<int>("level");
        QTest::addColumn<QByteArray>("name");
        QTest::newRow("debug") << int(LogLevel::Debug) << QByteArray("debug");
        QTest::newRow("info") << int(LogLevel::Info) << QByteArray("info");
        QTest::newRow("warn") << int(LogLevel::Warn) << QByteArray("warn");
        QTest::newRow("error") << int(LogLevel::Error) << QByteArray("error");
    }

    void levelNames()
    {
        QFETCH(int, level);
        QFETCH(QByteArray, name);
        const std::string line = Logger::formatLine(0, static_cast<LogLevel>(level), "x", {});
        QCOMPARE(QByteArray::fromStdString(line), "ts=1970-01-01T00:00:00.000Z level=" + name + " event=x");
    }

    void timestamps_data()
    {
        QTest::addColumn<qint64>("unixMilliseconds");
        QTest::addColumn<QByteArray>("text");
        QTest::newRow("epoch") << qint64(0) << QByteArray("1970-01-01T00:00:00.000Z");
        QTest::newRow("leap day") << qint64(951782400999) << QByteArray("2000-02-29T00:00:00.999Z");
        QTest::newRow("brief example") << qint64(kSomeTimeMs) << QByteArray("2026-11-23T10:04:05.123Z");
        QTest::newRow("before epoch") << qint64(-500) << QByteArray("1969-12-31T23:59:59.500Z");
        QTest::newRow("millis padded") << qint64(1000 * 3600 + 7) << QByteArray("1970-01-01T01:00:00.007Z");
    }

    void timestamps()
    {
        QFETCH(qint64, unixMilliseconds);
        QFETCH(QByteArray, text);
        QCOMPARE(QByteArray::fromStdString(sluice::gateway::formatLogTimestamp(unixMilliseconds)), text);
    }

    // The same escaping for UTF-8 and UTF-16 input.
    void escapesText_data()
    {
        QTest::addColumn<QByteArray>("value");
        QTest::addColumn<QByteArray>("written");
        QTest::newRow("bare") << QByteArray("abc-1.2:/x") << QByteArray("abc-1.2:/x");
        QTest::newRow("empty") << QByteArray("") << QByteArray("\"\"");
        QTest::newRow("space") << QByteArray("a b") << QByteArray("\"a b\"");
        QTest::newRow("equals") << QByteArray("a=b") << QByteArray("\"a=b\"");
        QTest::newRow("quote") << QByteArray("say \"hi\"") << QByteArray("\"say \\\"hi\\\"\"");
        QTest::newRow("backslash") << QByteArray("C:\\tmp") << QByteArray("\"C:\\\\tmp\"");
        QTest::newRow("newline") << QByteArray("one\ntwo") << QByteArray("\"one\\ntwo\"");
        QTest::newRow("carriage return, tab") << QByteArray("a\r\tb") << QByteArray("\"a\\r\\tb\"");
        QTest::newRow("other control") << QByteArray("a\x01\x7f" "b") << QByteArray("\"a\\u0001\\u007fb\"");
        QTest::newRow("non-ASCII stays bare")
            << QByteArray("gr\xc3\xb6\xc3\x9f" "e") << QByteArray("gr\xc3\xb6\xc3\x9f" "e");
    }

    void escapesText()
    {
        QFETCH(QByteArray, value);
        QFETCH(QByteArray, written);
        QCOMPARE(line({{"k", value}}), "ts=2026-11-23T10:04:05.123Z level=info event=e k=" + written);
        const QString utf16 = QString::fromUtf8(value);
        QCOMPARE(line({{"k", utf16}}), "ts=2026-11-23T10:04:05.123Z level=info event=e k=" + written);
        QCOMPARE(line({{"k", QStringView(utf16)}}), "ts=2026-11-23T10:04:05.123Z level=info event=e k=" + written);
        const std::string stdString = value.toStdString();
        QCOMPARE(line({{"k", stdString}}), "ts=2026-11-23T10:04:05.123Z level=info event=e k=" + written);
    }

    void illFormedUtf8IsReplaced()
    {
        // 0xff can never start a UTF-8 sequence; U+FFFD is EF BF BD.
        QCOMPARE(line({{"k", QByteArray("a\xff" "b")}}),
                 QByteArray("ts=2026-11-23T10:04:05.123Z level=info event=e k=a\xef\xbf\xbd" "b"));
    }

    void eventIsEscapedToo()
    {
        const std::string text = Logger::formatLine(0, LogLevel::Warn, "bad event\nname", {});
        QCOMPARE(QByteArray::fromStdString(text),
                 QByteArray("ts=1970-01-01T00:00:00.000Z level=warn event=\"bad event\\nname\""));
    }

    void keysAreSanitised()
    {
        QCOMPARE(line({{"a key=\"x\"\n", 1}, {"", 2}, {"snake_case.ok", 3}}),
                 QByteArray("ts=2026-11-23T10:04:05.123Z level=info event=e a_key__x__=1 _=2 snake_case.ok=3"));
    }

    void formatsNumbersAndBools()
    {
        const char *null = nullptr;
        QCOMPARE(line({{"i", -42},
                       {"i64", std::numeric_limits<std::int64_t>::min()},
                       {"u64", std::numeric_limits<std::uint64_t>::max()},
                       {"size", std::size_t{7}},
                       {"sum", 0.1 + 0.2},
                       {"small", 1e-7},
                       {"whole", 200.0},
                       {"f", 2.5f},
                       {"nan", std::numeric_limits<double>::quiet_NaN()},
                       {"inf", std::numeric_limits<double>::infinity()},
                       {"ninf", -std::numeric_limits<double>::infinity()},
                       {"yes", true},
                       {"no", false},
                       {"null", null}}),
                 QByteArray("ts=2026-11-23T10:04:05.123Z level=info event=e i=-42 i64=-9223372036854775808 "
                            "u64=18446744073709551615 size=7 sum=0.3 small=1e-07 whole=200 f=2.5 nan=NaN "
                            "inf=+Inf ninf=-Inf yes=true no=false null=\"\""));
    }

    void levelFiltersLive()
    {
        Collected collected;
        Logger logger(collected.sink(), LogLevel::Warn, [] { return std::int64_t{0}; });
        QCOMPARE(logger.level(), LogLevel::Warn);
        QVERIFY(!logger.isEnabled(LogLevel::Info));
        QVERIFY(logger.isEnabled(LogLevel::Error));
        logger.debug("d1");
        logger.info("i1");
        logger.warn("w1", {{"n", 1}});
        logger.error("e1");
        logger.setLevel(LogLevel::Debug);
        QVERIFY(logger.isEnabled(LogLevel::Debug));
        logger.debug("d2");
        logger.log(LogLevel::Info, "i2");
        logger.setLevel(LogLevel::Error);
        logger.warn("w2");
        logger.error("e2");

        const std::vector<std::string> expected{
            "ts=1970-01-01T00:00:00.000Z level=warn event=w1 n=1",
            "ts=1970-01-01T00:00:00.000Z level=error event=e1",
            "ts=1970-01-01T00:00:00.000Z level=debug event=d2",
            "ts=1970-01-01T00:00:00.000Z level=info event=i2",
            "ts=1970-01-01T00:00:00.000Z level=error event=e2",
        };
        QCOMPARE(collected.lines, expected);
    }

    void usesTheWallClock()
    {
        Collected collected;
        std::int64_t now = kSomeTimeMs;
        Logger logger(collected.sink(), LogLevel::Info, [&now] { return now; });
        logger.info("a");
        now += 1001;
        logger.info("b");
        QCOMPARE(collected.lines.size(), std::size_t{2});
        QCOMPARE(QByteArray::fromStdString(collected.lines[0]),
                 QByteArray("ts=2026-11-23T10:04:05.123Z level=info event=a"));
        QCOMPARE(QByteArray::fromStdString(collected.lines[1]),
                 QByteArray("ts=2026-11-23T10:04:06.124Z level=info event=b"));
    }

    void systemClockIsNow()
    {
        Collected collected;
        Logger logger(collected.sink());
        const QDateTime before = QDateTime::currentDateTimeUtc().addSecs(-1);
        logger.info("now");
        const QDateTime after = QDateTime::currentDateTimeUtc().addSecs(1);
        QCOMPARE(collected.lines.size(), std::size_t{1});
        const QByteArray text = QByteArray::fromStdString(collected.lines[0]);
        QVERIFY(text.startsWith("ts="));
        const QDateTime logged = QDateTime::fromString(QString::fromLatin1(text.mid(3, 24)), Qt::ISODateWithMs);
        QVERIFY2(logged.isValid(), text.constData());
        QVERIFY(logged >= before && logged <= after);
    }

    void writesWholeLinesToAFile()
    {
        std::FILE *file = std::tmpfile();
        QVERIFY(file != nullptr);
        {
            Logger logger(file, LogLevel::Info, [] { return std::int64_t{0}; });
            logger.info("first", {{"text", "line one\nline two\r\n"}});
            logger.debug("hidden");
            logger.error("second");
        }
        const QByteArray content = readAll(file);
        std::fclose(file);
        QCOMPARE(content, QByteArray("ts=1970-01-01T00:00:00.000Z level=info event=first "
                                     "text=\"line one\\nline two\\r\\n\"\n"
                                     "ts=1970-01-01T00:00:00.000Z level=error event=second\n"));
    }

    void nullFileDiscards()
    {
        Logger logger(static_cast<std::FILE *>(nullptr));
        logger.error("nowhere", {{"n", 1}}); // must not crash
        QVERIFY(logger.isEnabled(LogLevel::Error));
    }

    // Several threads at once: every line arrives whole, exactly once.
    void concurrentWritersGiveWholeLines()
    {
        constexpr int kThreads = 6;
        constexpr int kLinesPerThread = 400;
        std::FILE *file = std::tmpfile();
        QVERIFY(file != nullptr);
        Collected collected;
        {
            Logger toFile(file, LogLevel::Info);
            Logger toSink(collected.sink(), LogLevel::Info);
            const QString padding(300, QLatin1Char('x')); // long lines make tearing likely
            std::vector<std::thread> threads;
            for (int thread = 0; thread < kThreads; ++thread) {
                threads.emplace_back([&, thread] {
                    for (int seq = 0; seq < kLinesPerThread; ++seq) {
                        toFile.info("tick", {{"thread", thread}, {"seq", seq}, {"pad", padding}, {"end", "yes"}});
                        toSink.info("tick", {{"thread", thread}, {"seq", seq}, {"pad", padding}, {"end", "yes"}});
                    }
                });
            }
            for (std::thread &thread : threads)
                thread.join();
        }
        QByteArray content = readAll(file);
        std::fclose(file);
        QVERIFY(content.endsWith('\n'));
        content.chop(1);
        const QList<QByteArray> fileLines = content.split('\n');
        QCOMPARE(fileLines.size(), kThreads * kLinesPerThread);
        QCOMPARE(collected.lines.size(), std::size_t(kThreads * kLinesPerThread));

        const QByteArray tail = " pad=" + QByteArray(300, 'x') + " end=yes";
        const auto check = [&](const QList<QByteArray> &lines) {
            std::set<std::pair<int, int>> seen;
            for (const QByteArray &text : lines) {
                if (!text.startsWith("ts=") || !text.endsWith(tail) || text.count("ts=") != 1)
                    return false;
                const qsizetype threadAt = text.indexOf(" thread=");
                const qsizetype seqAt = text.indexOf(" seq=");
                if (threadAt < 0 || seqAt < 0)
                    return false;
                const int thread = text.mid(threadAt + 8, seqAt - threadAt - 8).toInt();
                const int seq = text.mid(seqAt + 5, text.indexOf(' ', seqAt + 1) - seqAt - 5).toInt();
                if (!seen.insert({thread, seq}).second)
                    return false;
            }
            return seen.size() == std::size_t(kThreads * kLinesPerThread);
        };
        QVERIFY(check(fileLines));
        QList<QByteArray> sinkLines;
        for (const std::string &text : collected.lines)
            sinkLines.append(QByteArray::fromStdString(text));
        QVERIFY(check(sinkLines));
    }

    void secretHeaders_data()
    {
        QTest::addColumn<QByteArray>("name");
        QTest::addColumn<bool>("secret");
        QTest::newRow("authorization") << QByteArray("authorization") << true;
        QTest::newRow("Authorization") << QByteArray("Authorization") << true;
        QTest::newRow("X-API-Key") << QByteArray("X-API-Key") << true;
        QTest::newRow("api-key (Azure)") << QByteArray("api-key") << true;
        QTest::newRow("proxy-authorization") << QByteArray("Proxy-Authorization") << true;
        QTest::newRow("x-goog-api-key") << QByteArray("x-goog-api-key") << true;
        QTest::newRow("cookie") << QByteArray("Cookie") << true;
        QTest::newRow("content-type") << QByteArray("content-type") << false;
        QTest::newRow("x-request-id") << QByteArray("x-request-id") << false;
        QTest::newRow("prefix only") << QByteArray("authorizatio") << false;
        QTest::newRow("longer") << QByteArray("authorization2") << false;
        QTest::newRow("empty") << QByteArray() << false;
    }

    void secretHeaders()
    {
        QFETCH(QByteArray, name);
        QFETCH(bool, secret);
        QCOMPARE(sluice::gateway::isSecretHeader(name), secret);
    }
};

QTEST_GUILESS_MAIN(TestLogger)
#include "tst_logger.moc"
