#pragma once

#include "activedeployment.h"
#include "clients/adminclient.h"
#include "clients/dashboardframe.h"
#include "clients/metricsscraper.h"
#include "clients/prometheusclient.h"
#include "clients/promqueries.h"
#include "models/alertevaluator.h"
#include "models/alertrulemodel.h"
#include "models/instancetablemodel.h"
#include "models/timeseriesset.h"
#include "statusbar/sourcestatus.h"

#include <QDateTime>
#include <QHash>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QTimer>

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

class QNetworkAccessManager;

namespace sluice::ui {

// The Dashboard's charts, in the panel's order; one TimeSeriesSet each.
enum class DashboardChart {
    Requests,         // req/s by status class ("2xx", "4xx", ...) and "all"
    Latency,          // ms: "p50", "p95", "p99", "upstream p95", "overhead p95"
    TimeToFirstToken, // ms: "p50", "p95", "p99"
    Errors,           // per second: "5xx", "own limit 429", "provider quota 429", "provider 429"
    Cache,            // %: "hit rate"
    Concurrency,      // count: "in flight", "upstream in flight", "limit", "queue depth"
    Quota,            // % of each provider quota used: "<upstream> <resource>"
    Cost,             // $/h: "cost"
};
inline constexpr int kDashboardChartCount = 8;

// Chart title and value unit ("Requests", "req/s").
QString dashboardChartTitle(DashboardChart chart);
QString dashboardChartUnit(DashboardChart chart);

// Time ranges of the Prometheus source.
enum class DashboardRange { Minutes5, Minutes15, Hour1, Hours6, Hours24, Days7 };
qint64 dashboardRangeSeconds(DashboardRange range);
// "5 m", "15 m", "1 h", "6 h", "24 h", "7 d".
QString dashboardRangeText(DashboardRange range);

// What the panel's labels show besides the charts (the latest values of the source).
struct DashboardFigures {
    QDateTime atUtc;
    std::optional<double> costUsdPerHour;
    std::optional<double> costUsdPerDay;
    std::optional<double> costUsdPerMonth;
    std::optional<double> cacheHitRatio; // 0..1
    std::optional<double> cacheSavedTokensPerHour;
    std::optional<double> cacheSavedUsdPerHour;
    std::optional<double> inFlight;
    std::optional<double> concurrencyLimit;
    std::optional<double> queueDepth;
    std::optional<double> meanQueueWaitSeconds;
    struct Quota {
        QString upstream;
        QString resource;
        std::optional<double> limitPerMinute;
        std::optional<double> usedPerMinute;
        std::optional<double> percentOfLimit;
        std::optional<double> secondsToExhaustion;
    };
    std::vector<Quota> quotas;
    struct Breaker {
        QString upstream;
        clients::BreakerState state = clients::BreakerState::Closed;
    };
    std::vector<Breaker> breakers;
};

// The Dashboard's data flow, without widgets: given an ActiveDeployment it runs one
// source and turns what it reads into chart series, instance rows, label figures,
// alert evaluations and source states.
//
// Sources:
//  - prometheusUrl set: PrometheusClient range queries (PromQueries) over the chosen
//    DashboardRange, the step from the chart width (PrometheusClient::stepFor), re-run
//    at the refresh interval; each run replaces the series' data.
//  - otherwise: one MetricsScraper per admin URL (its /metrics) and one AdminClient for
//    the instance id, every refresh interval (1–30 s); consecutive snapshots become a
//    DashboardFrame per instance and an aggregate frame (rates over the real interval),
//    appended to the series. A round in which no instance answered appends a gap.
//
// Polling runs only while a deployment is set, not paused and the live view is visible
// (setLiveViewVisible(false) while minimised or hidden); refreshNow() fetches once in
// any state. Nothing blocks: the clients are asynchronous, answers come from the event
// loop. (MetricsScraper parses the exposition on this thread; a gateway's page of a few
// hundred series takes about a millisecond.)
//
// Source states (sourceStatusChanged): id "admin:<host:port>" per admin URL (name
// "<host:port> metrics") or "prometheus" (name "Prometheus"). Connecting until the first
// answer; Connected with lastUpdate after each success; after a failure Error with the
// SourceError text if the source never answered, Disconnected ("… — retrying") if it
// had; the next successful poll makes it Connected again, nothing else is needed.
//
// Instance rows (instanceModel()): one per admin URL, its id from the admin API
// (/admin/v1/instance; "host:port" until that answers or without it), version, uptime
// and config version from /metrics, req/s and p95 from its own frame; Down while it
// does not answer. With Prometheus: one per scraped instance label.
//
// Alerts: after each frame the evaluator gets latency_p95_seconds, rate_429_share (own
// limits' and provider-quota refusals' share of the requests) and quota_used_share (the
// highest provider-quota use, 0..1); rules come from alertRuleModel() (edits apply at
// once) and start as p95 > 5 s, 429 share > 1 %, quota > 80 %.
//
// Owns its sets, models and clients. Thread affinity: GUI thread.
class DashboardController : public QObject {
    Q_OBJECT
public:
    enum class SourceKind { None, Scrape, Prometheus };

    // `network` (optional, not owned) must outlive this object.
    explicit DashboardController(QNetworkAccessManager *network = nullptr, QObject *parent = nullptr);
    ~DashboardController() override;

    // Drops the current source and its data and starts reading `deployment`.
    void setDeployment(const ActiveDeployment &deployment);
    void clearDeployment();
    bool hasDeployment() const { return m_deployment.has_value(); }
    SourceKind sourceKind() const { return m_kind; }

