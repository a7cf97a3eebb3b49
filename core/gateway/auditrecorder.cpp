#include "gateway/auditrecorder.h"

#include "config/configdiff.h"
#include "config/configwriter.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>

namespace sluice::gateway {

namespace {

bool fromRedis(const ApplyOrigin &origin)
{
    return origin.who == QLatin1String(AuditRecorder::kRedisOrigin);
}

// FieldChange sides are compact JSON text of any value; QJsonDocument parses only arrays
// and objects, hence the brackets. Empty (added or removed) is null.
QJsonValue jsonValue(const QString &text)
{
    if (text.isEmpty())
        return QJsonValue::Null;
    QJsonParseError error{};
    const QJsonDocument wrapped = QJsonDocument::fromJson('[' + text.toUtf8() + ']', &error);
    if (error.error != QJsonParseError::NoError || wrapped.array().size() != 1)
        return text;
    return wrapped.array().first();
}

} // namespace

AuditRecorder::AuditRecorder(ConfigStore &configStore, std::weak_ptr<store::UsageWriter> writer)
    : m_configStore(configStore), m_writer(std::move(writer))
{
    // The listener may still run once after removeListener() (ConfigStore's contract), so
    // it holds its own copy of the writer's handle, not `this`.
    m_listenerId = m_configStore.addListener(
        [writer = m_writer](std::shared_ptr<const config::GatewayConfig> oldConfig,
                            std::shared_ptr<const config::GatewayConfig> newConfig, const ApplyOrigin &origin) {
            const auto live = writer.lock();
            if (!live)
                return;
            live->submitConfigVersion(versionRecord(*newConfig, origin));
            live->submitAudit(configEvent(*oldConfig, *newConfig, origin));
        });
    if (const auto live = m_writer.lock())
        live->submitConfigVersion(versionRecord(*m_configStore.current(), ApplyOrigin{QLatin1String(kStartupOrigin), {}, {}}));
}

AuditRecorder::~AuditRecorder()
{
    m_configStore.removeListener(m_listenerId);
}

void AuditRecorder::recordCacheFlush(const QString &namespaceOrEmpty, qint64 flushedEntries, const ApplyOrigin &origin)
{
    const auto live = m_writer.lock();
    if (!live)
        return;
    store::AuditEvent event;
    event.timestamp = QDateTime::currentDateTimeUtc();
    event.who = origin.who;
    event.fromAddress = origin.from;
    event.action = QStringLiteral("cache.flush");
    event.diffJson = QJsonDocument(QJsonObject{{QStringLiteral("namespace"), namespaceOrEmpty},
                                               {QStringLiteral("flushed_entries"), double(flushedEntries)}})
                         .toJson(QJsonDocument::Compact);
    live->submitAudit(std::move(event));
}

store::ConfigVersionRecord AuditRecorder::versionRecord(const config::GatewayConfig &config, const ApplyOrigin &origin)
{
    store::ConfigVersionRecord record;
    record.version = config.version;
    record.appliedAt = QDateTime::currentDateTimeUtc();
    record.who = origin.who;
    record.comment = origin.comment;
    record.configJson = QJsonDocument(config::toJson(config)).toJson(QJsonDocument::Compact);
    // At start-up every instance may run the same version number from its file; only a
    // change made here is this instance's to describe.
    record.originatedHere = !fromRedis(origin) && origin.who != QLatin1String(kStartupOrigin);
    return record;
}

store::AuditEvent AuditRecorder::configEvent(const config::GatewayConfig &oldConfig,
                                             const config::GatewayConfig &newConfig, const ApplyOrigin &origin)
{
    QJsonArray diff;
    for (const config::FieldChange &change : config::diffConfigs(oldConfig, newConfig))
        diff.append(QJsonObject{{QStringLiteral("path"), change.path},
                                {QStringLiteral("old"), jsonValue(change.before)},
                                {QStringLiteral("new"), jsonValue(change.after)}});
    store::AuditEvent event;
    event.timestamp = QDateTime::currentDateTimeUtc();
    event.who = origin.who;
    event.fromAddress = origin.from;
    event.action = fromRedis(origin) ? QStringLiteral("config.adopt") : QStringLiteral("config.apply");
    event.diffJson = QJsonDocument(diff).toJson(QJsonDocument::Compact);
    return event;
}

} // namespace sluice::gateway
