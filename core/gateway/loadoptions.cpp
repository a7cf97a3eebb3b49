#include "gateway/loadoptions.h"

#include "gateway/optionvalues.h"

#include <QSet>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

namespace sluice::gateway {

namespace {

constexpr int kMaxUsers = 10'000;

QString parseNonNegative(const QString &option, const QString &value, double &target)
{
    const std::optional<double> number = finiteNumber(value);
    if (!number || *number < 0)
        return optionValueError(option, QStringLiteral("a number >= 0"), value);
    target = *number;
    return {};
}

// MEAN[,SPREAD]; a missing spread is 0. The shape stays Normal.
QString parseUrl(const QString &option, const QString &value, QUrl &target)
{
    const QUrl url(value, QUrl::StrictMode);
    const QString scheme = url.scheme().toLower();
    if (!url.isValid() || (scheme != QLatin1String("http") && scheme != QLatin1String("https")) || url.host().isEmpty()
        || !url.userInfo().isEmpty() || url.hasQuery() || url.hasFragment())
        return optionValueError(option, QStringLiteral("an http:// or https:// URL such as http://127.0.0.1:8080"), value);
    target = url;
    return {};
}

bool keyIsSendable(const QByteArray &key)
{
    return std::none_of(key.begin(), key.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

using Setter = std::function<QString(const QString &option, const QString &value, LoadOptions &)>;

struct OptionSpec {
    QLatin1String name;
    Setter set;
    bool repeatable = false;
    bool flag = false; // takes no value
};

const QList<OptionSpec> &optionSpecs()
{
    static const QList<OptionSpec> specs = {
        {QLatin1String("--url"),
         [](const QString &option, const QString &value, LoadOptions &target) { return parseUrl(option, value, target.url); }},
        {QLatin1String("--protocol"),
         [](const QString &option, const QString &value, LoadOptions &target) {
             const std::optional<ProviderKind> kind = providerFromName(value);
             if (!kind)
                 return optionValueError(option, QStringLiteral("openai or anthropic"), value);
             target.protocol = *kind;
             return QString();
         }},
        {QLatin1String("--models"),
         [](const QString &option, const QString &value, LoadOptions &target) {
             return parseModels(option, value, target.models);
         }},
        {QLatin1String("--api-key"),
         [](const QString &option, const QString &value, LoadOptions &target) {
             const QByteArray key = value.toUtf8();
             if (key.isEmpty() || !keyIsSendable(key))
                 return QStringLiteral("%1: expected a non-empty key without line breaks").arg(option);
             target.apiKeys.append(key);
             return QString();
         },
         true},
        {QLatin1String("--api-key-env"),
         [](const QString &option, const QString &value, LoadOptions &target) {
             if (value.isEmpty())
                 return optionValueError(option, QStringLiteral("an environment variable name"), value);
             const QByteArray key = qgetenv(value.toLocal8Bit().constData());
             if (key.isEmpty())
                 return QStringLiteral("%1: environment variable %2 is not set or empty").arg(option, quotedValue(value));
             if (!keyIsSendable(key))
                 return QStringLiteral("%1: environment variable %2 holds a line break").arg(option, quotedValue(value));
             target.apiKeys.append(key);
             return QString();
         }},
        {QLatin1String("--users"),
         [](const QString &option, const QString &value, LoadOptions &target) {
             const std::optional<quint64> users = wholeNumber(value);
             if (!users || *users < 1 || *users > quint64(kMaxUsers))
                 return optionValueError(option, QStringLiteral("a whole number from 1 to %1").arg(kMaxUsers), value);
             target.users = int(*users);
             return QString();
         }},
        {QLatin1String("--think-ms"),
         [](const QString &option, const QString &value, LoadOptions &target) {
             return parseMeanSpread(option, value, target.thinkTimeMs);
         }},
        {QLatin1String("--rate"),
         [](const QString &option, const QString &value, LoadOptions &target) {
             return parseNonNegative(option, value, target.requestsPerSecond);
         }},
        {QLatin1String("--duration"),
         [](const QString &option, const QString &value, LoadOptions &target) {
             return parseNonNegative(option, value, target.durationSeconds);
         }},
        {QLatin1String("--requests"),
         [](const QString &option, const QString &value, LoadOptions &target) {
             const std::optional<quint64> requests = wholeNumber(value);
             if (!requests)
                 return optionValueError(option, QStringLiteral("a whole number >= 0"), value);
             target.maxRequests = *requests;
             return QString();
         }},
        {QLatin1String("--repeat-share"),
         [](const QString &option, const QString &value, LoadOptions &target) {
             return parseProbability(option, value, target.repeatShare);
         }},
        {QLatin1String("--stream-share"),
         [](const QString &option, const QString &value, LoadOptions &target) {
             return parseProbability(option, value, target.streamShare);
         }},
        {QLatin1String("--prompt-tokens"),
         [](const QString &option, const QString &value, LoadOptions &target) {
             return parseMeanSpread(option, value, target.promptTokens);
         }},
        {QLatin1String("--max-tokens"),
         [](const QString &option, const QString &value, LoadOptions &target) {
             return parseMeanSpread(option, value, target.maxTokens);
         }},
        {QLatin1String("--timeout-ms"),
         [](const QString &option, const QString &value, LoadOptions &target) {
             const std::optional<quint64> timeout = wholeNumber(value);
             if (!timeout || *timeout < 1 || *timeout > quint64(std::numeric_limits<int>::max()))
                 return optionValueError(option, QStringLiteral("a whole number of milliseconds >= 1"), value);
             target.timeoutMs = int(*timeout);
             return QString();
         }},
        {QLatin1String("--seed"),
         [](const QString &option, const QString &value, LoadOptions &target) {
             const std::optional<quint64> seed = wholeNumber(value);
             if (!seed)
                 return optionValueError(option, QStringLiteral("a whole number >= 0"), value);
             target.seed = *seed;
             return QString();
         }},
        {QLatin1String("--json"),
         [](const QString &, const QString &, LoadOptions &target) {
             target.json = true;
             return QString();
         },
         false, true},
        {QLatin1String("--report-every"),
         [](const QString &option, const QString &value, LoadOptions &target) {
             return parseNonNegative(option, value, target.reportEverySeconds);
         }},
    };
    return specs;
}

const OptionSpec *findSpec(const QString &name)
{
    for (const OptionSpec &spec : optionSpecs()) {
        if (spec.name == name)
            return &spec;
    }
    return nullptr;
}

QString distributionError(const QString &name, const Distribution &distribution)
{
    if (!std::isfinite(distribution.mean) || !std::isfinite(distribution.spread) || distribution.mean < 0
        || distribution.spread < 0)
        return name + QStringLiteral(": mean and spread must be finite and >= 0");
    return {};
}

bool isShare(double value)
{
    return std::isfinite(value) && value >= 0 && value <= 1;
}

} // namespace

QString defaultLoadModel(ProviderKind protocol)
{
    return protocol == ProviderKind::Anthropic ? QStringLiteral("claude-3-5-haiku-latest") : QStringLiteral("gpt-4o-mini");
}

QString LoadOptions::validationError() const
{
    const QString scheme = url.scheme().toLower();
    if (!url.isValid() || url.host().isEmpty() || (scheme != QLatin1String("http") && scheme != QLatin1String("https")))
        return QStringLiteral("url: must be an http:// or https:// URL with a host");
    if (users < 0 || users > kMaxUsers)
        return QStringLiteral("users: must be from 0 to %1").arg(kMaxUsers);
    for (const auto &[name, distribution] : {std::pair{QStringLiteral("thinkTimeMs"), thinkTimeMs},
                                             std::pair{QStringLiteral("promptTokens"), promptTokens},
                                             std::pair{QStringLiteral("maxTokens"), maxTokens}}) {
        if (const QString error = distributionError(name, distribution); !error.isEmpty())
            return error;
    }
    if (!std::isfinite(requestsPerSecond) || requestsPerSecond < 0)
        return QStringLiteral("requestsPerSecond: must be >= 0");
    if (!std::isfinite(durationSeconds) || durationSeconds < 0)
        return QStringLiteral("durationSeconds: must be >= 0");
    if (!isShare(repeatShare))
        return QStringLiteral("repeatShare: must be from 0 to 1");
    if (!isShare(streamShare))
        return QStringLiteral("streamShare: must be from 0 to 1");
    if (timeoutMs < 1)
        return QStringLiteral("timeoutMs: must be >= 1");
    if (unreachableAttemptsLimit < 0)
        return QStringLiteral("unreachableAttemptsLimit: must be >= 0");
    if (!std::isfinite(reportEverySeconds) || reportEverySeconds < 0)
        return QStringLiteral("reportEverySeconds: must be >= 0");
    for (const QString &model : models) {
        if (model.trimmed().isEmpty())
            return QStringLiteral("models: names must not be empty");
    }
    for (const QByteArray &key : apiKeys) {
        if (key.isEmpty() || !keyIsSendable(key))
            return QStringLiteral("apiKeys: keys must be non-empty, without line breaks");
    }
    return {};
}

QStringList LoadOptions::effectiveModels() const
{
    return models.isEmpty() ? QStringList{defaultLoadModel(protocol)} : models;
}

QUrl LoadOptions::endpointUrl() const
{
    QUrl endpoint = url;
    QString path = endpoint.path();
    while (path.endsWith(QLatin1Char('/')))
        path.chop(1);
    if (path.endsWith(QLatin1String("/v1")))
        path.chop(3);
    endpoint.setPath(path + QString::fromLatin1(chatEndpointPath(protocol)));
    return endpoint;
}

Result<LoadOptions, QString> parseLoadArguments(const QStringList &arguments)
{
    LoadOptions options;
    QSet<QString> seen;
    for (qsizetype index = 0; index < arguments.size(); ++index) {
        const QString &argument = arguments.at(index);
        if (!argument.startsWith(QLatin1String("--")))
            return unexpected(QStringLiteral("unexpected argument %1").arg(quotedValue(argument)));
        const qsizetype equals = argument.indexOf(QLatin1Char('='));
        const QString name = equals < 0 ? argument : argument.left(equals);
        const OptionSpec *spec = findSpec(name);
        if (!spec)
            return unexpected(QStringLiteral("unknown option %1").arg(quotedValue(name)));
        QString value;
        if (spec->flag) {
            if (equals >= 0)
                return unexpected(QStringLiteral("%1: takes no value, got %2").arg(name, quotedValue(argument.mid(equals + 1))));
        } else if (equals >= 0) {
            value = argument.mid(equals + 1);
        } else {
            // A following "--word" is the next option, not this one's value (write
            // --api-key=--odd for a value that starts with "--").
            if (index + 1 >= arguments.size() || arguments.at(index + 1).startsWith(QLatin1String("--")))
                return unexpected(QStringLiteral("%1: missing value").arg(name));
            value = arguments.at(++index);
        }
        if (seen.contains(name) && !spec->repeatable)
            return unexpected(QStringLiteral("%1: given more than once").arg(name));
        seen.insert(name);
        if (const QString error = spec->set(name, value, options); !error.isEmpty())
            return unexpected(error);
    }
    if (!seen.contains(QStringLiteral("--url")))
        return unexpected(QStringLiteral("--url URL is required"));
    if (seen.contains(QStringLiteral("--api-key")) && seen.contains(QStringLiteral("--api-key-env")))
        return unexpected(QStringLiteral("--api-key, --api-key-env: use one of them"));
    if (const QString error = options.validationError(); !error.isEmpty())
        return unexpected(error);
    return options;
}

QString loadUsage()
{
    return QStringLiteral(
        "Usage: sluice-gateway load --url URL [options]\n"
        "Simulated chat users sending OpenAI or Anthropic chat requests to a gateway or provider.\n"
        "Each user sends, waits for the whole answer, thinks, and sends again.\n"
        "\n"
        "  --url URL                    base URL, e.g. http://127.0.0.1:8080; /v1/chat/completions or\n"
        "                               /v1/messages is appended (a trailing /v1 is dropped first)\n"
        "  --protocol openai|anthropic  request shape and path (default openai)\n"
        "  --models a,b                 models to pick from at random (default gpt-4o-mini /\n"
        "                               claude-3-5-haiku-latest)\n"
        "  --api-key KEY                client key; repeat it to spread the users over several keys\n"
        "  --api-key-env VAR            the key, read from environment variable VAR\n"
        "  --users N                    simulated users, 1 to 10000 (default 10)\n"
        "  --think-ms MEAN[,SPREAD]     pause after each answer, normal clipped at 0 (default 1000,500)\n"
        "  --rate R                     request starts per second over all users, 0 unlimited (default 0)\n"
        "  --duration SECONDS           stop sending after this long, 0 until interrupted (default 0)\n"
        "  --requests N                 stop after sending N requests, 0 no cap (default 0)\n"
        "  --repeat-share P             share of requests repeating one of 16 fixed ones (default 0.2)\n"
        "  --stream-share P             share of requests sent with \"stream\": true (default 0.5)\n"
        "  --prompt-tokens MEAN[,SPREAD]  prompt size in tokens, about 4 bytes each (default 200,100)\n"
        "  --max-tokens MEAN[,SPREAD]   max_tokens of each request (default 150,50)\n"
        "  --timeout-ms N               per request, start to end of the answer (default 60000)\n"
        "  --seed N                     random seed for the draws (default: random)\n"
        "  --json                       print the final report as one JSON object on stdout\n"
        "  --report-every SECONDS       print a progress line this often, 0 only at the end (default 0)\n"
        "Probabilities are from 0 to 1. MEAN without SPREAD means spread 0. SIGINT or SIGTERM stops\n"
        "sending and prints the report once the requests in flight are done; a second one cancels them.\n"
        "Exit status: 0 when it ran (whatever the answers), 1 when the URL could not be reached, 2 for\n"
        "bad arguments.\n");
}

} // namespace sluice::gateway
