#pragma once

#include "policy/result.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace sluice::policy {

// Collapses identical in-flight requests (same key) into one upstream call. The first
// join() for a key makes the caller the Leader: it does the work and must end the flight
// with complete() or abandon(). Later joins become Followers, whose callback receives
// the leader's Result<T> exactly once — unless they leave() first, in which case it is
// never called. When a key already has maxFollowers followers, join() answers Rejected
// and keeps nothing: the caller proceeds on its own (an unshared upstream call, which it
// must NOT end with complete(key), since that would end the leader's flight) or refuses
// the request. maxFollowers 0 therefore turns sharing off.
//
// complete() and abandon() forget the key before invoking any callback, so a callback
// that joins the same key becomes the leader of a new flight. Callbacks may re-enter the
// object; they run after its state is updated, never while iterating its containers.
// Pending followers are dropped without a callback when the object is destroyed.
//
// Not thread-safe: use it from one thread (the owner's event-loop thread).
template <typename T>
class SingleFlight {
public:
    using ResultCallback = std::function<void(const Result<T> &)>;
    // 0 is never a valid id.
    using FollowerId = std::uint64_t;

    enum class Role { Leader, Follower, Rejected };

    struct Membership {
        Role role = Role::Rejected;
        FollowerId followerId = 0; // set only for a Follower; the handle for leave()
    };

    struct Stats {
        std::uint64_t leaders = 0;   // flights started
        std::uint64_t followers = 0; // joins that shared a flight
        std::uint64_t rejected = 0;  // joins refused by maxFollowers
        std::uint64_t completed = 0; // flights ended by complete()
        std::uint64_t abandoned = 0; // flights ended by abandon()
        std::uint64_t left = 0;      // followers that left before the result
        std::size_t inFlightKeys = 0;
    };

    // A negative bound is treated as 0.
    explicit SingleFlight(int maxFollowers = 64) : m_maxFollowers(std::max(maxFollowers, 0)) {}
    SingleFlight(const SingleFlight &) = delete;
    SingleFlight &operator=(const SingleFlight &) = delete;

    // onResult is kept only when the answer is Follower.
    Membership join(std::string_view key, ResultCallback onResult)
    {
        const auto flight = m_flights.find(key);
        if (flight == m_flights.end()) {
            m_flights.emplace(std::string(key), Flight{});
            ++m_stats.leaders;
            return {Role::Leader, 0};
        }
        if (flight->second.followers.size() >= static_cast<std::size_t>(m_maxFollowers)) {
            ++m_stats.rejected;
            return {Role::Rejected, 0};
        }
        const FollowerId id = m_nextFollowerId++;
        flight->second.followers.push_back({id, std::move(onResult)});
        ++m_stats.followers;
        return {Role::Follower, id};
    }

    // Ends the flight: every remaining follower receives `result` once, in join order.
    // Returns how many were served; 0 (and nothing happens) if the key is not in flight.
    std::size_t complete(std::string_view key, Result<T> result)
    {
        std::vector<Follower> followers;
        if (!take(key, followers))
            return 0;
        ++m_stats.completed;
        deliver(followers, result);
        return followers.size();
    }

    // The leader gives up without a result (its client went away, it was cancelled):
    // every follower receives `error`, so each can retry or fail on its own. There is no
    // promotion of a follower to leader. Returns how many followers were told.
    std::size_t abandon(std::string_view key, Error error = Error{"single-flight leader abandoned the request"})
    {
        std::vector<Follower> followers;
        if (!take(key, followers))
            return 0;
        ++m_stats.abandoned;
        const Result<T> failure = unexpected(std::move(error));
        deliver(followers, failure);
        return followers.size();
    }

    // A follower's client went away: its callback is dropped uncalled and its place frees
    // up for another follower. Returns false if it is not following `key`.
    bool leave(std::string_view key, FollowerId id)
    {
        const auto flight = m_flights.find(key);
        if (flight == m_flights.end())
            return false;
        auto &followers = flight->second.followers;
        const auto follower = std::find_if(followers.begin(), followers.end(),
                                           [id](const Follower &f) { return f.id == id; });
        if (follower == followers.end())
            return false;
        followers.erase(follower);
        ++m_stats.left;
        return true;
    }

    bool isInFlight(std::string_view key) const { return m_flights.find(key) != m_flights.end(); }

    std::size_t followerCount(std::string_view key) const
    {
        const auto flight = m_flights.find(key);
        return flight == m_flights.end() ? 0 : flight->second.followers.size();
    }

    // Applies to later joins; followers already waiting are kept.
    void setMaxFollowers(int maxFollowers) { m_maxFollowers = std::max(maxFollowers, 0); }
    int maxFollowers() const { return m_maxFollowers; }

    Stats stats() const
    {
        Stats stats = m_stats;
        stats.inFlightKeys = m_flights.size();
        return stats;
    }

private:
    struct Follower {
        FollowerId id;
        ResultCallback onResult;
    };
    struct Flight {
        std::vector<Follower> followers;
    };
    struct KeyHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view key) const noexcept { return std::hash<std::string_view>{}(key); }
    };

    bool take(std::string_view key, std::vector<Follower> &followers)
    {
        const auto flight = m_flights.find(key);
        if (flight == m_flights.end())
            return false;
        followers = std::move(flight->second.followers);
        m_flights.erase(flight);
        return true;
    }

    static void deliver(std::vector<Follower> &followers, const Result<T> &result)
    {
        for (Follower &follower : followers) {
            if (follower.onResult)
                follower.onResult(result);
        }
    }

    std::unordered_map<std::string, Flight, KeyHash, std::equal_to<>> m_flights;
    int m_maxFollowers;
    FollowerId m_nextFollowerId = 1;
    Stats m_stats;
};

} // namespace sluice::policy
