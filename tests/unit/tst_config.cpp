#include <QTest>

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>

#include "config/apikeyhash.h"
#include "config/configloader.h"
#include "config/configpath.h"
#include "config/configvalidator.h"
#include "config/configwriter.h"
#include "config/gatewayconfig.h"

using namespace std::chrono_literals;
using namespace sluice::config;

namespace {

const QString kExamplePath = QStringLiteral(SLUICE_SOURCE_DIR "/resources/examples/gateway.json");

QByteArray readExample()
{
    QFile file(kExamplePath);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return file.readAll();
}

QJsonObject exampleObject()
{
    return QJsonDocument::fromJson(readExample()).object();
}

GatewayConfig exampleConfig()
{
    const ConfigResult loaded = loadConfigFile(kExamplePath);
    return loaded ? *loaded : GatewayConfig{};
}

// JSON text with object keys in reverse order and odd whitespace, to prove
// that neither reaches the content hash.
QByteArray scrambled(const QJsonValue &value)
{
    if (value.isObject()) {
        const QJsonObject object = value.toObject();
        QStringList keys = object.keys();
        std::reverse(keys.begin(), keys.end());
        QByteArray text = "{\n\t";
        for (const QString &key : keys) {
            if (text.size() > 3)
                text += " ,\r\n  ";
            text += QJsonDocument(QJsonArray{key}).toJson(QJsonDocument::Compact).mid(1).chopped(1);
            text += " :\t" + scrambled(object.value(key));
        }
        return text + "\n}";
    }
    if (value.isArray()) {
        QByteArray text = "[ ";
        const QJsonArray array = value.toArray();
        for (qsizetype i = 0; i < array.size(); ++i)
            text += (i ? " , " : "") + scrambled(array.at(i));
        return text + " ]";
    }
    return QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact).mid(1).chopped(1);
}

Upstream upstreamServing(const QString &name, const QStringList &models, int priority)
{
    Upstream upstream;
    upstream.name = name;
    upstream.baseUrl = QStringLiteral("http://127.0.0.1:8000/v1");
    upstream.models = models;
    upstream.priority = priority;
    return upstream;
}

} // namespace

class TestConfig : public QObject {
    Q_OBJECT
private slots:
    void loadsTheExample()
    {
        const ConfigResult loaded = loadConfigFile(kExamplePath);
        QVERIFY2(loaded.ok(), loaded ? "" : qPrintable(toStringList(loaded.error()).join(u'\n')));
        const GatewayConfig &config = *loaded;
        QCOMPARE(config.version, 1);
        QCOMPARE(config.upstreams.size(), 3u);
        QCOMPARE(config.upstreams[0].kind, UpstreamKind::OpenAi);
        QCOMPARE(config.upstreams[1].kind, UpstreamKind::Anthropic);
        QCOMPARE(config.upstreams[1].apiKeyEnv, QStringLiteral("ANTHROPIC_API_KEY"));
        QCOMPARE(config.upstreams[0].upstreamModel(QStringLiteral("fast")), QStringLiteral("gpt-4o-mini"));
        QCOMPARE(config.upstreams[0].upstreamModel(QStringLiteral("gpt-4o")), QStringLiteral("gpt-4o"));
        QCOMPARE(config.apiKeys.size(), 2u);
        QCOMPARE(config.apiKeys[1].priority, KeyPriority::Low);
        QCOMPARE(config.rateLimits[1].algorithm, LimitAlgorithm::SlidingWindow);
        QCOMPARE(config.rateLimits[0].scope, (std::vector{LimitScope::ApiKey, LimitScope::Model}));
        QCOMPARE(config.cache.modelTtl.at(QStringLiteral("gpt-4o")), 600s);
        QCOMPARE(config.cache.routeTtl.at(QStringLiteral("/v1/embeddings")), 86400s);
        QCOMPARE(config.cache.bypass.temperatureAbove, 0.7);
        QCOMPARE(config.concurrency.queueTimeout, 15s);
        QCOMPARE(config.retries.retryOnStatuses, (std::vector{429, 500, 502, 503, 504}));
        QVERIFY(config.retries.retryOnTimeout && config.retries.retryOnConnectionReset);
        QCOMPARE(config.admin.tokenEnv, QStringLiteral("SLUICE_ADMIN_TOKEN"));
        QCOMPARE(config.redis.enabled, false);
        QCOMPARE(config.redis.passwordEnv, QStringLiteral("REDIS_PASSWORD"));
        QCOMPARE(config.postgres.enabled, false);
        QCOMPARE(config.postgres.connectionStringEnv, QStringLiteral("SLUICE_POSTGRES_URL"));
    }

