#include <QTest>

#include <cmath>
#include <functional>

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include "config/configloader.h"
#include "config/configpath.h"
#include "config/configvalidator.h"

using namespace std::chrono_literals;
using namespace sluice::config;

using ConfigEdit = std::function<void(GatewayConfig &)>;
Q_DECLARE_METATYPE(ConfigEdit)

namespace {

const QString kExamplePath = QStringLiteral(SLUICE_SOURCE_DIR "/resources/examples/gateway.json");

QJsonObject exampleObject()
{
    QFile file(kExamplePath);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(file.readAll()).object();
}

// Each edit is "path = json" in configpath.h syntax; "path = <remove>" deletes.
QJsonObject edited(QJsonObject document, const QStringList &edits)
{
    for (const QString &edit : edits) {
        const qsizetype split = edit.indexOf(QStringLiteral(" = "));
        const QString path = edit.left(split);
        const QString text = edit.mid(split + 3);
        QJsonValue value(QJsonValue::Undefined);
        if (text != u"<remove>") {
            QJsonParseError error;
            const QJsonDocument parsed = QJsonDocument::fromJson(("[" + text + "]").toUtf8(), &error);
            if (error.error != QJsonParseError::NoError)
                qFatal("bad edit value in test table: %s", qPrintable(edit));
            value = parsed.array().at(0);
        }
        auto result = setValueAtPath(document, path, value);
        if (!result)
            qFatal("bad edit path in test table: %s: %s", qPrintable(edit), qPrintable(result.error()));
        document = *result;
    }
    return document;
}

} // namespace

class TestConfigValidation : public QObject {
    Q_OBJECT
private slots:
    void exampleIsValid()
    {
        const ConfigResult loaded = loadConfig(exampleObject());
        QVERIFY2(loaded.ok(), loaded ? "" : qPrintable(toStringList(loaded.error()).join(u'\n')));
        QVERIFY(validate(*loaded).empty());
    }

