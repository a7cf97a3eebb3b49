#include "panels/storetiles.h"

#include "clients/postgresinfopoller.h"
#include "clients/redisinfopoller.h"
#include "clients/sourceerror.h"

#include <QFrame>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace sluice::ui {

namespace {

const QString kRedisId = QStringLiteral("redis");
const QString kPostgresId = QStringLiteral("postgres");

QString bytesText(qint64 bytes)
{
    return QLocale().formattedDataSize(bytes, 1);
}

QString rateText(double perSecond)
{
    if (perSecond >= 100)
        return QLocale().toString(std::llround(perSecond));
    return QLocale().toString(perSecond, 'f', 1);
}

QString sampleTimeText(const QDateTime &utc)
{
    return QObject::tr("at %1").arg(QLocale().toString(utc.toLocalTime().time(), QStringLiteral("HH:mm:ss")));
}

} // namespace

StoreTiles::StoreTiles(QWidget *parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("storeTiles"));
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);

    auto *redisFrame = new QFrame(this);
    redisFrame->setObjectName(QStringLiteral("redisTile"));
    m_redisTile = makeTile(QStringLiteral("redis"), tr("Redis"),
                           {QStringLiteral("Ops"), QStringLiteral("Memory"), QStringLiteral("HitRatio"),
                            QStringLiteral("Clients")},
                           {tr("ops/s"), tr("memory"), tr("hit ratio"), tr("clients")}, redisFrame);
    auto *postgresFrame = new QFrame(this);
    postgresFrame->setObjectName(QStringLiteral("postgresTile"));
    m_postgresTile = makeTile(QStringLiteral("postgres"), tr("PostgreSQL"),
                              {QStringLiteral("Connections"), QStringLiteral("Size"), QStringLiteral("UsageRows")},
                              {tr("connections"), tr("database size"), tr("usage rows")}, postgresFrame);
    layout->addWidget(redisFrame);
    layout->addWidget(postgresFrame);
    clearDeployment();
}

StoreTiles::~StoreTiles() = default;

clients::RedisInfoPoller *StoreTiles::redisPoller() const
{
    return m_redisPoller.data();
}

clients::PostgresInfoPoller *StoreTiles::postgresPoller() const
{
    return m_postgresPoller.data();
}

StoreTiles::Tile StoreTiles::makeTile(const QString &prefix, const QString &title, const QStringList &names,
                                      const QStringList &captions, QWidget *frame)
{
    auto *box = qobject_cast<QFrame *>(frame);
    box->setFrameShape(QFrame::StyledPanel);
    auto *layout = new QVBoxLayout(box);
    auto *heading = new QLabel(title, box);
    QFont headingFont = heading->font();
    headingFont.setBold(true);
    heading->setFont(headingFont);
    Tile tile;
    tile.status = new QLabel(box);
    tile.status->setObjectName(prefix + QStringLiteral("Status"));
    tile.status->setWordWrap(true);
    tile.status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto *grid = new QGridLayout;
    for (qsizetype index = 0; index < names.size(); ++index) {
        auto *value = new QLabel(QStringLiteral("—"), box);
        value->setObjectName(prefix + names[index]);
        QFont valueFont = value->font();
        valueFont.setPointSizeF(valueFont.pointSizeF() * 1.3);
        value->setFont(valueFont);
        auto *caption = new QLabel(captions[index], box);
        caption->setForegroundRole(QPalette::PlaceholderText);
        grid->addWidget(value, 0, int(index));
        grid->addWidget(caption, 1, int(index));
        tile.values.append(value);
    }
    tile.updated = new QLabel(box);
    tile.updated->setObjectName(prefix + QStringLiteral("Updated"));
    tile.updated->setForegroundRole(QPalette::PlaceholderText);
    auto *top = new QHBoxLayout;
    top->addWidget(heading);
    top->addStretch(1);
    top->addWidget(tile.updated);
    layout->addLayout(top);
    layout->addLayout(grid);
    layout->addWidget(tile.status);
    return tile;
}

void StoreTiles::setDeployment(const ActiveDeployment &deployment)
{
    clearDeployment();
    const int intervalMs = std::clamp(deployment.refreshIntervalSeconds, 1, 30) * 1000;
    if (deployment.redis && !deployment.redis->host.isEmpty()) {
        clients::RedisInfoPollerOptions options;
        options.host = deployment.redis->host;
        options.port = deployment.redis->port;
        options.db = deployment.redis->db;
        options.user = deployment.redis->user;
        options.password = deployment.redisPassword;
        options.intervalMs = intervalMs;
        options.keysIntervalMs = 0; // the tile shows no key counts; the Redis panel does
        m_redisPoller = new clients::RedisInfoPoller(options, this);
        connect(m_redisPoller, &clients::RedisInfoPoller::updated, this, &StoreTiles::onRedisUpdated);
        connect(m_redisPoller, &clients::RedisInfoPoller::failed, this, &StoreTiles::onRedisFailed);
        setTileState(m_redisTile, m_redisState, TileState::Connecting,
                     tr("connecting to %1…").arg(m_redisPoller->endpoint()));
        publish(kRedisId, tr("Redis"), SourceStatus::State::Connecting, m_redisTile.status->text(), {});
    }
    if (!deployment.postgresConnection.trimmed().isEmpty()) {
        clients::PostgresInfoPollerOptions options;
        options.connectionString = deployment.postgresConnection;
        options.intervalMs = intervalMs;
        m_postgresPoller = new clients::PostgresInfoPoller(options, this);
        connect(m_postgresPoller, &clients::PostgresInfoPoller::updated, this, &StoreTiles::onPostgresUpdated);
        connect(m_postgresPoller, &clients::PostgresInfoPoller::failed, this, &StoreTiles::onPostgresFailed);
        setTileState(m_postgresTile, m_postgresState, TileState::Connecting,
                     tr("connecting to %1…").arg(m_postgresPoller->endpoint()));
        publish(kPostgresId, tr("PostgreSQL"), SourceStatus::State::Connecting, m_postgresTile.status->text(), {});
    }
    applyPausing();
    if (m_redisPoller)
        m_redisPoller->start();
    if (m_postgresPoller)
        m_postgresPoller->start();
}