    void exampleKeysAreHashesOfTheDocumentedPlaceholders()
    {
        const GatewayConfig config = exampleConfig();
        QCOMPARE(config.apiKeys.at(0).keySha256, hashApiKey(u"sk-sluice-example-chat-web"));
        QCOMPARE(config.apiKeys.at(1).keySha256, hashApiKey(u"sk-sluice-example-batch"));
    }

    void hashApiKeyIsSha256Hex_data()
    {
        QTest::addColumn<QString>("plaintext");
        QTest::addColumn<QString>("expected");
        QTest::newRow("empty") << QString() << "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        QTest::newRow("abc") << "abc" << "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        // sha256sum of the UTF-8 bytes.
        QTest::newRow("utf-8") << QStringLiteral("ключ") << "1de36a32af798da0c1ac9297603a320ed8fe567cf21c9177112a4ce914ebb8be";
    }

    void hashApiKeyIsSha256Hex()
    {
        QFETCH(QString, plaintext);
        QFETCH(QString, expected);
        QCOMPARE(hashApiKey(plaintext), expected);
    }

    void defaultConfigIsCompleteAndValid()
    {
        const GatewayConfig config = defaultConfig();
        QVERIFY(validate(config).empty());
        QCOMPARE(config.server.maxHeaderBytes, 64 * 1024);
        QCOMPARE(config.server.maxBodyBytes, 8 * 1024 * 1024);
        QCOMPARE(config.admin.address, QStringLiteral("127.0.0.1"));
        QCOMPARE(config.logging.level, LogLevel::Info);
        // Every section is optional, and an empty document means the defaults.
        const ConfigResult empty = loadConfig(QByteArray("{}"));
        QVERIFY(empty.ok());
        QVERIFY(*empty == config);
        // Every field is written.
        const QJsonObject json = toJson(config);
        QCOMPARE(json.size(), 17);
        QCOMPARE(json.value(u"redis").toObject().size(), 13);
        QCOMPARE(json.value(u"postgres").toObject().size(), 7);
        QCOMPARE(json.value(u"server").toObject().size(), 8);
        QCOMPARE(json.value(u"cache").toObject().value(u"bypass").toObject().size(), 3);
    }

    void saveLoadSaveIsIdentical_data()
    {
        QTest::addColumn<QByteArray>("source");
        QTest::newRow("default") << saveConfig(defaultConfig());
        QTest::newRow("example") << readExample();
        QTest::newRow("example, scrambled") << scrambled(exampleObject());
    }

    void saveLoadSaveIsIdentical()
    {
        QFETCH(QByteArray, source);
        const ConfigResult first = loadConfig(source);
        QVERIFY2(first.ok(), first ? "" : qPrintable(toStringList(first.error()).join(u'\n')));
        const QByteArray saved = saveConfig(*first);
        const ConfigResult second = loadConfig(saved);
        QVERIFY(second.ok());
        QVERIFY(*second == *first);
        QCOMPARE(saveConfig(*second), saved);
        QVERIFY(saved.endsWith("}\n"));
    }

    void savedTextIsInDocumentOrder()
    {
        const QByteArray saved = saveConfig(exampleConfig());
        QVERIFY(saved.startsWith("{\n  \"version\": 1,\n  \"comment\": "));
        QVERIFY(saved.indexOf("\"server\"") < saved.indexOf("\"upstreams\""));
        QVERIFY(saved.indexOf("\"upstreams\"") < saved.indexOf("\"logging\""));
        QVERIFY(saved.indexOf("\"logging\"") < saved.indexOf("\"redis\""));
        QVERIFY(saved.indexOf("\"redis\"") < saved.indexOf("\"postgres\""));
        QVERIFY(saved.contains("\"retry_on\": [429, 500, 502, 503, 504, \"timeout\", \"connection_reset\"]"));
    }

