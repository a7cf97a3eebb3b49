#include <QTest>

#include "gateway/cachekey.h"
#include "gateway/canonicaljson.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

using sluice::gateway::ProviderKind;
using sluice::gateway::cacheKey;
using sluice::gateway::canonicalJson;

Q_DECLARE_METATYPE(ProviderKind)

namespace {

QJsonObject object(const char *json)
{
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(json, &error);
    if (error.error != QJsonParseError::NoError)
        qFatal("bad test JSON: %s", qPrintable(error.errorString()));
    return document.object();
}

const char openAIBase[] = R"({"model":"gpt-4o","temperature":0.7,"stream":false,"user":"alice",
    "messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello"}]})";
const char anthropicBase[] = R"({"model":"claude","max_tokens":100,"metadata":{"user_id":"alice"},
    "system":[{"type":"text","text":"Be brief.","cache_control":{"type":"ephemeral"}}],
    "messages":[{"role":"user","content":"Hello"}]})";

} // namespace

class TestCacheKey : public QObject {
    Q_OBJECT
private slots:
    void keyIsHexSha256()
    {
        const QByteArray key = cacheKey(ProviderKind::OpenAI, object(openAIBase));
        QCOMPARE(key.size(), 64);
        for (const char c : key)
            QVERIFY((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    }

    void equivalentRequestsShareAKey_data()
    {
        QTest::addColumn<ProviderKind>("kind");
        QTest::addColumn<QByteArray>("base");
        QTest::addColumn<QByteArray>("variant");

        const auto openAI = ProviderKind::OpenAI;
        const auto anthropic = ProviderKind::Anthropic;
        QTest::newRow("keys reordered") << openAI << QByteArray(openAIBase)
                                        << QByteArray(R"({"messages":[{"content":"Be brief.","role":"system"},
                {"content":"Hello","role":"user"}],"user":"alice","stream":false,"temperature":0.7,"model":"gpt-4o"})");
        QTest::newRow("user changed") << openAI << QByteArray(openAIBase)
                                      << QByteArray(R"({"model":"gpt-4o","temperature":0.7,"stream":false,"user":"bob",
                "messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello"}]})");
        QTest::newRow("stream and stream_options") << openAI << QByteArray(openAIBase)
                                                   << QByteArray(R"({"model":"gpt-4o","temperature":0.7,"stream":true,
                "stream_options":{"include_usage":true},
                "messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello"}]})");
        QTest::newRow("metadata, store, service tier, request id") << openAI << QByteArray(openAIBase)
                                                   << QByteArray(R"({"model":"gpt-4o","temperature":0.7,
                "metadata":{"trace":"1"},"store":true,"service_tier":"flex","request_id":"r-9",
                "safety_identifier":"h","prompt_cache_key":"k",
                "messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello"}]})");
        QTest::newRow("numbers normalised") << openAI << QByteArray(openAIBase)
                                            << QByteArray(R"({"model":"gpt-4o","temperature":7e-1,"user":"alice",
                "messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello"}]})");
        QTest::newRow("null equals absent") << openAI << QByteArray(openAIBase)
                                            << QByteArray(R"({"model":"gpt-4o","temperature":0.7,"seed":null,"stop":null,
                "messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello"}]})");
        QTest::newRow("anthropic metadata and stream") << anthropic << QByteArray(anthropicBase)
                                                       << QByteArray(R"({"model":"claude","max_tokens":100.0,"stream":true,
                "metadata":{"user_id":"bob"},"system":[{"type":"text","text":"Be brief."}],
                "messages":[{"role":"user","content":"Hello"}]})");
        QTest::newRow("anthropic cache_control anywhere") << anthropic << QByteArray(anthropicBase)
                                                          << QByteArray(R"({"model":"claude","max_tokens":100,
                "system":[{"type":"text","text":"Be brief.","cache_control":{"type":"ephemeral","ttl":"1h"}}],
                "messages":[{"role":"user","content":"Hello"}]})");
    }

    void equivalentRequestsShareAKey()
    {
        QFETCH(ProviderKind, kind);
        QFETCH(QByteArray, base);
        QFETCH(QByteArray, variant);
        QCOMPARE(cacheKey(kind, object(variant.constData())), cacheKey(kind, object(base.constData())));
    }

    void differentQuestionsGetDifferentKeys_data()
    {
        QTest::addColumn<ProviderKind>("kind");
        QTest::addColumn<QByteArray>("base");
        QTest::addColumn<QByteArray>("variant");

        const auto openAI = ProviderKind::OpenAI;
        const auto anthropic = ProviderKind::Anthropic;
        const QByteArray messages =
            R"("messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello"}])";
        QTest::newRow("temperature") << openAI << QByteArray(openAIBase)
                                     << QByteArray(R"({"model":"gpt-4o","temperature":0.8,)" + messages + "}");
        QTest::newRow("model") << openAI << QByteArray(openAIBase)
                               << QByteArray(R"({"model":"gpt-4o-mini","temperature":0.7,)" + messages + "}");
        QTest::newRow("message text") << openAI << QByteArray(openAIBase)
                                      << QByteArray(R"({"model":"gpt-4o","temperature":0.7,
                "messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello!"}]})");
        QTest::newRow("message order") << openAI << QByteArray(openAIBase)
                                       << QByteArray(R"({"model":"gpt-4o","temperature":0.7,
                "messages":[{"role":"user","content":"Hello"},{"role":"system","content":"Be brief."}]})");
        QTest::newRow("max_tokens") << openAI << QByteArray(openAIBase)
                                    << QByteArray(R"({"model":"gpt-4o","temperature":0.7,"max_tokens":5,)" + messages + "}");
        QTest::newRow("tools") << openAI << QByteArray(openAIBase)
                               << QByteArray(R"({"model":"gpt-4o","temperature":0.7,"tools":[{"type":"function",
                "function":{"name":"f"}}],)" + messages + "}");
        QTest::newRow("response_format") << openAI << QByteArray(openAIBase)
                                         << QByteArray(R"({"model":"gpt-4o","temperature":0.7,
                "response_format":{"type":"json_object"},)" + messages + "}");
        QTest::newRow("seed") << openAI << QByteArray(openAIBase)
                              << QByteArray(R"({"model":"gpt-4o","temperature":0.7,"seed":1,)" + messages + "}");
        QTest::newRow("unknown field counts") << openAI << QByteArray(openAIBase)
                                              << QByteArray(R"({"model":"gpt-4o","temperature":0.7,"new_knob":1,)"
                                                            + messages + "}");
        QTest::newRow("anthropic system text") << anthropic << QByteArray(anthropicBase)
                                               << QByteArray(R"({"model":"claude","max_tokens":100,
                "system":[{"type":"text","text":"Be long."}],"messages":[{"role":"user","content":"Hello"}]})");
        QTest::newRow("anthropic top_k") << anthropic << QByteArray(anthropicBase)
                                         << QByteArray(R"({"model":"claude","max_tokens":100,"top_k":5,
                "system":[{"type":"text","text":"Be brief."}],"messages":[{"role":"user","content":"Hello"}]})");
    }

    void differentQuestionsGetDifferentKeys()
    {
        QFETCH(ProviderKind, kind);
        QFETCH(QByteArray, base);
        QFETCH(QByteArray, variant);
        QVERIFY(cacheKey(kind, object(variant.constData())) != cacheKey(kind, object(base.constData())));
    }

    void providerIsPartOfTheKey()
    {
        QVERIFY(cacheKey(ProviderKind::OpenAI, object(openAIBase))
                != cacheKey(ProviderKind::Anthropic, object(openAIBase)));
    }

    void canonicalJson_data()
    {
        QTest::addColumn<QByteArray>("input");
        QTest::addColumn<QByteArray>("canonical");
        QTest::newRow("sorted, compact") << QByteArray(R"({ "b" : 1 , "a" : [ true , null ] })")
                                         << QByteArray(R"({"a":[true,null],"b":1})");
        QTest::newRow("integers") << QByteArray(R"([1.0, 1e2, -0, 2.50])") << QByteArray("[1,100,0,2.5]");
        QTest::newRow("shortest doubles") << QByteArray(R"([0.1, 1e-7, 1e300])")
                                          << QByteArray("[0.1,1e-07,1e+300]");
        QTest::newRow("escapes") << QByteArray("[\"a\\\"b\\\\c\\n\\t\\u0001/\xC3\xA9\"]")
                                 << QByteArray("[\"a\\\"b\\\\c\\n\\t\\u0001/\xC3\xA9\"]");
        QTest::newRow("nested objects") << QByteArray(R"({"z":{"y":1,"x":2}})") << QByteArray(R"({"z":{"x":2,"y":1}})");
    }

    void canonicalJson()
    {
        QFETCH(QByteArray, input);
        QFETCH(QByteArray, canonical);
        const QJsonDocument document = QJsonDocument::fromJson(input);
        QVERIFY(!document.isNull());
        const QJsonValue value = document.isObject() ? QJsonValue(document.object()) : QJsonValue(document.array());
        QCOMPARE(::canonicalJson(value), canonical);
    }
};

QTEST_APPLESS_MAIN(TestCacheKey)
#include "tst_cachekey.moc"
