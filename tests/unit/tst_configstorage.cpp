#include <QTest>

#include <functional>

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include "config/configdiff.h"
#include "config/configloader.h"
#include "config/configpath.h"
#include "config/configvalidator.h"
#include "config/configwriter.h"
#include "config/gatewayconfig.h"

using namespace std::chrono_literals;
using namespace sluice::config;

using StorageEdit = std::function<void(GatewayConfig &)>;
Q_DECLARE_METATYPE(StorageEdit)

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

QString errorsOf(const ConfigResult &result)
{
    return result ? QString() : toStringList(result.error()).join(u'\n');
}

// Every storage setting away from its default, and valid.
GatewayConfig storageConfig()
{
    GatewayConfig config = defaultConfig();
    config.redis.enabled = true;
    config.redis.address = QStringLiteral("redis-0.redis.sluice.svc.cluster.local");
    config.redis.port = 6380;
    config.redis.db = 3;
    config.redis.user = QStringLiteral("sluice");
    config.redis.passwordFile = QStringLiteral("/run/secrets/redis");
    config.redis.keyNamespace = QStringLiteral("prod-eu_1");
    config.redis.connectTimeout = 1500ms;
    config.redis.commandTimeout = 100ms;
    config.redis.fallback = RedisFallback::FailClosed;
    config.redis.sharedCache = false;
    config.redis.heartbeat = 15s;
    config.postgres.enabled = true;
    config.postgres.connectionStringEnv = QStringLiteral("SLUICE_POSTGRES_URL");
    config.postgres.bufferRecords = 2'000'000;
    config.postgres.batchSize = 2000;
    config.postgres.flushInterval = 250ms;
    config.postgres.retention = std::chrono::days{400};
    return config;
}

// "path | before | after" per change.
QStringList describe(const std::vector<FieldChange> &changes)
{
    QStringList lines;
    for (const FieldChange &change : changes)
        lines.append(change.path + QStringLiteral(" | ") + change.before + QStringLiteral(" | ") + change.after);
    return lines;
}

} // namespace

