#pragma once

#include "config/gatewayconfig.h"
#include "gateway/configstore.h"
#include "store/auditrecord.h"
#include "store/usagewriter.h"

#include <QString>

#include <memory>

namespace sluice::gateway {

// The gateway's configuration history and admin actions, written to PostgreSQL through
// the UsageWriter (store/auditrecord.h):
//  - config_versions: the configuration running when it is created (who "startup") and
//    every one applied afterwards, with who and comment from its ApplyOrigin; a version
//    adopted from Redis (who "redis") is submitted too and left to the row its
//    originating instance writes (one row per version, whoever commits first);
//  - audit "config.apply" (admin PUT/PATCH, reload) or "config.adopt" (who "redis") with
//    diff = [{"path", "old", "new"}, ...] from config::diffConfigs(), JSON values, null
//    for an added or removed setting; one entry is "version" (old → new), which ties
//    the row to its config_versions row;
//  - audit "cache.flush" with diff {"namespace", "flushed_entries"}.
// Nothing here blocks: the rows go to the writer's bounded audit buffer (dropped and
// counted there when it is full).
//
// Thread-safety: the ConfigStore listener it registers runs on whichever thread applies a
// configuration, recordCacheFlush() may be called from any thread. Create and destroy it
// on one thread; `configStore` must outlive it. The writer is held weakly: once it is
// gone, nothing is recorded.
class AuditRecorder {
public:
    static constexpr const char *kRedisOrigin = "redis";

    static constexpr const char *kStartupOrigin = "startup";

    // Registers the ConfigStore listener and submits the running configuration's
    // config_versions row (who "startup").
    AuditRecorder(ConfigStore &configStore, std::weak_ptr<store::UsageWriter> writer);
    ~AuditRecorder();
    AuditRecorder(const AuditRecorder &) = delete;
    AuditRecorder &operator=(const AuditRecorder &) = delete;

    void recordCacheFlush(const QString &namespaceOrEmpty, qint64 flushedEntries, const ApplyOrigin &origin);

    // The rows for one configuration change (exposed for tests).
    static store::ConfigVersionRecord versionRecord(const config::GatewayConfig &config, const ApplyOrigin &origin);
    static store::AuditEvent configEvent(const config::GatewayConfig &oldConfig,
                                         const config::GatewayConfig &newConfig, const ApplyOrigin &origin);

private:
    ConfigStore &m_configStore;
    std::weak_ptr<store::UsageWriter> m_writer;
    int m_listenerId = 0;
};

} // namespace sluice::gateway