    void reportsBadField_data()
    {
        QTest::addColumn<QStringList>("edits");
        QTest::addColumn<QStringList>("expected");
        const auto row = [](const char *name, QStringList edits, QStringList expected) {
            QTest::newRow(name) << edits << expected;
        };

        // version, comment
        row("version fraction", {"version = 1.5"}, {"version: must be an integer, got 1.5"});
        row("version negative", {"version = -1"}, {"version: must be ≥ 0, got -1"});
        row("version beyond 2^53", {"version = 9007199254740993"},
            {"version: must be ≤ 9007199254740991, got 9007199254740993"});
        row("comment type", {"comment = 5"}, {"comment: must be a string, got 5"});

        // server
        row("server type", {"server = []"}, {"server: must be an object, got an array"});
        row("no listeners", {"server.listeners = []"}, {"server.listeners: must list at least one listener"});
        row("listener address", {"server.listeners[0].address = \"localhost\""},
            {"server.listeners[0].address: must be an IPv4 or IPv6 address, got \"localhost\""});
        row("listener bad ipv4", {"server.listeners[0].address = \"256.1.1.1\""},
            {"server.listeners[0].address: must be an IPv4 or IPv6 address, got \"256.1.1.1\""});
        row("listener port", {"server.listeners[0].port = 70000"},
            {"server.listeners[0].port: must be ≤ 65535, got 70000"});
        row("listener twice", {"server.listeners[1] = {\"address\": \"0.0.0.0\", \"port\": 8080}"},
            {"server.listeners[1]: 0.0.0.0:8080 is already used by server.listeners[0]"});
        row("max_header_bytes", {"server.max_header_bytes = 100"},
            {"server.max_header_bytes: must be ≥ 1024, got 100"});
        row("max_body_bytes type", {"server.max_body_bytes = \"8MiB\""},
            {"server.max_body_bytes: must be an integer, got \"8MiB\""});
        row("header_timeout_ms", {"server.header_timeout_ms = 0"},
            {"server.header_timeout_ms: must be ≥ 1, got 0"});
        row("body_timeout_ms huge", {"server.body_timeout_ms = 1e300"},
            {"server.body_timeout_ms: must be ≤ 3600000, got 1e+300"});
        row("idle_timeout_ms type", {"server.idle_timeout_ms = true"},
            {"server.idle_timeout_ms: must be an integer, got true"});
        row("threads", {"server.threads = -1"}, {"server.threads: must be ≥ 0, got -1"});
        row("shutdown_drain_seconds", {"server.shutdown_drain_seconds = 1.5"},
            {"server.shutdown_drain_seconds: must be an integer, got 1.5"});

        // upstreams
        row("upstreams type", {"upstreams = {}"}, {"upstreams: must be an array, got an object"});
        row("upstream type", {"upstreams[3] = 5"}, {"upstreams[3]: must be an object, got 5"});
        row("upstream name pattern", {"upstreams[2].name = \"Local vLLM\""},
            {"upstreams[2].name: must match [a-z0-9_-]{1,64}, got \"Local vLLM\""});
        row("upstream name duplicate", {"upstreams[2].name = \"openai\""},
            {"upstreams[2].name: \"openai\" is already used by upstreams[0]"});
        row("upstream name missing", {"upstreams[2].name = <remove>"},
            {"upstreams[2].name: required field is missing"});
        row("upstream kind", {"upstreams[1].kind = \"openia\""},
            {"upstreams[1].kind: must be one of \"openai\", \"anthropic\", got \"openia\""});
        row("upstream kind missing", {"upstreams[1].kind = <remove>"},
            {"upstreams[1].kind: required field is missing"});
        row("base_url not a url", {"upstreams[0].base_url = \"api.openai.com/v1\""},
            {"upstreams[0].base_url: must be an http or https URL, got \"api.openai.com/v1\""});
        row("base_url scheme", {"upstreams[0].base_url = \"ftp://api.openai.com/v1\""},
            {"upstreams[0].base_url: must be an http or https URL, got \"ftp://api.openai.com/v1\""});
        row("base_url credentials", {"upstreams[0].base_url = \"https://user:secret@api.openai.com/v1\""},
            {"upstreams[0].base_url: must not contain credentials (use api_key_env or api_key_file)"});
        row("base_url query", {"upstreams[0].base_url = \"https://api.openai.com/v1?key=1\""},
            {"upstreams[0].base_url: must not have a query or fragment, got \"https://api.openai.com/v1?key=1\""});
        row("api key pasted into api_key_env", {"upstreams[0].api_key_env = \"sk-live-abc123\""},
            {"upstreams[0].api_key_env: must be the name of an environment variable, like OPENAI_API_KEY "
             "(never the secret itself)"});
        row("two key sources", {"upstreams[0].api_key_file = \"/run/secrets/openai\""},
            {"upstreams[0]: set at most one of api_key_env, api_key_file"});
        row("upstreams unreadable, no echoes",
            {"upstreams[1] = []"}, {"upstreams[1]: must be an object, got an array"});
        row("models type", {"upstreams[0].models = \"gpt-4o\""},
            {"upstreams[0].models: must be an array of strings, got \"gpt-4o\""});
        row("model element type", {"upstreams[0].models[3] = 5"},
            {"upstreams[0].models[3]: must be a string, got 5"});
        row("model twice", {"upstreams[0].models[3] = \"gpt-4o\""},
            {"upstreams[0].models[3]: \"gpt-4o\" is listed twice"});
        row("model empty", {"upstreams[0].models[3] = \"\""}, {"upstreams[0].models[3]: must not be empty"});
        row("no models, and what needed them", {"upstreams[2].models = []"},
            {"upstreams[2].models: must list at least one model",
             "api_keys[1].allowed_models[2]: no model served by an upstream matches \"llama-*\"",
             "cache.bypass.models[0]: no model served by an upstream matches \"llama-*\""});
        row("alias target", {"upstreams[0].aliases.fast = \"gpt-4o-mni\""},
            {"upstreams[0].aliases.fast: target \"gpt-4o-mni\" is not in models (did you mean \"gpt-4o-mini\"?)"});
        row("alias shadows a model", {"upstreams[0].aliases.gpt-4o = \"gpt-4o-mini\""},
            {"upstreams[0].aliases.gpt-4o: shadows a model of this upstream"});
        row("alias type", {"upstreams[0].aliases.quick = 5"}, {"upstreams[0].aliases.quick: must be a string, got 5"});
        row("alias means another model elsewhere", {"upstreams[1].aliases.fast = \"claude-3-5-haiku-latest\""},
            {"upstreams[1].aliases.fast: means \"claude-3-5-haiku-latest\" here but \"gpt-4o-mini\" on upstream "
             "\"openai\""});
        row("model named like an alias elsewhere", {"upstreams[2].models[1] = \"smart\""},
            {"upstreams[2].models[1]: means \"smart\" here but \"gpt-4o\" on upstream \"openai\""});
        row("upstream requests_per_minute", {"upstreams[0].requests_per_minute = -1"},
            {"upstreams[0].requests_per_minute: must be ≥ 0, got -1"});
        row("upstream tokens_per_minute", {"upstreams[0].tokens_per_minute = 1e13"},
            {"upstreams[0].tokens_per_minute: must be ≤ 1000000000000, got 10000000000000"});
        row("upstream priority", {"upstreams[0].priority = 1001"},
            {"upstreams[0].priority: must be ≤ 1000, got 1001"});
        row("upstream unknown field", {"upstreams[0].priorty = 1"},
            {"upstreams[0].priorty: unknown field (did you mean \"priority\"?)"});

        // api_keys, anonymous
        row("key id pattern", {"api_keys[0].id = \"Chat Web\""},
            {"api_keys[0].id: must match [a-z0-9_-]{1,64}, got \"Chat Web\""});
        row("key id duplicate", {"api_keys[1].id = \"chat-web\""},
            {"api_keys[1].id: \"chat-web\" is already used by api_keys[0]"});
        row("key id missing", {"api_keys[1].id = <remove>"}, {"api_keys[1].id: required field is missing"});
        row("plaintext key in key_sha256", {"api_keys[0].key_sha256 = \"sk-sluice-example-chat-web\""},
            {"api_keys[0].key_sha256: must be 64 lowercase hex characters, the SHA-256 of the key "
             "(sluice::config::hashApiKey)"});
        row("same key twice",
            {"api_keys[1].key_sha256 = \"7eb29cf9768cd48e35e0a760ca47d75bdec93c3f831f8f802f54b19eb62c2a10\""},
            {"api_keys[1].key_sha256: same key as api_keys[0]"});
        row("key requests_per_minute", {"api_keys[0].requests_per_minute = 1.5"},
            {"api_keys[0].requests_per_minute: must be an integer, got 1.5"});
        row("key parallel_requests", {"api_keys[0].parallel_requests = 100001"},
            {"api_keys[0].parallel_requests: must be ≤ 100000, got 100001"});
        row("key allowed model unknown", {"api_keys[1].allowed_models[0] = \"gpt-4o-mni\""},
            {"api_keys[1].allowed_models[0]: no upstream serves \"gpt-4o-mni\" (did you mean \"gpt-4o-mini\"?)"});
        row("key allowed glob matches nothing", {"api_keys[0].allowed_models = [\"claude-9*\"]"},
            {"api_keys[0].allowed_models[0]: no model served by an upstream matches \"claude-9*\""});
        row("key priority", {"api_keys[0].priority = \"urgent\""},
            {"api_keys[0].priority: must be one of \"high\", \"normal\", \"low\", got \"urgent\""});
        row("anonymous enabled type", {"anonymous.enabled = \"yes\""},
            {"anonymous.enabled: must be a boolean, got \"yes\""});
        row("anonymous requests", {"anonymous.requests_per_minute_per_ip = -1"},
            {"anonymous.requests_per_minute_per_ip: must be ≥ 0, got -1"});
        row("anonymous tokens", {"anonymous.tokens_per_minute_per_ip = null"},
            {"anonymous.tokens_per_minute_per_ip: must be an integer, got null"});

        // rate_limits
        row("rule name duplicate", {"rate_limits[1].name = \"gpt-4o-per-key\""},
            {"rate_limits[1].name: \"gpt-4o-per-key\" is already used by rate_limits[0]"});
        row("rule name missing", {"rate_limits[1].name = <remove>"},
            {"rate_limits[1].name: required field is missing"});
        row("rule scope empty", {"rate_limits[0].scope = []"},
            {"rate_limits[0].scope: must list at least one of \"api_key\", \"ip\", \"route\", \"model\""});
        row("rule scope repeated", {"rate_limits[0].scope = [\"ip\", \"ip\"]"},
            {"rate_limits[0].scope[1]: \"ip\" is listed twice"});
        row("rule scope value", {"rate_limits[0].scope[1] = \"user\""},
            {"rate_limits[0].scope[1]: must be one of \"api_key\", \"ip\", \"route\", \"model\", got \"user\""});
        row("rule limits nothing",
            {"rate_limits[1].requests_per_minute = 0", "rate_limits[1].parallel_requests = 0"},
            {"rate_limits[1]: needs at least one of requests_per_minute, tokens_per_minute, parallel_requests"});
        row("rule burst with sliding window", {"rate_limits[1].burst = 5"},
            {"rate_limits[1].burst: applies to algorithm \"gcra\" only"});
        row("rule burst without requests", {"rate_limits[0].requests_per_minute = 0"},
            {"rate_limits[0].burst: needs requests_per_minute"});
        row("rule algorithm", {"rate_limits[0].algorithm = \"leaky_bucket\""},
            {"rate_limits[0].algorithm: must be one of \"gcra\", \"sliding_window\", got \"leaky_bucket\""});
        row("rule match model", {"rate_limits[0].match.model = \"gpt-5*\""},
            {"rate_limits[0].match.model: no model served by an upstream matches \"gpt-5*\""});
        row("rule match route", {"rate_limits[1].match.route = \"/v1/chat/completion\""},
            {"rate_limits[1].match.route: unknown route \"/v1/chat/completion\" "
             "(did you mean \"/v1/chat/completions\"?)"});
        row("rule match api_key", {"rate_limits[1].match.api_key = \"chat-wbe\""},
            {"rate_limits[1].match.api_key: no api_keys entry has id \"chat-wbe\" (did you mean \"chat-web\"?)"});
        row("rule match unknown field", {"rate_limits[0].match.modle = \"gpt-4o\""},
            {"rate_limits[0].match.modle: unknown field (did you mean \"model\"?)"});
        row("rule tokens_per_minute", {"rate_limits[0].tokens_per_minute = -5"},
            {"rate_limits[0].tokens_per_minute: must be ≥ 0, got -5"});

        // cache
        row("cache enabled type", {"cache.enabled = 1"}, {"cache.enabled: must be a boolean, got 1"});
        row("cache ttl negative", {"cache.ttl_seconds = -5"}, {"cache.ttl_seconds: must be ≥ 0, got -5"});
        row("cache ttl misspelt", {"cache.ttl_secnds = 5"},
            {"cache.ttl_secnds: unknown field (did you mean \"ttl_seconds\"?)"});
        row("cache route ttl route", {"cache.route_ttl_seconds[\"/v1/chat/completion\"] = 60"},
            {"cache.route_ttl_seconds[\"/v1/chat/completion\"]: unknown route \"/v1/chat/completion\" "
             "(did you mean \"/v1/chat/completions\"?)"});
        row("cache route ttl value", {"cache.route_ttl_seconds[\"/v1/embeddings\"] = 31536001"},
            {"cache.route_ttl_seconds[\"/v1/embeddings\"]: must be ≤ 31536000, got 31536001"});
        row("cache model ttl model", {"cache.model_ttl_seconds[\"gpt-4.1\"] = 60"},
            {"cache.model_ttl_seconds[\"gpt-4.1\"]: no upstream serves \"gpt-4.1\" (did you mean \"gpt-4o\"?)"});
        row("cache model ttl glob", {"cache.model_ttl_seconds[\"gpt-*\"] = 60"},
            {"cache.model_ttl_seconds[\"gpt-*\"]: must be a model name, not a pattern, got \"gpt-*\""});
        row("cache model ttl type", {"cache.model_ttl_seconds.gpt-4o = \"600\""},
            {"cache.model_ttl_seconds.gpt-4o: must be an integer, got \"600\""});
        row("cache max_entries", {"cache.max_entries = 0"}, {"cache.max_entries: must be ≥ 1, got 0"});
        row("cache max_bytes", {"cache.max_bytes = 512"}, {"cache.max_bytes: must be ≥ 1024, got 512"});
        row("cache entry larger than cache", {"cache.max_entry_bytes = 1073741824"},
            {"cache.max_entry_bytes: must be ≤ max_bytes (536870912), got 1073741824"});
        row("cache bypass temperature", {"cache.bypass.temperature_above = 2.5"},
            {"cache.bypass.temperature_above: must be ≤ 2, got 2.5"});
        row("cache bypass temperature type", {"cache.bypass.temperature_above = \"hot\""},
            {"cache.bypass.temperature_above: must be a number, got \"hot\""});
        row("cache bypass route", {"cache.bypass.routes = [\"/v1/moderations\"]"},
            {"cache.bypass.routes[0]: unknown route \"/v1/moderations\" (known: \"/v1/chat/completions\", "
             "\"/v1/completions\", \"/v1/embeddings\", \"/v1/messages\")"});
        row("cache bypass route typo", {"cache.bypass.routes = [\"/v1/embedings\"]"},
            {"cache.bypass.routes[0]: unknown route \"/v1/embedings\" (did you mean \"/v1/embeddings\"?)"});
        row("cache bypass model", {"cache.bypass.models[1] = \"mistral-*\""},
            {"cache.bypass.models[1]: no model served by an upstream matches \"mistral-*\""});

        // concurrency
        row("max_in_flight", {"concurrency.max_in_flight = 0"}, {"concurrency.max_in_flight: must be ≥ 1, got 0"});
        row("max_queue", {"concurrency.max_queue = -1"}, {"concurrency.max_queue: must be ≥ 0, got -1"});
        row("queue_timeout_ms", {"concurrency.queue_timeout_ms = 600001"},
            {"concurrency.queue_timeout_ms: must be ≤ 600000, got 600001"});

        // retries
        row("max_attempts", {"retries.max_attempts = 11"}, {"retries.max_attempts: must be ≤ 10, got 11"});
        row("base_delay_ms", {"retries.base_delay_ms = 0"}, {"retries.base_delay_ms: must be ≥ 1, got 0"});
        row("max_delay below base", {"retries.max_delay_ms = 100"},
            {"retries.max_delay_ms: must be ≥ base_delay_ms (250), got 100"});
        row("max_retry_after_seconds", {"retries.max_retry_after_seconds = 3601"},
            {"retries.max_retry_after_seconds: must be ≤ 3600, got 3601"});
        row("budget_ratio", {"retries.budget_ratio = -0.1"}, {"retries.budget_ratio: must be ≥ 0, got -0.1"});
        row("min_retries_per_second", {"retries.min_retries_per_second = 2.5"},
            {"retries.min_retries_per_second: must be an integer, got 2.5"});
        row("retry_on type", {"retries.retry_on = \"timeout\""},
            {"retries.retry_on: must be an array, got \"timeout\""});
        row("retry_on status", {"retries.retry_on = [429, 200]"},
            {"retries.retry_on[1]: must be an HTTP status (an integer 400..599) or one of \"timeout\", "
             "\"connection_reset\", got 200"});
        row("retry_on word", {"retries.retry_on = [\"timeouts\"]"},
            {"retries.retry_on[0]: must be an HTTP status (an integer 400..599) or one of \"timeout\", "
             "\"connection_reset\", got \"timeouts\""});
        row("retry_on twice", {"retries.retry_on = [503, \"timeout\", 503, \"timeout\"]"},
            {"retries.retry_on[2]: 503 is listed twice", "retries.retry_on[3]: \"timeout\" is listed twice"});

        // breaker
        row("failure_rate_threshold", {"breaker.failure_rate_threshold = 1.5"},
            {"breaker.failure_rate_threshold: must be ≤ 1, got 1.5"});
        row("window_seconds", {"breaker.window_seconds = 0"}, {"breaker.window_seconds: must be ≥ 1, got 0"});
        row("minimum_requests", {"breaker.minimum_requests = 0"}, {"breaker.minimum_requests: must be ≥ 1, got 0"});
        row("consecutive_failures", {"breaker.consecutive_failures = -1"},
            {"breaker.consecutive_failures: must be ≥ 0, got -1"});
        row("open_seconds", {"breaker.open_seconds = 3601"}, {"breaker.open_seconds: must be ≤ 3600, got 3601"});
        row("half_open_probes", {"breaker.half_open_probes = 0"}, {"breaker.half_open_probes: must be ≥ 1, got 0"});

        // timeouts
        row("connect_ms", {"timeouts.connect_ms = 0"}, {"timeouts.connect_ms: must be ≥ 1, got 0"});
        row("first_byte beyond total", {"timeouts.first_byte_ms = 700000"},
            {"timeouts.first_byte_ms: must be ≤ total_ms (600000), got 700000"});
        row("stream_idle_ms", {"timeouts.stream_idle_ms = \"30s\""},
            {"timeouts.stream_idle_ms: must be an integer, got \"30s\""});
        row("total_ms", {"timeouts.total_ms = -1"}, {"timeouts.total_ms: must be ≥ 0, got -1"});

        // admin
        row("admin address", {"admin.address = \"localhost\""},
            {"admin.address: must be an IPv4 or IPv6 address, got \"localhost\""});
        row("admin open without token", {"admin.address = \"0.0.0.0\"", "admin.token_env = \"\"", "admin.port = 9091"},
            {"admin: a token (token_env, token_file or token_sha256) is required unless address is a loopback "
             "address"});
        row("admin port taken", {"admin.port = 8080"}, {"admin.port: 8080 is also used by server.listeners[0]"});
        row("admin two token sources", {"admin.token_file = \"/run/secrets/admin\""},
            {"admin: set at most one of token_env, token_file, token_sha256"});
        row("admin token hash", {"admin.token_env = \"\"", "admin.token_sha256 = \"ABC\""},
            {"admin.token_sha256: must be 64 lowercase hex characters, the SHA-256 of the token"});
        row("admin token_env", {"admin.token_env = \"hunter2!\""},
            {"admin.token_env: must be the name of an environment variable, like SLUICE_ADMIN_TOKEN "
             "(never the secret itself)"});
        row("admin port", {"admin.port = 65536"}, {"admin.port: must be ≤ 65535, got 65536"});

        // pricing, logging, unknown sections
        row("pricing table_file type", {"pricing.table_file = 5"}, {"pricing.table_file: must be a string, got 5"});
        row("pricing unknown field", {"pricing.tabel_file = \"prices.json\""},
            {"pricing.tabel_file: unknown field (did you mean \"table_file\"?)"});
        row("logging level", {"logging.level = \"verbose\""},
            {"logging.level: must be one of \"debug\", \"info\", \"warn\", \"error\", got \"verbose\""});

        // redis, postgres (all their rows: tst_configstorage)
        row("redis db", {"redis.db = 16"}, {"redis.db: must be ≤ 15, got 16"});
        row("redis two password sources", {"redis.password_file = \"/run/secrets/redis\""},
            {"redis.password_file: must be empty when password_env is set"});
        row("postgres retention_days", {"postgres.retention_days = 0"}, {"postgres.retention_days: must be ≥ 1, got 0"});
        row("postgres two sources", {"postgres.connection_string_file = \"/run/secrets/postgres\""},
            {"postgres.connection_string_file: must be empty when connection_string_env is set"});
        row("section misspelt", {"ratelimits = []"}, {"ratelimits: unknown field (did you mean \"rate_limits\"?)"});
        row("section capitalised", {"Cache = {}"}, {"Cache: unknown field (did you mean \"cache\"?)"});
        row("unknown, no suggestion", {"telemetry = {}"}, {"telemetry: unknown field"});
        row("unknown key with spaces", {"cache[\"ttl seconds\"] = 5"},
            {"cache[\"ttl seconds\"]: unknown field (did you mean \"ttl_seconds\"?)"});

        // Everything at once: all errors, grouped by section in document order.
        row("errors are all collected",
            {"logging.level = \"loud\"", "cache.ttl_seconds = -5", "upstreams[1].kind = \"openia\"",
             "version = \"one\"", "rate_limits[1].requests_per_minute = 0", "rate_limits[1].parallel_requests = 0",
             "upstreams[0].priorty = 3", "extra = true"},
            {"version: must be an integer, got \"one\"",
             "upstreams[0].priorty: unknown field (did you mean \"priority\"?)",
             "upstreams[1].kind: must be one of \"openai\", \"anthropic\", got \"openia\"",
             "rate_limits[1]: needs at least one of requests_per_minute, tokens_per_minute, parallel_requests",
             "cache.ttl_seconds: must be ≥ 0, got -5",
             "logging.level: must be one of \"debug\", \"info\", \"warn\", \"error\", got \"loud\"",
             "extra: unknown field"});
    }

