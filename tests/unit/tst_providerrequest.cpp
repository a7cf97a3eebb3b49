#include <QTest>

#include "gateway/apierror.h"
#include "gateway/chatrequestparser.h"

#include <QJsonDocument>
#include <QJsonObject>

using sluice::gateway::ApiError;
using sluice::gateway::ChatRequest;
using sluice::gateway::ProviderKind;
using sluice::gateway::parseChatRequest;

Q_DECLARE_METATYPE(ProviderKind)

class TestProviderRequest : public QObject {
    Q_OBJECT
private slots:
    void rejectsInvalidRequests_data()
    {
        QTest::addColumn<ProviderKind>("kind");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("message");
        QTest::addColumn<QString>("param");

        const auto openAI = ProviderKind::OpenAI;
        const auto anthropic = ProviderKind::Anthropic;
        const QByteArray user = R"({"role":"user","content":"hi"})";

        QTest::newRow("empty body") << openAI << QByteArray("  ")
                                    << "request body is empty; expected a JSON object" << "";
        QTest::newRow("invalid json") << openAI << QByteArray(R"({"model": "m",)")
                                      << "invalid JSON at offset 14: unterminated object" << "";
        QTest::newRow("not an object") << anthropic << QByteArray("[1,2]") << "request body must be a JSON object"
                                       << "";
        QTest::newRow("openai model missing") << openAI << QByteArray(R"({"messages":[)" + user + "]}")
                                              << "model: required" << "model";
        QTest::newRow("openai model empty") << openAI << QByteArray(R"({"model":"","messages":[)" + user + "]}")
                                            << "model: must be a non-empty string" << "model";
        QTest::newRow("openai messages missing") << openAI << QByteArray(R"({"model":"gpt-4o"})")
                                                 << "messages: must be a non-empty array" << "messages";
        QTest::newRow("openai messages empty") << openAI << QByteArray(R"({"model":"gpt-4o","messages":[]})")
                                               << "messages: must be a non-empty array" << "messages";
        QTest::newRow("openai messages object") << openAI << QByteArray(R"({"model":"gpt-4o","messages":{}})")
                                                << "messages: must be a non-empty array" << "messages";
        QTest::newRow("openai message not object")
            << openAI << QByteArray(R"({"model":"gpt-4o","messages":[)" + user + R"(,"x"]})")
            << "messages[1]: must be an object" << "messages[1]";
        QTest::newRow("openai role missing") << openAI << QByteArray(R"({"model":"m","messages":[{"content":"x"}]})")
                                             << "messages[0].role: required" << "messages[0].role";
        QTest::newRow("openai role unknown")
            << openAI << QByteArray(R"({"model":"m","messages":[{"role":"robot","content":"x"}]})")
            << "messages[0].role: must be one of system, developer, user, assistant, tool, function"
            << "messages[0].role";
        QTest::newRow("openai content missing") << openAI << QByteArray(R"({"model":"m","messages":[{"role":"user"}]})")
                                                << "messages[0].content: required" << "messages[0].content";
        QTest::newRow("openai content number")
            << openAI << QByteArray(R"({"model":"m","messages":[{"role":"user","content":5}]})")
            << "messages[0].content: must be a string or an array of content parts" << "messages[0].content";
        QTest::newRow("openai part without type")
            << openAI << QByteArray(R"({"model":"m","messages":[{"role":"user","content":[{"text":"a"}]}]})")
            << "messages[0].content[0].type: required" << "messages[0].content[0].type";
        QTest::newRow("openai text part not string")
            << openAI
            << QByteArray(R"({"model":"m","messages":[{"role":"user","content":[{"type":"text","text":1}]}]})")
            << "messages[0].content[0].text: must be a string" << "messages[0].content[0].text";
        QTest::newRow("openai tool without id")
            << openAI << QByteArray(R"({"model":"m","messages":[)" + user + R"(,{"role":"tool","content":"42"}]})")
            << "messages[1].tool_call_id: required for role tool" << "messages[1].tool_call_id";
        QTest::newRow("openai stream not bool")
            << openAI << QByteArray(R"({"model":"m","stream":"yes","messages":[)" + user + "]}")
            << "stream: must be a boolean" << "stream";
        QTest::newRow("openai stream_options without stream")
            << openAI << QByteArray(R"({"model":"m","stream_options":{"include_usage":true},"messages":[)" + user + "]}")
            << "stream_options: only allowed when stream is true" << "stream_options";
        QTest::newRow("openai max_tokens zero")
            << openAI << QByteArray(R"({"model":"m","max_tokens":0,"messages":[)" + user + "]}")
            << "max_tokens: must be an integer >= 1" << "max_tokens";
        QTest::newRow("openai max_completion_tokens fraction")
            << openAI << QByteArray(R"({"model":"m","max_completion_tokens":1.5,"messages":[)" + user + "]}")
            << "max_completion_tokens: must be an integer >= 1" << "max_completion_tokens";
        QTest::newRow("openai temperature high")
            << openAI << QByteArray(R"({"model":"m","temperature":2.5,"messages":[)" + user + "]}")
            << "temperature: must be a number between 0 and 2" << "temperature";
        QTest::newRow("openai top_p string")
            << openAI << QByteArray(R"({"model":"m","top_p":"0.5","messages":[)" + user + "]}")
            << "top_p: must be a number between 0 and 1" << "top_p";
        QTest::newRow("openai n too large") << openAI << QByteArray(R"({"model":"m","n":129,"messages":[)" + user + "]}")
                                            << "n: must be an integer between 1 and 128" << "n";
        QTest::newRow("openai penalty")
            << openAI << QByteArray(R"({"model":"m","presence_penalty":-3,"messages":[)" + user + "]}")
            << "presence_penalty: must be a number between -2 and 2" << "presence_penalty";
        QTest::newRow("openai stop five")
            << openAI << QByteArray(R"({"model":"m","stop":["a","b","c","d","e"],"messages":[)" + user + "]}")
            << "stop: must be a string or an array of at most 4 strings" << "stop";
        QTest::newRow("openai tools object")
            << openAI << QByteArray(R"({"model":"m","tools":{},"messages":[)" + user + "]}")
            << "tools: must be an array" << "tools";

        QTest::newRow("anthropic max_tokens missing")
            << anthropic << QByteArray(R"({"model":"claude","messages":[)" + user + "]}") << "max_tokens: required"
            << "max_tokens";
        QTest::newRow("anthropic max_tokens negative")
            << anthropic << QByteArray(R"({"model":"claude","max_tokens":-1,"messages":[)" + user + "]}")
            << "max_tokens: must be an integer >= 1" << "max_tokens";
        QTest::newRow("anthropic messages empty")
            << anthropic << QByteArray(R"({"model":"claude","max_tokens":10,"messages":[]})")
            << "messages: must be a non-empty array" << "messages";
        QTest::newRow("anthropic system role")
            << anthropic
            << QByteArray(R"({"model":"claude","max_tokens":10,"messages":[{"role":"system","content":"x"}]})")
            << R"(messages[0].role: "system" is not a message role; use the top-level system parameter)"
            << "messages[0].role";
        QTest::newRow("anthropic tool role")
            << anthropic << QByteArray(R"({"model":"claude","max_tokens":10,"messages":[{"role":"tool","content":"x"}]})")
            << "messages[0].role: must be one of user, assistant" << "messages[0].role";
        QTest::newRow("anthropic block not object")
            << anthropic
            << QByteArray(R"({"model":"claude","max_tokens":10,"messages":[{"role":"user","content":["x"]}]})")
            << "messages[0].content[0]: must be an object" << "messages[0].content[0]";
        QTest::newRow("anthropic system number")
            << anthropic << QByteArray(R"({"model":"claude","max_tokens":10,"system":3,"messages":[)" + user + "]}")
            << "system: must be a string or an array of text blocks" << "system";
        QTest::newRow("anthropic system bad block")
            << anthropic
            << QByteArray(R"({"model":"claude","max_tokens":10,"system":[{"type":"image"}],"messages":[)" + user + "]}")
            << "system[0]: must be a text block with a string text" << "system[0]";
        QTest::newRow("anthropic temperature above 1")
            << anthropic << QByteArray(R"({"model":"claude","max_tokens":10,"temperature":1.5,"messages":[)" + user + "]}")
            << "temperature: must be a number between 0 and 1" << "temperature";
        QTest::newRow("anthropic top_k negative")
            << anthropic << QByteArray(R"({"model":"claude","max_tokens":10,"top_k":-1,"messages":[)" + user + "]}")
            << "top_k: must be an integer >= 0" << "top_k";
        QTest::newRow("anthropic stop_sequences string")
            << anthropic
            << QByteArray(R"({"model":"claude","max_tokens":10,"stop_sequences":"END","messages":[)" + user + "]}")
            << "stop_sequences: must be an array of strings" << "stop_sequences";
    }

