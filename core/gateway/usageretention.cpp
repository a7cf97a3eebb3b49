#include "gateway/usageretention.h"

namespace sluice::gateway {

UsageRetention::UsageRetention(std::weak_ptr<store::UsageWriter> writer, std::function<int()> retentionDays,
                               metrics::Registry &registry, Logger &logger, QObject *parent)
    : QObject(parent), m_writer(std::move(writer)), m_retentionDays(std::move(retentionDays)), m_logger(logger)
{
    auto counter = registry.counter("sluice_usage_pruned_rows_total",
                                    "Usage rows older than postgres.retention_days deleted by this instance.");
    if (counter)
        m_prunedRows = *counter;
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, &UsageRetention::onTimer);
}

void UsageRetention::start(Schedule schedule)
{
    m_interval = std::max(schedule.interval, std::chrono::milliseconds(1));
    m_timer.start(std::max(schedule.firstDelay, std::chrono::milliseconds(0)));
}

void UsageRetention::stop()
{
    m_interval = std::chrono::milliseconds(0);
    m_timer.stop();
}

// Re-armed here rather than a repeating timer, so the first run can come sooner than the
// interval.
void UsageRetention::onTimer()
{
    if (m_interval.count() > 0)
        m_timer.start(m_interval);
    if (m_runsInProgress == 0)
        pruneNow();
}

void UsageRetention::pruneNow()
{
    const auto writer = m_writer.lock();
    if (!writer)
        return;
    const int retentionDays = m_retentionDays ? m_retentionDays() : 0;
    ++m_runsInProgress;
    writer->rollupAndPrune(retentionDays, this, [this, retentionDays](Result<qint64, store::StoreError> result) {
        --m_runsInProgress;
        if (!result) {
            m_logger.warn("usage_prune", {{"retention_days", retentionDays}, {"msg", result.error().message}});
            emit pruneFailed(result.error());
            return;
        }
        const qint64 rows = *result;
        m_prunedRowsTotal += rows;
        if (m_prunedRows)
            m_prunedRows->inc(std::uint64_t(std::max<qint64>(rows, 0)));
        m_logger.info("usage_prune", {{"rows", rows}, {"retention_days", retentionDays}});
        emit pruned(rows);
    });
}

} // namespace sluice::gateway
