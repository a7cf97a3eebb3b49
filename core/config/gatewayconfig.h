#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <span>
#include <string_view>
#include <vector>

#include <QString>
#include <QStringList>

// The gateway configuration as plain data. One struct per JSON section; the
// JSON key of every field is given next to it, with its unit, default and
// allowed range. Ranges and cross-field rules are enforced by validate()
// (configvalidator.h) and by loadConfig() (configloader.h); the structs
// themselves accept any value, so a config built in code must be validated.
//
// Conventions in the JSON:
//  - keys are snake_case and carry their unit (_ms, _seconds, _bytes,
//    _per_minute); counts are integers, 1.5 is rejected where a count is due;
//  - "0 = unlimited/off" is stated where it applies, nowhere else;
//  - names (upstreams, api key ids, rule names) match [a-z0-9_-]{1,64};
//  - routes are the gateway's request paths, see knownRoutes();
//  - secrets never appear: keys are named by environment variable or file,
//    client keys are stored as SHA-256 hex (hashApiKey() in apikeyhash.h).
//
// Plain values: copyable, comparable, no thread affinity.
namespace sluice::config {

// "listeners" entries.
struct Listener {
    QString address = QStringLiteral("127.0.0.1"); // "address": IPv4 or IPv6 literal
    int port = 8080;                               // "port": 0..65535; 0 = any free port (tests)

