#include "gateway/simulatorcommandline.h"

#include "gateway/optionvalues.h"

#include <QSet>

#include <cmath>
#include <functional>
#include <limits>
#include <optional>

namespace sluice::gateway {

namespace {

constexpr int kMaxThreads = 256; // the gateway configuration's limit too

QString parseWhole(const QString &option, const QString &value, qint64 &target)
{
    const std::optional<quint64> number = wholeNumber(value);
    if (!number || *number > quint64(std::numeric_limits<qint64>::max()))
        return optionValueError(option, QStringLiteral("a whole number >= 0"), value);
    target = qint64(*number);
    return {};
}

// MEAN[,SPREAD]; a missing spread is 0.
QString parseShape(const QString &option, const QString &value, Distribution::Shape &target)
{
    const QString name = value.toLower();
    if (name == QLatin1String("fixed"))
        target = Distribution::Shape::Fixed;
    else if (name == QLatin1String("uniform"))
        target = Distribution::Shape::Uniform;
    else if (name == QLatin1String("normal"))
        target = Distribution::Shape::Normal;
    else if (name == QLatin1String("lognormal"))
        target = Distribution::Shape::LogNormal;
    else
        return optionValueError(option, QStringLiteral("one of fixed, uniform, normal, lognormal"), value);
    return {};
}

QString parseListen(const QString &option, const QString &value, SimulatorServerOptions &target)
{
    QString host;
    QString port;
    bool bracketed = false;
    if (value.startsWith(QLatin1Char('['))) {
        const qsizetype close = value.indexOf(QLatin1String("]:"));
        if (close < 0)
            return optionValueError(option, QStringLiteral("HOST:PORT (IPv6 as [::1]:PORT)"), value);
        host = value.mid(1, close - 1);
        port = value.mid(close + 2);
        bracketed = true;
    } else {
        const qsizetype colon = value.lastIndexOf(QLatin1Char(':'));
        if (colon < 0 || value.indexOf(QLatin1Char(':')) != colon)
            return optionValueError(option, QStringLiteral("HOST:PORT (IPv6 as [::1]:PORT)"), value);
        host = value.left(colon);
        port = value.mid(colon + 1);
    }
    QHostAddress address;
    if (!bracketed && host.compare(QLatin1String("localhost"), Qt::CaseInsensitive) == 0) {
        address = QHostAddress(QHostAddress::LocalHost);
    } else if (!address.setAddress(host)
               || (address.protocol() == QAbstractSocket::IPv6Protocol) != bracketed) {
        return optionValueError(option, QStringLiteral("an IP address or localhost as HOST"), host);
    }
    const std::optional<quint64> portNumber = wholeNumber(port);
    if (!portNumber || *portNumber > 65535)
        return optionValueError(option, QStringLiteral("a port from 0 to 65535"), port);
    target.address = address;
    target.port = quint16(*portNumber);
    return {};
}

// The option's value → SimulatorServerOptions; returns the error, empty when fine.
using Setter = std::function<QString(const QString &option, const QString &value, SimulatorServerOptions &)>;

struct OptionSpec {
    QLatin1String name;
    Setter set;
};

const QList<OptionSpec> &optionSpecs()
{
    static const QList<OptionSpec> specs = {
        {QLatin1String("--listen"), parseListen},
        {QLatin1String("--seed"),
         [](const QString &option, const QString &value, SimulatorServerOptions &target) {
             const std::optional<quint64> seed = wholeNumber(value);
             if (!seed)
                 return optionValueError(option, QStringLiteral("a whole number >= 0"), value);
             target.simulator.seed = *seed;
             return QString();
         }},
        {QLatin1String("--threads"),
         [](const QString &option, const QString &value, SimulatorServerOptions &target) {
             const std::optional<quint64> threads = wholeNumber(value);
             if (!threads || *threads < 1 || *threads > quint64(kMaxThreads))
                 return optionValueError(option, QStringLiteral("a whole number from 1 to %1").arg(kMaxThreads), value);
             target.threads = int(*threads);
             return QString();
         }},
        {QLatin1String("--tokens-per-second"),
         [](const QString &option, const QString &value, SimulatorServerOptions &target) {
             const std::optional<double> rate = finiteNumber(value);
             if (!rate || *rate < 0)
                 return optionValueError(option, QStringLiteral("a number >= 0"), value);
             target.simulator.tokensPerSecond = *rate;
             return QString();
         }},
        {QLatin1String("--ttft-ms"),
         [](const QString &option, const QString &value, SimulatorServerOptions &target) {
             return parseMeanSpread(option, value, target.simulator.timeToFirstTokenMilliseconds);
         }},
        {QLatin1String("--ttft-shape"),
         [](const QString &option, const QString &value, SimulatorServerOptions &target) {
             return parseShape(option, value, target.simulator.timeToFirstTokenMilliseconds.shape);
         }},
        {QLatin1String("--output-tokens"),
         [](const QString &option, const QString &value, SimulatorServerOptions &target) {
             return parseMeanSpread(option, value, target.simulator.outputTokens);
         }},
        {QLatin1String("--rpm"),
         [](const QString &option, const QString &value, SimulatorServerOptions &target) {
             return parseWhole(option, value, target.simulator.quota.requestsPerMinute);
         }},
        {QLatin1String("--tpm"),
         [](const QString &option, const QString &value, SimulatorServerOptions &target) {
             return parseWhole(option, value, target.simulator.quota.tokensPerMinute);
         }},
        {QLatin1String("--models"),
         [](const QString &option, const QString &value, SimulatorServerOptions &target) {
             return parseModels(option, value, target.simulator.models);
         }},
        {QLatin1String("--api-key"),
         [](const QString &option, const QString &value, SimulatorServerOptions &target) {
             if (value.isEmpty())
                 return QStringLiteral("%1: expected a non-empty key").arg(option);
             target.requiredApiKey = value.toUtf8();
             return QString();
         }},
        {QLatin1String("--api-key-env"),
         [](const QString &option, const QString &value, SimulatorServerOptions &target) {
             if (value.isEmpty())
                 return optionValueError(option, QStringLiteral("an environment variable name"), value);
             const QByteArray key = qgetenv(value.toLocal8Bit().constData());
             if (key.isEmpty())
                 return QStringLiteral("%1: environment variable %2 is not set or empty").arg(option, quotedValue(value));
             target.requiredApiKey = key;
             return QString();
         }},
        {QLatin1String("--rate-limited"),
         [](const QString &option, const QString &value, SimulatorServerOptions &target) {
             return parseProbability(option, value, target.simulator.faults.rateLimited);
         }},
        {QLatin1String("--server-error"),
         [](const QString &option, const QString &value, SimulatorServerOptions &target) {
             return parseProbability(option, value, target.simulator.faults.serverError);
         }},
        {QLatin1String("--overloaded"),
         [](const QString &option, const QString &value, SimulatorServerOptions &target) {
             return parseProbability(option, value, target.simulator.faults.overloaded);
         }},
        {QLatin1String("--timeout"),
         [](const QString &option, const QString &value, SimulatorServerOptions &target) {
             return parseProbability(option, value, target.simulator.faults.timeout);
         }},
        {QLatin1String("--connection-reset"),
         [](const QString &option, const QString &value, SimulatorServerOptions &target) {
             return parseProbability(option, value, target.simulator.faults.connectionReset);
         }},
        {QLatin1String("--truncated-stream"),
         [](const QString &option, const QString &value, SimulatorServerOptions &target) {
             return parseProbability(option, value, target.simulator.faults.truncatedStream);
         }},
        {QLatin1String("--retry-after-seconds"),
         [](const QString &option, const QString &value, SimulatorServerOptions &target) {
             return parseWhole(option, value, target.simulator.faults.retryAfterSeconds);
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

} // namespace

Result<SimulatorServerOptions, QString> parseSimulatorArguments(const QStringList &arguments)
{
    SimulatorServerOptions options;
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
        if (equals >= 0) {
            value = argument.mid(equals + 1);
        } else {
            // A following "--word" is the next option, not this one's value (write
            // --api-key=--odd for a value that starts with "--").
            if (index + 1 >= arguments.size() || arguments.at(index + 1).startsWith(QLatin1String("--")))
                return unexpected(QStringLiteral("%1: missing value").arg(name));
            value = arguments.at(++index);
        }
        if (seen.contains(name))
            return unexpected(QStringLiteral("%1: given more than once").arg(name));
        seen.insert(name);
        if (const QString error = spec->set(name, value, options); !error.isEmpty())
            return unexpected(error);
    }
    if (!seen.contains(QStringLiteral("--listen")))
        return unexpected(QStringLiteral("--listen HOST:PORT is required"));
    if (seen.contains(QStringLiteral("--api-key")) && seen.contains(QStringLiteral("--api-key-env")))
        return unexpected(QStringLiteral("--api-key, --api-key-env: use one of them"));
    if (const QString error = options.simulator.validationError(); !error.isEmpty())
        return unexpected(error);
    return options;
}

QString simulatorUsage()
{
    return QStringLiteral(
        "Usage: sluice-gateway simulate --listen HOST:PORT [options]\n"
        "Serves a simulated OpenAI (/v1/chat/completions) and Anthropic (/v1/messages) provider.\n"
        "\n"
        "  --listen HOST:PORT           address to serve on; IPv6 as [::1]:PORT; port 0 picks a free one\n"
        "  --seed N                     random seed: same seed and requests, same answers (default 1)\n"
        "  --threads N                  event-loop threads, 1 to 256 (default 1)\n"
        "  --tokens-per-second X        output speed per answer (default 50)\n"
        "  --ttft-ms MEAN[,SPREAD]      time to first token in milliseconds (default 400,150)\n"
        "  --ttft-shape SHAPE           fixed, uniform, normal or lognormal (default lognormal)\n"
        "  --output-tokens MEAN[,SPREAD]  answer length in tokens before max_tokens (default 200,120)\n"
        "  --rpm N                      emulated quota: requests per minute, 0 unlimited (default 0)\n"
        "  --tpm N                      emulated quota: tokens per minute, 0 unlimited (default 0)\n"
        "  --models a,b,c               models served; others get 404 (default: any)\n"
        "  --api-key KEY                key clients must send (Authorization: Bearer / x-api-key)\n"
        "  --api-key-env VAR            the same, read from environment variable VAR\n"
        "  --rate-limited P             probability of a 429 with Retry-After (default 0)\n"
        "  --server-error P             probability of a 500 (default 0)\n"
        "  --overloaded P               probability of a 503 (OpenAI) / 529 (Anthropic) (default 0)\n"
        "  --timeout P                  probability of never answering (default 0)\n"
        "  --connection-reset P         probability of closing without an answer (default 0)\n"
        "  --truncated-stream P         probability of cutting the answer off mid-body (default 0)\n"
        "  --retry-after-seconds N      Retry-After of the drawn 429s (default 1)\n"
        "Probabilities are from 0 to 1 and sum to at most 1. MEAN without SPREAD means spread 0.\n");
}

} // namespace sluice::gateway
