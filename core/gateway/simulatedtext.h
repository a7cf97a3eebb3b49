#pragma once

#include "gateway/simulatorrandom.h"

#include <QString>

namespace sluice::gateway {

// Filler prose for simulated answers: `wordCount` words from a fixed built-in list,
// sentences of 6 to 14 words, capitalised, ending in '.', separated by single spaces.
// Each word is one token in the simulator's accounting and one streamed piece
// (splitForStreaming keeps a word with its leading space and punctuation).
// Deterministic: the words depend only on the draws taken from `random`.
QString simulatedAnswerText(SimulatorRandom &random, qint64 wordCount);

} // namespace sluice::gateway
