#pragma once

#include "activedeployment.h"
#include "statusbar/sourcestatus.h"

#include <QDateTime>
#include <QPointer>
#include <QWidget>

class QLabel;

namespace sluice::clients {
class PostgresInfoPoller;
class RedisInfoPoller;
struct PostgresInfo;
struct RedisInfo;
struct SourceError;
} // namespace sluice::clients

namespace sluice::ui {

// Two compact tiles for the Dashboard: Redis (ops/s, memory used / max, hit ratio,
// clients) and PostgreSQL (connections vs max_connections, database size, usage rows).
// Each says "not configured", "connecting…", the last error, or its values with the
// time of the last sample (a tile that has values keeps them, marked stale, while its
// source fails).
//
// setDeployment() starts a RedisInfoPoller and a PostgresInfoPoller for the sources the
// deployment has (polling at its refresh interval) and stops the previous ones. They poll
// only while the live view is visible and not paused, like the dashboard; refresh()
// fetches once now (F5). Source states go to sourceStatusChanged() with ids "redis" and
// "postgres" (only for sources the deployment has).
//
// objectName "storeTiles"; labels are named for tests: "redisStatus", "redisOps",
// "redisMemory", "redisHitRatio", "redisClients", "redisUpdated", "postgresStatus",
// "postgresConnections", "postgresSize", "postgresUsageRows", "postgresUpdated".
// Thread affinity: GUI thread.
class StoreTiles : public QWidget {
    Q_OBJECT
public:
    enum class TileState { NotConfigured, Connecting, Live, Error };
    Q_ENUM(TileState)

    explicit StoreTiles(QWidget *parent = nullptr);
    ~StoreTiles() override;

    void setDeployment(const ActiveDeployment &deployment);
    // Stops both pollers; both tiles say "not configured".
    void clearDeployment();

    TileState redisState() const { return m_redisState; }
    TileState postgresState() const { return m_postgresState; }
    // Null when the deployment has no such source.
    clients::RedisInfoPoller *redisPoller() const;
    clients::PostgresInfoPoller *postgresPoller() const;

public slots:
    void setLiveUpdatesPaused(bool paused);
    void setLiveViewVisible(bool visible);
    // One sample of each source now, paused or not.
    void refresh();

signals:
    void sourceStatusChanged(const sluice::ui::SourceStatus &status);

private:
    struct Tile {
        QLabel *status = nullptr;
        QList<QLabel *> values;
        QLabel *updated = nullptr;
    };

    Tile makeTile(const QString &prefix, const QString &title, const QStringList &names, const QStringList &captions,
                  QWidget *frame);
    void applyPausing();
    void setTileState(Tile &tile, TileState &state, TileState next, const QString &text);
    void onRedisUpdated(const clients::RedisInfo &info);
    void onRedisFailed(const clients::SourceError &error);
    void onPostgresUpdated(const clients::PostgresInfo &info);
    void onPostgresFailed(const clients::SourceError &error);
    void publish(const QString &id, const QString &name, SourceStatus::State state, const QString &detail,
                 const QDateTime &lastUpdate);

    Tile m_redisTile;
    Tile m_postgresTile;
    TileState m_redisState = TileState::NotConfigured;
    TileState m_postgresState = TileState::NotConfigured;
    QPointer<clients::RedisInfoPoller> m_redisPoller;
    QPointer<clients::PostgresInfoPoller> m_postgresPoller;
    QDateTime m_redisLastUpdate;
    QDateTime m_postgresLastUpdate;
    bool m_paused = false;
    bool m_visible = true;
};

} // namespace sluice::ui
