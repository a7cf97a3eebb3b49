#pragma once

#include "policy/clock.h"

#include <QHash>
#include <QString>

#include <chrono>
#include <cstddef>
#include <list>
#include <mutex>

namespace sluice::gateway {

// Failed authentications per client address, and how long to hold back the answer to
// the next one: a client guessing the admin token gets its 401s ever more slowly.
//
// The answer to a failure is delayed by delayAfter(failures recorded before it): none
// for the first, then 100 ms, 200 ms, 400 ms, ... capped at 5 s. An address's count
// decays to 0 once kDecay has passed since its last failure; a success forgets it at
// once. At most maxAddresses are tracked: a failure from a new address when the table
// is full first drops decayed entries, then the one whose last failure is oldest, so
// a flood of addresses costs bounded memory (and lets the oldest guessers start over).
//
// Thread-safe (one mutex; every call is O(1) amortised). `clock` must outlive the
// tracker and be safe to read from the calling threads.
class AuthFailureTracker {
public:
    static constexpr std::size_t kDefaultMaxAddresses = 10'000;
    static constexpr std::chrono::seconds kDecay{60};
    static constexpr std::chrono::milliseconds kBaseDelay{100};
    static constexpr std::chrono::milliseconds kMaxDelay{5'000};

    explicit AuthFailureTracker(const policy::Clock &clock, std::size_t maxAddresses = kDefaultMaxAddresses);
    AuthFailureTracker(const AuthFailureTracker &) = delete;
    AuthFailureTracker &operator=(const AuthFailureTracker &) = delete;

    // Counts one failure from `address`; returns the delay to answer it with.
    std::chrono::milliseconds recordFailure(const QString &address);
    // Forgets the address (its failures and delay).
    void recordSuccess(const QString &address);

    // Failures from `address` that have not decayed yet; 0 if unknown.
    int failureCount(const QString &address) const;
    // The delay the last recordFailure() for `address` returned, while its failures
    // have not decayed; 0 otherwise.
    std::chrono::milliseconds lastDelay(const QString &address) const;
    // Addresses in the table, decayed ones not yet dropped included.
    std::size_t trackedAddresses() const;
    std::size_t maxAddresses() const { return m_maxAddresses; }

    // min(kBaseDelay × 2^(previousFailures-1), kMaxDelay); 0 for previousFailures <= 0.
    static std::chrono::milliseconds delayAfter(int previousFailures);

private:
    struct Entry {
        QString address;
        int failures = 0;
        policy::MonoTime lastFailureAt{0};
        std::chrono::milliseconds lastDelay{0};
    };
    using Order = std::list<Entry>; // oldest last failure first

    bool isDecayed(const Entry &entry, policy::MonoTime now) const;
    const Entry *findLive(const QString &address) const;

    const policy::Clock &m_clock;
    const std::size_t m_maxAddresses;
    mutable std::mutex m_mutex;
    Order m_order;
    QHash<QString, Order::iterator> m_index;
};

} // namespace sluice::gateway
