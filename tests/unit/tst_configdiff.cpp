#include <QTest>

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include "config/configdiff.h"
#include "config/configloader.h"
#include "config/configpath.h"
#include "config/configwriter.h"
#include "config/jsontext.h"
#include "config/mergepatch.h"

using namespace sluice::config;

namespace {

const QString kExamplePath = QStringLiteral(SLUICE_SOURCE_DIR "/resources/examples/gateway.json");

QJsonObject exampleObject()
{
    QFile file(kExamplePath);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(file.readAll()).object();
}

QJsonValue parseValue(const QString &text)
{
    QJsonParseError error;
    const QJsonDocument parsed = QJsonDocument::fromJson(("[" + text + "]").toUtf8(), &error);
    if (error.error != QJsonParseError::NoError)
        qFatal("bad JSON in test table: %s", qPrintable(text));
    return parsed.array().at(0);
}

// Each edit is "path = json" in configpath.h syntax; "path = <remove>" deletes.
QJsonObject edited(QJsonObject document, const QStringList &edits)
{
    for (const QString &edit : edits) {
        const qsizetype split = edit.indexOf(QStringLiteral(" = "));
        const QString text = edit.mid(split + 3);
        const QJsonValue value = text == u"<remove>" ? QJsonValue(QJsonValue::Undefined) : parseValue(text);
        auto result = setValueAtPath(document, edit.left(split), value);
        if (!result)
            qFatal("bad edit in test table: %s: %s", qPrintable(edit), qPrintable(result.error()));
        document = *result;
    }
    return document;
}

GatewayConfig load(const QJsonObject &document)
{
    const ConfigResult loaded = loadConfig(document);
    if (!loaded)
        qFatal("test config does not load: %s", qPrintable(toStringList(loaded.error()).join(u'\n')));
    return *loaded;
}

// "path | before | after" per change.
QStringList describe(const std::vector<FieldChange> &changes)
{
    QStringList lines;
    for (const FieldChange &change : changes)
        lines.append(change.path + QStringLiteral(" | ") + change.before + QStringLiteral(" | ") + change.after);
    return lines;
}

const char *const kAzureEntry =
    R"({"aliases":{},"api_key_env":"AZURE_OPENAI_KEY","api_key_file":"","base_url":"https://example.openai.azure.com/openai/v1",)"
    R"("kind":"openai","models":["gpt-4o"],"name":"azure","priority":5,"requests_per_minute":0,"tokens_per_minute":0})";

} // namespace

