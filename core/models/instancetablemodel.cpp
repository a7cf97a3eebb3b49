#include "models/instancetablemodel.h"

#include <cmath>

namespace sluice::models {

namespace {

QVariant numberOrEmpty(double value, int decimals)
{
    if (std::isnan(value))
        return QString();
    return QString::number(value, 'f', decimals);
}

} // namespace

InstanceTableModel::InstanceTableModel(QObject *parent) : QAbstractTableModel(parent) {}

QString InstanceTableModel::formatUptime(double seconds)
{
    if (std::isnan(seconds) || seconds < 0)
        return {};
    const qint64 whole = qint64(std::floor(seconds));
    if (whole < 60)
        return QStringLiteral("%1 s").arg(whole);
    if (whole < 3600)
        return QStringLiteral("%1 m %2 s").arg(whole / 60).arg(whole % 60);
    if (whole < 86400)
        return QStringLiteral("%1 h %2 m").arg(whole / 3600).arg(whole % 3600 / 60);
    return QStringLiteral("%1 d %2 h").arg(whole / 86400).arg(whole % 86400 / 3600);
}

QString InstanceTableModel::formatLatency(double seconds)
{
    if (std::isnan(seconds))
        return {};
    const double milliseconds = seconds * 1000.0;
    if (std::abs(milliseconds) < 10.0)
        return QStringLiteral("%1 ms").arg(milliseconds, 0, 'f', 1);
    return QStringLiteral("%1 ms").arg(std::llround(milliseconds));
}

void InstanceTableModel::setInstances(const std::vector<InstanceRow> &instances)
{
    QHash<QString, const InstanceRow *> incoming;
    std::vector<const InstanceRow *> incomingOrder;
    for (const InstanceRow &each : instances) {
        if (each.id.isEmpty() || incoming.contains(each.id))
            continue;
        incoming.insert(each.id, &each);
        incomingOrder.push_back(&each);
    }

    // Remove from the end, one signal per run of adjacent leavers, so the rows before a
    // run keep their indices while the later runs are removed.
    int row = int(m_rows.size()) - 1;
    while (row >= 0) {
        if (incoming.contains(m_rows[size_t(row)].id)) {
            --row;
            continue;
        }
        const int last = row;
        while (row >= 0 && !incoming.contains(m_rows[size_t(row)].id))
            --row;
        const int first = row + 1;
        beginRemoveRows({}, first, last);
        m_rows.erase(m_rows.begin() + first, m_rows.begin() + last + 1);
        endRemoveRows();
    }
    reindex();

    // What the views show now, to tell which cells the new reference version changes.
    const qint64 oldReference = m_referenceVersion;
    const int oldReferenceCount = m_referenceCount;
    const int oldKnownCount = m_knownVersionCount;
    const bool oldFromTie = m_referenceFromTie;
    std::vector<bool> oldDiffers(m_rows.size());
    std::vector<bool> changed(m_rows.size(), false);
    for (size_t i = 0; i < m_rows.size(); ++i) {
        oldDiffers[i] = configDiffers(int(i));
        const InstanceRow &fresh = *incoming.value(m_rows[i].id);
        if (!m_rows[i].sameAs(fresh)) {
            m_rows[i] = fresh;
            changed[i] = true;
        }
    }

    std::vector<const InstanceRow *> arrivals;
    for (const InstanceRow *each : incomingOrder) {
        if (!m_rowById.contains(each->id))
            arrivals.push_back(each);
    }
    if (!arrivals.empty()) {
        const int first = int(m_rows.size());
        beginInsertRows({}, first, first + int(arrivals.size()) - 1);
        for (const InstanceRow *each : arrivals)
            m_rows.push_back(*each);
        reindex();
        recomputeReference();
        endInsertRows();
    } else {
        recomputeReference();
    }

    const bool tooltipsChanged = oldReference != m_referenceVersion || oldReferenceCount != m_referenceCount
        || oldKnownCount != m_knownVersionCount || oldFromTie != m_referenceFromTie;
    for (size_t i = 0; i < changed.size(); ++i) {
        const bool differs = configDiffers(int(i));
        if (differs != oldDiffers[i] || (differs && tooltipsChanged))
            changed[i] = true;
    }
    size_t i = 0;
    while (i < changed.size()) {
        if (!changed[i]) {
            ++i;
            continue;
        }
        const size_t first = i;
        while (i < changed.size() && changed[i])
            ++i;
        emit dataChanged(index(int(first), 0), index(int(i) - 1, ColumnCount - 1));
    }
}

int InstanceTableModel::rowOf(const QString &id) const
{
    return m_rowById.value(id, -1);
}

bool InstanceTableModel::configDiffers(int row) const
{
    if (row < 0 || row >= int(m_rows.size()))
        return false;
    const qint64 version = m_rows[size_t(row)].configVersion;
    return version != 0 && m_referenceVersion != 0 && version != m_referenceVersion;
}

void InstanceTableModel::reindex()
{
    m_rowById.clear();
    m_rowById.reserve(qsizetype(m_rows.size()));
    for (size_t i = 0; i < m_rows.size(); ++i)
        m_rowById.insert(m_rows[i].id, int(i));
}

void InstanceTableModel::recomputeReference()
{
    QHash<qint64, int> counts;
    m_knownVersionCount = 0;
    for (const InstanceRow &each : m_rows) {
        if (each.configVersion != 0) {
            ++counts[each.configVersion];
            ++m_knownVersionCount;
        }
    }
    m_referenceVersion = 0;
    m_referenceCount = 0;
    int versionsWithBestCount = 0;
    for (auto it = counts.cbegin(); it != counts.cend(); ++it) {
        if (it.value() > m_referenceCount) {
            m_referenceCount = it.value();
            m_referenceVersion = it.key();
            versionsWithBestCount = 1;
        } else if (it.value() == m_referenceCount) {
            ++versionsWithBestCount;
            m_referenceVersion = std::max(m_referenceVersion, it.key());
        }
    }
    m_referenceFromTie = versionsWithBestCount > 1;
}

QString InstanceTableModel::configToolTip(int row) const
{
    const qint64 version = m_rows[size_t(row)].configVersion;
    if (m_referenceFromTie) {
        return tr("Config version %1 differs from version %2: no version is run by a majority, so the highest of "
                  "the most common versions (%3 of %4 instances each) is the reference.")
            .arg(version)
            .arg(m_referenceVersion)
            .arg(m_referenceCount)
            .arg(m_knownVersionCount);
    }
    return tr("Config version %1 differs from version %2, which %3 of %4 instances run.")
        .arg(version)
        .arg(m_referenceVersion)
        .arg(m_referenceCount)
        .arg(m_knownVersionCount);
}

int InstanceTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int InstanceTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant InstanceTableModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || !checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const InstanceRow &row = m_rows[size_t(index.row())];
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case IdColumn:
            return row.id;
        case VersionColumn:
            return row.version;
        case UptimeColumn:
            return formatUptime(row.uptimeSeconds);
        case RequestsPerSecondColumn:
            return numberOrEmpty(row.requestsPerSecond, 1);
        case LatencyP95Column:
            return formatLatency(row.latencyP95Seconds);
        case ConfigVersionColumn:
            return row.configVersion == 0 ? QString() : QString::number(row.configVersion);
        case StateColumn:
            return instanceStateName(row.state);
        case AddressColumn:
            return row.address;
        }
        return {};
    case SortRole:
        switch (index.column()) {
        case IdColumn:
            return row.id;
        case VersionColumn:
            return row.version;
        case UptimeColumn:
            return row.uptimeSeconds;
        case RequestsPerSecondColumn:
            return row.requestsPerSecond;
        case LatencyP95Column:
            return row.latencyP95Seconds;
        case ConfigVersionColumn:
            return row.configVersion;
        case StateColumn:
            return int(row.state);
        case AddressColumn:
            return row.address;
        }
        return {};
    case Qt::TextAlignmentRole:
        switch (index.column()) {
        case UptimeColumn:
        case RequestsPerSecondColumn:
        case LatencyP95Column:
        case ConfigVersionColumn:
            return int(Qt::AlignRight | Qt::AlignVCenter);
        }
        return {};
    case Qt::ToolTipRole:
        return configDiffers(index.row()) ? QVariant(configToolTip(index.row())) : QVariant();
    case ConfigDiffersRole:
        return configDiffers(index.row());
    case InstanceIdRole:
        return row.id;
    }
    return {};
}

QVariant InstanceTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case IdColumn:
        return tr("Instance");
    case VersionColumn:
        return tr("Version");
    case UptimeColumn:
        return tr("Uptime");
    case RequestsPerSecondColumn:
        return tr("Requests/s");
    case LatencyP95Column:
        return tr("p95 latency");
    case ConfigVersionColumn:
        return tr("Config version");
    case StateColumn:
        return tr("State");
    case AddressColumn:
        return tr("Address");
    }
    return {};
}

QHash<int, QByteArray> InstanceTableModel::roleNames() const
{
    QHash<int, QByteArray> names = QAbstractTableModel::roleNames();
    names.insert(SortRole, "sort");
    names.insert(ConfigDiffersRole, "configDiffers");
    names.insert(InstanceIdRole, "instanceId");
    return names;
}

} // namespace sluice::models
