#include "gateway/simulatedtext.h"

namespace sluice::gateway {

namespace {

constexpr const char *words[] = {
    "gateway", "token",   "limit",  "cache",   "stream",  "request", "answer",  "model",
    "latency", "queue",   "budget", "window",  "retry",   "backoff", "breaker", "upstream",
    "client",  "minute",  "second", "reply",   "prompt",  "context", "signal",  "metric",
    "the",     "a",       "of",     "and",     "to",      "in",      "with",    "for",
    "is",      "are",     "was",    "will",    "can",     "may",     "should",  "must",
    "quick",   "steady",  "bounded", "shared", "simple",  "careful", "local",   "global",
    "reads",   "writes",  "waits",  "sends",   "counts",  "checks",  "keeps",   "drops",
    "often",   "rarely",  "always", "never",   "here",    "there",   "now",     "later",
};
constexpr qint64 wordListSize = sizeof(words) / sizeof(words[0]);

} // namespace

QString simulatedAnswerText(SimulatorRandom &random, qint64 wordCount)
{
    QString text;
    qint64 sentenceRemaining = 0;
    for (qint64 i = 0; i < wordCount; ++i) {
        QString word = QString::fromLatin1(words[random.below(wordListSize)]);
        if (sentenceRemaining == 0) {
            sentenceRemaining = 6 + random.below(9);
            word[0] = word[0].toUpper();
        }
        --sentenceRemaining;
        if (sentenceRemaining == 0 || i + 1 == wordCount) {
            word += QLatin1Char('.');
            sentenceRemaining = 0;
        }
        if (i > 0)
            text += QLatin1Char(' ');
        text += word;
    }
    return text;
}

} // namespace sluice::gateway