class TestConfigDiff : public QObject {
    Q_OBJECT
private slots:
    void diffsFieldByField_data()
    {
        QTest::addColumn<QStringList>("edits");
        QTest::addColumn<QStringList>("expected");
        QTest::addColumn<bool>("replayable");
        const auto row = [](const char *name, QStringList edits, QStringList expected, bool replayable = true) {
            QTest::newRow(name) << edits << expected << replayable;
        };
        const QString azureEdit =
            QStringLiteral("upstreams[3] = {\"name\": \"azure\", \"kind\": \"openai\", "
                           "\"base_url\": \"https://example.openai.azure.com/openai/v1\", "
                           "\"api_key_env\": \"AZURE_OPENAI_KEY\", \"models\": [\"gpt-4o\"], \"priority\": 5}");

        row("identical", {}, {});
        row("scalar", {"cache.ttl_seconds = 600"}, {"cache.ttl_seconds | 300 | 600"});
        row("version and comment", {"version = 2", "comment = \"tuned\""},
            {"comment | " + jsonText(exampleObject().value(u"comment")) + " | \"tuned\"", "version | 1 | 2"});
        row("upstream field by name", {"upstreams[1].requests_per_minute = 2000"},
            {"upstreams[name=anthropic].requests_per_minute | 1000 | 2000"});
        row("upstream appended", {azureEdit}, {QStringLiteral("upstreams[name=azure] |  | ") + kAzureEntry});
        row("upstream removed", {"upstreams[1] = <remove>"},
            {"upstreams[name=anthropic] | "
             + jsonText(toJson(load(exampleObject())).value(u"upstreams").toArray().at(1)) + " | "});
        row("upstreams reordered", {"upstreams[0] = <remove>",
                                    "upstreams[2] = " + jsonText(exampleObject().value(u"upstreams").toArray().at(0))},
            {R"(upstreams | ["openai","anthropic","local-vllm"] | ["anthropic","local-vllm","openai"])"}, false);
        row("alias added", {"upstreams[0].aliases.quick = \"gpt-4o-mini\""},
            {"upstreams[name=openai].aliases.quick |  | \"gpt-4o-mini\""});
        row("alias removed", {"upstreams[0].aliases.smart = <remove>"},
            {"upstreams[name=openai].aliases.smart | \"gpt-4o\" | "});
        row("model list is one setting", {"upstreams[2].models[1] = \"qwen2.5-7b-instruct\""},
            {R"(upstreams[name=local-vllm].models | ["llama-3.1-8b-instruct"] | ["llama-3.1-8b-instruct","qwen2.5-7b-instruct"])"});
        row("key renamed is a removal and an addition", {"api_keys[1].id = \"batch\""},
            {"api_keys[id=batch-jobs] | "
                 + jsonText(toJson(load(exampleObject())).value(u"api_keys").toArray().at(1)) + " | ",
             "api_keys[id=batch] |  | "
                 + jsonText(toJson(load(edited(exampleObject(), {"api_keys[1].id = \"batch\""})))
                                .value(u"api_keys")
                                .toArray()
                                .at(1))},
            false);
        row("key limit", {"api_keys[0].parallel_requests = 100"}, {"api_keys[id=chat-web].parallel_requests | 200 | 100"});
        row("rule match", {"rate_limits[0].match.model = \"gpt-4o-mini\""},
            {"rate_limits[name=gpt-4o-per-key].match.model | \"gpt-4o*\" | \"gpt-4o-mini\""});
        row("listener by index", {"server.listeners[0].port = 8081"}, {"server.listeners[0].port | 8080 | 8081"});
        row("listener added", {"server.listeners[1] = {\"address\": \"::1\", \"port\": 8080}"},
            {"server.listeners[1] |  | {\"address\":\"::1\",\"port\":8080}"});
        row("map key needing quotes", {"cache.route_ttl_seconds[\"/v1/embeddings\"] = 3600"},
            {"cache.route_ttl_seconds[\"/v1/embeddings\"] | 86400 | 3600"});
        row("map key added", {"cache.model_ttl_seconds.gpt-4o-mini = 60"},
            {"cache.model_ttl_seconds.gpt-4o-mini |  | 60"});
        row("retry_on is one setting", {"retries.retry_on = [429, \"timeout\"]"},
            {R"(retries.retry_on | [429,500,502,503,504,"timeout","connection_reset"] | [429,"timeout"])"});
        row("real number", {"breaker.failure_rate_threshold = 0.25"}, {"breaker.failure_rate_threshold | 0.5 | 0.25"});
        row("default made explicit is no change", {"logging = {\"level\": \"info\"}", "pricing = <remove>"}, {},
            false);
        row("several, in document order",
            {"logging.level = \"debug\"", "admin.port = 9191", "cache.enabled = false", "upstreams[0].priority = 1"},
            {"admin.port | 9090 | 9191", "cache.enabled | true | false", "logging.level | \"info\" | \"debug\"",
             "upstreams[name=openai].priority | 0 | 1"});
    }

    void diffsFieldByField()
    {
        QFETCH(QStringList, edits);
        QFETCH(QStringList, expected);
        QFETCH(bool, replayable);
        const GatewayConfig before = load(exampleObject());
        const GatewayConfig after = load(edited(exampleObject(), edits));
        const std::vector<FieldChange> changes = diffConfigs(before, after);
        QCOMPARE(describe(changes), expected);
        QCOMPARE(diffConfigs(after, before).size(), changes.size());
        QCOMPARE(changes.empty(), contentHash(before) == contentHash(after) && before.version == after.version
                                      && before.comment == after.comment);
        if (!replayable)
            return;
        // Every change can be applied by its path: the console's "apply this one".
        QJsonObject replayed = toJson(before);
        for (const FieldChange &change : changes) {
            const QJsonValue value = change.after.isEmpty() ? QJsonValue(QJsonValue::Undefined) : parseValue(change.after);
            auto applied = setValueAtPath(replayed, change.path, value);
            QVERIFY2(applied.ok(), qPrintable(change.path));
            replayed = *applied;
        }
        QCOMPARE(replayed, toJson(after));
    }

    void unnamedEntriesAreComparedByIndex()
    {
        GatewayConfig before = defaultConfig();
        Upstream nameless;
        nameless.models = {QStringLiteral("m")};
        before.upstreams = {nameless, nameless};
        GatewayConfig after = before;
        after.upstreams[1].priority = 3;
        QCOMPARE(describe(diffConfigs(before, after)), QStringList{"upstreams[1].priority | 0 | 3"});
    }

