#include "config/configvalidator.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <QUrl>

#include "config/configpath.h"
#include "config/configrules.h"
#include "config/configschema.h"
#include "config/jsontext.h"

namespace sluice::config {
namespace {

using schema::Constraints;

QString quoted(const QString &text)
{
    return rules::describeValue(text);
}

// The ranges and enum values declared in the schema, for configs built in code.
class RangeChecker {
public:
    RangeChecker(QString path, ConfigErrors &errors) : m_path(std::move(path)), m_errors(errors) {}

    template <typename T, typename... C>
    void field(QStringView key, const T &member, C... constraints)
    {
        schema::requireRangeFor<T, C...>();
        check(pathWithKey(m_path, key.toString()), member, schema::constraintsOf(constraints...));
    }

    void retryOn(QStringView key, const RetryConfig &retries)
    {
        const QString path = pathWithKey(m_path, key.toString());
        for (std::size_t i = 0; i < retries.retryOnStatuses.size(); ++i) {
            const int status = retries.retryOnStatuses[i];
            const QString entryPath = pathWithIndex(path, qsizetype(i));
            if (status < 400 || status > 599)
                fail(entryPath, QStringLiteral("must be an HTTP status 400..599, got %1").arg(status));
            else if (std::find(retries.retryOnStatuses.begin(), retries.retryOnStatuses.begin() + qsizetype(i), status)
                     != retries.retryOnStatuses.begin() + qsizetype(i))
                fail(entryPath, QStringLiteral("%1 is listed twice").arg(status));
        }
    }

private:
    void fail(const QString &path, const QString &reason) { m_errors.push_back({path, reason}); }

    void checkInteger(const QString &path, std::int64_t value, schema::IntRange range)
    {
        if (value < range.min)
            fail(path, rules::mustBeAtLeast(QString::number(range.min), QString::number(value)));
        else if (value > range.max)
            fail(path, rules::mustBeAtMost(QString::number(range.max), QString::number(value)));
    }

    template <typename T>
    void check(const QString &path, const T &member, const Constraints &constraints)
    {
        if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, QString> || std::is_same_v<T, QStringList>) {
            return;
        } else if constexpr (std::is_integral_v<T>) {
            checkInteger(path, std::int64_t(member), *constraints.integers);
        } else if constexpr (schema::IsDuration<T>::value) {
            checkInteger(path, std::int64_t(member.count()), *constraints.integers);
        } else if constexpr (std::is_floating_point_v<T>) {
            const schema::RealRange range = *constraints.reals;
            if (!std::isfinite(member))
                fail(path, QStringLiteral("must be a finite number, got %1").arg(member));
            else if (member < range.min)
                fail(path, rules::mustBeAtLeast(QString::number(range.min), QString::number(member)));
            else if (member > range.max)
                fail(path, rules::mustBeAtMost(QString::number(range.max), QString::number(member)));
        } else if constexpr (std::is_enum_v<T>) {
            const auto names = enumNames(member);
            if (static_cast<std::size_t>(member) >= names.size())
                fail(path, rules::mustBeOneOf(names, QString::number(static_cast<int>(member))));
        } else if constexpr (schema::IsVector<T>::value) {
            for (std::size_t i = 0; i < member.size(); ++i)
                check(pathWithIndex(path, qsizetype(i)), member[i], constraints);
        } else if constexpr (schema::IsStringMap<T>::value) {
            for (const auto &[key, value] : member)
                check(pathWithKey(path, key), value, constraints);
        } else {
            RangeChecker section(path, m_errors);
            schema::describe(section, member);
        }
    }

    const QString m_path;
    ConfigErrors &m_errors;
};

// The rules that relate fields to each other.
class RuleChecker {
public:
    RuleChecker(const GatewayConfig &config, const ConfigErrors &readErrors, ConfigErrors &errors)
        : m_config(config), m_readErrors(readErrors), m_errors(errors)
    {
        for (const Upstream &upstream : config.upstreams) {
            m_servedNames.append(upstream.models);
            for (const auto &alias : upstream.aliases)
                m_servedNames.append(alias.first);
        }
        m_servedNames.removeDuplicates();
    }

