#include "gateway/simulatorrandom.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace sluice::gateway {

namespace {

quint64 splitMix64(quint64 &state)
{
    quint64 z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

quint64 rotateLeft(quint64 value, int bits)
{
    return (value << bits) | (value >> (64 - bits));
}

} // namespace

SimulatorRandom::SimulatorRandom(quint64 seed)
{
    for (quint64 &word : m_state)
        word = splitMix64(seed);
}

quint64 SimulatorRandom::mix(quint64 a, quint64 b)
{
    quint64 state = a ^ rotateLeft(b, 32) ^ 0xD6E8FEB86659FD93ULL;
    splitMix64(state);
    state ^= b;
    return splitMix64(state);
}

quint64 SimulatorRandom::next()
{
    const quint64 result = rotateLeft(m_state[1] * 5, 7) * 9;
    const quint64 shifted = m_state[1] << 17;
    m_state[2] ^= m_state[0];
    m_state[3] ^= m_state[1];
    m_state[1] ^= m_state[2];
    m_state[0] ^= m_state[3];
    m_state[2] ^= shifted;
    m_state[3] = rotateLeft(m_state[3], 45);
    return result;
}

double SimulatorRandom::uniform()
{
    return static_cast<double>(next() >> 11) * 0x1.0p-53;
}

double SimulatorRandom::normal()
{
    const double u1 = 1.0 - uniform(); // (0, 1]: log() stays finite
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

double SimulatorRandom::sample(const Distribution &distribution)
{
    double value = distribution.mean;
    switch (distribution.shape) {
    case Distribution::Shape::Fixed:
        break;
    case Distribution::Shape::Uniform:
        value = distribution.mean + distribution.spread * (2.0 * uniform() - 1.0);
        break;
    case Distribution::Shape::Normal:
        value = distribution.mean + distribution.spread * normal();
        break;
    case Distribution::Shape::LogNormal: {
        if (distribution.mean <= 0)
            return 0;
        const double ratio = distribution.spread / distribution.mean;
        const double variance = std::log1p(ratio * ratio);
        value = std::exp(std::log(distribution.mean) - variance / 2 + std::sqrt(variance) * normal());
        break;
    }
    }
    return std::max(0.0, value);
}

qint64 SimulatorRandom::below(qint64 bound)
{
    if (bound <= 0)
        return 0;
    return std::min(bound - 1, static_cast<qint64>(uniform() * static_cast<double>(bound)));
}

} // namespace sluice::gateway
