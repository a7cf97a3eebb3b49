#include <QTest>

#include "gateway/chatrequestparser.h"
#include "gateway/tokenestimate.h"

using namespace sluice::gateway;

Q_DECLARE_METATYPE(ProviderKind)

class TestTokenEstimate : public QObject {
    Q_OBJECT
private slots:
    void estimates_data()
    {
        QTest::addColumn<ProviderKind>("kind");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<qint64>("input");
        QTest::addColumn<qint64>("reservation");

        // 3 per request + 4 per message + ceil(bytes / 4).
        QTest::newRow("one short message, default output")
            << ProviderKind::OpenAI << QByteArray(R"({"model":"m","messages":[{"role":"user","content":"Hello"}]})")
            << qint64(3 + 4 + 2) << qint64(9 + TokenEstimateRules::defaultMaxOutputTokens);
        QTest::newRow("two messages, max_tokens")
            << ProviderKind::OpenAI
            << QByteArray(R"({"model":"m","max_tokens":100,"messages":[{"role":"system","content":"12345678"},
                {"role":"user","content":"123456789"}]})")
            << qint64(3 + 4 + 2 + 4 + 3) << qint64(16 + 100);
        QTest::newRow("n multiplies the output")
            << ProviderKind::OpenAI
            << QByteArray(R"({"model":"m","n":3,"max_completion_tokens":10,"messages":[{"role":"user","content":"abcd"}]})")
            << qint64(3 + 4 + 1) << qint64(8 + 30);
        QTest::newRow("utf-8 bytes, not characters")
            << ProviderKind::OpenAI << QByteArray(R"({"model":"m","max_tokens":1,"messages":[{"role":"user","content":"日本語"}]})")
            << qint64(3 + 4 + 3) << qint64(10 + 1);
        QTest::newRow("attachment")
            << ProviderKind::OpenAI
            << QByteArray(R"({"model":"m","max_tokens":1,"messages":[{"role":"user","content":[
                {"type":"image_url","image_url":{"url":"data:..."}}]}]})")
            << qint64(3 + 4 + TokenEstimateRules::tokensPerAttachment) << qint64(1008);
        QTest::newRow("anthropic system counts as a message")
            << ProviderKind::Anthropic
            << QByteArray(R"({"model":"c","max_tokens":50,"system":"1234","messages":[{"role":"user","content":"12345"}]})")
            << qint64(3 + 4 + 1 + 4 + 2) << qint64(14 + 50);
        QTest::newRow("tools count")
            << ProviderKind::Anthropic
            << QByteArray(R"({"model":"c","max_tokens":50,"tools":[{"name":"abcdef"}],"messages":[{"role":"user","content":"1234"}]})")
            << qint64(3 + 5 + 4 + 1) << qint64(13 + 50); // [{"name":"abcdef"}] is 19 bytes
    }

    void estimates()
    {
        QFETCH(ProviderKind, kind);
        QFETCH(QByteArray, body);
        QFETCH(qint64, input);
        QFETCH(qint64, reservation);
        const auto request = parseChatRequest(kind, body);
        QVERIFY2(request.ok(), request.ok() ? "" : qPrintable(request.error().message));
        QCOMPARE(estimateInputTokens(*request), input);
        QCOMPARE(estimateReservationTokens(*request), reservation);
        QCOMPARE(reservedOutputTokens(*request), reservation - input);
    }

    void longerPromptsCostMore()
    {
        const auto shortRequest = parseChatRequest(
            ProviderKind::OpenAI, R"({"model":"m","messages":[{"role":"user","content":"Tell me a story."}]})");
        const QByteArray longText(4000, 'a');
        const auto longRequest = parseChatRequest(
            ProviderKind::OpenAI, R"({"model":"m","messages":[{"role":"user","content":")" + longText + R"("}]})");
        QVERIFY(shortRequest.ok() && longRequest.ok());
        QCOMPARE(estimateInputTokens(*longRequest), 3 + 4 + 1000);
        QVERIFY(estimateInputTokens(*longRequest) > estimateInputTokens(*shortRequest));
    }
};

QTEST_APPLESS_MAIN(TestTokenEstimate)
#include "tst_tokenestimate.moc"