    void run()
    {
        checkServer();
        checkUpstreams();
        checkApiKeys();
        checkRateLimits();
        checkCache();
        checkRetries();
        checkTimeouts();
        checkAdmin();
        checkRedis();
        checkPostgres();
    }

private:
    void fail(const QString &path, const QString &reason) { m_errors.push_back({path, reason}); }

    // Something at or below path could not be read, so it holds a default.
    bool unread(const QString &path) const
    {
        return std::any_of(m_readErrors.begin(), m_readErrors.end(),
                           [&](const ConfigError &error) { return isWithinPath(error.path, path); });
    }

    void checkName(const QString &path, const QString &name, std::map<QString, QString> &seen, const QString &where)
    {
        if (name.isEmpty()) {
            fail(path, QStringLiteral("must not be empty"));
            return;
        }
        if (!rules::isName(name)) {
            fail(path, QStringLiteral("must match [a-z0-9_-]{1,64}, got %1").arg(quoted(name)));
            return;
        }
        const auto [previous, inserted] = seen.emplace(name, where);
        if (!inserted)
            fail(path, QStringLiteral("%1 is already used by %2").arg(quoted(name), previous->second));
    }

    void checkAddress(const QString &path, const QString &address)
    {
        if (!rules::isIpLiteral(address))
            fail(path, QStringLiteral("must be an IPv4 or IPv6 address, got %1").arg(quoted(address)));
    }

    void checkEnvironmentName(const QString &path, const QString &name, const char *example)
    {
        // Never echo the value: the usual mistake is pasting the secret itself here.
        if (!name.isEmpty() && !rules::isEnvironmentName(name))
            fail(path, QStringLiteral("must be the name of an environment variable, like %1 (never the secret itself)")
                           .arg(QLatin1String(example)));
    }

    void checkServedModel(const QString &path, const QString &name, bool allowGlob)
    {
        if (unread(QStringLiteral("upstreams")) && !name.isEmpty() && (!isGlob(name) || allowGlob))
            return;
        if (name.isEmpty()) {
            fail(path, QStringLiteral("must not be empty"));
        } else if (isGlob(name)) {
            if (!allowGlob)
                fail(path, QStringLiteral("must be a model name, not a pattern, got %1").arg(quoted(name)));
            else if (std::none_of(m_servedNames.begin(), m_servedNames.end(),
                                  [&](const QString &served) { return globMatches(name, served); }))
                fail(path, QStringLiteral("no model served by an upstream matches %1").arg(quoted(name)));
        } else if (!m_servedNames.contains(name)) {
            fail(path, rules::withSuggestion(QStringLiteral("no upstream serves %1").arg(quoted(name)), name,
                                             m_servedNames));
        }
    }

    void checkRoute(const QString &path, const QString &route)
    {
        const QStringList routes = knownRoutes();
        if (routes.contains(route))
            return;
        const QString reason = QStringLiteral("unknown route %1").arg(quoted(route));
        if (!rules::closestMatch(route, routes).isEmpty()) {
            fail(path, rules::withSuggestion(reason, route, routes));
            return;
        }
        QStringList quotedRoutes;
        for (const QString &known : routes)
            quotedRoutes.append(quoted(known));
        fail(path, reason + QStringLiteral(" (known: %1)").arg(quotedRoutes.join(QStringLiteral(", "))));
    }

    void checkServer()
    {
        const QString path = QStringLiteral("server.listeners");
        const auto &listeners = m_config.server.listeners;
        if (listeners.empty())
            fail(path, QStringLiteral("must list at least one listener"));
        for (std::size_t i = 0; i < listeners.size(); ++i) {
            const QString entry = pathWithIndex(path, qsizetype(i));
            checkAddress(pathWithKey(entry, QStringLiteral("address")), listeners[i].address);
            for (std::size_t j = 0; j < i; ++j) {
                if (listeners[i].port != 0 && listeners[j] == listeners[i]) {
                    fail(entry, QStringLiteral("%1:%2 is already used by %3")
                                    .arg(listeners[i].address, QString::number(listeners[i].port),
                                         pathWithIndex(path, qsizetype(j))));
                    break;
                }
            }
        }
    }

