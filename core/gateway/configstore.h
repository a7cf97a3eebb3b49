#pragma once

#include "config/configdiff.h"
#include "config/configerror.h"
#include "config/gatewayconfig.h"
#include "policy/result.h"

#include <QDateTime>
#include <QList>
#include <QString>
#include <QStringList>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>

namespace sluice::gateway {

// Who asked for a configuration change, for the history (and the audit log).
struct ApplyOrigin {
    QString who;     // "admin-token", "startup", "redis", ...
    QString from;    // peer address of the request, empty if not from the network
    QString comment; // free text given with the change (X-Sluice-Comment)
};

// A configuration that is now running, and what changed to get there.
struct AppliedConfig {
    std::shared_ptr<const config::GatewayConfig> config; // never null; version already bumped
    QList<config::FieldChange> diff;                     // diffConfigs(old, new) in document order,
                                                         //   without the implied "version" change
    QString etag;                                        // ConfigStore::etagFor(*config)
};

struct ConfigApplyError {
    enum Kind {
        Invalid,         // validate() found problems; see errors / fieldErrors
        VersionConflict, // ifMatchVersion was not the running version
    };
    Kind kind = Invalid;
    QStringList errors;                // "path: reason", one per problem (Invalid only)
    config::ConfigErrors fieldErrors;  // the same, path and reason apart
    std::int64_t runningVersion = 0;   // the version running when apply() gave up
};

// One entry of the bounded change history.
struct ConfigHistoryEntry {
    std::int64_t version = 0;
    QDateTime appliedAtUtc;
    QString who;
    QString from;
    QString comment;
    int changeCount = 0; // FieldChanges from the previous version (0 for the initial one)
};

// The gateway's running configuration. Every request reads it through current();
// the admin API (and the Redis config channel) replaces it through apply().
//
// A configuration, once running, is immutable: current() hands out shared pointers
// to const, so a request that started under version N keeps N to its end while N+1
// is installed; the old config is freed when the last request holding it finishes.
//
// Thread-safe: every member may be called from any thread at once. current() and
// etag() take a shared lock and copy a shared pointer (cheap, per request). apply()
// calls are serialised: a second one waits until the first has swapped the config
// and notified every listener, so listeners see the versions in order.
//
// Listeners run on the thread that called apply(), after the swap, with no lock of
// the store's state held (they may call current(), etag(), history(), addListener()
// and removeListener()); but apply() itself is still in progress, so a listener
// must not call apply() (it would deadlock). A listener removed while a notification
// is running may still be called once by that notification.
class ConfigStore {
public:
    using Listener = std::function<void(std::shared_ptr<const config::GatewayConfig> oldConfig,
                                        std::shared_ptr<const config::GatewayConfig> newConfig,
                                        const ApplyOrigin &origin)>;

    static constexpr int kHistoryLimit = 50;

    // `initial` becomes the running config with its version unchanged. Precondition:
    // it is valid (as loadConfig() returns it); it is not validated again here. It is
    // the first history entry, attributed to `origin`.
    explicit ConfigStore(config::GatewayConfig initial,
                         ApplyOrigin origin = ApplyOrigin{QStringLiteral("startup"), {}, {}});
    ConfigStore(const ConfigStore &) = delete;
    ConfigStore &operator=(const ConfigStore &) = delete;

    std::shared_ptr<const config::GatewayConfig> current() const;
    // Strong ETag of the running config: "\"<version>-<first 16 hex of contentHash>\"",
    // quotes included.
    QString etag() const;
    // The running config and its ETag, read together.
    struct Snapshot {
        std::shared_ptr<const config::GatewayConfig> config;
        QString etag;
    };
    Snapshot snapshot() const;

    // Validates `candidate` (config::validate()), checks `ifMatchVersion` (if given)
    // against the running version, sets candidate.version to the running version + 1
    // (whatever it held) and makes it the running config; then calls every listener
    // with (old, new, origin). On an error nothing changes and no listener is called;
    // a version conflict is reported before (and without) validation errors.
    // Applying a config equal to the running one still makes a new version (with an
    // empty diff).
    Result<AppliedConfig, ConfigApplyError> apply(config::GatewayConfig candidate,
                                                  std::optional<std::int64_t> ifMatchVersion, ApplyOrigin origin);

    // Installs a configuration another instance already numbered (the shared config in
    // Redis): like apply(), but candidate.version is kept as given and must be greater
    // than the running version (else VersionConflict with runningVersion, checked before
    // validation). Listeners are called as for apply(); nothing changes on an error.
    Result<AppliedConfig, ConfigApplyError> adopt(config::GatewayConfig candidate, ApplyOrigin origin);

    // A dry run of apply(candidate, std::nullopt, ...): the validation errors, or the
    // changes it would make to the running config now. Changes nothing.
    Result<QList<config::FieldChange>, ConfigApplyError> check(const config::GatewayConfig &candidate) const;

    // Returns an id > 0 for removeListener().
    int addListener(Listener listener);
    // False if there is no listener with that id.
    bool removeListener(int id);

    // The last kHistoryLimit running versions, oldest first.
    QList<ConfigHistoryEntry> history() const;

    static QString etagFor(const config::GatewayConfig &config);

private:
    // Validates and swaps in `candidate` (version already set) over `old`, then notifies.
    // Caller holds m_applyMutex.
    Result<AppliedConfig, ConfigApplyError> install(config::GatewayConfig candidate,
                                                    std::shared_ptr<const config::GatewayConfig> old,
                                                    const ApplyOrigin &origin);

    mutable std::shared_mutex m_stateMutex; // guards m_running, m_etag, m_history
    std::shared_ptr<const config::GatewayConfig> m_running;
    QString m_etag;
    std::deque<ConfigHistoryEntry> m_history;

    std::mutex m_applyMutex; // serialises apply() from validation to the last listener

    mutable std::mutex m_listenerMutex;
    std::map<int, std::shared_ptr<const Listener>> m_listeners;
    int m_nextListenerId = 1;
};

} // namespace sluice::gateway
