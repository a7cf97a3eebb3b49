#include "panels/redispanel.h"

#include "charts/sparkline.h"
#include "clients/redisinfopoller.h"
#include "clients/sourceerror.h"
#include "store/redissession.h"
#include "panels/emptystate.h"
#include "theme.h"

#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QRegularExpressionValidator>
#include <QScrollArea>
#include <QStackedWidget>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>

namespace sluice::ui {

namespace {

QString bytesText(qint64 bytes)
{
    return QLocale().formattedDataSize(bytes, 1);
}

QString durationText(qint64 seconds)
{
    if (seconds < 120)
        return QObject::tr("%1 s").arg(seconds);
    if (seconds < 2 * 3600)
        return QObject::tr("%1 min").arg(seconds / 60);
    if (seconds < 2 * 86400)
        return QObject::tr("%1 h %2 min").arg(seconds / 3600).arg((seconds % 3600) / 60);
    return QObject::tr("%1 d %2 h").arg(seconds / 86400).arg((seconds % 86400) / 3600);
}

QString countText(qint64 count, bool lowerBound)
{
    return (lowerBound ? QStringLiteral("≥ ") : QString()) + QLocale().toString(count);
}

QString timeText(const QDateTime &utc)
{
    return utc.isValid() ? QLocale().toString(utc.toLocalTime(), QStringLiteral("yyyy-MM-dd HH:mm:ss")) : QString();
}

} // namespace

RedisPanel::RedisPanel(QWidget *parent)
    : QWidget(parent),
      m_stack(new QStackedWidget(this)),
      m_emptyState(new EmptyState(tr("No Redis connected"),
                                  tr("Connect a deployment with a Redis address to see memory, clients and Sluice's shared limit and cache keys."),
                                  m_stack))
{
    setObjectName(QStringLiteral("redisPanel"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    m_stack->addWidget(m_emptyState);
    layout->addWidget(m_stack);
}

RedisPanel::~RedisPanel() = default;

clients::RedisInfoPoller *RedisPanel::poller() const
{
    return m_poller.data();
}

bool RedisPanel::isShowingLiveView() const
{
    return m_live && m_stack->currentWidget() == m_live;
}

QLabel *RedisPanel::addField(QFormLayout *form, const QString &name, const QString &caption)
{
    auto *value = new QLabel(QStringLiteral("—"));
    value->setObjectName(name);
    value->setTextInteractionFlags(Qt::TextSelectableByMouse);
    form->addRow(caption, value);
    return value;
}

void RedisPanel::buildLiveView()
{
    if (m_live)
        return;
    auto *scroll = new QScrollArea(m_stack);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    auto *content = new QWidget;
    auto *layout = new QVBoxLayout(content);

    m_title = new QLabel(content);
    QFont titleFont = m_title->font();
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.3);
    titleFont.setBold(true);
    m_title->setFont(titleFont);
    m_state = new QLabel(content);
    m_state->setObjectName(QStringLiteral("redisState"));
    m_state->setWordWrap(true);
    m_state->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_title);
    layout->addWidget(m_state);

    auto *top = new QHBoxLayout;
    auto *serverBox = new QGroupBox(tr("Server"), content);
    serverBox->setObjectName(QStringLiteral("redisServerInfo"));
    auto *form = new QFormLayout(serverBox);
    m_version = addField(form, QStringLiteral("redisVersion"), tr("Version"));
    m_uptime = addField(form, QStringLiteral("redisUptime"), tr("Uptime"));
    m_clients = addField(form, QStringLiteral("redisClients"), tr("Clients"));
    m_memory = addField(form, QStringLiteral("redisMemory"), tr("Memory"));
    m_policy = addField(form, QStringLiteral("redisPolicy"), tr("Eviction policy"));
    m_keyspace = addField(form, QStringLiteral("redisKeyspace"), tr("Keys"));
    m_evictions = addField(form, QStringLiteral("redisEvictions"), tr("Evicted / expired"));
    top->addWidget(serverBox, 1);

    auto *keysBox = new QGroupBox(tr("Sluice keys"), content);
    auto *keysForm = new QFormLayout(keysBox);
    m_namespaceEdit = new QLineEdit(QString::fromUtf8(m_keyNamespace), keysBox);
    m_namespaceEdit->setObjectName(QStringLiteral("redisNamespace"));
    m_namespaceEdit->setValidator(
        new QRegularExpressionValidator(QRegularExpression(QStringLiteral("[a-z0-9_-]{1,64}")), m_namespaceEdit));
    m_namespaceEdit->setToolTip(tr("The gateways' key_namespace: keys are sluice:<namespace>:<kind>:<id>"));
    connect(m_namespaceEdit, &QLineEdit::editingFinished, this,
            [this] { setKeyNamespace(m_namespaceEdit->text().toUtf8()); });
    keysForm->addRow(tr("Namespace"), m_namespaceEdit);
    m_keyCounts = new QLabel(QStringLiteral("—"), keysBox);
    m_keyCounts->setObjectName(QStringLiteral("redisKeyCounts"));
    m_keyCounts->setWordWrap(true);
    m_keyCounts->setTextInteractionFlags(Qt::TextSelectableByMouse);
    keysForm->addRow(tr("Keys"), m_keyCounts);
    top->addWidget(keysBox, 1);
    layout->addLayout(top);

    auto *charts = new QGridLayout;
    m_opsChart = new Sparkline(tr("Commands per second"), content);
    m_opsChart->setObjectName(QStringLiteral("redisOpsChart"));
    m_hitRatioChart = new Sparkline(tr("Keyspace hit ratio (%)"), content);
    m_hitRatioChart->setObjectName(QStringLiteral("redisHitRatioChart"));
    m_hitRatioChart->setFixedMaximum(100);
    m_memoryChart = new Sparkline(tr("Used memory (MiB)"), content);
    m_memoryChart->setObjectName(QStringLiteral("redisMemoryChart"));
    const bool dark = Theme::isDarkPalette(palette());
    for (Sparkline *chart : {m_opsChart, m_hitRatioChart, m_memoryChart})
        chart->setDark(dark);
    charts->addWidget(m_opsChart, 0, 0);
    charts->addWidget(m_hitRatioChart, 0, 1);
    charts->addWidget(m_memoryChart, 0, 2);
    layout->addLayout(charts);

    auto *instancesBox = new QGroupBox(tr("Live gateway instances (instance registry)"), content);
    auto *instancesLayout = new QVBoxLayout(instancesBox);
    m_instances = new QTableWidget(0, 6, instancesBox);
    m_instances->setObjectName(QStringLiteral("redisInstances"));
    m_instances->setHorizontalHeaderLabels(
        {tr("Id"), tr("Address"), tr("Admin URL"), tr("Version"), tr("Config version"), tr("Last heartbeat")});
    m_instances->horizontalHeader()->setStretchLastSection(true);
    m_instances->verticalHeader()->hide();
    m_instances->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_instances->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_instances->setMinimumHeight(120);
    instancesLayout->addWidget(m_instances);
    layout->addWidget(instancesBox, 1);

    scroll->setWidget(content);
    m_live = scroll;
    m_stack->addWidget(m_live);
}

void RedisPanel::setDeployment(const ActiveDeployment &deployment)
{
    clearDeployment();
    if (!deployment.redis || deployment.redis->host.isEmpty())
        return;
    m_deployment = deployment;
    buildLiveView();
    m_stack->setCurrentWidget(m_live);
    startPoller();
}

void RedisPanel::clearDeployment()
{
    delete m_poller.data();
    m_deployment = {};
    m_stack->setCurrentWidget(m_emptyState);
    if (!m_live)
        return;
    for (QLabel *label : {m_version, m_uptime, m_clients, m_memory, m_policy, m_keyspace, m_evictions, m_keyCounts})
        label->setText(QStringLiteral("—"));
    m_instances->setRowCount(0);
    for (Sparkline *chart : {m_opsChart, m_hitRatioChart, m_memoryChart})
        chart->clear();
}

void RedisPanel::setKeyNamespace(const QByteArray &keyNamespace)
{
    if (keyNamespace.isEmpty() || keyNamespace.contains(':') || keyNamespace == m_keyNamespace)
        return;
    m_keyNamespace = keyNamespace;
    if (m_namespaceEdit && m_namespaceEdit->text().toUtf8() != keyNamespace)
        m_namespaceEdit->setText(QString::fromUtf8(keyNamespace));
    if (m_poller) {
        // The server info and its charts carry on; only the key listing changes.
        delete m_poller.data();
        m_keyCounts->setText(QStringLiteral("—"));
        m_instances->setRowCount(0);
        startPoller();
    }
}

void RedisPanel::startPoller()
{
    clients::RedisInfoPollerOptions options;
    options.host = m_deployment.redis->host;
    options.port = m_deployment.redis->port;
    options.db = m_deployment.redis->db;
    options.user = m_deployment.redis->user;
    options.password = m_deployment.redisPassword;
    options.intervalMs = std::clamp(m_deployment.refreshIntervalSeconds, 1, 30) * 1000;
    options.keysIntervalMs = std::max(options.intervalMs, 15'000);
    options.keyNamespace = m_keyNamespace;
    m_poller = new clients::RedisInfoPoller(options, this);
    connect(m_poller, &clients::RedisInfoPoller::updated, this, &RedisPanel::onUpdated);
    connect(m_poller, &clients::RedisInfoPoller::failed, this, &RedisPanel::onFailed);
    connect(m_poller, &clients::RedisInfoPoller::sluiceKeysUpdated, this, &RedisPanel::onKeys);
    connect(m_poller, &clients::RedisInfoPoller::sluiceKeysFailed, this, &RedisPanel::onKeysFailed);
    m_title->setText(tr("%1 — Redis at %2, db %3")
                         .arg(m_deployment.name, m_poller->endpoint())
                         .arg(m_deployment.redis->db));
    m_state->setText(tr("connecting to %1…").arg(m_poller->endpoint()));
    applyPausing();
    m_poller->start();
}

void RedisPanel::setLiveUpdatesPaused(bool paused)
{
    m_paused = paused;
    applyPausing();
}

void RedisPanel::setLiveViewVisible(bool visible)
{
    m_liveViewVisible = visible;
    applyPausing();
}

void RedisPanel::refresh()
{
    if (m_poller)
        m_poller->pollNow(true);
}

void RedisPanel::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    applyPausing();
}

void RedisPanel::hideEvent(QHideEvent *event)
{
    QWidget::hideEvent(event);
    applyPausing();
}

void RedisPanel::applyPausing()
{
    if (!m_poller)
        return;
    const bool wasPaused = m_poller->isPaused();
    const bool paused = m_paused || !m_liveViewVisible || !isVisible();
    m_poller->setPaused(paused);
    // Coming back into view: fresh numbers now rather than at the next tick.
    if (wasPaused && !paused && m_poller->session() && m_poller->session()->isReady())
        m_poller->pollNow(!m_poller->latestKeys());
}

void RedisPanel::onUpdated(const clients::RedisInfo &info)
{
    m_state->setText(tr("connected · updated %1").arg(timeText(info.sampledAt)));
    m_version->setText(info.mode.isEmpty() ? info.version : tr("%1 (%2)").arg(info.version, info.mode));
    m_uptime->setText(durationText(info.uptimeSeconds));
    m_clients->setText(tr("%1 connected, %2 blocked").arg(info.connectedClients).arg(info.blockedClients));
    m_memory->setText(info.maxMemoryBytes > 0
                          ? tr("%1 of %2 (%3 %), RSS %4, peak %5")
                                .arg(bytesText(info.usedMemoryBytes), bytesText(info.maxMemoryBytes),
                                     QLocale().toString(100.0 * double(info.usedMemoryBytes) / double(info.maxMemoryBytes), 'f', 1),
                                     bytesText(info.usedMemoryRssBytes), bytesText(info.usedMemoryPeakBytes))
                          : tr("%1, no maxmemory limit; RSS %2, peak %3")
                                .arg(bytesText(info.usedMemoryBytes), bytesText(info.usedMemoryRssBytes),
                                     bytesText(info.usedMemoryPeakBytes)));
    m_policy->setText(info.maxMemoryPolicy.isEmpty() ? QStringLiteral("—") : info.maxMemoryPolicy);
    QStringList databases;
    for (const clients::RedisDbKeys &db : info.keyspace)
        databases.append(tr("db%1: %2 (%3 with TTL)").arg(db.db).arg(QLocale().toString(db.keys), QLocale().toString(db.expires)));
    m_keyspace->setText(databases.isEmpty() ? tr("none") : databases.join(QStringLiteral("; ")));
    m_evictions->setText(tr("%1/s evicted, %2/s expired (%3 and %4 since start)")
                             .arg(QLocale().toString(info.evictedPerSecond, 'f', 1),
                                  QLocale().toString(info.expiredPerSecond, 'f', 1), QLocale().toString(info.evictedKeys),
                                  QLocale().toString(info.expiredKeys)));
    m_opsChart->append(info.sampledAt, info.opsPerSecond);
    if (info.hitRatio)
        m_hitRatioChart->append(info.sampledAt, *info.hitRatio * 100.0);
    m_memoryChart->append(info.sampledAt, double(info.usedMemoryBytes) / (1024.0 * 1024.0));
}

void RedisPanel::onFailed(const clients::SourceError &error)
{
    const QDateTime last = m_poller && m_poller->latest() ? m_poller->latest()->sampledAt : QDateTime();
    m_state->setText(last.isValid() ? tr("%1 (values from %2)").arg(error.message, timeText(last)) : error.message);
}

void RedisPanel::onKeys(const clients::RedisSluiceKeys &keys)
{
    m_keyCounts->setText(tr("rate limits %1 · cache %2 · instances %3 · other %4%5")
                             .arg(countText(keys.rateLimitKeys, keys.truncated), countText(keys.cacheKeys, keys.truncated),
                                  countText(keys.instanceKeys, keys.truncated), countText(keys.otherKeys, keys.truncated),
                                  keys.truncated ? tr("\n(counted from the first %1 keys only; the scan stops there)")
                                                       .arg(QLocale().toString(keys.keysScanned))
                                                 : QString()));
    m_instances->setRowCount(int(keys.instances.size()));
    // An instance behind the newest shared config version is the one to look at.
    qint64 newestConfig = 0;
    for (const store::InstanceInfo &instance : keys.instances)
        newestConfig = std::max(newestConfig, instance.configVersion);
    for (int row = 0; row < keys.instances.size(); ++row) {
        const store::InstanceInfo &instance = keys.instances[row];
        const QStringList cells{instance.id,
                                instance.address,
                                instance.adminUrl,
                                instance.version,
                                QString::number(instance.configVersion),
                                timeText(instance.heartbeatAt)};
        const bool behind = instance.configVersion < newestConfig;
        for (int column = 0; column < cells.size(); ++column) {
            auto *item = new QTableWidgetItem(cells[column]);
            if (behind) {
                item->setBackground(Theme::toneColor(Theme::Tone::Pending, Theme::isDarkPalette(palette())));
                item->setToolTip(tr("runs config version %1; the newest is %2").arg(instance.configVersion).arg(newestConfig));
            }
            m_instances->setItem(row, column, item);
        }
    }
    m_instances->resizeColumnsToContents();
}

void RedisPanel::onKeysFailed(const clients::SourceError &error)
{
    m_keyCounts->setText(tr("could not list keys: %1").arg(error.message));
}

} // namespace sluice::ui