    void rejectsInvalidRequests()
    {
        QFETCH(ProviderKind, kind);
        QFETCH(QByteArray, body);
        QFETCH(QString, message);
        QFETCH(QString, param);

        const auto result = parseChatRequest(kind, body);
        QVERIFY(!result.ok());
        const ApiError &error = result.error();
        QCOMPARE(error.httpStatus, 400);
        QCOMPARE(error.type, QStringLiteral("invalid_request_error"));
        QCOMPARE(error.message, message);
        QCOMPARE(error.param, param);
    }

    void acceptsValidRequests_data()
    {
        QTest::addColumn<ProviderKind>("kind");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("model");
        QTest::addColumn<QStringList>("roles");
        QTest::addColumn<QStringList>("texts");
        QTest::addColumn<QString>("system");
        QTest::addColumn<bool>("stream");
        QTest::addColumn<bool>("includeUsage");
        QTest::addColumn<qint64>("maxOutputTokens"); // -1: absent
        QTest::addColumn<int>("attachments");

        QTest::newRow("openai minimal")
            << ProviderKind::OpenAI << QByteArray(R"({"model":"gpt-4o","messages":[{"role":"user","content":"Hello"}]})")
            << "gpt-4o" << QStringList{"user"} << QStringList{"Hello"} << "" << false << false << qint64(-1) << 0;
        QTest::newRow("openai parts, stream with usage, max_completion_tokens wins")
            << ProviderKind::OpenAI
            << QByteArray(R"({"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},
                "max_tokens":50,"max_completion_tokens":70,"temperature":null,
                "messages":[{"role":"system","content":"Be brief."},
                            {"role":"user","content":[{"type":"text","text":"Look"},
                                                      {"type":"image_url","image_url":{"url":"data:image/png;base64,AA=="}},
                                                      {"type":"text","text":"here"}]}]})")
            << "gpt-4o-mini" << QStringList{"system", "user"} << QStringList{"Be brief.", "Look\nhere"} << "" << true
            << true << qint64(70) << 1;
        QTest::newRow("openai assistant tool call without content")
            << ProviderKind::OpenAI
            << QByteArray(R"({"model":"m","messages":[{"role":"user","content":"weather?"},
                {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function",
                  "function":{"name":"get","arguments":"{}"}}]},
                {"role":"tool","tool_call_id":"c1","content":"sunny"}]})")
            << "m" << QStringList{"user", "assistant", "tool"}
            << QStringList{"weather?", R"({"arguments":"{}","name":"get"})", "sunny"} << "" << false << false
            << qint64(-1) << 0;
        QTest::newRow("anthropic system blocks and content blocks")
            << ProviderKind::Anthropic
            << QByteArray(R"({"model":"claude-sonnet","max_tokens":1024,"stream":true,
                "system":[{"type":"text","text":"You are terse.","cache_control":{"type":"ephemeral"}},
                          {"type":"text","text":"Answer in English."}],
                "messages":[{"role":"user","content":[{"type":"text","text":"Describe"},
                                                      {"type":"image","source":{"type":"base64","data":"AA=="}}]},
                            {"role":"assistant","content":[{"type":"thinking","thinking":"hmm"},
                                                           {"type":"tool_use","id":"t1","name":"look","input":{"q":1}}]},
                            {"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"a cat"}]}]})")
            << "claude-sonnet" << QStringList{"user", "assistant", "user"}
            << QStringList{"Describe", R"({"input":{"q":1},"name":"look"})", "a cat"}
            << "You are terse.\nAnswer in English." << true << false << qint64(1024) << 1;
        QTest::newRow("anthropic string content")
            << ProviderKind::Anthropic
            << QByteArray(R"({"model":"claude","max_tokens":5,"system":"Be kind.","messages":[{"role":"user","content":"Hi"}]})")
            << "claude" << QStringList{"user"} << QStringList{"Hi"} << "Be kind." << false << false << qint64(5) << 0;
    }

    void acceptsValidRequests()
    {
        QFETCH(ProviderKind, kind);
        QFETCH(QByteArray, body);
        QFETCH(QString, model);
        QFETCH(QStringList, roles);
        QFETCH(QStringList, texts);
        QFETCH(QString, system);
        QFETCH(bool, stream);
        QFETCH(bool, includeUsage);
        QFETCH(qint64, maxOutputTokens);
        QFETCH(int, attachments);

        const auto result = parseChatRequest(kind, body);
        QVERIFY2(result.ok(), result.ok() ? "" : qPrintable(result.error().message));
        const ChatRequest &request = *result;
        QCOMPARE(request.kind, kind);
        QCOMPARE(request.model, model);
        QCOMPARE(request.system, system);
        QCOMPARE(request.stream, stream);
        QCOMPARE(request.includeUsage, includeUsage);
        QCOMPARE(request.maxOutputTokens.value_or(-1), maxOutputTokens);
        QStringList parsedRoles;
        QStringList parsedTexts;
        int parsedAttachments = 0;
        for (const auto &message : request.messages) {
            parsedRoles << message.role;
            parsedTexts << message.text;
            parsedAttachments += message.attachmentCount;
        }
        QCOMPARE(parsedRoles, roles);
        QCOMPARE(parsedTexts, texts);
        QCOMPARE(parsedAttachments, attachments);
        QCOMPARE(request.original, QJsonDocument::fromJson(body).object());
    }

    void readsSamplingParameters()
    {
        const auto openAI = parseChatRequest(
            ProviderKind::OpenAI,
            R"({"model":"m","temperature":0.2,"top_p":0.9,"n":3,"seed":42,"stop":"END","user":"u1",
                "tools":[{"type":"function","function":{"name":"f"}}],
                "messages":[{"role":"developer","content":"x"}]})");
        QVERIFY(openAI.ok());
        QCOMPARE(openAI->temperature.value_or(-1), 0.2);
        QCOMPARE(openAI->topP.value_or(-1), 0.9);
        QCOMPARE(openAI->choiceCount, 3);
        QCOMPARE(openAI->seed.value_or(-1), 42);
        QCOMPARE(openAI->stop, QStringList{"END"});
        QCOMPARE(openAI->toolsJson, QStringLiteral(R"([{"function":{"name":"f"},"type":"function"}])"));

        const auto anthropic = parseChatRequest(
            ProviderKind::Anthropic,
            R"({"model":"c","max_tokens":9,"top_k":40,"stop_sequences":["a","b"],"metadata":{"user_id":"u"},
                "messages":[{"role":"user","content":"x"}]})");
        QVERIFY(anthropic.ok());
        QCOMPARE(anthropic->topK.value_or(-1), 40);
        QCOMPARE(anthropic->stop, (QStringList{"a", "b"}));
        QVERIFY(anthropic->toolsJson.isEmpty());
    }
};

QTEST_APPLESS_MAIN(TestProviderRequest)
#include "tst_providerrequest.moc"