    void appliesMergePatch_data()
    {
        QTest::addColumn<QString>("target");
        QTest::addColumn<QString>("patch");
        QTest::addColumn<QString>("expected");
        // RFC 7396, Appendix A.
        QTest::newRow("A.1 replace") << R"({"a":"b"})" << R"({"a":"c"})" << R"({"a":"c"})";
        QTest::newRow("A.2 add") << R"({"a":"b"})" << R"({"b":"c"})" << R"({"a":"b","b":"c"})";
        QTest::newRow("A.3 remove") << R"({"a":"b"})" << R"({"a":null})" << R"({})";
        QTest::newRow("A.4 remove one") << R"({"a":"b","b":"c"})" << R"({"a":null})" << R"({"b":"c"})";
        QTest::newRow("A.5 array by scalar") << R"({"a":["b"]})" << R"({"a":"c"})" << R"({"a":"c"})";
        QTest::newRow("A.6 scalar by array") << R"({"a":"c"})" << R"({"a":["b"]})" << R"({"a":["b"]})";
        QTest::newRow("A.7 nested") << R"({"a":{"b":"c"}})" << R"({"a":{"b":"d","c":null}})" << R"({"a":{"b":"d"}})";
        QTest::newRow("A.8 arrays replace") << R"({"a":[{"b":"c"}]})" << R"({"a":[1]})" << R"({"a":[1]})";
        QTest::newRow("A.9 array target") << R"(["a","b"])" << R"(["c","d"])" << R"(["c","d"])";
        QTest::newRow("A.10 array patch") << R"({"a":"b"})" << R"(["c"])" << R"(["c"])";
        QTest::newRow("A.11 null patch") << R"({"a":"foo"})" << "null" << "null";
        QTest::newRow("A.12 string patch") << R"({"a":"foo"})" << R"("bar")" << R"("bar")";
        QTest::newRow("A.13 target nulls stay") << R"({"e":null})" << R"({"a":1})" << R"({"a":1,"e":null})";
        QTest::newRow("A.14 array target, object patch") << R"([1,2])" << R"({"a":"b","c":null})" << R"({"a":"b"})";
        QTest::newRow("A.15 null creates nothing") << R"({})" << R"({"a":{"bb":{"ccc":null}}})"
                                                   << R"({"a":{"bb":{}}})";
        // RFC 7396, section 3.
        QTest::newRow("section 3")
            << R"({"title":"Goodbye!","author":{"givenName":"John","familyName":"Doe"},"tags":["example","sample"],"content":"This will be unchanged"})"
            << R"({"title":"Hello!","phoneNumber":"+01-123-456-7890","author":{"familyName":null},"tags":["example"]})"
            << R"({"title":"Hello!","author":{"givenName":"John"},"tags":["example"],"content":"This will be unchanged","phoneNumber":"+01-123-456-7890"})";
    }

    void appliesMergePatch()
    {
        QFETCH(QString, target);
        QFETCH(QString, patch);
        QFETCH(QString, expected);
        const QJsonValue result = applyMergePatch(parseValue(target), parseValue(patch));
        QCOMPARE(result, parseValue(expected));
        if (parseValue(target).isObject() && parseValue(patch).isObject())
            QCOMPARE(applyMergePatch(parseValue(target).toObject(), parseValue(patch).toObject()),
                     parseValue(expected).toObject());
    }

    void mergePatchThenLoadIsTheAdminPatchFlow()
    {
        const GatewayConfig before = load(exampleObject());
        const QJsonObject patch = parseValue(R"({"version": 2, "cache": {"ttl_seconds": 60, "model_ttl_seconds": {"gpt-4o": null}}})")
                                      .toObject();
        const ConfigResult after = loadConfig(applyMergePatch(toJson(before), patch));
        QVERIFY(after.ok());
        QCOMPARE(describe(diffConfigs(before, *after)),
                 (QStringList{"cache.model_ttl_seconds.gpt-4o | 600 | ", "cache.ttl_seconds | 300 | 60",
                              "version | 1 | 2"}));

        const QJsonObject badPatch = parseValue(R"({"cache": {"ttl_seconds": -1}})").toObject();
        const ConfigResult rejected = loadConfig(applyMergePatch(toJson(before), badPatch));
        QVERIFY(!rejected.ok());
        QCOMPARE(toStringList(rejected.error()), QStringList{"cache.ttl_seconds: must be ≥ 0, got -1"});
    }
};

QTEST_APPLESS_MAIN(TestConfigDiff)
#include "tst_configdiff.moc"
