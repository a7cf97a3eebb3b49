#include <QTest>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include "config/configpath.h"
#include "config/jsontext.h"

using namespace sluice::config;

namespace {

QJsonValue parseValue(const QString &text)
{
    return QJsonDocument::fromJson(("[" + text + "]").toUtf8()).array().at(0);
}

const char *const kDocument = R"({
    "cache": {"model_ttl_seconds": {"gpt-4.1": 60}, "ttl_seconds": 300},
    "upstreams": [
        {"name": "openai", "models": ["gpt-4o"]},
        {"name": "odd name]", "models": []}
    ]
})";

} // namespace

class TestConfigPath : public QObject {
    Q_OBJECT
private slots:
    void formatsPaths()
    {
        QCOMPARE(pathWithKey(QString(), QStringLiteral("cache")), QStringLiteral("cache"));
        QCOMPARE(pathWithKey(QStringLiteral("cache"), QStringLiteral("ttl_seconds")), QStringLiteral("cache.ttl_seconds"));
        QCOMPARE(pathWithKey(QStringLiteral("cache.model_ttl_seconds"), QStringLiteral("gpt-4.1")),
                 QStringLiteral("cache.model_ttl_seconds[\"gpt-4.1\"]"));
        QCOMPARE(pathWithKey(QString(), QStringLiteral("a \"b\"")), QStringLiteral("[\"a \\\"b\\\"\"]"));
        QCOMPARE(pathWithIndex(QStringLiteral("upstreams"), 3), QStringLiteral("upstreams[3]"));
        QCOMPARE(pathWithMatch(QStringLiteral("upstreams"), QStringLiteral("name"), QStringLiteral("openai")),
                 QStringLiteral("upstreams[name=openai]"));
        QCOMPARE(pathWithMatch(QStringLiteral("upstreams"), QStringLiteral("name"), QStringLiteral("odd name]")),
                 QStringLiteral("upstreams[name=\"odd name]\"]"));
    }