    friend bool operator==(const Listener &, const Listener &) = default;
};

// "server": the client-facing HTTP side.
struct ServerConfig {
    std::vector<Listener> listeners{Listener{}};       // "listeners": at least one, no duplicates
    std::int64_t maxHeaderBytes = 64 * 1024;           // "max_header_bytes": 1 KiB..1 MiB
    std::int64_t maxBodyBytes = 8 * 1024 * 1024;       // "max_body_bytes": 1 KiB..1 GiB
    std::chrono::milliseconds headerTimeout{10'000};   // "header_timeout_ms": 1..3600000
    std::chrono::milliseconds bodyTimeout{30'000};     // "body_timeout_ms": 1..3600000
    std::chrono::milliseconds idleTimeout{60'000};     // "idle_timeout_ms": 1..3600000, keep-alive
    int threads = 0;                                   // "threads": 0..256; 0 = one per core
    std::chrono::seconds shutdownDrain{30};            // "shutdown_drain_seconds": 0..3600

    friend bool operator==(const ServerConfig &, const ServerConfig &) = default;
};

enum class UpstreamKind { OpenAi, Anthropic };

// "upstreams" entries: one provider account or local server.
struct Upstream {
    QString name;                    // "name": required, unique
    UpstreamKind kind = UpstreamKind::OpenAi; // "kind": required, "openai" | "anthropic"
    QString baseUrl;                 // "base_url": required, http(s) URL without credentials,
                                     //   query or fragment, e.g. "https://api.openai.com/v1"
    QString apiKeyEnv;               // "api_key_env": environment variable holding the key
    QString apiKeyFile;              // "api_key_file": file holding the key
                                     //   At most one of the two; neither = keyless server.
    QStringList models;              // "models": required, at least one, the names the
                                     //   provider knows, no duplicates
    std::map<QString, QString> aliases; // "aliases": client-facing name -> one of models
    std::int64_t requestsPerMinute = 0; // "requests_per_minute": provider quota, 0..1e9;
                                        //   0 = unknown/unlimited
    std::int64_t tokensPerMinute = 0;   // "tokens_per_minute": provider quota, 0..1e12;
                                        //   0 = unknown/unlimited
    int priority = 0;                // "priority": 0..1000; lower is tried first, ties
                                     //   keep the order of the list

    // The model name to send to this upstream for a client's model or alias.
    QString upstreamModel(const QString &requested) const;
    bool serves(const QString &requested) const;

    friend bool operator==(const Upstream &, const Upstream &) = default;
};

enum class KeyPriority { High, Normal, Low };

// "api_keys" entries: a client of the gateway.
struct ClientKey {
    QString id;                         // "id": required, unique; used in logs and metrics
    QString keySha256;                  // "key_sha256": required, 64 lowercase hex, unique
    std::int64_t requestsPerMinute = 0; // "requests_per_minute": 0..1e9; 0 = no per-key limit
    std::int64_t tokensPerMinute = 0;   // "tokens_per_minute": 0..1e12; 0 = no per-key limit
    int parallelRequests = 0;           // "parallel_requests": 0..100000; 0 = no per-key limit
    QStringList allowedModels;          // "allowed_models": model names, aliases or globs
                                        //   (* and ?); empty = all models
    KeyPriority priority = KeyPriority::Normal; // "priority": "high" | "normal" | "low",
                                                //   order in the wait queue

    friend bool operator==(const ClientKey &, const ClientKey &) = default;
};

// "anonymous": requests without a key, limited per client IP.
struct AnonymousAccess {
    bool enabled = false;                      // "enabled"
    std::int64_t requestsPerMinutePerIp = 10;  // "requests_per_minute_per_ip": 0..1e9; 0 = unlimited
    std::int64_t tokensPerMinutePerIp = 20'000; // "tokens_per_minute_per_ip": 0..1e12; 0 = unlimited

    friend bool operator==(const AnonymousAccess &, const AnonymousAccess &) = default;
};

enum class LimitScope { ApiKey, Ip, Route, Model };
enum class LimitAlgorithm { Gcra, SlidingWindow };

// "match" of a rate-limit rule: which requests it applies to. Empty = any.
struct RuleMatch {
    QString model;  // "model": glob (* and ?) over the client's model name
    QString route;  // "route": one of knownRoutes()
    QString apiKey; // "api_key": an id from api_keys

    friend bool operator==(const RuleMatch &, const RuleMatch &) = default;
};

// "rate_limits" entries. Each rule keeps one counter per distinct value of
// its scope (e.g. scope ["api_key", "model"] = one per key and model).
struct RateLimitRule {
    QString name;                                     // "name": required, unique
    std::vector<LimitScope> scope{LimitScope::ApiKey}; // "scope": non-empty, no duplicates, of
                                                      //   "api_key" | "ip" | "route" | "model"
    RuleMatch match;                                  // "match"
    std::int64_t requestsPerMinute = 0;               // "requests_per_minute": 0..1e9
    std::int64_t tokensPerMinute = 0;                 // "tokens_per_minute": 0..1e12
    int parallelRequests = 0;                         // "parallel_requests": 0..100000
                                                      //   At least one of the three is > 0;
                                                      //   0 = that dimension is not limited.
    std::int64_t burst = 0;                           // "burst": requests admitted at once,
                                                      //   0..1e9; 0 = requests_per_minute.
                                                      //   gcra only, needs requests_per_minute
    LimitAlgorithm algorithm = LimitAlgorithm::Gcra;  // "algorithm": "gcra" | "sliding_window"

    friend bool operator==(const RateLimitRule &, const RateLimitRule &) = default;
};

// "cache.bypass": requests that are never served from or stored in the cache.
struct CacheBypass {
    QStringList models;       // "models": globs over the client's model name
    QStringList routes;       // "routes": routes from knownRoutes()
    double temperatureAbove = 1.0; // "temperature_above": 0..2; a request whose
                              //   temperature is greater is not cached (absent
                              //   temperature counts as the provider default, 1)

    friend bool operator==(const CacheBypass &, const CacheBypass &) = default;
};

// "cache": the response cache. TTL precedence: model, then route, then ttl.
struct CacheConfig {
    bool enabled = true;                               // "enabled"
    std::chrono::seconds ttl{300};                     // "ttl_seconds": 0..31536000; 0 = do not cache
    std::map<QString, std::chrono::seconds> routeTtl;  // "route_ttl_seconds": route -> seconds
    std::map<QString, std::chrono::seconds> modelTtl;  // "model_ttl_seconds": model or alias -> seconds
    std::int64_t maxEntries = 10'000;                  // "max_entries": 1..1e9
    std::int64_t maxBytes = 256 * 1024 * 1024;         // "max_bytes": 1 KiB..1 TiB
    std::int64_t maxEntryBytes = 1024 * 1024;          // "max_entry_bytes": 1..max_bytes
    CacheBypass bypass;                                // "bypass"

    friend bool operator==(const CacheConfig &, const CacheConfig &) = default;
};

// "concurrency": requests in flight to upstreams, and the queue before them.
struct ConcurrencyConfig {
    int maxInFlight = 64;                       // "max_in_flight": 1..100000
    int maxQueue = 256;                         // "max_queue": 0..1000000; 0 = no queue, refuse at once
    std::chrono::milliseconds queueTimeout{10'000}; // "queue_timeout_ms": 0..600000

    friend bool operator==(const ConcurrencyConfig &, const ConcurrencyConfig &) = default;
};

// "retries": retrying failed upstream calls, with jittered exponential backoff.
// JSON "retry_on" is one array of HTTP statuses (integers 400..599) and the
// strings "timeout" and "connection_reset"; default
// [429, 500, 502, 503, 504, "timeout", "connection_reset"].
struct RetryConfig {
    int maxAttempts = 3;                          // "max_attempts": 1..10, the first call included
    std::chrono::milliseconds baseDelay{200};     // "base_delay_ms": 1..60000
    std::chrono::milliseconds maxDelay{10'000};   // "max_delay_ms": base_delay_ms..600000
    std::chrono::seconds maxRetryAfter{60};       // "max_retry_after_seconds": 0..3600; a longer
                                                  //   Retry-After is passed to the client instead
    double budgetRatio = 0.1;                     // "budget_ratio": 0..1, retries per request
    int minRetriesPerSecond = 10;                 // "min_retries_per_second": 0..10000, floor of the budget
    std::vector<int> retryOnStatuses{429, 500, 502, 503, 504}; // statuses in "retry_on"
    bool retryOnTimeout = true;                   // "timeout" in "retry_on"
    bool retryOnConnectionReset = true;           // "connection_reset" in "retry_on"

    friend bool operator==(const RetryConfig &, const RetryConfig &) = default;
};

// "breaker": one circuit breaker per upstream.
struct BreakerConfig {
    double failureRateThreshold = 0.5;   // "failure_rate_threshold": 0..1 over the window
    std::chrono::seconds window{30};     // "window_seconds": 1..3600
    int minimumRequests = 20;            // "minimum_requests": 1..1000000 in the window
                                         //   before the rate is judged
    int consecutiveFailures = 5;         // "consecutive_failures": 0..1000000; 0 = off
    std::chrono::seconds open{30};       // "open_seconds": 1..3600
    int halfOpenProbes = 3;              // "half_open_probes": 1..1000

    friend bool operator==(const BreakerConfig &, const BreakerConfig &) = default;
};

// "timeouts": the upstream side of a call.
struct UpstreamTimeouts {
    std::chrono::milliseconds connect{5'000};     // "connect_ms": 1..600000, ≤ total_ms
    std::chrono::milliseconds firstByte{60'000};  // "first_byte_ms": 1..3600000, ≤ total_ms
    std::chrono::milliseconds streamIdle{30'000}; // "stream_idle_ms": 1..3600000
    std::chrono::milliseconds total{600'000};     // "total_ms": 0..86400000; 0 = no overall limit

    friend bool operator==(const UpstreamTimeouts &, const UpstreamTimeouts &) = default;
};

// "admin": the admin API (stats, live tuning). At most one token source;
// a token is required unless the address is a loopback address.
struct AdminConfig {
    bool enabled = true;                            // "enabled"
    QString address = QStringLiteral("127.0.0.1");  // "address": IPv4 or IPv6 literal
    int port = 9090;                                // "port": 0..65535; 0 = any free port
    QString tokenEnv;                               // "token_env": environment variable name
    QString tokenFile;                              // "token_file": path
    QString tokenSha256;                            // "token_sha256": 64 lowercase hex

    friend bool operator==(const AdminConfig &, const AdminConfig &) = default;
};

// "pricing".
struct PricingConfig {
    QString tableFile; // "table_file": price table path; empty = the built-in table

    friend bool operator==(const PricingConfig &, const PricingConfig &) = default;
};

enum class LogLevel { Debug, Info, Warn, Error };

// "logging".
struct LoggingConfig {
    LogLevel level = LogLevel::Info; // "level": "debug" | "info" | "warn" | "error"

    friend bool operator==(const LoggingConfig &, const LoggingConfig &) = default;
};

// What rate limits do while Redis cannot be reached (not connected, or a
// command past command_timeout_ms).
enum class RedisFallback {
    Local,     // "local": this instance's in-memory limits, as without Redis
    FailOpen,  // "fail_open": admit, unlimited
    FailClosed // "fail_closed": refuse with 503
};

// "redis": state shared by every instance (limits, cache, config channel).
// Off by default: one instance keeps all its state in memory. The password
// comes from an environment variable or a file, at most one of the two;
// neither = no AUTH (or AUTH of a passwordless ACL user).
struct RedisConfig {
    bool enabled = false;                            // "enabled"
    QString address = QStringLiteral("127.0.0.1");   // "address": host name or IPv4/IPv6 literal
    int port = 6379;                                 // "port": 1..65535
    int db = 0;                                      // "db": 0..15, SELECTed after AUTH
    QString user;                                    // "user": ACL user; empty = the default user
    QString passwordEnv;                             // "password_env": environment variable name
    QString passwordFile;                            // "password_file": path
    QString keyNamespace = QStringLiteral("default"); // "key_namespace": [a-z0-9_-]{1,64}, the
                                                     //   <namespace> in sluice:<namespace>:<kind>:<id>
    std::chrono::milliseconds connectTimeout{2'000}; // "connect_timeout_ms": 1..600000, name lookup,
                                                     //   AUTH and SELECT included
    std::chrono::milliseconds commandTimeout{250};   // "command_timeout_ms": 1..600000 per command
    RedisFallback fallback = RedisFallback::Local;   // "fallback": "local" | "fail_open" | "fail_closed"
    bool sharedCache = true;                         // "shared_cache": the response cache lives in
                                                     //   Redis too; false = per instance
    std::chrono::seconds heartbeat{5};               // "heartbeat_seconds": 1..3600, liveness ping

    friend bool operator==(const RedisConfig &, const RedisConfig &) = default;
};

// "postgres": usage and audit records, written in batches. Off by default.
// The libpq connection string (key/value or URI) comes from an environment
// variable or a file, exactly one of the two when enabled; it holds the
// password, so it is never written in the config itself.
struct PostgresConfig {
    bool enabled = false;                         // "enabled"
    QString connectionStringEnv;                  // "connection_string_env": environment variable name
    QString connectionStringFile;                 // "connection_string_file": path
    int bufferRecords = 100'000;                  // "buffer_records": 1..10000000, records held
                                                  //   while PostgreSQL is slow or away; more are
                                                  //   dropped (and counted)
    int batchSize = 500;                          // "batch_size": 1..100000 rows per transaction,
                                                  //   ≤ buffer_records
    std::chrono::milliseconds flushInterval{1'000}; // "flush_interval_ms": 10..600000, the longest
                                                    //   a record waits in the buffer
    std::chrono::days retention{90};              // "retention_days": 1..3650, older records
                                                  //   are pruned

    friend bool operator==(const PostgresConfig &, const PostgresConfig &) = default;
};

// The whole document. Sections in JSON order: version, comment, server,
// upstreams, api_keys, anonymous, rate_limits, cache, concurrency, retries,
// breaker, timeouts, admin, pricing, logging, redis, postgres. Every section
// is optional in the JSON and then takes the defaults above.
struct GatewayConfig {
    std::int64_t version = 0;  // "version": 0..2^53-1, bumped by whoever applies a change
    QString comment;           // "comment": free text; neither it nor version is in contentHash()
    ServerConfig server;
    std::vector<Upstream> upstreams;       // "upstreams"
    std::vector<ClientKey> apiKeys;        // "api_keys"
    AnonymousAccess anonymous;             // "anonymous"
    std::vector<RateLimitRule> rateLimits; // "rate_limits"
    CacheConfig cache;
    ConcurrencyConfig concurrency;
    RetryConfig retries;
    BreakerConfig breaker;
    UpstreamTimeouts timeouts;
    AdminConfig admin;
    PricingConfig pricing;
    LoggingConfig logging;
    RedisConfig redis;
    PostgresConfig postgres;

    // Names of the upstreams that serve a client's model name or alias, in the
    // order to try them (priority, then list order). Empty if none does.
    QStringList routeFor(const QString &model) const;
    // nullptr if there is no upstream of that name.
    const Upstream *upstream(const QString &name) const;
    // True if some upstream serves the name as a model or an alias.
    bool isServed(const QString &model) const;

    friend bool operator==(const GatewayConfig &, const GatewayConfig &) = default;
};

// Every field at its default; valid.
GatewayConfig defaultConfig();

// Glob match as used for model names in rules, bypass lists and
// allowed_models: * matches any run of characters (also none), ? exactly one,
// everything else itself (case-sensitive). A name without * or ? matches only
// itself.
bool globMatches(QStringView glob, QStringView name);
bool isGlob(QStringView text);

// The request paths the gateway serves, usable as routes in rules and TTLs.
QStringList knownRoutes();

// JSON spellings of the enums, indexed by the enum's value.
inline constexpr std::array<std::string_view, 2> kUpstreamKindNames{"openai", "anthropic"};
inline constexpr std::array<std::string_view, 3> kKeyPriorityNames{"high", "normal", "low"};
inline constexpr std::array<std::string_view, 4> kLimitScopeNames{"api_key", "ip", "route", "model"};
inline constexpr std::array<std::string_view, 2> kLimitAlgorithmNames{"gcra", "sliding_window"};
inline constexpr std::array<std::string_view, 4> kLogLevelNames{"debug", "info", "warn", "error"};
inline constexpr std::array<std::string_view, 3> kRedisFallbackNames{"local", "fail_open", "fail_closed"};

constexpr std::span<const std::string_view> enumNames(UpstreamKind) { return kUpstreamKindNames; }
constexpr std::span<const std::string_view> enumNames(KeyPriority) { return kKeyPriorityNames; }
constexpr std::span<const std::string_view> enumNames(LimitScope) { return kLimitScopeNames; }
constexpr std::span<const std::string_view> enumNames(LimitAlgorithm) { return kLimitAlgorithmNames; }
constexpr std::span<const std::string_view> enumNames(LogLevel) { return kLogLevelNames; }
constexpr std::span<const std::string_view> enumNames(RedisFallback) { return kRedisFallbackNames; }

// The JSON spelling of an enum value; empty for a value outside the enum.
template <typename Enum>
QString enumName(Enum value)
{
    const auto names = enumNames(value);
    const auto index = static_cast<std::size_t>(value);
    if (index >= names.size())
        return {};
    return QString::fromLatin1(names[index].data(), qsizetype(names[index].size()));
}

} // namespace sluice::config