    // 1..30 (clamped); the deployment's refreshIntervalSeconds until set.
    void setRefreshIntervalSeconds(int seconds);
    int refreshIntervalSeconds() const { return m_refreshSeconds; }
    // Prometheus only: the range shown (default 15 m); re-queries at once.
    void setTimeRange(DashboardRange range);
    DashboardRange timeRange() const { return m_range; }
    // The charts' plot width, for the Prometheus step (default 600).
    void setChartWidthPixels(int pixels);

    bool isPaused() const { return m_paused; }
    bool isLiveViewVisible() const { return m_liveViewVisible; }
    // True while the poll timer runs.
    bool isPolling() const { return m_timer.isActive(); }

    models::TimeSeriesSet *series(DashboardChart chart) const;
    models::InstanceTableModel *instanceModel() const { return m_instances; }
    models::AlertEvaluator *alertEvaluator() const { return m_alerts; }
    models::AlertRuleModel *alertRuleModel() const { return m_alertRules; }

    // The sources of the current deployment as they stand (for ConsoleStatusBar::setSources).
    QList<SourceStatus> sourceStatuses() const { return m_statuses; }
    // When data last arrived; invalid before any.
    QDateTime updatedAt() const { return m_updatedAt; }
    const DashboardFigures &figures() const { return m_figures; }
    // Scrape source: the latest aggregate frame.
    const std::optional<clients::DashboardFrame> &lastFrame() const { return m_lastFrame; }
    // Scrape source: client requests counted since the deployment was set, summed from
    // every instance's frames (rate × its real interval, i.e. counter increases).
    double requestsCounted() const { return m_requestsCounted; }
    int frameCount() const { return m_frameCount; }

    // Mutes every alert notification until unmuted (states are still tracked).
    void setAlertsMuted(bool muted);
    bool alertsMuted() const { return m_alerts->isGloballyMuted(); }

public slots:
    void setPaused(bool paused);
    void setLiveViewVisible(bool visible);
    // One poll now, also while paused or hidden.
    void refreshNow();

signals:
    void sourceStatusChanged(const sluice::ui::SourceStatus &status);
    void updatedAtChanged(const QDateTime &updatedAt);
    // After every round that changed the series, figures or instance rows.
    void dataUpdated();
    void pollingChanged(bool polling);
    void alertNotification(const sluice::models::AlertTransition &transition);

private:
    struct ScrapeTarget {
        QUrl adminUrl;
        QString endpoint;
        std::unique_ptr<clients::MetricsScraper> scraper;
        std::unique_ptr<clients::AdminClient> admin;
        std::optional<clients::AdminInstance> instance;
        clients::RequestId adminRequest = 0;
        bool answeredThisRound = false;
        bool succeededThisRound = false;
        bool everConnected = false;
        std::optional<qint64> lastConfigVersion;
        models::InstanceRow row; // id empty until the first answer
    };

    void updatePolling();
    void poll();
    void resetData();
    void setStatus(int index, SourceStatus::State state, const QString &detail, const QDateTime &lastUpdate = {});
    void markUpdated(const QDateTime &atUtc);

    // Scrape source.
    void startScrapeSource(const ActiveDeployment &deployment);
    void onScraped(int index);
    void onScrapeFailed(int index, const clients::SourceError &error);
    void finishScrapeRound();
    void requestInstance(int index);
    void appendFrame(const clients::DashboardFrame &frame);
    void applyFigures(const clients::DashboardFrame &frame);
    void evaluateAlerts(qint64 timeMs, const clients::DashboardFrame &frame);
    void updateInstanceRow(ScrapeTarget &target, const clients::DashboardFrame *frame);
    void pushInstanceRows();

    // Prometheus source.
    void startPrometheusSource(const ActiveDeployment &deployment);
    void pollPrometheus();
    using PromHandler = std::function<void(const clients::PromQueryResult &)>;
    void promQuery(const QString &promql, bool range, PromHandler handler);
    void finishPrometheusRound();

    std::optional<ActiveDeployment> m_deployment;
    SourceKind m_kind = SourceKind::None;
    QNetworkAccessManager *m_network = nullptr;
    QTimer m_timer;
    int m_refreshSeconds = 5;
    DashboardRange m_range = DashboardRange::Minutes15;
    int m_chartWidthPixels = 600;
    bool m_paused = false;
    bool m_liveViewVisible = true;

    std::array<models::TimeSeriesSet *, kDashboardChartCount> m_sets{};
    models::InstanceTableModel *m_instances = nullptr;
    models::AlertEvaluator *m_alerts = nullptr;
    models::AlertRuleModel *m_alertRules = nullptr;

    QList<SourceStatus> m_statuses;
    QDateTime m_updatedAt;
    DashboardFigures m_figures;
    std::optional<clients::DashboardFrame> m_lastFrame;
    double m_requestsCounted = 0;
    int m_frameCount = 0;

    std::vector<ScrapeTarget> m_targets;
    bool m_roundOpen = false;

    std::unique_ptr<clients::PrometheusClient> m_prometheus;
    clients::PromQueries m_queries;
    quint64 m_promRound = 0;
    int m_promOutstanding = 0;
    bool m_promRoundOk = false;
    QString m_promRoundError;
    bool m_promEverConnected = false;
    QDateTime m_promRangeEnd;
    // A round's range results, applied together when the round ends (no half-drawn charts).
    struct PendingSeries {
        DashboardChart chart;
        QString name;
        std::vector<clients::PromPoint> points;
        double scale = 1;
    };
    std::vector<PendingSeries> m_promPending;
    DashboardFigures m_promFigures;
    std::vector<models::InstanceRow> m_promRows;
    QHash<QString, double> m_promAlertValues;
};

} // namespace sluice::ui