    void checkBaseUrl(const QString &path, const QString &baseUrl)
    {
        const QUrl url(baseUrl, QUrl::StrictMode);
        const QString scheme = url.scheme();
        if (!url.isValid() || (scheme != u"http" && scheme != u"https") || url.host().isEmpty())
            fail(path, QStringLiteral("must be an http or https URL, got %1").arg(quoted(baseUrl)));
        else if (!url.userInfo().isEmpty())
            fail(path, QStringLiteral("must not contain credentials (use api_key_env or api_key_file)"));
        else if (url.hasQuery() || url.hasFragment())
            fail(path, QStringLiteral("must not have a query or fragment, got %1").arg(quoted(baseUrl)));
    }

    void checkUpstreams()
    {
        std::map<QString, QString> names;
        // Client-facing name -> what it means on the first upstream serving it.
        struct Meaning {
            QString upstream;
            QString model;
        };
        std::map<QString, Meaning> meanings;
        const auto checkMeaning = [&](const QString &path, const Upstream &upstream, const QString &name,
                                      const QString &model) {
            if (unread(QStringLiteral("upstreams")))
                return;
            const auto [first, inserted] = meanings.emplace(name, Meaning{upstream.name, model});
            if (!inserted && first->second.model != model)
                fail(path, QStringLiteral("means %1 here but %2 on upstream %3")
                               .arg(quoted(model), quoted(first->second.model), quoted(first->second.upstream)));
        };

        for (std::size_t i = 0; i < m_config.upstreams.size(); ++i) {
            const Upstream &upstream = m_config.upstreams[i];
            const QString path = pathWithIndex(QStringLiteral("upstreams"), qsizetype(i));
            checkName(pathWithKey(path, QStringLiteral("name")), upstream.name, names, path);
            checkBaseUrl(pathWithKey(path, QStringLiteral("base_url")), upstream.baseUrl);
            checkEnvironmentName(pathWithKey(path, QStringLiteral("api_key_env")), upstream.apiKeyEnv,
                                 "OPENAI_API_KEY");
            if (!upstream.apiKeyEnv.isEmpty() && !upstream.apiKeyFile.isEmpty())
                fail(path, QStringLiteral("set at most one of api_key_env, api_key_file"));

            const QString modelsPath = pathWithKey(path, QStringLiteral("models"));
            if (upstream.models.isEmpty())
                fail(modelsPath, QStringLiteral("must list at least one model"));
            for (qsizetype j = 0; j < upstream.models.size(); ++j) {
                const QString &model = upstream.models[j];
                const QString modelPath = pathWithIndex(modelsPath, j);
                if (model.isEmpty())
                    fail(modelPath, QStringLiteral("must not be empty"));
                else if (upstream.models.indexOf(model) < j)
                    fail(modelPath, QStringLiteral("%1 is listed twice").arg(quoted(model)));
                else
                    checkMeaning(modelPath, upstream, model, model);
            }

            const QString aliasesPath = pathWithKey(path, QStringLiteral("aliases"));
            for (const auto &[alias, target] : upstream.aliases) {
                const QString aliasPath = pathWithKey(aliasesPath, alias);
                if (alias.isEmpty())
                    fail(aliasPath, QStringLiteral("an alias must not be empty"));
                else if (upstream.models.contains(alias))
                    fail(aliasPath, QStringLiteral("shadows a model of this upstream"));
                else if (unread(modelsPath))
                    continue;
                else if (!upstream.models.contains(target))
                    fail(aliasPath, rules::withSuggestion(QStringLiteral("target %1 is not in models").arg(quoted(target)),
                                                          target, upstream.models));
                else
                    checkMeaning(aliasPath, upstream, alias, target);
            }
        }
    }