class TestConfigStorage : public QObject {
    Q_OBJECT
private slots:
    void defaultsAreOffAndValid()
    {
        const GatewayConfig config = defaultConfig();
        const RedisConfig &redis = config.redis;
        QCOMPARE(redis.enabled, false);
        QCOMPARE(redis.address, QStringLiteral("127.0.0.1"));
        QCOMPARE(redis.port, 6379);
        QCOMPARE(redis.db, 0);
        QCOMPARE(redis.user, QString());
        QCOMPARE(redis.passwordEnv, QString());
        QCOMPARE(redis.passwordFile, QString());
        QCOMPARE(redis.keyNamespace, QStringLiteral("default"));
        QCOMPARE(redis.connectTimeout, 2000ms);
        QCOMPARE(redis.commandTimeout, 250ms);
        QCOMPARE(redis.fallback, RedisFallback::Local);
        QCOMPARE(redis.sharedCache, true);
        QCOMPARE(redis.heartbeat, 5s);
        const PostgresConfig &postgres = config.postgres;
        QCOMPARE(postgres.enabled, false);
        QCOMPARE(postgres.connectionStringEnv, QString());
        QCOMPARE(postgres.connectionStringFile, QString());
        QCOMPARE(postgres.bufferRecords, 100'000);
        QCOMPARE(postgres.batchSize, 500);
        QCOMPARE(postgres.flushInterval, 1000ms);
        QCOMPARE(postgres.retention, std::chrono::days{90});
        QVERIFY(validate(config).empty());

        // Both sections are optional; empty ones mean the defaults.
        const ConfigResult empty = loadConfig(QByteArray("{\"redis\": {}, \"postgres\": {}}"));
        QVERIFY2(empty.ok(), qPrintable(errorsOf(empty)));
        QVERIFY(*empty == config);

        // Every field is written.
        const QJsonObject json = toJson(config);
        QCOMPARE(json.value(u"redis").toObject().size(), 13);
        QCOMPARE(json.value(u"postgres").toObject().size(), 7);
        QCOMPARE(json.value(u"redis").toObject().value(u"fallback").toString(), QStringLiteral("local"));
        QCOMPARE(json.value(u"postgres").toObject().value(u"retention_days").toInt(), 90);
    }

    void exampleHasBothSectionsDisabled()
    {
        const QJsonObject example = exampleObject();
        QVERIFY(example.value(u"redis").isObject());
        QVERIFY(example.value(u"postgres").isObject());
        const ConfigResult loaded = loadConfigFile(kExamplePath);
        QVERIFY2(loaded.ok(), qPrintable(errorsOf(loaded)));
        QCOMPARE(loaded->redis.enabled, false);
        QCOMPARE(loaded->postgres.enabled, false);
        // The example spells out every field, so it shows them all to the reader.
        QCOMPARE(example.value(u"redis").toObject(), toJson(*loaded).value(u"redis").toObject());
        QCOMPARE(example.value(u"postgres").toObject(), toJson(*loaded).value(u"postgres").toObject());
    }

    void loadsEverySetting()
    {
        const QByteArray json =
            "{\"redis\": {\"enabled\": true, \"address\": \"10.1.2.3\", \"port\": 7000, \"db\": 15, "
            "\"user\": \"gw\", \"password_env\": \"REDIS_PASSWORD\", \"key_namespace\": \"tenant-a\", "
            "\"connect_timeout_ms\": 600000, \"command_timeout_ms\": 1, \"fallback\": \"fail_open\", "
            "\"shared_cache\": false, \"heartbeat_seconds\": 3600}, "
            "\"postgres\": {\"enabled\": true, \"connection_string_file\": \"/run/secrets/pg\", "
            "\"buffer_records\": 10000000, \"batch_size\": 100000, \"flush_interval_ms\": 10, "
            "\"retention_days\": 3650}}";
        const ConfigResult loaded = loadConfig(json);
        QVERIFY2(loaded.ok(), qPrintable(errorsOf(loaded)));
        const RedisConfig &redis = loaded->redis;
        QCOMPARE(redis.enabled, true);
        QCOMPARE(redis.address, QStringLiteral("10.1.2.3"));
        QCOMPARE(redis.port, 7000);
        QCOMPARE(redis.db, 15);
        QCOMPARE(redis.user, QStringLiteral("gw"));
        QCOMPARE(redis.passwordEnv, QStringLiteral("REDIS_PASSWORD"));
        QCOMPARE(redis.passwordFile, QString());
        QCOMPARE(redis.keyNamespace, QStringLiteral("tenant-a"));
        QCOMPARE(redis.connectTimeout, 600000ms);
        QCOMPARE(redis.commandTimeout, 1ms);
        QCOMPARE(redis.fallback, RedisFallback::FailOpen);
        QCOMPARE(redis.sharedCache, false);
        QCOMPARE(redis.heartbeat, 3600s);
        const PostgresConfig &postgres = loaded->postgres;
        QCOMPARE(postgres.enabled, true);
        QCOMPARE(postgres.connectionStringEnv, QString());
        QCOMPARE(postgres.connectionStringFile, QStringLiteral("/run/secrets/pg"));
        QCOMPARE(postgres.bufferRecords, 10'000'000);
        QCOMPARE(postgres.batchSize, 100'000);
        QCOMPARE(postgres.flushInterval, 10ms);
        QCOMPARE(postgres.retention, std::chrono::days{3650});
    }

    void acceptsValue_data()
    {
        QTest::addColumn<QStringList>("edits");
        const auto row = [](const char *name, QStringList edits) { QTest::newRow(name) << edits; };
        row("redis port 1", {"redis.port = 1"});
        row("redis port 65535", {"redis.port = 65535"});
        row("redis db 0", {"redis.db = 0"});
        row("redis host name", {"redis.address = \"redis\""});
        row("redis fqdn", {"redis.address = \"redis-0.redis.sluice.svc.cluster.local\""});
        row("redis host name, capitals", {"redis.address = \"Cache01.Example.COM\""});
        row("redis ipv6", {"redis.address = \"::1\""});
        row("redis ipv6 full", {"redis.address = \"2001:db8::10\""});
        row("redis fallback local", {"redis.fallback = \"local\""});
        row("redis fallback fail_open", {"redis.fallback = \"fail_open\""});
        row("redis fallback fail_closed", {"redis.fallback = \"fail_closed\""});
        row("redis namespace 64", {"redis.key_namespace = \"" + QString(64, u'a') + "\""});
        row("redis password from a file", {"redis.password_env = \"\"", "redis.password_file = \"/run/secrets/r\""});
        row("redis timeouts 1", {"redis.connect_timeout_ms = 1", "redis.command_timeout_ms = 1"});
        row("redis heartbeat 1", {"redis.heartbeat_seconds = 1"});
        row("postgres buffer 1, batch 1", {"postgres.buffer_records = 1", "postgres.batch_size = 1"});
        row("postgres batch = buffer", {"postgres.batch_size = 100000"});
        row("postgres flush 600000", {"postgres.flush_interval_ms = 600000"});
        row("postgres retention 1", {"postgres.retention_days = 1"});
        row("postgres disabled, no source", {"postgres.connection_string_env = \"\""});
        row("postgres enabled by env", {"postgres.enabled = true"});
        row("postgres enabled by file", {"postgres.enabled = true", "postgres.connection_string_env = \"\"",
                                         "postgres.connection_string_file = \"/run/secrets/postgres\""});
    }

    void acceptsValue()
    {
        QFETCH(QStringList, edits);
        const QJsonObject document = edited(exampleObject(), edits);
        const ConfigResult loaded = loadConfig(document);
        QVERIFY2(loaded.ok(), qPrintable(errorsOf(loaded)));
        // What was read is what is written back.
        for (const QString &edit : edits) {
            const QString path = edit.left(edit.indexOf(QStringLiteral(" = ")));
            QCOMPARE(valueAtPath(toJson(*loaded), path), valueAtPath(document, path));
        }
    }

    void reportsBadField_data()
    {
        QTest::addColumn<QStringList>("edits");
        QTest::addColumn<QStringList>("expected");
        const auto row = [](const char *name, QStringList edits, QStringList expected) {
            QTest::newRow(name) << edits << expected;
        };

        // redis: types and ranges
        row("redis type", {"redis = []"}, {"redis: must be an object, got an array"});
        row("redis enabled type", {"redis.enabled = \"yes\""}, {"redis.enabled: must be a boolean, got \"yes\""});
        row("redis address type", {"redis.address = 6379"}, {"redis.address: must be a string, got 6379"});
        row("redis port 0", {"redis.port = 0"}, {"redis.port: must be ≥ 1, got 0"});
        row("redis port 65536", {"redis.port = 65536"}, {"redis.port: must be ≤ 65535, got 65536"});
        row("redis port text", {"redis.port = \"6379\""}, {"redis.port: must be an integer, got \"6379\""});
        row("redis db -1", {"redis.db = -1"}, {"redis.db: must be ≥ 0, got -1"});
        row("redis db 16", {"redis.db = 16"}, {"redis.db: must be ≤ 15, got 16"});
        row("redis db fraction", {"redis.db = 1.5"}, {"redis.db: must be an integer, got 1.5"});
        row("redis user type", {"redis.user = 5"}, {"redis.user: must be a string, got 5"});
        row("redis connect_timeout_ms 0", {"redis.connect_timeout_ms = 0"},
            {"redis.connect_timeout_ms: must be ≥ 1, got 0"});
        row("redis connect_timeout_ms 600001", {"redis.connect_timeout_ms = 600001"},
            {"redis.connect_timeout_ms: must be ≤ 600000, got 600001"});
        row("redis command_timeout_ms 0", {"redis.command_timeout_ms = 0"},
            {"redis.command_timeout_ms: must be ≥ 1, got 0"});
        row("redis command_timeout_ms 600001", {"redis.command_timeout_ms = 600001"},
            {"redis.command_timeout_ms: must be ≤ 600000, got 600001"});
        row("redis heartbeat_seconds 0", {"redis.heartbeat_seconds = 0"},
            {"redis.heartbeat_seconds: must be ≥ 1, got 0"});
        row("redis heartbeat_seconds 3601", {"redis.heartbeat_seconds = 3601"},
            {"redis.heartbeat_seconds: must be ≤ 3600, got 3601"});
        row("redis fallback", {"redis.fallback = \"open\""},
            {"redis.fallback: must be one of \"local\", \"fail_open\", \"fail_closed\", got \"open\""});
        row("redis fallback type", {"redis.fallback = true"},
            {"redis.fallback: must be one of \"local\", \"fail_open\", \"fail_closed\", got true"});
        row("redis shared_cache type", {"redis.shared_cache = 1"}, {"redis.shared_cache: must be a boolean, got 1"});
        row("redis unknown field", {"redis.pasword_env = \"X\""},
            {"redis.pasword_env: unknown field (did you mean \"password_env\"?)"});

        // redis: address, namespace, secrets
        row("redis address empty", {"redis.address = \"\""},
            {"redis.address: must be a host name or an IPv4 or IPv6 address, got \"\""});
        row("redis address with port", {"redis.address = \"redis:6379\""},
            {"redis.address: must be a host name or an IPv4 or IPv6 address, got \"redis:6379\""});
        row("redis address url", {"redis.address = \"redis://cache.internal\""},
            {"redis.address: must be a host name or an IPv4 or IPv6 address, got \"redis://cache.internal\""});
        row("redis address bad ipv4", {"redis.address = \"256.1.1.1\""},
            {"redis.address: must be a host name or an IPv4 or IPv6 address, got \"256.1.1.1\""});
        row("redis address underscore", {"redis.address = \"redis_host\""},
            {"redis.address: must be a host name or an IPv4 or IPv6 address, got \"redis_host\""});
        row("redis address leading hyphen", {"redis.address = \"-redis.local\""},
            {"redis.address: must be a host name or an IPv4 or IPv6 address, got \"-redis.local\""});
        row("redis address empty label", {"redis.address = \"redis..local\""},
            {"redis.address: must be a host name or an IPv4 or IPv6 address, got \"redis..local\""});
        row("redis address label of 64", {"redis.address = \"" + QString(64, u'a') + ".local\""},
            {"redis.address: must be a host name or an IPv4 or IPv6 address, got \"" + QString(64, u'a')
             + "…\""});
        row("redis namespace empty", {"redis.key_namespace = \"\""}, {"redis.key_namespace: must not be empty"});
        row("redis namespace pattern", {"redis.key_namespace = \"Prod EU\""},
            {"redis.key_namespace: must match [a-z0-9_-]{1,64}, got \"Prod EU\""});
        row("redis namespace with colon", {"redis.key_namespace = \"sluice:prod\""},
            {"redis.key_namespace: must match [a-z0-9_-]{1,64}, got \"sluice:prod\""});
        row("redis namespace 65", {"redis.key_namespace = \"" + QString(65, u'a') + "\""},
            {"redis.key_namespace: must match [a-z0-9_-]{1,64}, got \"" + QString(64, u'a') + "…\""});
        row("redis password pasted into password_env", {"redis.password_env = \"hunter2!\""},
            {"redis.password_env: must be the name of an environment variable, like REDIS_PASSWORD "
             "(never the secret itself)"});
        row("redis two password sources", {"redis.password_file = \"/run/secrets/redis\""},
            {"redis.password_file: must be empty when password_env is set"});
        row("redis rules hold while disabled", {"redis.enabled = false", "redis.key_namespace = \"A\""},
            {"redis.key_namespace: must match [a-z0-9_-]{1,64}, got \"A\""});

        // postgres: types and ranges
        row("postgres type", {"postgres = true"}, {"postgres: must be an object, got true"});
        row("postgres enabled type", {"postgres.enabled = null"}, {"postgres.enabled: must be a boolean, got null"});
        row("postgres buffer_records 0", {"postgres.buffer_records = 0"},
            {"postgres.buffer_records: must be ≥ 1, got 0"});
        row("postgres buffer_records 10000001", {"postgres.buffer_records = 10000001"},
            {"postgres.buffer_records: must be ≤ 10000000, got 10000001"});
        row("postgres batch_size 0", {"postgres.batch_size = 0"}, {"postgres.batch_size: must be ≥ 1, got 0"});
        row("postgres batch_size 100001", {"postgres.batch_size = 100001"},
            {"postgres.batch_size: must be ≤ 100000, got 100001"});
        row("postgres flush_interval_ms 9", {"postgres.flush_interval_ms = 9"},
            {"postgres.flush_interval_ms: must be ≥ 10, got 9"});
        row("postgres flush_interval_ms 600001", {"postgres.flush_interval_ms = 600001"},
            {"postgres.flush_interval_ms: must be ≤ 600000, got 600001"});
        row("postgres retention_days 0", {"postgres.retention_days = 0"},
            {"postgres.retention_days: must be ≥ 1, got 0"});
        row("postgres retention_days 3651", {"postgres.retention_days = 3651"},
            {"postgres.retention_days: must be ≤ 3650, got 3651"});
        row("postgres retention_days fraction", {"postgres.retention_days = 1.5"},
            {"postgres.retention_days: must be an integer, got 1.5"});
        row("postgres unknown field, value not echoed",
            {"postgres.connection_string = \"postgresql://sluice:secret@db/sluice\""},
            {"postgres.connection_string: unknown field (did you mean \"connection_string_env\"?)"});

        // postgres: secrets and cross-field rules
        row("postgres connection string pasted into _env",
            {"postgres.connection_string_env = \"postgresql://sluice:secret@db/sluice\""},
            {"postgres.connection_string_env: must be the name of an environment variable, like SLUICE_POSTGRES_URL "
             "(never the secret itself)"});
        row("postgres two sources", {"postgres.connection_string_file = \"/run/secrets/postgres\""},
            {"postgres.connection_string_file: must be empty when connection_string_env is set"});
        row("postgres two sources while enabled",
            {"postgres.enabled = true", "postgres.connection_string_file = \"/run/secrets/postgres\""},
            {"postgres.connection_string_file: must be empty when connection_string_env is set"});
        row("postgres enabled without a source", {"postgres.enabled = true", "postgres.connection_string_env = \"\""},
            {"postgres: a connection string (connection_string_env or connection_string_file) is required when "
             "enabled"});
        row("postgres enabled, source unreadable, no echo",
            {"postgres.enabled = true", "postgres.connection_string_env = 5"},
            {"postgres.connection_string_env: must be a string, got 5"});
        row("postgres batch larger than buffer", {"postgres.buffer_records = 100"},
            {"postgres.batch_size: must be ≤ buffer_records (100), got 500"});
        row("postgres batch larger than an unreadable buffer, no echo",
            {"postgres.buffer_records = \"100\"", "postgres.batch_size = 100000"},
            {"postgres.buffer_records: must be an integer, got \"100\""});

        // Section names and order.
        row("section misspelt", {"rediss = {}"}, {"rediss: unknown field (did you mean \"redis\"?)"});
        row("section misspelt, postgres", {"postgre = {}"}, {"postgre: unknown field (did you mean \"postgres\"?)"});
        row("errors in document order",
            {"postgres.batch_size = 0", "redis.db = 16", "logging.level = \"loud\"", "admin.port = 65536",
             "redis.address = \"\""},
            {"admin.port: must be ≤ 65535, got 65536",
             "logging.level: must be one of \"debug\", \"info\", \"warn\", \"error\", got \"loud\"",
             "redis.db: must be ≤ 15, got 16",
             "redis.address: must be a host name or an IPv4 or IPv6 address, got \"\"",
             "postgres.batch_size: must be ≥ 1, got 0"});
    }

    void reportsBadField()
    {
        QFETCH(QStringList, edits);
        QFETCH(QStringList, expected);
        const ConfigResult loaded = loadConfig(edited(exampleObject(), edits));
        QVERIFY(!loaded.ok());
        QCOMPARE(toStringList(loaded.error()), expected);
    }

    void validatesConfigsBuiltInCode_data()
    {
        QTest::addColumn<StorageEdit>("edit");
        QTest::addColumn<QStringList>("expected");
        QTest::newRow("all storage settings") << StorageEdit([](GatewayConfig &c) { c = storageConfig(); })
                                              << QStringList{};
        QTest::newRow("fallback out of range")
            << StorageEdit([](GatewayConfig &c) { c.redis.fallback = RedisFallback(7); })
            << QStringList{"redis.fallback: must be one of \"local\", \"fail_open\", \"fail_closed\", got 7"};
        QTest::newRow("retention in days")
            << StorageEdit([](GatewayConfig &c) { c.postgres.retention = std::chrono::days{-1}; })
            << QStringList{"postgres.retention_days: must be ≥ 1, got -1"};
        QTest::newRow("redis both password sources") << StorageEdit([](GatewayConfig &c) {
            c.redis.passwordEnv = QStringLiteral("REDIS_PASSWORD");
            c.redis.passwordFile = QStringLiteral("/run/secrets/redis");
        }) << QStringList{"redis.password_file: must be empty when password_env is set"};
        QTest::newRow("postgres enabled without a source")
            << StorageEdit([](GatewayConfig &c) { c.postgres.enabled = true; })
            << QStringList{"postgres: a connection string (connection_string_env or connection_string_file) is "
                           "required when enabled"};
        QTest::newRow("postgres both sources") << StorageEdit([](GatewayConfig &c) {
            c.postgres.enabled = true;
            c.postgres.connectionStringEnv = QStringLiteral("PG");
            c.postgres.connectionStringFile = QStringLiteral("/run/secrets/pg");
        }) << QStringList{"postgres.connection_string_file: must be empty when connection_string_env is set"};
        QTest::newRow("buffer below range and below batch")
            << StorageEdit([](GatewayConfig &c) { c.postgres.bufferRecords = 0; })
            << QStringList{"postgres.buffer_records: must be ≥ 1, got 0",
                           "postgres.batch_size: must be ≤ buffer_records (0), got 500"};
        QTest::newRow("redis ipv4 address with zero padding")
            << StorageEdit([](GatewayConfig &c) { c.redis.address = QStringLiteral("010.0.0.1"); })
            << QStringList{"redis.address: must be a host name or an IPv4 or IPv6 address, got \"010.0.0.1\""};
    }

    void validatesConfigsBuiltInCode()
    {
        QFETCH(StorageEdit, edit);
        QFETCH(QStringList, expected);
        GatewayConfig config = defaultConfig();
        edit(config);
        QCOMPARE(toStringList(validate(config)), expected);
    }

    void saveLoadSaveIsIdentical()
    {
        const GatewayConfig config = storageConfig();
        QVERIFY(validate(config).empty());
        const QByteArray saved = saveConfig(config);
        const ConfigResult loaded = loadConfig(saved);
        QVERIFY2(loaded.ok(), qPrintable(errorsOf(loaded)));
        QVERIFY(*loaded == config);
        QCOMPARE(saveConfig(*loaded), saved);
        QVERIFY(contentHash(*loaded) != contentHash(defaultConfig()));

        // Document order: the storage sections follow logging, redis first.
        QVERIFY(saved.indexOf("\"logging\"") < saved.indexOf("\"redis\""));
        QVERIFY(saved.indexOf("\"redis\"") < saved.indexOf("\"postgres\""));
        QVERIFY(saved.contains("\"fallback\": \"fail_closed\""));
        QVERIFY(saved.contains("\"retention_days\": 400"));
        QVERIFY(saved.endsWith("    \"retention_days\": 400\n  }\n}\n"));
    }

    void diffsStorageSettings_data()
    {
        QTest::addColumn<QStringList>("edits");
        QTest::addColumn<QStringList>("expected");
        QTest::newRow("redis fallback") << QStringList{"redis.fallback = \"fail_closed\""}
                                        << QStringList{"redis.fallback | \"local\" | \"fail_closed\""};
        QTest::newRow("redis enabled") << QStringList{"redis.enabled = true"}
                                       << QStringList{"redis.enabled | false | true"};
        QTest::newRow("postgres batch and redis timeout")
            << QStringList{"redis.command_timeout_ms = 500", "postgres.batch_size = 1000"}
            << QStringList{"postgres.batch_size | 500 | 1000", "redis.command_timeout_ms | 250 | 500"};
        QTest::newRow("source swapped")
            << QStringList{"postgres.connection_string_env = \"\"",
                           "postgres.connection_string_file = \"/run/secrets/pg\""}
            << QStringList{"postgres.connection_string_env | \"SLUICE_POSTGRES_URL\" | \"\"",
                           "postgres.connection_string_file | \"\" | \"/run/secrets/pg\""};
        QTest::newRow("defaults made implicit are no change")
            << QStringList{"postgres = {\"connection_string_env\": \"SLUICE_POSTGRES_URL\"}",
                           "redis = {\"password_env\": \"REDIS_PASSWORD\"}"}
            << QStringList{};
    }

    void diffsStorageSettings()
    {
        QFETCH(QStringList, edits);
        QFETCH(QStringList, expected);
        const ConfigResult before = loadConfig(exampleObject());
        const ConfigResult after = loadConfig(edited(exampleObject(), edits));
        QVERIFY2(before.ok(), qPrintable(errorsOf(before)));
        QVERIFY2(after.ok(), qPrintable(errorsOf(after)));
        const std::vector<FieldChange> changes = diffConfigs(*before, *after);
        QCOMPARE(describe(changes), expected);
        // Each change applies by its path.
        QJsonObject replayed = toJson(*before);
        for (const FieldChange &change : changes) {
            auto applied = setValueAtPath(replayed, change.path, parseValue(change.after));
            QVERIFY2(applied.ok(), qPrintable(change.path));
            replayed = *applied;
        }
        QCOMPARE(replayed, toJson(*after));
    }

    void enumNamesRoundTrip()
    {
        QCOMPARE(enumName(RedisFallback::Local), QStringLiteral("local"));
        QCOMPARE(enumName(RedisFallback::FailOpen), QStringLiteral("fail_open"));
        QCOMPARE(enumName(RedisFallback::FailClosed), QStringLiteral("fail_closed"));
        QCOMPARE(enumName(static_cast<RedisFallback>(3)), QString());
        QCOMPARE(enumNames(RedisFallback{}).size(), 3u);
    }
};

QTEST_APPLESS_MAIN(TestConfigStorage)
#include "tst_configstorage.moc"
