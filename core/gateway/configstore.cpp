#include "gateway/configstore.h"

#include "config/configvalidator.h"
#include "config/configwriter.h"

#include <utility>
#include <vector>

namespace sluice::gateway {
namespace {

// The version is bumped on every apply, so its change is implied and would only
// pad every diff (and every history entry's change count) by one.
QList<config::FieldChange> settingChanges(const config::GatewayConfig &before, const config::GatewayConfig &after)
{
    QList<config::FieldChange> changes;
    for (config::FieldChange &change : config::diffConfigs(before, after)) {
        if (change.path != u"version")
            changes.append(std::move(change));
    }
    return changes;
}

ConfigApplyError invalidError(config::ConfigErrors errors, std::int64_t runningVersion)
{
    ConfigApplyError error;
    error.kind = ConfigApplyError::Invalid;
    error.errors = config::toStringList(errors);
    error.fieldErrors = std::move(errors);
    error.runningVersion = runningVersion;
    return error;
}

} // namespace

ConfigStore::ConfigStore(config::GatewayConfig initial, ApplyOrigin origin)
    : m_running(std::make_shared<const config::GatewayConfig>(std::move(initial)))
{
    m_etag = etagFor(*m_running);
    m_history.push_back(ConfigHistoryEntry{m_running->version, QDateTime::currentDateTimeUtc(), std::move(origin.who),
                                           std::move(origin.from), std::move(origin.comment), 0});
}

QString ConfigStore::etagFor(const config::GatewayConfig &config)
{
    return QStringLiteral("\"%1-%2\"").arg(config.version).arg(config::contentHash(config).left(16));
}

std::shared_ptr<const config::GatewayConfig> ConfigStore::current() const
{
    std::shared_lock lock(m_stateMutex);
    return m_running;
}

QString ConfigStore::etag() const
{
    std::shared_lock lock(m_stateMutex);
    return m_etag;
}

ConfigStore::Snapshot ConfigStore::snapshot() const
{
    std::shared_lock lock(m_stateMutex);
    return Snapshot{m_running, m_etag};
}

Result<QList<config::FieldChange>, ConfigApplyError> ConfigStore::check(const config::GatewayConfig &candidate) const
{
    const auto running = current();
    config::GatewayConfig next = candidate;
    next.version = running->version + 1;
    config::ConfigErrors errors = config::validate(next);
    if (!errors.empty())
        return unexpected(invalidError(std::move(errors), running->version));
    return settingChanges(*running, next);
}

Result<AppliedConfig, ConfigApplyError> ConfigStore::apply(config::GatewayConfig candidate,
                                                           std::optional<std::int64_t> ifMatchVersion,
                                                           ApplyOrigin origin)
{
    // Held to the last listener: nobody else can swap in between, so the version
    // read here is still the running one at the swap, and listeners see versions in order.
    std::lock_guard applyLock(m_applyMutex);
    const auto old = current();

    if (ifMatchVersion && *ifMatchVersion != old->version) {
        ConfigApplyError error;
        error.kind = ConfigApplyError::VersionConflict;
        error.runningVersion = old->version;
        return unexpected(std::move(error));
    }

    candidate.version = old->version + 1;
    return install(std::move(candidate), old, origin);
}

Result<AppliedConfig, ConfigApplyError> ConfigStore::adopt(config::GatewayConfig candidate, ApplyOrigin origin)
{
    std::lock_guard applyLock(m_applyMutex);
    const auto old = current();
    // Versions only grow: an older or equal one is already running (or superseded).
    if (candidate.version <= old->version) {
        ConfigApplyError error;
        error.kind = ConfigApplyError::VersionConflict;
        error.runningVersion = old->version;
        return unexpected(std::move(error));
    }
    return install(std::move(candidate), old, origin);
}

Result<AppliedConfig, ConfigApplyError> ConfigStore::install(config::GatewayConfig candidate,
                                                             std::shared_ptr<const config::GatewayConfig> old,
                                                             const ApplyOrigin &origin)
{
    config::ConfigErrors errors = config::validate(candidate);
    if (!errors.empty())
        return unexpected(invalidError(std::move(errors), old->version));

    AppliedConfig applied;
    applied.diff = settingChanges(*old, candidate);
    applied.config = std::make_shared<const config::GatewayConfig>(std::move(candidate));
    applied.etag = etagFor(*applied.config);
    {
        std::unique_lock lock(m_stateMutex);
        m_running = applied.config;
        m_etag = applied.etag;
        m_history.push_back(ConfigHistoryEntry{applied.config->version, QDateTime::currentDateTimeUtc(), origin.who,
                                               origin.from, origin.comment, int(applied.diff.size())});
        while (m_history.size() > std::size_t(kHistoryLimit))
            m_history.pop_front();
    }

    std::vector<std::shared_ptr<const Listener>> listeners;
    {
        std::lock_guard lock(m_listenerMutex);
        listeners.reserve(m_listeners.size());
        for (const auto &[id, listener] : m_listeners)
            listeners.push_back(listener);
    }
    for (const auto &listener : listeners)
        (*listener)(old, applied.config, origin);
    return applied;
}

int ConfigStore::addListener(Listener listener)
{
    std::lock_guard lock(m_listenerMutex);
    const int id = m_nextListenerId++;
    m_listeners.emplace(id, std::make_shared<const Listener>(std::move(listener)));
    return id;
}

bool ConfigStore::removeListener(int id)
{
    std::lock_guard lock(m_listenerMutex);
    return m_listeners.erase(id) > 0;
}

QList<ConfigHistoryEntry> ConfigStore::history() const
{
    std::shared_lock lock(m_stateMutex);
    return QList<ConfigHistoryEntry>(m_history.begin(), m_history.end());
}

} // namespace sluice::gateway
