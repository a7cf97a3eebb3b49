#pragma once

#include "gateway/simulatoroptions.h"

#include <QtGlobal>

#include <array>

namespace sluice::gateway {

// The simulator's random source: xoshiro256** seeded through SplitMix64, with its own
// transforms, so a seed gives the same draws on every platform and standard library
// (std:: distributions are implementation-defined). Not thread-safe.
class SimulatorRandom {
public:
    explicit SimulatorRandom(quint64 seed);

    // A well-mixed combination of two values, to derive independent streams
    // (seed × request index, seed × prompt hash).
    static quint64 mix(quint64 a, quint64 b);

    quint64 next();
    // Uniform on [0, 1), 53 bits.
    double uniform();
    // Standard normal (Box–Muller).
    double normal();
    // A sample of `distribution`, clamped at 0.
    double sample(const Distribution &distribution);
    // Uniform on [0, bound); 0 when bound <= 0.
    qint64 below(qint64 bound);

private:
    std::array<quint64, 4> m_state;
};

} // namespace sluice::gateway
