#pragma once

#include "activedeployment.h"

#include <QByteArray>
#include <QPointer>
#include <QWidget>

class QFormLayout;
class QLabel;
class QLineEdit;
class QStackedWidget;
class QTableWidget;

namespace sluice::clients {
class RedisInfoPoller;
struct RedisInfo;
struct RedisSluiceKeys;
struct SourceError;
} // namespace sluice::clients

namespace sluice::ui {

class EmptyState;
class Sparkline;

// Redis as the deployment uses it: server info, memory, ops/s and hit ratio over time,
// the live gateway instances from the instance registry, and Sluice's key counts per
// kind (rate limits, cache, instances) for a key namespace (editable; "default" at first,
// the gateway's default key_namespace).
//
// Without a deployment, or for one without Redis, it shows an EmptyState saying what will
// appear and what it needs; the live view is built on the first deployment with Redis.
// setDeployment() starts a RedisInfoPoller (its own connection) at the deployment's
// refresh interval; it polls only while the panel is shown, the live view visible and
// updates not paused. refresh() polls once now (F5).
//
// objectName: "redisPanel". Children named for tests: "redisServerInfo" (QLabel values in
// a form: "redisVersion", "redisUptime", "redisClients", "redisMemory", "redisPolicy",
// "redisKeyspace", "redisEvictions"), "redisState", "redisInstances" (QTableWidget),
// "redisKeyCounts" (QLabel), "redisNamespace" (QLineEdit), "redisOpsChart",
// "redisHitRatioChart", "redisMemoryChart" (Sparkline).
// Thread affinity: GUI thread.
class RedisPanel : public QWidget {
    Q_OBJECT
public:
    explicit RedisPanel(QWidget *parent = nullptr);
    ~RedisPanel() override;

    EmptyState *emptyState() const { return m_emptyState; }

    void setDeployment(const ActiveDeployment &deployment);
    // Stops polling and shows the EmptyState.
    void clearDeployment();

    // The key namespace whose keys and instances are listed (no ':'); restarts polling.
    void setKeyNamespace(const QByteArray &keyNamespace);
    QByteArray keyNamespace() const { return m_keyNamespace; }

    // Null unless the deployment has Redis.
    clients::RedisInfoPoller *poller() const;
    bool isShowingLiveView() const;

public slots:
    void setLiveUpdatesPaused(bool paused);
    void setLiveViewVisible(bool visible);
    void refresh();

protected:
    void showEvent(QShowEvent *event) override;
    void hideEvent(QHideEvent *event) override;

private:
    void buildLiveView();
    void startPoller();
    void applyPausing();
    void onUpdated(const clients::RedisInfo &info);
    void onFailed(const clients::SourceError &error);
    void onKeys(const clients::RedisSluiceKeys &keys);
    void onKeysFailed(const clients::SourceError &error);
    QLabel *addField(QFormLayout *form, const QString &name, const QString &caption);

    QStackedWidget *m_stack = nullptr;
    EmptyState *m_emptyState = nullptr;
    QWidget *m_live = nullptr; // built on the first deployment with Redis
    QLabel *m_title = nullptr;
    QLabel *m_state = nullptr;
    QLabel *m_version = nullptr;
    QLabel *m_uptime = nullptr;
    QLabel *m_clients = nullptr;
    QLabel *m_memory = nullptr;
    QLabel *m_policy = nullptr;
    QLabel *m_keyspace = nullptr;
    QLabel *m_evictions = nullptr;
    QLabel *m_keyCounts = nullptr;
    QLineEdit *m_namespaceEdit = nullptr;
    QTableWidget *m_instances = nullptr;
    Sparkline *m_opsChart = nullptr;
    Sparkline *m_hitRatioChart = nullptr;
    Sparkline *m_memoryChart = nullptr;

    ActiveDeployment m_deployment;
    QByteArray m_keyNamespace = QByteArrayLiteral("default");
    QPointer<clients::RedisInfoPoller> m_poller;
    bool m_paused = false;
    bool m_liveViewVisible = true;
};

} // namespace sluice::ui