    void checkApiKeys()
    {
        std::map<QString, QString> ids;
        std::map<QString, QString> hashes;
        for (std::size_t i = 0; i < m_config.apiKeys.size(); ++i) {
            const ClientKey &key = m_config.apiKeys[i];
            const QString path = pathWithIndex(QStringLiteral("api_keys"), qsizetype(i));
            checkName(pathWithKey(path, QStringLiteral("id")), key.id, ids, path);
            const QString hashPath = pathWithKey(path, QStringLiteral("key_sha256"));
            if (!rules::isSha256Hex(key.keySha256)) {
                // Not echoed: a plaintext key pasted here must not end up in logs.
                fail(hashPath, QStringLiteral("must be 64 lowercase hex characters, the SHA-256 of the key "
                                              "(sluice::config::hashApiKey)"));
            } else if (const auto [previous, inserted] = hashes.emplace(key.keySha256, path); !inserted) {
                fail(hashPath, QStringLiteral("same key as %1").arg(previous->second));
            }
            const QString allowedPath = pathWithKey(path, QStringLiteral("allowed_models"));
            for (qsizetype j = 0; j < key.allowedModels.size(); ++j)
                checkServedModel(pathWithIndex(allowedPath, j), key.allowedModels[j], true);
        }
    }

    void checkRateLimits()
    {
        std::map<QString, QString> names;
        QStringList keyIds;
        for (const ClientKey &key : m_config.apiKeys)
            keyIds.append(key.id);
        for (std::size_t i = 0; i < m_config.rateLimits.size(); ++i) {
            const RateLimitRule &rule = m_config.rateLimits[i];
            const QString path = pathWithIndex(QStringLiteral("rate_limits"), qsizetype(i));
            checkName(pathWithKey(path, QStringLiteral("name")), rule.name, names, path);

            const QString scopePath = pathWithKey(path, QStringLiteral("scope"));
            if (rule.scope.empty())
                fail(scopePath, QStringLiteral("must list at least one of \"api_key\", \"ip\", \"route\", \"model\""));
            for (std::size_t j = 0; j < rule.scope.size(); ++j) {
                if (std::find(rule.scope.begin(), rule.scope.begin() + qsizetype(j), rule.scope[j])
                    != rule.scope.begin() + qsizetype(j))
                    fail(pathWithIndex(scopePath, qsizetype(j)),
                         QStringLiteral("%1 is listed twice").arg(quoted(enumName(rule.scope[j]))));
            }

            // The limits are judged together; one that could not be read would mislead.
            if (!unread(path))
                checkRuleLimits(path, rule);

            const QString matchPath = pathWithKey(path, QStringLiteral("match"));
            if (!rule.match.model.isEmpty())
                checkServedModel(pathWithKey(matchPath, QStringLiteral("model")), rule.match.model, true);
            if (!rule.match.route.isEmpty())
                checkRoute(pathWithKey(matchPath, QStringLiteral("route")), rule.match.route);
            const bool keysKnown = !unread(QStringLiteral("api_keys"));
            if (!rule.match.apiKey.isEmpty() && keysKnown && !keyIds.contains(rule.match.apiKey))
                fail(pathWithKey(matchPath, QStringLiteral("api_key")),
                     rules::withSuggestion(QStringLiteral("no api_keys entry has id %1").arg(quoted(rule.match.apiKey)),
                                           rule.match.apiKey, keyIds));
        }
    }

    void checkRuleLimits(const QString &path, const RateLimitRule &rule)
    {
        if (rule.requestsPerMinute == 0 && rule.tokensPerMinute == 0 && rule.parallelRequests == 0)
            fail(path, QStringLiteral("needs at least one of requests_per_minute, tokens_per_minute, "
                                      "parallel_requests"));
        const QString burstPath = pathWithKey(path, QStringLiteral("burst"));
        if (rule.burst > 0 && rule.algorithm != LimitAlgorithm::Gcra)
            fail(burstPath, QStringLiteral("applies to algorithm \"gcra\" only"));
        else if (rule.burst > 0 && rule.requestsPerMinute == 0)
            fail(burstPath, QStringLiteral("needs requests_per_minute"));
    }

