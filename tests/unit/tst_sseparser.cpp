#include <QTest>

#include "gateway/sseevent.h"
#include "gateway/sseparser.h"

using sluice::gateway::SseEvent;
using sluice::gateway::SseParser;
using sluice::gateway::formatSseEvent;

namespace {

const QByteArray anthropicStream =
    "event: message_start\n"
    "data: {\"type\":\"message_start\"}\n"
    "\n"
    "event: ping\n"
    "data: {\"type\": \"ping\"}\n"
    "\n"
    ": a comment line\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"delta\":{\"text\":\"Hi\"}}\n"
    "\n";

const QList<SseEvent> anthropicEvents = {
    {"message_start", R"({"type":"message_start"})"},
    {"ping", R"({"type": "ping"})"},
    {"content_block_delta", R"({"type":"content_block_delta","delta":{"text":"Hi"}})"},
};

QList<SseEvent> feedInPieces(SseParser &parser, const QByteArray &bytes, qsizetype pieceSize)
{
    QList<SseEvent> events;
    for (qsizetype i = 0; i < bytes.size(); i += pieceSize)
        events += parser.feed(QByteArrayView(bytes).sliced(i, std::min(pieceSize, bytes.size() - i)));
    return events;
}

} // namespace

class TestSseParser : public QObject {
    Q_OBJECT
private slots:
    void chunkings_data()
    {
        QTest::addColumn<QByteArray>("stream");
        QTest::addColumn<qsizetype>("pieceSize");
        QTest::addColumn<QList<SseEvent>>("expected");

        for (const qsizetype pieceSize : {qsizetype(1), qsizetype(2), qsizetype(3), qsizetype(7), qsizetype(64),
                                          qsizetype(100000)}) {
            QTest::addRow("LF, pieces of %lld", qlonglong(pieceSize)) << anthropicStream << pieceSize << anthropicEvents;
            QByteArray crlf = anthropicStream;
            crlf.replace("\n", "\r\n");
            QTest::addRow("CRLF, pieces of %lld", qlonglong(pieceSize)) << crlf << pieceSize << anthropicEvents;
            QByteArray cr = anthropicStream;
            cr.replace("\n", "\r");
            QTest::addRow("CR, pieces of %lld", qlonglong(pieceSize)) << cr << pieceSize << anthropicEvents;
        }
        const QByteArray openAI = "data: {\"choices\":[]}\n\ndata: [DONE]\n\n";
        const QList<SseEvent> openAIEvents = {{{}, R"({"choices":[]})"}, {{}, "[DONE]"}};
        QTest::newRow("openai, byte by byte") << openAI << qsizetype(1) << openAIEvents;
        QTest::newRow("mixed line endings") << QByteArray("event: a\r\ndata: 1\r\rdata: 2\n\r\n") << qsizetype(1)
                                            << QList<SseEvent>{{"a", "1"}, {{}, "2"}};
        QTest::newRow("multi-line data") << QByteArray("data: one\ndata:two\ndata:  three\n\n") << qsizetype(5)
                                         << QList<SseEvent>{{{}, "one\ntwo\n three"}};
        QTest::newRow("empty data is an event") << QByteArray("data\n\ndata:\n\n") << qsizetype(3)
                                                << QList<SseEvent>{{{}, ""}, {{}, ""}};
        QTest::newRow("event without data is not dispatched") << QByteArray("event: lonely\n\ndata: x\n\n")
                                                               << qsizetype(4) << QList<SseEvent>{{{}, "x"}};
        QTest::newRow("BOM skipped") << QByteArray("\xEF\xBB\xBF" "data: x\n\n") << qsizetype(1)
                                     << QList<SseEvent>{{{}, "x"}};
        QTest::newRow("id, retry and unknown fields ignored")
            << QByteArray("id: 7\nretry: 100\nfoo: bar\ndata: x\n\n") << qsizetype(2) << QList<SseEvent>{{{}, "x"}};
        QTest::newRow("garbage lines ignored")
            << QByteArray("\x01\x02garbage\xff\ndata: ok\n\n{not sse}\n\n\n\ndata: fine\n\n") << qsizetype(3)
            << QList<SseEvent>{{{}, "ok"}, {{}, "fine"}};
        QTest::newRow("incomplete last event withheld") << QByteArray("data: a\n\ndata: b\n") << qsizetype(2)
                                                        << QList<SseEvent>{{{}, "a"}};
    }

    void chunkings()
    {
        QFETCH(QByteArray, stream);
        QFETCH(qsizetype, pieceSize);
        QFETCH(QList<SseEvent>, expected);
        SseParser parser;
        QCOMPARE(feedInPieces(parser, stream, pieceSize), expected);
    }

    void everySplitPointGivesTheSameEvents()
    {
        QByteArray crlf = anthropicStream;
        crlf.replace("\n", "\r\n");
        for (qsizetype split = 0; split <= crlf.size(); ++split) {
            SseParser parser;
            QList<SseEvent> events = parser.feed(QByteArrayView(crlf).first(split));
            events += parser.feed(QByteArrayView(crlf).sliced(split));
            QCOMPARE(events, anthropicEvents);
            QVERIFY(!parser.hasPendingData());
        }
    }

    void pendingDataShowsATruncatedStream()
    {
        SseParser parser;
        QVERIFY(!parser.hasPendingData());
        parser.feed("data: {\"partial\":");
        QVERIFY(parser.hasPendingData());
        parser.feed("1}\n");
        QVERIFY(parser.hasPendingData());
        QCOMPARE(parser.feed("\n").size(), 1);
        QVERIFY(!parser.hasPendingData());
    }

    void oversizedEventIsDroppedAndParsingResumes()
    {
        SseParser parser(64);
        QCOMPARE(parser.maxPendingBytes(), 64);
        const QByteArray huge = "data: " + QByteArray(200, 'x') + "\ndata: more\n\n";
        QList<SseEvent> events = feedInPieces(parser, "data: small\n\n" + huge + "data: after\n\n", 10);
        QCOMPARE(events, (QList<SseEvent>{{{}, "small"}, {{}, "after"}}));
        QCOMPARE(parser.droppedEventCount(), 1);

        // Many data lines that are each small but add up past the bound.
        QByteArray manyLines;
        for (int i = 0; i < 50; ++i)
            manyLines += "data: 0123456789\n";
        events = parser.feed(manyLines + "\ndata: next\n\n");
        QCOMPARE(events, (QList<SseEvent>{{{}, "next"}}));
        QCOMPARE(parser.droppedEventCount(), 2);
    }

    void formatRoundTrips_data()
    {
        QTest::addColumn<SseEvent>("event");
        QTest::newRow("named") << SseEvent{"message_stop", R"({"type":"message_stop"})"};
        QTest::newRow("unnamed") << SseEvent{{}, "[DONE]"};
        QTest::newRow("multi-line") << SseEvent{"x", "a\n\nb\n"};
        QTest::newRow("empty") << SseEvent{{}, ""};
    }

    void formatRoundTrips()
    {
        QFETCH(SseEvent, event);
        SseParser parser;
        QCOMPARE(parser.feed(formatSseEvent(event)), QList<SseEvent>{event});
    }

    void formatMatchesTheWire()
    {
        QCOMPARE(formatSseEvent({"ping", R"({"type":"ping"})"}), QByteArray("event: ping\ndata: {\"type\":\"ping\"}\n\n"));
        QCOMPARE(formatSseEvent({{}, "[DONE]"}), QByteArray("data: [DONE]\n\n"));
    }
};

QTEST_APPLESS_MAIN(TestSseParser)
#include "tst_sseparser.moc"