    void reportsBadField()
    {
        QFETCH(QStringList, edits);
        QFETCH(QStringList, expected);
        const ConfigResult loaded = loadConfig(edited(exampleObject(), edits));
        QVERIFY(!loaded.ok());
        QCOMPARE(toStringList(loaded.error()), expected);
    }

    void reportsBadDocument_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QStringList>("expected");
        QTest::newRow("unterminated string")
            << QByteArray("{\n  \"version\": 1,\n  \"comment\": \"abc\n}\n")
            << QStringList{"line 3, column 14: unterminated string"};
        QTest::newRow("bad literal") << QByteArray("{\"version\": tru}")
                                     << QStringList{"line 1, column 13: illegal value"};
        QTest::newRow("trailing comma") << QByteArray("{\n  \"version\": 1,\n}")
                                        << QStringList{"line 3, column 1: object is missing after a comma"};
        QTest::newRow("missing colon") << QByteArray("{\"cache\" {}}")
                                       << QStringList{"line 1, column 10: missing name separator"};
        QTest::newRow("columns count characters") << QByteArray("{\"comment\": \"héllo wörld\", \"version\": x}")
                                                  << QStringList{"line 1, column 39: illegal number"};
        QTest::newRow("garbage after") << QByteArray("{}\n{}")
                                       << QStringList{"line 2, column 1: garbage at the end of the document"};
        QTest::newRow("unterminated object") << QByteArray("{\"cache\": {\"enabled\": true}")
                                             << QStringList{"line 1, column 27: unterminated object"};
        QTest::newRow("empty") << QByteArray("") << QStringList{"$: the document is empty"};
        QTest::newRow("blank") << QByteArray(" \n\t") << QStringList{"$: the document is empty"};
        QTest::newRow("array") << QByteArray("[]") << QStringList{"$: must be an object, got an array"};
    }

    void reportsBadDocument()
    {
        QFETCH(QByteArray, json);
        QFETCH(QStringList, expected);
        const ConfigResult loaded = loadConfig(json);
        QVERIFY(!loaded.ok());
        QCOMPARE(toStringList(loaded.error()), expected);
    }

    void reportsUnreadableFile()
    {
        const QString path = QStringLiteral(SLUICE_BINARY_DIR "/no-such-dir/gateway.json");
        const ConfigResult loaded = loadConfigFile(path);
        QVERIFY(!loaded.ok());
        QCOMPARE(loaded.error().size(), 1u);
        QCOMPARE(loaded.error().front().path, path);
        QVERIFY(loaded.error().front().reason.startsWith(QStringLiteral("cannot read: ")));
    }

    void validatesConfigsBuiltInCode_data()
    {
        QTest::addColumn<ConfigEdit>("edit");
        QTest::addColumn<QStringList>("expected");
        QTest::newRow("valid") << ConfigEdit([](GatewayConfig &) {}) << QStringList{};
        QTest::newRow("range") << ConfigEdit([](GatewayConfig &c) { c.server.threads = 300; })
                               << QStringList{"server.threads: must be ≤ 256, got 300"};
        QTest::newRow("duration") << ConfigEdit([](GatewayConfig &c) { c.cache.ttl = -5s; })
                                  << QStringList{"cache.ttl_seconds: must be ≥ 0, got -5"};
        QTest::newRow("enum out of range") << ConfigEdit([](GatewayConfig &c) { c.logging.level = LogLevel(9); })
                                           << QStringList{"logging.level: must be one of \"debug\", \"info\", "
                                                          "\"warn\", \"error\", got 9"};
        QTest::newRow("not a number") << ConfigEdit([](GatewayConfig &c) { c.retries.budgetRatio = std::nan(""); })
                                      << QStringList{"retries.budget_ratio: must be a finite number, got nan"};
        QTest::newRow("statuses") << ConfigEdit([](GatewayConfig &c) { c.retries.retryOnStatuses = {429, 200, 429}; })
                                  << QStringList{"retries.retry_on[1]: must be an HTTP status 400..599, got 200",
                                                 "retries.retry_on[2]: 429 is listed twice"};
        QTest::newRow("empty upstream") << ConfigEdit([](GatewayConfig &c) { c.upstreams.emplace_back(); })
                                        << QStringList{"upstreams[0].name: must not be empty",
                                                       "upstreams[0].base_url: must be an http or https URL, got \"\"",
                                                       "upstreams[0].models: must list at least one model"};
        QTest::newRow("rule without limits") << ConfigEdit([](GatewayConfig &c) {
            RateLimitRule rule;
            rule.name = QStringLiteral("r");
            c.rateLimits.push_back(rule);
        }) << QStringList{"rate_limits[0]: needs at least one of requests_per_minute, tokens_per_minute, "
                          "parallel_requests"};
        QTest::newRow("ipv6 listeners") << ConfigEdit([](GatewayConfig &c) {
            c.server.listeners = {{QStringLiteral("::1"), 8080}, {QStringLiteral("::"), 8081},
                                  {QStringLiteral("fe80::1::2"), 8082}};
        }) << QStringList{"server.listeners[2].address: must be an IPv4 or IPv6 address, got \"fe80::1::2\""};
        QTest::newRow("admin on ipv6 loopback") << ConfigEdit([](GatewayConfig &c) {
            c.admin.address = QStringLiteral("::1");
        }) << QStringList{};
        QTest::newRow("admin on all ipv6 addresses") << ConfigEdit([](GatewayConfig &c) {
            c.admin.address = QStringLiteral("::");
        }) << QStringList{"admin: a token (token_env, token_file or token_sha256) is required unless address is a "
                          "loopback address"};
    }

    void validatesConfigsBuiltInCode()
    {
        QFETCH(ConfigEdit, edit);
        QFETCH(QStringList, expected);
        GatewayConfig config = defaultConfig();
        edit(config);
        QCOMPARE(toStringList(validate(config)), expected);
    }
};

QTEST_APPLESS_MAIN(TestConfigValidation)
#include "tst_configvalidation.moc"