void StoreTiles::clearDeployment()
{
    // Deleting a poller closes its connection; PostgreSQL's thread ends by itself.
    delete m_redisPoller.data();
    delete m_postgresPoller.data();
    m_redisLastUpdate = {};
    m_postgresLastUpdate = {};
    for (Tile *tile : {&m_redisTile, &m_postgresTile}) {
        for (QLabel *value : std::as_const(tile->values))
            value->setText(QStringLiteral("—"));
        tile->updated->clear();
    }
    setTileState(m_redisTile, m_redisState, TileState::NotConfigured, tr("not configured"));
    setTileState(m_postgresTile, m_postgresState, TileState::NotConfigured, tr("not configured"));
}

void StoreTiles::setLiveUpdatesPaused(bool paused)
{
    m_paused = paused;
    applyPausing();
}

void StoreTiles::setLiveViewVisible(bool visible)
{
    m_visible = visible;
    applyPausing();
}

void StoreTiles::refresh()
{
    if (m_redisPoller)
        m_redisPoller->pollNow();
    if (m_postgresPoller)
        m_postgresPoller->pollNow();
}

void StoreTiles::applyPausing()
{
    const bool paused = m_paused || !m_visible;
    if (m_redisPoller)
        m_redisPoller->setPaused(paused);
    if (m_postgresPoller)
        m_postgresPoller->setPaused(paused);
}

void StoreTiles::setTileState(Tile &tile, TileState &state, TileState next, const QString &text)
{
    state = next;
    tile.status->setText(text);
    tile.status->setVisible(!text.isEmpty());
    for (QLabel *value : std::as_const(tile.values))
        value->setEnabled(next == TileState::Live);
}

void StoreTiles::onRedisUpdated(const clients::RedisInfo &info)
{
    m_redisLastUpdate = info.sampledAt;
    m_redisTile.values[0]->setText(rateText(info.opsPerSecond));
    m_redisTile.values[1]->setText(info.maxMemoryBytes > 0
                                       ? tr("%1 / %2").arg(bytesText(info.usedMemoryBytes), bytesText(info.maxMemoryBytes))
                                       : tr("%1 (no limit)").arg(bytesText(info.usedMemoryBytes)));
    const std::optional<double> ratio = info.hitRatio ? info.hitRatio : info.hitRatioSinceStart;
    m_redisTile.values[2]->setText(ratio ? QLocale().toString(*ratio * 100.0, 'f', 1) + QStringLiteral(" %")
                                         : QStringLiteral("—"));
    m_redisTile.values[3]->setText(QLocale().toString(info.connectedClients));
    m_redisTile.updated->setText(sampleTimeText(info.sampledAt));
    setTileState(m_redisTile, m_redisState, TileState::Live, {});
    publish(kRedisId, tr("Redis"), SourceStatus::State::Connected, tr("Redis %1").arg(info.version), info.sampledAt);
}

void StoreTiles::onRedisFailed(const clients::SourceError &error)
{
    setTileState(m_redisTile, m_redisState, TileState::Error, error.message);
    if (m_redisLastUpdate.isValid())
        m_redisTile.updated->setText(tr("stale, last %1").arg(sampleTimeText(m_redisLastUpdate)));
    publish(kRedisId, tr("Redis"), SourceStatus::State::Error, error.message, m_redisLastUpdate);
}

void StoreTiles::onPostgresUpdated(const clients::PostgresInfo &info)
{
    m_postgresLastUpdate = info.sampledAt;
    m_postgresTile.values[0]->setText(tr("%1 / %2").arg(info.connections).arg(info.maxConnections));
    m_postgresTile.values[1]->setText(bytesText(info.databaseSizeBytes));
    m_postgresTile.values[2]->setText(info.sluiceTables && info.usageRowsEstimate
                                          ? QStringLiteral("≈ ") + QLocale().toString(*info.usageRowsEstimate)
                                          : tr("no usage table"));
    m_postgresTile.updated->setText(sampleTimeText(info.sampledAt));
    setTileState(m_postgresTile, m_postgresState, TileState::Live, {});
    publish(kPostgresId, tr("PostgreSQL"), SourceStatus::State::Connected,
            tr("PostgreSQL %1, database %2").arg(info.serverVersion.section(u' ', 0, 0), info.database),
            info.sampledAt);
}

void StoreTiles::onPostgresFailed(const clients::SourceError &error)
{
    setTileState(m_postgresTile, m_postgresState, TileState::Error, error.message);
    if (m_postgresLastUpdate.isValid())
        m_postgresTile.updated->setText(tr("stale, last %1").arg(sampleTimeText(m_postgresLastUpdate)));
    publish(kPostgresId, tr("PostgreSQL"), SourceStatus::State::Error, error.message, m_postgresLastUpdate);
}

void StoreTiles::publish(const QString &id, const QString &name, SourceStatus::State state, const QString &detail,
                         const QDateTime &lastUpdate)
{
    SourceStatus status;
    status.id = id;
    status.name = name;
    status.state = state;
    status.detail = detail;
    status.lastUpdate = lastUpdate;
    emit sourceStatusChanged(status);
}

} // namespace sluice::ui
