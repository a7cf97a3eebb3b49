#pragma once

#include "gateway/providerprotocol.h"
#include "gateway/simulatoroptions.h"
#include "policy/result.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>
#include <QUrl>

#include <optional>

namespace sluice::gateway {

// What LoadGenerator's simulated chat users do. Closed model: each user sends a
// request, waits for the whole answer (or its failure), thinks, and sends again; an
// optional rate cap on top paces the starts of all users together.
//
// Every MEAN,SPREAD quantity is drawn from a normal distribution with standard
// deviation SPREAD, clipped at 0 (Distribution::Shape::Normal); token counts are
// rounded and at least 1.
struct LoadOptions {
    // The gateway's or a provider's base: http(s)://host:port, optionally with a path
    // prefix. A trailing "/" or "/v1" is dropped, then the protocol's chat path
    // (/v1/chat/completions or /v1/messages) is appended.
    QUrl url;
    ProviderKind protocol = ProviderKind::OpenAI;
    // Each request picks one at random; empty: defaultLoadModel(protocol).
    QStringList models;
    // User i sends apiKeys[i % size] (OpenAI "Authorization: Bearer", Anthropic
    // "x-api-key"); empty: no authentication header.
    QList<QByteArray> apiKeys;
    int users = 10;
    // Pause between an answer and the user's next request.
    Distribution thinkTimeMs{Distribution::Shape::Normal, 1000, 500};
    // Request starts per second over all users; 0: unlimited. See LoadPacer.
    double requestsPerSecond = 0;
    // Stop sending after this long; 0: until stop().
    double durationSeconds = 0;
    // Stop after this many requests were sent; 0: no cap.
    quint64 maxRequests = 0;
    // Share of requests that reuse one of loadRepeatPoolSize fixed requests (same
    // model, prompt and max_tokens, so a response cache can hit); the rest are unique.
    double repeatShare = 0.2;
    // Share of requests sent with "stream": true.
    double streamShare = 0.5;
    // Prompt size; the text is filler words, about 4 UTF-8 bytes per token.
    Distribution promptTokens{Distribution::Shape::Normal, 200, 100};
    // The max_tokens field of each request.
    Distribution maxTokens{Distribution::Shape::Normal, 150, 50};
    // Per request, from its start to the end of the answer (also bounds connect,
    // first byte and idle gaps).
    int timeoutMs = 60'000;
    // Seeds the draws (think times, sizes, models, shares); unset: a random seed.
    std::optional<quint64> seed;
    // When this many requests in a row failed to connect (refused, host not found,
    // connect timeout) and no response ever arrived, the generator stops on its own
    // (LoadStats::gaveUp); 0: never.
    int unreachableAttemptsLimit = 5;

    // For `sluice-gateway load` only.
    bool json = false;             // print the final report as one JSON object
    double reportEverySeconds = 0; // progress line interval; 0: only the final report

    // Empty when usable; otherwise what is wrong, naming the field ("users: must be >= 0").
    QString validationError() const;
    // `models`, or the protocol's default model when empty.
    QStringList effectiveModels() const;
    // The chat endpoint the requests go to (url + the protocol's path).
    QUrl endpointUrl() const;
};

// The fixed requests that repeated prompts are drawn from.
inline constexpr int loadRepeatPoolSize = 16;

// "gpt-4o-mini" for OpenAI, "claude-3-5-haiku-latest" for Anthropic.
QString defaultLoadModel(ProviderKind protocol);

// `sluice-gateway load --url URL [options]`: `arguments` are the words after "load" (no
// program name). Options take their value as the next word or after '=' (--users 5,
// --users=5); --api-key may be repeated, every other option given once; --json takes
// no value. MEAN without ,SPREAD sets the spread to 0.
//
//   --url URL                   required; http:// or https://
//   --protocol openai|anthropic --models a,b
//   --api-key KEY (repeatable) | --api-key-env VAR
//   --users N  --think-ms MEAN[,SPREAD]  --rate R  --duration SECONDS  --requests N
//   --repeat-share P  --stream-share P  --prompt-tokens MEAN[,SPREAD]
//   --max-tokens MEAN[,SPREAD]  --timeout-ms N  --seed N  --json  --report-every SECONDS
//
// The error is one line naming the option and quoting the value, e.g.
// `--users: expected a whole number from 0 to 100000, got "x"`. Reads the environment
// for --api-key-env; otherwise pure. Thread-safe.
Result<LoadOptions, QString> parseLoadArguments(const QStringList &arguments);

// The help text for `sluice-gateway load`: a usage line and one line per option.
QString loadUsage();

} // namespace sluice::gateway