    void checkCache()
    {
        const CacheConfig &cache = m_config.cache;
        const QString path = QStringLiteral("cache");
        for (const auto &entry : cache.routeTtl)
            checkRoute(pathWithKey(pathWithKey(path, QStringLiteral("route_ttl_seconds")), entry.first), entry.first);
        for (const auto &entry : cache.modelTtl)
            checkServedModel(pathWithKey(pathWithKey(path, QStringLiteral("model_ttl_seconds")), entry.first),
                             entry.first, false);
        if (cache.maxEntryBytes > cache.maxBytes && !unread(QStringLiteral("cache.max_bytes")))
            fail(pathWithKey(path, QStringLiteral("max_entry_bytes")),
                 rules::mustBeAtMost(QStringLiteral("max_bytes (%1)").arg(cache.maxBytes),
                                     QString::number(cache.maxEntryBytes)));
        const QString bypassPath = pathWithKey(path, QStringLiteral("bypass"));
        const QString modelsPath = pathWithKey(bypassPath, QStringLiteral("models"));
        for (qsizetype i = 0; i < cache.bypass.models.size(); ++i)
            checkServedModel(pathWithIndex(modelsPath, i), cache.bypass.models[i], true);
        const QString routesPath = pathWithKey(bypassPath, QStringLiteral("routes"));
        for (qsizetype i = 0; i < cache.bypass.routes.size(); ++i)
            checkRoute(pathWithIndex(routesPath, i), cache.bypass.routes[i]);
    }

    void checkRetries()
    {
        const RetryConfig &retries = m_config.retries;
        if (retries.maxDelay < retries.baseDelay && !unread(QStringLiteral("retries.base_delay_ms")))
            fail(QStringLiteral("retries.max_delay_ms"),
                 rules::mustBeAtLeast(QStringLiteral("base_delay_ms (%1)").arg(retries.baseDelay.count()),
                                      QString::number(retries.maxDelay.count())));
    }

    void checkTimeouts()
    {
        const UpstreamTimeouts &timeouts = m_config.timeouts;
        if (timeouts.total.count() == 0 || unread(QStringLiteral("timeouts.total_ms")))
            return;
        const QString bound = QStringLiteral("total_ms (%1)").arg(timeouts.total.count());
        if (timeouts.connect > timeouts.total)
            fail(QStringLiteral("timeouts.connect_ms"), rules::mustBeAtMost(bound, QString::number(timeouts.connect.count())));
        if (timeouts.firstByte > timeouts.total)
            fail(QStringLiteral("timeouts.first_byte_ms"),
                 rules::mustBeAtMost(bound, QString::number(timeouts.firstByte.count())));
    }

    void checkAdmin()
    {
        const AdminConfig &admin = m_config.admin;
        const QString path = QStringLiteral("admin");
        checkAddress(pathWithKey(path, QStringLiteral("address")), admin.address);
        checkEnvironmentName(pathWithKey(path, QStringLiteral("token_env")), admin.tokenEnv, "SLUICE_ADMIN_TOKEN");
        if (!admin.tokenSha256.isEmpty() && !rules::isSha256Hex(admin.tokenSha256))
            fail(pathWithKey(path, QStringLiteral("token_sha256")),
                 QStringLiteral("must be 64 lowercase hex characters, the SHA-256 of the token"));
        const int sources = int(!admin.tokenEnv.isEmpty()) + int(!admin.tokenFile.isEmpty())
            + int(!admin.tokenSha256.isEmpty());
        if (sources > 1)
            fail(path, QStringLiteral("set at most one of token_env, token_file, token_sha256"));
        if (!admin.enabled || unread(path))
            return;
        if (sources == 0 && rules::isIpLiteral(admin.address) && !rules::isLoopbackAddress(admin.address))
            fail(path, QStringLiteral("a token (token_env, token_file or token_sha256) is required unless "
                                      "address is a loopback address"));
        if (admin.port == 0 || unread(QStringLiteral("server.listeners")))
            return;
        const auto &listeners = m_config.server.listeners;
        for (std::size_t i = 0; i < listeners.size(); ++i) {
            const Listener &listener = listeners[i];
            const bool sameHost = listener.address == admin.address || rules::isWildcardAddress(listener.address)
                || rules::isWildcardAddress(admin.address);
            if (listener.port == admin.port && sameHost) {
                fail(pathWithKey(path, QStringLiteral("port")),
                     QStringLiteral("%1 is also used by %2")
                         .arg(admin.port)
                         .arg(pathWithIndex(QStringLiteral("server.listeners"), qsizetype(i))));
                break;
            }
        }
    }