    void hashIgnoresKeyOrderWhitespaceVersionAndComment_data()
    {
        QTest::addColumn<QByteArray>("variant");
        const QJsonObject example = exampleObject();
        QTest::newRow("as written") << readExample();
        QTest::newRow("compact, sorted keys") << QJsonDocument(example).toJson(QJsonDocument::Compact);
        QTest::newRow("reversed keys, tabs and CRLF") << scrambled(example);
        QJsonObject other = example;
        other.insert(QStringLiteral("version"), 42);
        other.insert(QStringLiteral("comment"), QStringLiteral("tuned by the console"));
        QTest::newRow("other version and comment") << QJsonDocument(other).toJson();
        QTest::newRow("canonical save") << saveConfig(exampleConfig());
    }

    void hashIgnoresKeyOrderWhitespaceVersionAndComment()
    {
        QFETCH(QByteArray, variant);
        const ConfigResult loaded = loadConfig(variant);
        QVERIFY(loaded.ok());
        const QString expected = contentHash(exampleConfig());
        QCOMPARE(expected.size(), 64);
        QVERIFY(QRegularExpression(QStringLiteral("^[0-9a-f]{64}$")).match(expected).hasMatch());
        QCOMPARE(contentHash(*loaded), expected);
    }

    void hashChangesWithAnySetting_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("valueJson");
        QTest::newRow("cache ttl") << "cache.ttl_seconds" << "301";
        QTest::newRow("upstream quota") << "upstreams[name=openai].requests_per_minute" << "5001";
        QTest::newRow("alias target") << "upstreams[name=openai].aliases.fast" << "\"gpt-4o\"";
        QTest::newRow("key priority") << "api_keys[id=batch-jobs].priority" << "\"normal\"";
        QTest::newRow("rule algorithm") << "rate_limits[name=chat-per-ip].algorithm" << "\"gcra\"";
        QTest::newRow("rule burst") << "rate_limits[0].burst" << "0";
        QTest::newRow("retry condition dropped") << "retries.retry_on" << "[429, 500, 502, 503, 504, \"timeout\"]";
        QTest::newRow("bypass temperature") << "cache.bypass.temperature_above" << "0.75";
        QTest::newRow("log level") << "logging.level" << "\"debug\"";
        QTest::newRow("redis fallback") << "redis.fallback" << "\"fail_open\"";
        QTest::newRow("redis disabled section") << "redis.key_namespace" << "\"staging\"";
        QTest::newRow("postgres retention") << "postgres.retention_days" << "30";
        QTest::newRow("model list order") << "upstreams[0].models"
                                          << "[\"gpt-4o-mini\", \"gpt-4o\", \"text-embedding-3-small\"]";
    }

    void hashChangesWithAnySetting()
    {
        QFETCH(QString, path);
        QFETCH(QString, valueJson);
        const QJsonValue value = QJsonDocument::fromJson(("[" + valueJson + "]").toUtf8()).array().at(0);
        const auto edited = setValueAtPath(exampleObject(), path, value);
        QVERIFY(edited.ok());
        const ConfigResult loaded = loadConfig(*edited);
        QVERIFY2(loaded.ok(), loaded ? "" : qPrintable(toStringList(loaded.error()).join(u'\n')));
        QVERIFY(contentHash(*loaded) != contentHash(exampleConfig()));
    }

    void routeForFollowsModelsAndAliases_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QStringList>("expected");
        QTest::newRow("model") << "gpt-4o" << QStringList{"openai"};
        QTest::newRow("alias") << "fast" << QStringList{"openai"};
        QTest::newRow("anthropic alias") << "claude-haiku" << QStringList{"anthropic"};
        QTest::newRow("anthropic model") << "claude-3-5-sonnet-latest" << QStringList{"anthropic"};
        QTest::newRow("local") << "llama-3.1-8b-instruct" << QStringList{"local-vllm"};
        QTest::newRow("unknown") << "gpt-5" << QStringList{};
        QTest::newRow("alias target is not a glob") << "gpt-4o*" << QStringList{};
        QTest::newRow("case matters") << "GPT-4o" << QStringList{};
    }

    void routeForFollowsModelsAndAliases()
    {
        QFETCH(QString, model);
        QFETCH(QStringList, expected);
        QCOMPARE(exampleConfig().routeFor(model), expected);
    }

    void routeForOrdersByPriorityThenListOrder_data()
    {
        QTest::addColumn<QList<int>>("priorities");
        QTest::addColumn<QStringList>("expected");
        QTest::newRow("ties keep list order") << QList<int>{0, 0, 0} << QStringList{"a", "b", "c"};
        QTest::newRow("first demoted") << QList<int>{5, 0, 0} << QStringList{"b", "c", "a"};
        QTest::newRow("reversed") << QList<int>{2, 1, 0} << QStringList{"c", "b", "a"};
        QTest::newRow("tie after the first") << QList<int>{0, 7, 7} << QStringList{"a", "b", "c"};
    }

    void routeForOrdersByPriorityThenListOrder()
    {
        QFETCH(QList<int>, priorities);
        QFETCH(QStringList, expected);
        GatewayConfig config;
        config.upstreams = {upstreamServing(QStringLiteral("a"), {QStringLiteral("m")}, priorities[0]),
                            upstreamServing(QStringLiteral("b"), {QStringLiteral("m")}, priorities[1]),
                            upstreamServing(QStringLiteral("c"), {QStringLiteral("m"), QStringLiteral("n")},
                                            priorities[2])};
        QVERIFY(validate(config).empty());
        QCOMPARE(config.routeFor(QStringLiteral("m")), expected);
        QCOMPARE(config.routeFor(QStringLiteral("n")), QStringList{QStringLiteral("c")});
        QVERIFY(config.upstream(QStringLiteral("b")) == &config.upstreams[1]);
        QVERIFY(config.upstream(QStringLiteral("d")) == nullptr);
    }

    void globMatches_data()
    {
        QTest::addColumn<QString>("glob");
        QTest::addColumn<QString>("name");
        QTest::addColumn<bool>("expected");
        QTest::newRow("exact") << "gpt-4o" << "gpt-4o" << true;
        QTest::newRow("exact, longer name") << "gpt-4o" << "gpt-4o-mini" << false;
        QTest::newRow("star suffix") << "gpt-4o*" << "gpt-4o-mini" << true;
        QTest::newRow("star matches empty") << "gpt-4o*" << "gpt-4o" << true;
        QTest::newRow("star middle") << "claude-*-latest" << "claude-3-5-haiku-latest" << true;
        QTest::newRow("star middle, no match") << "claude-*-latest" << "claude-3-5-haiku" << false;
        QTest::newRow("question mark") << "gpt-?o" << "gpt-4o" << true;
        QTest::newRow("question mark needs one") << "gpt-4?" << "gpt-4" << false;
        QTest::newRow("only star") << "*" << "anything" << true;
        QTest::newRow("backtracking") << "*a*b" << "xaxxbxab" << true;
        QTest::newRow("case-sensitive") << "GPT*" << "gpt-4o" << false;
        QTest::newRow("empty glob") << "" << "x" << false;
    }

    void globMatches()
    {
        QFETCH(QString, glob);
        QFETCH(QString, name);
        QFETCH(bool, expected);
        QCOMPARE(sluice::config::globMatches(glob, name), expected);
    }

    void enumNamesRoundTrip()
    {
        QCOMPARE(enumName(UpstreamKind::Anthropic), QStringLiteral("anthropic"));
        QCOMPARE(enumName(LimitAlgorithm::SlidingWindow), QStringLiteral("sliding_window"));
        QCOMPARE(enumName(LogLevel::Warn), QStringLiteral("warn"));
        QCOMPARE(enumName(RedisFallback::FailOpen), QStringLiteral("fail_open"));
        QCOMPARE(enumName(static_cast<LogLevel>(9)), QString());
    }
};

QTEST_APPLESS_MAIN(TestConfig)
#include "tst_config.moc"