    void parsesPaths_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("segments"); // "k:" key, "i:" index, "m:" field=value; or "error: ..."
        QTest::newRow("key") << "cache" << "k:cache";
        QTest::newRow("nested") << "cache.bypass.temperature_above" << "k:cache k:bypass k:temperature_above";
        QTest::newRow("index") << "upstreams[12].models[0]" << "k:upstreams i:12 k:models i:0";
        QTest::newRow("quoted key") << "cache.route_ttl_seconds[\"/v1/chat/completions\"]"
                                    << "k:cache k:route_ttl_seconds k:/v1/chat/completions";
        QTest::newRow("quoted key with escapes") << "[\"a\\\"]b\"]" << "k:a\"]b";
        QTest::newRow("match") << "upstreams[name=openai].priority" << "k:upstreams m:name=openai k:priority";
        QTest::newRow("quoted match") << "upstreams[name=\"odd name]\"]" << "k:upstreams m:name=odd name]";
        QTest::newRow("empty") << "" << "error: empty path";
        QTest::newRow("leading dot") << ".cache" << "error: malformed path at character 1: unexpected .";
        QTest::newRow("double dot") << "cache..ttl" << "error: malformed path at character 7: bad key";
        QTest::newRow("unclosed") << "upstreams[1" << "error: malformed path at character 12: expected ]";
        QTest::newRow("negative index") << "upstreams[-1]" << "error: malformed path at character 13: bad index";
        QTest::newRow("unterminated quote") << "a[\"b]" << "error: malformed path at character 3: bad quoted key";
        QTest::newRow("junk after bracket") << "a[1]b" << "error: malformed path at character 5: expected . or [";
    }

    void parsesPaths()
    {
        QFETCH(QString, path);
        QFETCH(QString, segments);
        const auto parsed = parsePath(path);
        if (segments.startsWith(u"error: ")) {
            QVERIFY(!parsed.ok());
            QCOMPARE(parsed.error(), segments.mid(7));
            return;
        }
        QVERIFY2(parsed.ok(), parsed ? "" : qPrintable(parsed.error()));
        QStringList described;
        for (const PathSegment &segment : *parsed) {
            switch (segment.kind) {
            case PathSegment::Kind::Key:
                described.append(QStringLiteral("k:") + segment.key);
                break;
            case PathSegment::Kind::Index:
                described.append(QStringLiteral("i:") + QString::number(segment.index));
                break;
            case PathSegment::Kind::Match:
                described.append(QStringLiteral("m:") + segment.key + QLatin1Char('=') + segment.value);
                break;
            }
        }
        QCOMPARE(described.join(u' '), segments);
    }

    void setsValues_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("value"); // JSON, or empty to remove
        QTest::addColumn<QString>("readBack"); // JSON at path afterwards, or "error: ..."
        QTest::newRow("replace scalar") << "cache.ttl_seconds" << "60" << "60";
        QTest::newRow("create object on the way") << "admin.port" << "9091" << "9091";
        QTest::newRow("quoted key") << "cache.model_ttl_seconds[\"gpt-4.1\"]" << "120" << "120";
        QTest::newRow("by match") << "upstreams[name=openai].models" << "[\"gpt-4o\",\"o3\"]" << "[\"gpt-4o\",\"o3\"]";
        QTest::newRow("by quoted match") << "upstreams[name=\"odd name]\"].priority" << "4" << "4";
        QTest::newRow("append by index") << "upstreams[0].models[1]" << "\"gpt-4o-mini\"" << "\"gpt-4o-mini\"";
        QTest::newRow("append by match") << "upstreams[name=local].priority" << "9" << "9";
        QTest::newRow("remove key") << "cache.ttl_seconds" << "" << "";
        QTest::newRow("remove element") << "upstreams[name=openai]" << "" << "";
        QTest::newRow("index past the end") << "upstreams[3]" << "{}" << "error: index 3 is out of range (size 2)";
        QTest::newRow("remove missing key") << "cache.nothing" << "" << "error: no field \"nothing\" to remove";
        QTest::newRow("remove missing element") << "upstreams[name=x]" << "" << "error: no element with name \"x\"";
        QTest::newRow("key inside array") << "upstreams.name" << "1" << "error: \"name\" is inside an array, not an object";
        QTest::newRow("index inside object") << "cache[0]" << "1"
                                             << "error: an element is addressed inside an object, not an array";
    }

    void setsValues()
    {
        QFETCH(QString, path);
        QFETCH(QString, value);
        QFETCH(QString, readBack);
        const QJsonObject document = QJsonDocument::fromJson(kDocument).object();
        const auto updated = setValueAtPath(document, path, value.isEmpty() ? QJsonValue(QJsonValue::Undefined)
                                                                            : parseValue(value));
        if (readBack.startsWith(u"error: ")) {
            QVERIFY(!updated.ok());
            QCOMPARE(updated.error(), readBack.mid(7));
            return;
        }
        QVERIFY2(updated.ok(), updated ? "" : qPrintable(updated.error()));
        QCOMPARE(jsonText(valueAtPath(*updated, path)), readBack);
        QVERIFY(*updated != document);
    }

    void readsValues()
    {
        const QJsonObject document = QJsonDocument::fromJson(kDocument).object();
        QCOMPARE(valueAtPath(document, u"cache.ttl_seconds"), QJsonValue(300));
        QCOMPARE(valueAtPath(document, u"upstreams[1].name"), QJsonValue(QStringLiteral("odd name]")));
        QCOMPARE(valueAtPath(document, u"upstreams[name=openai].models[0]"), QJsonValue(QStringLiteral("gpt-4o")));
        QVERIFY(valueAtPath(document, u"upstreams[7]").isUndefined());
        QVERIFY(valueAtPath(document, u"upstreams[name=none].models").isUndefined());
        QVERIFY(valueAtPath(document, u"not a path").isUndefined());
    }

    void knowsWhatIsWithin_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("ancestor");
        QTest::addColumn<bool>("within");
        QTest::newRow("itself") << "upstreams[1]" << "upstreams[1]" << true;
        QTest::newRow("field below") << "upstreams[1].kind" << "upstreams[1]" << true;
        QTest::newRow("element below") << "upstreams[1]" << "upstreams" << true;
        QTest::newRow("quoted key below") << "cache[\"x y\"]" << "cache" << true;
        QTest::newRow("longer index") << "upstreams[10]" << "upstreams[1]" << false;
        QTest::newRow("longer name") << "upstreams" << "upstream" << false;
        QTest::newRow("sibling") << "cache.ttl_seconds" << "cache.max_bytes" << false;
        QTest::newRow("everything is within the root") << "cache" << "" << true;
    }

    void knowsWhatIsWithin()
    {
        QFETCH(QString, path);
        QFETCH(QString, ancestor);
        QFETCH(bool, within);
        QCOMPARE(isWithinPath(path, ancestor), within);
    }
};

QTEST_APPLESS_MAIN(TestConfigPath)
#include "tst_configpath.moc"