    // Both sources of one secret set: the second is the field to clear.
    void checkOneSource(const QString &path, const QString &first, const QString &firstKey, const QString &second,
                        const QString &secondKey)
    {
        if (!first.isEmpty() && !second.isEmpty())
            fail(pathWithKey(path, secondKey), QStringLiteral("must be empty when %1 is set").arg(firstKey));
    }

    void checkRedis()
    {
        const RedisConfig &redis = m_config.redis;
        const QString path = QStringLiteral("redis");
        // Unlike listeners, Redis is a server we connect to: a name is resolved (QHostInfo) at connect time.
        if (!rules::isIpLiteral(redis.address) && !rules::isHostName(redis.address))
            fail(pathWithKey(path, QStringLiteral("address")),
                 QStringLiteral("must be a host name or an IPv4 or IPv6 address, got %1").arg(quoted(redis.address)));
        checkEnvironmentName(pathWithKey(path, QStringLiteral("password_env")), redis.passwordEnv, "REDIS_PASSWORD");
        checkOneSource(path, redis.passwordEnv, QStringLiteral("password_env"), redis.passwordFile,
                       QStringLiteral("password_file"));
        const QString namespacePath = pathWithKey(path, QStringLiteral("key_namespace"));
        if (redis.keyNamespace.isEmpty())
            fail(namespacePath, QStringLiteral("must not be empty"));
        else if (!rules::isName(redis.keyNamespace))
            fail(namespacePath, QStringLiteral("must match [a-z0-9_-]{1,64}, got %1").arg(quoted(redis.keyNamespace)));
    }

    void checkPostgres()
    {
        const PostgresConfig &postgres = m_config.postgres;
        const QString path = QStringLiteral("postgres");
        // The usual mistake is pasting the connection string, password included, into the _env field.
        checkEnvironmentName(pathWithKey(path, QStringLiteral("connection_string_env")), postgres.connectionStringEnv,
                             "SLUICE_POSTGRES_URL");
        checkOneSource(path, postgres.connectionStringEnv, QStringLiteral("connection_string_env"),
                       postgres.connectionStringFile, QStringLiteral("connection_string_file"));
        if (postgres.batchSize > postgres.bufferRecords && !unread(QStringLiteral("postgres.buffer_records")))
            fail(pathWithKey(path, QStringLiteral("batch_size")),
                 rules::mustBeAtMost(QStringLiteral("buffer_records (%1)").arg(postgres.bufferRecords),
                                     QString::number(postgres.batchSize)));
        if (!postgres.enabled || unread(path))
            return;
        if (postgres.connectionStringEnv.isEmpty() && postgres.connectionStringFile.isEmpty())
            fail(path, QStringLiteral("a connection string (connection_string_env or connection_string_file) is "
                                      "required when enabled"));
    }

    const GatewayConfig &m_config;
    const ConfigErrors &m_readErrors;
    ConfigErrors &m_errors;
    QStringList m_servedNames;
};

} // namespace

ConfigErrors validateAfterRead(const GatewayConfig &config, const ConfigErrors &readErrors)
{
    ConfigErrors errors;
    RangeChecker ranges(QString(), errors);
    schema::describe(ranges, config);
    RuleChecker(config, readErrors, errors).run();
    std::erase_if(errors, [&](const ConfigError &error) {
        return std::any_of(readErrors.begin(), readErrors.end(),
                           [&](const ConfigError &read) { return isWithinPath(error.path, read.path); });
    });
    rules::sortBySection(errors);
    return errors;
}

ConfigErrors validate(const GatewayConfig &config)
{
    return validateAfterRead(config, {});
}

} // namespace sluice::config
