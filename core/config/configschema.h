#pragma once

#include <concepts>
#include <cstdint>
#include <optional>
#include <type_traits>

#include "config/gatewayconfig.h"

// The JSON schema of GatewayConfig, written once: describe() walks the fields
// of a section in JSON order and hands each to a visitor with its key and
// constraints. The reader, the writer and the range validator are visitors,
// so they cannot disagree about a key, a range or which fields exist.
//
// A visitor provides field(key, member, constraint...) for the member types
// used below, and retryOn(key, RetryConfig&) for the one mixed-type array.
// Internal to the config library; not installed for other libraries.
namespace sluice::config::schema {

struct IntRange {
    std::int64_t min;
    std::int64_t max;
};

struct RealRange {
    double min;
    double max;
};

// A field that must be present in the JSON (elements of arrays only).
struct Required {};

// The constraints passed with one field, gathered.
struct Constraints {
    std::optional<IntRange> integers;
    std::optional<RealRange> reals;
    bool required = false;
};

inline void addConstraint(Constraints &into, IntRange range) { into.integers = range; }
inline void addConstraint(Constraints &into, RealRange range) { into.reals = range; }
inline void addConstraint(Constraints &into, Required) { into.required = true; }

template <typename... C>
Constraints constraintsOf(C... constraints)
{
    Constraints gathered;
    (addConstraint(gathered, constraints), ...);
    return gathered;
}

// Traits the visitors dispatch on.
template <typename T>
struct IsDuration : std::false_type {};
template <typename Rep, typename Period>
struct IsDuration<std::chrono::duration<Rep, Period>> : std::true_type {};

template <typename T>
struct IsVector : std::false_type {};
template <typename T>
struct IsVector<std::vector<T>> : std::true_type {};

template <typename T>
struct IsStringMap : std::false_type {};
template <typename T>
struct IsStringMap<std::map<QString, T>> : std::true_type {};

// Every number needs its range, so no field can overflow or go unchecked.
template <typename T>
struct ScalarOf {
    using type = T;
};
template <typename T>
struct ScalarOf<std::map<QString, T>> {
    using type = T;
};

template <typename T, typename... C>
constexpr void requireRangeFor()
{
    using Value = typename ScalarOf<T>::type;
    if constexpr (std::is_integral_v<Value> && !std::is_same_v<Value, bool>)
        static_assert((std::is_same_v<C, IntRange> || ...), "an integer field needs an IntRange");
    if constexpr (IsDuration<Value>::value)
        static_assert((std::is_same_v<C, IntRange> || ...), "a duration field needs an IntRange");
    if constexpr (std::is_floating_point_v<Value>)
        static_assert((std::is_same_v<C, RealRange> || ...), "a real field needs a RealRange");
}

template <typename S, typename T>
concept SectionOf = std::same_as<std::remove_const_t<S>, T>;

inline constexpr std::int64_t kKiB = 1024;
inline constexpr std::int64_t kMiB = 1024 * kKiB;
inline constexpr std::int64_t kGiB = 1024 * kMiB;
inline constexpr std::int64_t kTiB = 1024 * kGiB;
inline constexpr std::int64_t kMaxSafeInteger = (std::int64_t{1} << 53) - 1;

inline constexpr IntRange kPort{0, 65535};
inline constexpr IntRange kRequestsPerMinute{0, 1'000'000'000};
inline constexpr IntRange kTokensPerMinute{0, 1'000'000'000'000};
inline constexpr IntRange kParallelRequests{0, 100'000};
inline constexpr IntRange kTimeoutMs{1, 3'600'000};
inline constexpr IntRange kTtlSeconds{0, 31'536'000};

template <typename V, SectionOf<Listener> S>
void describe(V &v, S &s)
{
    v.field(u"address", s.address);
    v.field(u"port", s.port, kPort);
}

template <typename V, SectionOf<ServerConfig> S>
void describe(V &v, S &s)
{
    v.field(u"listeners", s.listeners);
    v.field(u"max_header_bytes", s.maxHeaderBytes, IntRange{kKiB, kMiB});
    v.field(u"max_body_bytes", s.maxBodyBytes, IntRange{kKiB, kGiB});
    v.field(u"header_timeout_ms", s.headerTimeout, kTimeoutMs);
    v.field(u"body_timeout_ms", s.bodyTimeout, kTimeoutMs);
    v.field(u"idle_timeout_ms", s.idleTimeout, kTimeoutMs);
    v.field(u"threads", s.threads, IntRange{0, 256});
    v.field(u"shutdown_drain_seconds", s.shutdownDrain, IntRange{0, 3600});
}

template <typename V, SectionOf<Upstream> S>
void describe(V &v, S &s)
{
    v.field(u"name", s.name, Required{});
    v.field(u"kind", s.kind, Required{});
    v.field(u"base_url", s.baseUrl, Required{});
    v.field(u"api_key_env", s.apiKeyEnv);
    v.field(u"api_key_file", s.apiKeyFile);
    v.field(u"models", s.models, Required{});
    v.field(u"aliases", s.aliases);
    v.field(u"requests_per_minute", s.requestsPerMinute, kRequestsPerMinute);
    v.field(u"tokens_per_minute", s.tokensPerMinute, kTokensPerMinute);
    v.field(u"priority", s.priority, IntRange{0, 1000});
}

template <typename V, SectionOf<ClientKey> S>
void describe(V &v, S &s)
{
    v.field(u"id", s.id, Required{});
    v.field(u"key_sha256", s.keySha256, Required{});
    v.field(u"requests_per_minute", s.requestsPerMinute, kRequestsPerMinute);
    v.field(u"tokens_per_minute", s.tokensPerMinute, kTokensPerMinute);
    v.field(u"parallel_requests", s.parallelRequests, kParallelRequests);
    v.field(u"allowed_models", s.allowedModels);
    v.field(u"priority", s.priority);
}

template <typename V, SectionOf<AnonymousAccess> S>
void describe(V &v, S &s)
{
    v.field(u"enabled", s.enabled);
    v.field(u"requests_per_minute_per_ip", s.requestsPerMinutePerIp, kRequestsPerMinute);
    v.field(u"tokens_per_minute_per_ip", s.tokensPerMinutePerIp, kTokensPerMinute);
}

template <typename V, SectionOf<RuleMatch> S>
void describe(V &v, S &s)
{
    v.field(u"model", s.model);
    v.field(u"route", s.route);
    v.field(u"api_key", s.apiKey);
}

template <typename V, SectionOf<RateLimitRule> S>
void describe(V &v, S &s)
{
    v.field(u"name", s.name, Required{});
    v.field(u"scope", s.scope);
    v.field(u"match", s.match);
    v.field(u"requests_per_minute", s.requestsPerMinute, kRequestsPerMinute);
    v.field(u"tokens_per_minute", s.tokensPerMinute, kTokensPerMinute);
    v.field(u"parallel_requests", s.parallelRequests, kParallelRequests);
    v.field(u"burst", s.burst, kRequestsPerMinute);
    v.field(u"algorithm", s.algorithm);
}

template <typename V, SectionOf<CacheBypass> S>
void describe(V &v, S &s)
{
    v.field(u"models", s.models);
    v.field(u"routes", s.routes);
    v.field(u"temperature_above", s.temperatureAbove, RealRange{0.0, 2.0});
}

template <typename V, SectionOf<CacheConfig> S>
void describe(V &v, S &s)
{
    v.field(u"enabled", s.enabled);
    v.field(u"ttl_seconds", s.ttl, kTtlSeconds);
    v.field(u"route_ttl_seconds", s.routeTtl, kTtlSeconds);
    v.field(u"model_ttl_seconds", s.modelTtl, kTtlSeconds);
    v.field(u"max_entries", s.maxEntries, IntRange{1, 1'000'000'000});
    v.field(u"max_bytes", s.maxBytes, IntRange{kKiB, kTiB});
    v.field(u"max_entry_bytes", s.maxEntryBytes, IntRange{1, kTiB});
    v.field(u"bypass", s.bypass);
}

template <typename V, SectionOf<ConcurrencyConfig> S>
void describe(V &v, S &s)
{
    v.field(u"max_in_flight", s.maxInFlight, IntRange{1, 100'000});
    v.field(u"max_queue", s.maxQueue, IntRange{0, 1'000'000});
    v.field(u"queue_timeout_ms", s.queueTimeout, IntRange{0, 600'000});
}

template <typename V, SectionOf<RetryConfig> S>
void describe(V &v, S &s)
{
    v.field(u"max_attempts", s.maxAttempts, IntRange{1, 10});
    v.field(u"base_delay_ms", s.baseDelay, IntRange{1, 60'000});
    v.field(u"max_delay_ms", s.maxDelay, IntRange{1, 600'000});
    v.field(u"max_retry_after_seconds", s.maxRetryAfter, IntRange{0, 3600});
    v.field(u"budget_ratio", s.budgetRatio, RealRange{0.0, 1.0});
    v.field(u"min_retries_per_second", s.minRetriesPerSecond, IntRange{0, 10'000});
    v.retryOn(u"retry_on", s);
}

template <typename V, SectionOf<BreakerConfig> S>
void describe(V &v, S &s)
{
    v.field(u"failure_rate_threshold", s.failureRateThreshold, RealRange{0.0, 1.0});
    v.field(u"window_seconds", s.window, IntRange{1, 3600});
    v.field(u"minimum_requests", s.minimumRequests, IntRange{1, 1'000'000});
    v.field(u"consecutive_failures", s.consecutiveFailures, IntRange{0, 1'000'000});
    v.field(u"open_seconds", s.open, IntRange{1, 3600});
    v.field(u"half_open_probes", s.halfOpenProbes, IntRange{1, 1000});
}

template <typename V, SectionOf<UpstreamTimeouts> S>
void describe(V &v, S &s)
{
    v.field(u"connect_ms", s.connect, IntRange{1, 600'000});
    v.field(u"first_byte_ms", s.firstByte, kTimeoutMs);
    v.field(u"stream_idle_ms", s.streamIdle, kTimeoutMs);
    v.field(u"total_ms", s.total, IntRange{0, 86'400'000});
}

template <typename V, SectionOf<AdminConfig> S>
void describe(V &v, S &s)
{
    v.field(u"enabled", s.enabled);
    v.field(u"address", s.address);
    v.field(u"port", s.port, kPort);
    v.field(u"token_env", s.tokenEnv);
    v.field(u"token_file", s.tokenFile);
    v.field(u"token_sha256", s.tokenSha256);
}

template <typename V, SectionOf<PricingConfig> S>
void describe(V &v, S &s)
{
    v.field(u"table_file", s.tableFile);
}

template <typename V, SectionOf<LoggingConfig> S>
void describe(V &v, S &s)
{
    v.field(u"level", s.level);
}

template <typename V, SectionOf<RedisConfig> S>
void describe(V &v, S &s)
{
    v.field(u"enabled", s.enabled);
    v.field(u"address", s.address);
    v.field(u"port", s.port, IntRange{1, 65535});
    v.field(u"db", s.db, IntRange{0, 15});
    v.field(u"user", s.user);
    v.field(u"password_env", s.passwordEnv);
    v.field(u"password_file", s.passwordFile);
    v.field(u"key_namespace", s.keyNamespace);
    v.field(u"connect_timeout_ms", s.connectTimeout, IntRange{1, 600'000});
    v.field(u"command_timeout_ms", s.commandTimeout, IntRange{1, 600'000});
    v.field(u"fallback", s.fallback);
    v.field(u"shared_cache", s.sharedCache);
    v.field(u"heartbeat_seconds", s.heartbeat, IntRange{1, 3600});
}

template <typename V, SectionOf<PostgresConfig> S>
void describe(V &v, S &s)
{
    v.field(u"enabled", s.enabled);
    v.field(u"connection_string_env", s.connectionStringEnv);
    v.field(u"connection_string_file", s.connectionStringFile);
    v.field(u"buffer_records", s.bufferRecords, IntRange{1, 10'000'000});
    v.field(u"batch_size", s.batchSize, IntRange{1, 100'000});
    v.field(u"flush_interval_ms", s.flushInterval, IntRange{10, 600'000});
    v.field(u"retention_days", s.retention, IntRange{1, 3650});
}

template <typename V, SectionOf<GatewayConfig> S>
void describe(V &v, S &s)
{
    v.field(u"version", s.version, IntRange{0, kMaxSafeInteger});
    v.field(u"comment", s.comment);
    v.field(u"server", s.server);
    v.field(u"upstreams", s.upstreams);
    v.field(u"api_keys", s.apiKeys);
    v.field(u"anonymous", s.anonymous);
    v.field(u"rate_limits", s.rateLimits);
    v.field(u"cache", s.cache);
    v.field(u"concurrency", s.concurrency);
    v.field(u"retries", s.retries);
    v.field(u"breaker", s.breaker);
    v.field(u"timeouts", s.timeouts);
    v.field(u"admin", s.admin);
    v.field(u"pricing", s.pricing);
    v.field(u"logging", s.logging);
    v.field(u"redis", s.redis);
    v.field(u"postgres", s.postgres);
}

} // namespace sluice::config::schema
