#include "dashboard/dashboardcontroller.h"

#include "clients/sourceerror.h"

#include <algorithm>
#include <cmath>
#include <tuple>
#include <limits>

namespace sluice::ui {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double orNaN(const std::optional<double> &value, double scale = 1.0)
{
    return value ? *value * scale : kNaN;
}

QList<models::AlertRule> defaultAlertRules()
{
    models::AlertRule latency;
    latency.name = QStringLiteral("p95 latency over 5 s");
    latency.valueKey = QString::fromLatin1(models::kLatencyP95SecondsKey);
    latency.threshold = 5.0;
    latency.forSeconds = 30;
    models::AlertRule limited;
    limited.name = QStringLiteral("429 share over 1 %");
    limited.valueKey = QString::fromLatin1(models::kRate429ShareKey);
    limited.threshold = 0.01;
    limited.forSeconds = 30;
    models::AlertRule quota;
    quota.name = QStringLiteral("provider quota over 80 %");
    quota.valueKey = QString::fromLatin1(models::kQuotaUsedShareKey);
    quota.threshold = 0.8;
    quota.forSeconds = 30;
    return {latency, limited, quota};
}

QUrl metricsUrlOf(QUrl adminUrl)
{
    QString path = adminUrl.path();
    while (path.endsWith(QLatin1Char('/')))
        path.chop(1);
    adminUrl.setPath(path + QStringLiteral("/metrics"));
    return adminUrl;
}

std::optional<double> lastFinite(const std::vector<clients::PromPoint> &points)
{
    for (auto it = points.rbegin(); it != points.rend(); ++it) {
        if (std::isfinite(it->value))
            return it->value;
    }
    return std::nullopt;
}

std::optional<double> firstSeriesLast(const clients::PromQueryResult &result)
{
    return result.series.empty() ? std::nullopt : lastFinite(result.series.front().points);
}

} // namespace

QString dashboardChartTitle(DashboardChart chart)
{
    switch (chart) {
    case DashboardChart::Requests:
        return QObject::tr("Requests by status class");
    case DashboardChart::Latency:
        return QObject::tr("Latency (upstream vs gateway overhead)");
    case DashboardChart::TimeToFirstToken:
        return QObject::tr("Time to first token");
    case DashboardChart::Errors:
        return QObject::tr("Errors and 429s (own limits vs provider)");
    case DashboardChart::Cache:
        return QObject::tr("Cache hit rate");
    case DashboardChart::Concurrency:
        return QObject::tr("In flight, limit and queue");
    case DashboardChart::Quota:
        return QObject::tr("Provider quota used");
    case DashboardChart::Cost:
        return QObject::tr("Cost");
    }
    return {};
}

QString dashboardChartUnit(DashboardChart chart)
{
    switch (chart) {
    case DashboardChart::Requests:
        return QStringLiteral("req/s");
    case DashboardChart::Latency:
    case DashboardChart::TimeToFirstToken:
        return QStringLiteral("ms");
    case DashboardChart::Errors:
        return QStringLiteral("/s");
    case DashboardChart::Cache:
    case DashboardChart::Quota:
        return QStringLiteral("%");
    case DashboardChart::Concurrency:
        return QStringLiteral("requests");
    case DashboardChart::Cost:
        return QStringLiteral("$/h");
    }
    return {};
}

qint64 dashboardRangeSeconds(DashboardRange range)
{
    switch (range) {
    case DashboardRange::Minutes5:
        return 5 * 60;
    case DashboardRange::Minutes15:
        return 15 * 60;
    case DashboardRange::Hour1:
        return 3600;
    case DashboardRange::Hours6:
        return 6 * 3600;
    case DashboardRange::Hours24:
        return 24 * 3600;
    case DashboardRange::Days7:
        return 7 * 24 * 3600;
    }
    return 15 * 60;
}

QString dashboardRangeText(DashboardRange range)
{
    switch (range) {
    case DashboardRange::Minutes5:
        return QStringLiteral("5 m");
    case DashboardRange::Minutes15:
        return QStringLiteral("15 m");
    case DashboardRange::Hour1:
        return QStringLiteral("1 h");
    case DashboardRange::Hours6:
        return QStringLiteral("6 h");
    case DashboardRange::Hours24:
        return QStringLiteral("24 h");
    case DashboardRange::Days7:
        return QStringLiteral("7 d");
    }
    return {};
}

DashboardController::DashboardController(QNetworkAccessManager *network, QObject *parent)
    : QObject(parent),
      m_network(network),
      m_instances(new models::InstanceTableModel(this)),
      m_alerts(new models::AlertEvaluator(this)),
      m_alertRules(new models::AlertRuleModel(this))
{
    for (auto &set : m_sets)
        set = new models::TimeSeriesSet(models::TimeSeriesBuffer::defaultCapacity, this);
    m_timer.setTimerType(Qt::CoarseTimer);
    connect(&m_timer, &QTimer::timeout, this, &DashboardController::poll);

    connect(m_alertRules, &models::AlertRuleModel::rulesEdited, this,
            [this] { m_alerts->setRules(m_alertRules->rules()); });
    connect(m_alerts, &models::AlertEvaluator::stateChanged, m_alertRules, &models::AlertRuleModel::setRuleState);
    connect(m_alerts, &models::AlertEvaluator::notification, this, &DashboardController::alertNotification);
    m_alertRules->setRules(defaultAlertRules());
    m_alerts->setRules(m_alertRules->rules());
}

DashboardController::~DashboardController()
{
    // The clients go first, without callbacks (their destructors abort what is pending).
    m_targets.clear();
    m_prometheus.reset();
}

models::TimeSeriesSet *DashboardController::series(DashboardChart chart) const
{
    return m_sets[std::size_t(chart)];
}

void DashboardController::setDeployment(const ActiveDeployment &deployment)
{
    clearDeployment();
    m_deployment = deployment;
    m_refreshSeconds = std::clamp(deployment.refreshIntervalSeconds, 1, 30);
    if (!deployment.prometheusUrl.isEmpty())
        startPrometheusSource(deployment);
    else if (!deployment.adminUrls.isEmpty())
        startScrapeSource(deployment);
    for (const SourceStatus &status : std::as_const(m_statuses))
        emit sourceStatusChanged(status);
    updatePolling();
}

void DashboardController::clearDeployment()
{
    const bool hadDeployment = m_deployment.has_value();
    m_deployment.reset();
    m_kind = SourceKind::None;
    updatePolling();
    // Destroying the clients aborts their requests without callbacks.
    m_targets.clear();
    m_roundOpen = false;
    m_prometheus.reset();
    ++m_promRound;
    m_promOutstanding = 0;
    m_promPending.clear();
    m_promEverConnected = false;
    for (SourceStatus &status : m_statuses) {
        status.state = SourceStatus::State::Disconnected;
        status.detail = tr("deployment closed");
        emit sourceStatusChanged(status);
    }
    m_statuses.clear();
    resetData();
    if (hadDeployment)
        emit dataUpdated();
}

void DashboardController::resetData()
{
    for (models::TimeSeriesSet *set : m_sets) {
        for (const QString &name : set->names())
            set->remove(name);
    }
    m_instances->setInstances({});
    m_figures = {};
    m_lastFrame.reset();
    m_requestsCounted = 0;
    m_frameCount = 0;
    if (m_updatedAt.isValid()) {
        m_updatedAt = {};
        emit updatedAtChanged(m_updatedAt);
    }
}

void DashboardController::setRefreshIntervalSeconds(int seconds)
{
    m_refreshSeconds = std::clamp(seconds, 1, 30);
    if (m_timer.isActive())
        m_timer.start(m_refreshSeconds * 1000);
}

void DashboardController::setTimeRange(DashboardRange range)
{
    if (m_range == range)
        return;
    m_range = range;
    if (m_kind == SourceKind::Prometheus)
        refreshNow();
}

void DashboardController::setChartWidthPixels(int pixels)
{
    m_chartWidthPixels = std::max(pixels, 10);
}

void DashboardController::setPaused(bool paused)
{
    m_paused = paused;
    updatePolling();
}

void DashboardController::setLiveViewVisible(bool visible)
{
    m_liveViewVisible = visible;
    updatePolling();
}

void DashboardController::refreshNow()
{
    if (m_kind != SourceKind::None)
        poll();
}

void DashboardController::setAlertsMuted(bool muted)
{
    if (muted)
        m_alerts->muteAll(std::numeric_limits<qint64>::max());
    else
        m_alerts->unmuteAll();
}

void DashboardController::updatePolling()
{
    const bool shouldPoll = m_kind != SourceKind::None && !m_paused && m_liveViewVisible;
    if (shouldPoll == m_timer.isActive())
        return;
    if (shouldPoll) {
        m_timer.start(m_refreshSeconds * 1000);
        poll();
    } else {
        m_timer.stop();
    }
    emit pollingChanged(shouldPoll);
}

void DashboardController::poll()
{
    if (m_kind == SourceKind::Prometheus) {
        pollPrometheus();
        return;
    }
    if (m_kind != SourceKind::Scrape)
        return;
    // A round still waiting for a slow instance is closed with what arrived; the slow
    // scrape stays in flight and counts in the new round.
    if (m_roundOpen)
        finishScrapeRound();
    m_roundOpen = true;
    for (ScrapeTarget &target : m_targets) {
        target.answeredThisRound = false;
        target.succeededThisRound = false;
        target.scraper->scrape();
    }
}

void DashboardController::setStatus(int index, SourceStatus::State state, const QString &detail,
                                    const QDateTime &lastUpdate)
{
    if (index < 0 || index >= m_statuses.size())
        return;
    SourceStatus &status = m_statuses[index];
    status.state = state;
    status.detail = detail;
    if (lastUpdate.isValid())
        status.lastUpdate = lastUpdate;
    emit sourceStatusChanged(status);
}

void DashboardController::markUpdated(const QDateTime &atUtc)
{
    m_updatedAt = atUtc;
    emit updatedAtChanged(m_updatedAt);
}

// --- Scrape source ------------------------------------------------------------------

void DashboardController::startScrapeSource(const ActiveDeployment &deployment)
{
    m_kind = SourceKind::Scrape;
    m_targets.reserve(std::size_t(deployment.adminUrls.size()));
    for (const QUrl &adminUrl : deployment.adminUrls) {
        ScrapeTarget target;
        target.adminUrl = adminUrl;
        target.endpoint = clients::endpointOf(adminUrl);
        clients::MetricsScraperOptions scrapeOptions;
        scrapeOptions.url = metricsUrlOf(adminUrl);
        scrapeOptions.bearerToken = deployment.adminToken;
        scrapeOptions.instance = target.endpoint;
        target.scraper = std::make_unique<clients::MetricsScraper>(scrapeOptions, m_network);
        clients::AdminClientOptions adminOptions;
        adminOptions.baseUrl = adminUrl;
        adminOptions.bearerToken = deployment.adminToken;
        target.admin = std::make_unique<clients::AdminClient>(adminOptions, m_network);
        const int index = int(m_targets.size());
        connect(target.scraper.get(), &clients::MetricsScraper::scraped, this, [this, index] { onScraped(index); });
        connect(target.scraper.get(), &clients::MetricsScraper::scrapeFailed, this,
                [this, index](const clients::SourceError &error) { onScrapeFailed(index, error); });
        SourceStatus status;
        status.id = QStringLiteral("admin:") + target.endpoint;
        status.name = target.endpoint + tr(" metrics");
        status.state = SourceStatus::State::Connecting;
        status.detail = tr("reading %1").arg(scrapeOptions.url.toString());
        m_statuses.append(status);
        m_targets.push_back(std::move(target));
    }
}

void DashboardController::onScraped(int index)
{
    ScrapeTarget &target = m_targets[std::size_t(index)];
    target.answeredThisRound = true;
    target.succeededThisRound = true;
    const auto latest = target.scraper->latest();
    // Back after an outage it may be another instance on the same address: ask again.
    const bool wasConnected = m_statuses.value(index).state == SourceStatus::State::Connected;
    setStatus(index, SourceStatus::State::Connected, {}, latest ? latest->wallTimeUtc : QDateTime::currentDateTimeUtc());
    if (!wasConnected || !target.instance)
        requestInstance(index);
    target.everConnected = true;
    const bool complete = std::all_of(m_targets.cbegin(), m_targets.cend(),
                                      [](const ScrapeTarget &each) { return each.answeredThisRound; });
    if (m_roundOpen && complete)
        finishScrapeRound();
}

void DashboardController::onScrapeFailed(int index, const clients::SourceError &error)
{
    if (error.kind == clients::SourceErrorKind::Cancelled)
        return;
    ScrapeTarget &target = m_targets[std::size_t(index)];
    target.answeredThisRound = true;
    if (target.everConnected)
        setStatus(index, SourceStatus::State::Disconnected,
                  tr("%1 — retrying every %2 s").arg(error.message).arg(m_refreshSeconds));
    else
        setStatus(index, SourceStatus::State::Error, error.message);
    const bool complete = std::all_of(m_targets.cbegin(), m_targets.cend(),
                                      [](const ScrapeTarget &each) { return each.answeredThisRound; });
    if (m_roundOpen && complete)
        finishScrapeRound();
}

void DashboardController::requestInstance(int index)
{
    ScrapeTarget &target = m_targets[std::size_t(index)];
    if (target.adminRequest != 0)
        return;
    target.adminRequest =
        target.admin->instance(this, [this, index](Result<clients::AdminInstance, clients::AdminError> result) {
            ScrapeTarget &answered = m_targets[std::size_t(index)];
            answered.adminRequest = 0;
            // Without the admin API (wrong token, older gateway) the row keeps its
            // host:port id; the metrics still flow.
            if (!result)
                return;
            answered.instance = *result;
            if (!answered.row.id.isEmpty()) {
                answered.row.id = answered.instance->id;
                if (answered.row.version.isEmpty())
                    answered.row.version = answered.instance->version;
                if (answered.row.configVersion == 0)
                    answered.row.configVersion = answered.instance->configVersion;
                pushInstanceRows();
            }
        });
}

void DashboardController::finishScrapeRound()
{
    m_roundOpen = false;
    std::vector<clients::DashboardFrame> frames(m_targets.size());
    std::vector<bool> hasFrame(m_targets.size(), false);
    std::vector<clients::DashboardFrame::SnapshotPair> pairs;
    bool anySucceeded = false;
    QDateTime newestWall;
    for (std::size_t i = 0; i < m_targets.size(); ++i) {
        ScrapeTarget &target = m_targets[i];
        if (!target.succeededThisRound) {
            if (target.answeredThisRound)
                updateInstanceRow(target, nullptr);
            continue;
        }
        anySucceeded = true;
        const auto latest = target.scraper->latest();
        const auto previous = target.scraper->previous();
        if (latest && (!newestWall.isValid() || latest->wallTimeUtc > newestWall))
            newestWall = latest->wallTimeUtc;
        if (latest && previous) {
            auto frame = clients::DashboardFrame::between(*previous, *latest);
            if (frame) {
                frames[i] = std::move(*frame);
                hasFrame[i] = true;
                pairs.push_back({previous.get(), latest.get()});
                m_requestsCounted += frames[i].requestsPerSecond * frames[i].intervalSeconds;
                const auto &facts = frames[i].instances;
                const std::optional<qint64> configVersion =
                    facts.empty() ? std::nullopt : facts.front().configVersion;
                const bool restarted = !facts.empty() && facts.front().restarted;
                if (restarted || (target.lastConfigVersion && configVersion != target.lastConfigVersion))
                    requestInstance(int(i));
                target.lastConfigVersion = configVersion;
            }
        }
        updateInstanceRow(target, hasFrame[i] ? &frames[i] : nullptr);
    }
    pushInstanceRows();

    if (!anySucceeded) {
        if (!m_targets.empty()) {
            // Nobody answered: a visible gap instead of a line drawn across the outage.
            const qint64 nowMs = QDateTime::currentMSecsSinceEpoch();
            for (models::TimeSeriesSet *set : m_sets) {
                for (const QString &name : set->names())
                    set->series(name).appendGap(nowMs);
            }
            emit dataUpdated();
        }
        return;
    }
    if (!pairs.empty()) {
        auto aggregate = clients::DashboardFrame::aggregate(pairs);
        if (aggregate) {
            appendFrame(*aggregate);
            applyFigures(*aggregate);
            evaluateAlerts(aggregate->wallTimeUtc.toMSecsSinceEpoch(), *aggregate);
            m_lastFrame = std::move(*aggregate);
            ++m_frameCount;
        }
    }
    markUpdated(newestWall.isValid() ? newestWall : QDateTime::currentDateTimeUtc());
    emit dataUpdated();
}

void DashboardController::updateInstanceRow(ScrapeTarget &target, const clients::DashboardFrame *frame)
{
    models::InstanceRow &row = target.row;
    row.address = target.endpoint;
    row.id = target.instance ? target.instance->id : target.endpoint;
    if (!target.succeededThisRound) {
        // Configured but not answering (never, or not now): listed as down.
        row.state = models::InstanceState::Down;
        row.requestsPerSecond = kNaN;
        row.latencyP95Seconds = kNaN;
        return;
    }
    row.state = models::InstanceState::Up;
    if (target.instance) {
        row.version = target.instance->version;
        row.configVersion = target.instance->configVersion;
        row.uptimeSeconds = target.instance->uptimeSeconds;
    }
    if (!frame) {
        row.requestsPerSecond = kNaN;
        row.latencyP95Seconds = kNaN;
        return;
    }
    row.requestsPerSecond = frame->requestsPerSecond;
    row.latencyP95Seconds = orNaN(frame->requestDuration.p95);
    if (!frame->instances.empty()) {
        const clients::InstanceFacts &facts = frame->instances.front();
        if (!facts.version.isEmpty())
            row.version = facts.version;
        if (facts.uptimeSeconds)
            row.uptimeSeconds = *facts.uptimeSeconds;
        if (facts.configVersion)
            row.configVersion = *facts.configVersion;
    }
}

void DashboardController::pushInstanceRows()
{
    std::vector<models::InstanceRow> rows;
    rows.reserve(m_targets.size());
    for (const ScrapeTarget &target : m_targets) {
        if (!target.row.id.isEmpty())
            rows.push_back(target.row);
    }
    m_instances->setInstances(rows);
}

void DashboardController::appendFrame(const clients::DashboardFrame &frame)
{
    const qint64 t = frame.wallTimeUtc.toMSecsSinceEpoch();
    auto put = [t, this](DashboardChart chart, const QString &name, double value) {
        series(chart)->append(name, t, value);
    };
    for (const auto &[statusClass, perSecond] : frame.requestsPerSecondByClass)
        put(DashboardChart::Requests, statusClass, perSecond);
    put(DashboardChart::Requests, QStringLiteral("all"), frame.requestsPerSecond);

    put(DashboardChart::Latency, QStringLiteral("p50"), orNaN(frame.requestDuration.p50, 1000));
    put(DashboardChart::Latency, QStringLiteral("p95"), orNaN(frame.requestDuration.p95, 1000));
    put(DashboardChart::Latency, QStringLiteral("p99"), orNaN(frame.requestDuration.p99, 1000));
    put(DashboardChart::Latency, QStringLiteral("upstream p95"), orNaN(frame.upstreamDuration.p95, 1000));
    put(DashboardChart::Latency, QStringLiteral("overhead p95"), orNaN(frame.gatewayOverhead.p95, 1000));

    put(DashboardChart::TimeToFirstToken, QStringLiteral("p50"), orNaN(frame.timeToFirstToken.p50, 1000));
    put(DashboardChart::TimeToFirstToken, QStringLiteral("p95"), orNaN(frame.timeToFirstToken.p95, 1000));
    put(DashboardChart::TimeToFirstToken, QStringLiteral("p99"), orNaN(frame.timeToFirstToken.p99, 1000));

    const auto fiveHundreds = frame.requestsPerSecondByClass.find(QStringLiteral("5xx"));
    put(DashboardChart::Errors, QStringLiteral("5xx"),
        fiveHundreds == frame.requestsPerSecondByClass.end() ? 0.0 : fiveHundreds->second);
    put(DashboardChart::Errors, QStringLiteral("own limit 429"), frame.ownLimit429PerSecond);
    put(DashboardChart::Errors, QStringLiteral("provider quota 429"), frame.providerQuota429PerSecond);
    put(DashboardChart::Errors, QStringLiteral("provider 429"), frame.provider429PerSecond);

    put(DashboardChart::Cache, QStringLiteral("hit rate"), orNaN(frame.cacheHitRatio, 100));

    put(DashboardChart::Concurrency, QStringLiteral("in flight"), frame.inFlight);
    put(DashboardChart::Concurrency, QStringLiteral("upstream in flight"), frame.upstreamInFlight);
    if (frame.concurrencyLimit)
        put(DashboardChart::Concurrency, QStringLiteral("limit"), *frame.concurrencyLimit);
    put(DashboardChart::Concurrency, QStringLiteral("queue depth"), frame.queueDepth);

    for (const clients::UpstreamFrame &upstream : frame.upstreams) {
        for (const clients::QuotaFrame &quota : upstream.quotas)
            put(DashboardChart::Quota, upstream.upstream + QLatin1Char(' ') + quota.resource,
                orNaN(quota.percentOfLimit));
    }
    put(DashboardChart::Cost, QStringLiteral("cost"), frame.costUsdPerHour);
}

void DashboardController::applyFigures(const clients::DashboardFrame &frame)
{
    DashboardFigures figures;
    figures.atUtc = frame.wallTimeUtc;
    figures.costUsdPerHour = frame.costUsdPerHour;
    figures.costUsdPerDay = frame.costUsdPerDay;
    figures.costUsdPerMonth = frame.costUsdPerMonth;
    figures.cacheHitRatio = frame.cacheHitRatio;
    figures.cacheSavedTokensPerHour = frame.cacheSavedTokensPerHour;
    figures.cacheSavedUsdPerHour = frame.cacheSavedUsdPerHour;
    figures.inFlight = frame.inFlight;
    figures.concurrencyLimit = frame.concurrencyLimit;
    figures.queueDepth = frame.queueDepth;
    figures.meanQueueWaitSeconds = frame.meanQueueWaitSeconds;
    for (const clients::UpstreamFrame &upstream : frame.upstreams) {
        for (const clients::QuotaFrame &quota : upstream.quotas) {
            DashboardFigures::Quota line;
            line.upstream = upstream.upstream;
            line.resource = quota.resource;
            line.limitPerMinute = quota.limit;
            line.usedPerMinute = quota.usedPerMinute;
            line.percentOfLimit = quota.percentOfLimit;
            line.secondsToExhaustion = quota.secondsToExhaustion;
            figures.quotas.push_back(line);
        }
        if (upstream.breaker)
            figures.breakers.push_back({upstream.upstream, *upstream.breaker});
    }
    m_figures = std::move(figures);
}

void DashboardController::evaluateAlerts(qint64 timeMs, const clients::DashboardFrame &frame)
{
    QHash<QString, double> values;
    if (frame.requestDuration.p95)
        values.insert(QString::fromLatin1(models::kLatencyP95SecondsKey), *frame.requestDuration.p95);
    if (frame.ownLimit429Ratio || frame.providerQuota429Ratio)
        values.insert(QString::fromLatin1(models::kRate429ShareKey),
                      frame.ownLimit429Ratio.value_or(0) + frame.providerQuota429Ratio.value_or(0));
    std::optional<double> quotaPercent;
    for (const clients::UpstreamFrame &upstream : frame.upstreams) {
        for (const clients::QuotaFrame &quota : upstream.quotas) {
            if (quota.percentOfLimit)
                quotaPercent = std::max(quotaPercent.value_or(0), *quota.percentOfLimit);
        }
    }
    if (quotaPercent)
        values.insert(QString::fromLatin1(models::kQuotaUsedShareKey), *quotaPercent / 100.0);
    m_alerts->evaluate(timeMs, values);
}

// --- Prometheus source ----------------------------------------------------------------

void DashboardController::startPrometheusSource(const ActiveDeployment &deployment)
{
    m_kind = SourceKind::Prometheus;
    clients::PrometheusClientOptions options;
    options.baseUrl = deployment.prometheusUrl;
    m_prometheus = std::make_unique<clients::PrometheusClient>(options, m_network);
    SourceStatus status;
    status.id = QStringLiteral("prometheus");
    status.name = tr("Prometheus");
    status.state = SourceStatus::State::Connecting;
    status.detail = tr("querying %1").arg(m_prometheus->endpoint());
    m_statuses.append(status);
}

void DashboardController::promQuery(const QString &promql, bool range, PromHandler handler)
{
    ++m_promOutstanding;
    const quint64 round = m_promRound;
    auto done = [this, round, handler = std::move(handler)](Result<clients::PromQueryResult, clients::SourceError> result) {
        if (round != m_promRound)
            return; // a round that was superseded (range changed, deployment closed)
        if (result) {
            m_promRoundOk = true;
            handler(*result);
        } else if (result.error().kind != clients::SourceErrorKind::Cancelled && m_promRoundError.isEmpty()) {
            m_promRoundError = result.error().message;
        }
        if (--m_promOutstanding == 0)
            finishPrometheusRound();
    };
    const qint64 rangeSeconds = dashboardRangeSeconds(m_range);
    if (range) {
        const double step = clients::PrometheusClient::stepFor(double(rangeSeconds), m_chartWidthPixels);
        m_prometheus->queryRange(promql, m_promRangeEnd.addSecs(-rangeSeconds), m_promRangeEnd, step, this,
                                 std::move(done));
    } else {
        m_prometheus->query(promql, m_promRangeEnd, this, std::move(done));
    }
}

void DashboardController::pollPrometheus()
{
    if (!m_prometheus)
        return;
    // A new round supersedes one still running: its answers (Cancelled, delivered
    // synchronously) are dropped because the round number moved first.
    ++m_promRound;
    m_prometheus->cancelAll();
    m_promOutstanding = 0;
    m_promRoundOk = false;
    m_promRoundError.clear();
    m_promPending.clear();
    m_promFigures = {};
    m_promRows.clear();
    m_promAlertValues.clear();
    m_promRangeEnd = QDateTime::currentDateTimeUtc();

    const clients::PromQueries &q = m_queries;
    auto rangeInto = [this](DashboardChart chart, const QString &promql, const QString &name, double scale = 1.0,
                            const QString &byLabel = {}) {
        promQuery(promql, true, [this, chart, name, scale, byLabel](const clients::PromQueryResult &result) {
            for (const clients::PromSeries &each : result.series) {
                const QString seriesName = byLabel.isEmpty() ? name : (name + each.label(byLabel)).trimmed();
                m_promPending.push_back({chart, seriesName, each.points, scale});
                if (chart == DashboardChart::Requests && byLabel == u"code" && each.label(byLabel) == u"5xx")
                    m_promPending.push_back({DashboardChart::Errors, QStringLiteral("5xx"), each.points, 1.0});
            }
        });
    };
    rangeInto(DashboardChart::Requests, q.requestsPerSecondByClass(), {}, 1.0, QStringLiteral("code"));
    rangeInto(DashboardChart::Requests, q.requestsPerSecond(), QStringLiteral("all"));
    rangeInto(DashboardChart::Latency, q.requestDurationQuantile(0.50), QStringLiteral("p50"), 1000);
    rangeInto(DashboardChart::Latency, q.requestDurationQuantile(0.95), QStringLiteral("p95"), 1000);
    rangeInto(DashboardChart::Latency, q.requestDurationQuantile(0.99), QStringLiteral("p99"), 1000);
    rangeInto(DashboardChart::Latency, q.upstreamDurationQuantile(0.95), QStringLiteral("upstream p95"), 1000);
    rangeInto(DashboardChart::Latency, q.gatewayOverheadQuantile(0.95), QStringLiteral("overhead p95"), 1000);
    rangeInto(DashboardChart::TimeToFirstToken, q.timeToFirstTokenQuantile(0.50), QStringLiteral("p50"), 1000);
    rangeInto(DashboardChart::TimeToFirstToken, q.timeToFirstTokenQuantile(0.95), QStringLiteral("p95"), 1000);
    rangeInto(DashboardChart::TimeToFirstToken, q.timeToFirstTokenQuantile(0.99), QStringLiteral("p99"), 1000);
    rangeInto(DashboardChart::Errors, q.ownLimit429PerSecond(), QStringLiteral("own limit 429"));
    rangeInto(DashboardChart::Errors, q.providerQuota429PerSecond(), QStringLiteral("provider quota 429"));
    rangeInto(DashboardChart::Errors, q.provider429PerSecond(), QStringLiteral("provider 429"));
    rangeInto(DashboardChart::Cache, q.cacheHitRatio(), QStringLiteral("hit rate"), 100);
    rangeInto(DashboardChart::Concurrency, q.inFlight(), QStringLiteral("in flight"));
    rangeInto(DashboardChart::Concurrency, q.upstreamInFlight(), QStringLiteral("upstream in flight"));
    rangeInto(DashboardChart::Concurrency, q.concurrencyLimit(), QStringLiteral("limit"));
    rangeInto(DashboardChart::Concurrency, q.queueDepth(), QStringLiteral("queue depth"));
    rangeInto(DashboardChart::Quota, q.providerRequestQuotaPercentUsed(), {}, 1.0, QStringLiteral("upstream"));
    rangeInto(DashboardChart::Cost, q.costUsdPerHour(), QStringLiteral("cost"));

    auto instant = [this](const QString &promql, std::function<void(const clients::PromQueryResult &)> use) {
        promQuery(promql, false, std::move(use));
    };
    auto scalarInto = [&instant](const QString &promql, std::optional<double> DashboardFigures::*member,
                                 DashboardFigures *figures) {
        instant(promql, [figures, member](const clients::PromQueryResult &result) {
            figures->*member = firstSeriesLast(result);
        });
    };
    DashboardFigures *figures = &m_promFigures;
    scalarInto(q.costUsdPerHour(), &DashboardFigures::costUsdPerHour, figures);
    scalarInto(q.costUsdPerDay(), &DashboardFigures::costUsdPerDay, figures);
    scalarInto(q.costUsdPerMonth(), &DashboardFigures::costUsdPerMonth, figures);
    scalarInto(q.cacheHitRatio(), &DashboardFigures::cacheHitRatio, figures);
    scalarInto(q.cacheSavedTokensPerHour(), &DashboardFigures::cacheSavedTokensPerHour, figures);
    scalarInto(q.cacheSavedUsdPerHour(), &DashboardFigures::cacheSavedUsdPerHour, figures);
    scalarInto(q.inFlight(), &DashboardFigures::inFlight, figures);
    scalarInto(q.concurrencyLimit(), &DashboardFigures::concurrencyLimit, figures);
    scalarInto(q.queueDepth(), &DashboardFigures::queueDepth, figures);
    scalarInto(q.meanQueueWaitSeconds(), &DashboardFigures::meanQueueWaitSeconds, figures);

    auto quotaLine = [this](const QString &upstream, const QString &resource) -> DashboardFigures::Quota & {
        for (DashboardFigures::Quota &line : m_promFigures.quotas) {
            if (line.upstream == upstream && line.resource == resource)
                return line;
        }
        DashboardFigures::Quota line;
        line.upstream = upstream;
        line.resource = resource;
        m_promFigures.quotas.push_back(line);
        return m_promFigures.quotas.back();
    };
    instant(q.providerQuotaLimit(), [quotaLine](const clients::PromQueryResult &result) {
        for (const clients::PromSeries &each : result.series)
            quotaLine(each.label(QStringLiteral("upstream")), each.label(QStringLiteral("resource"))).limitPerMinute =
                lastFinite(each.points);
    });
    instant(q.upstreamRequestsPerMinute(), [quotaLine](const clients::PromQueryResult &result) {
        for (const clients::PromSeries &each : result.series)
            quotaLine(each.label(QStringLiteral("upstream")), QStringLiteral("requests")).usedPerMinute =
                lastFinite(each.points);
    });
    instant(q.providerRequestQuotaPercentUsed(), [quotaLine](const clients::PromQueryResult &result) {
        for (const clients::PromSeries &each : result.series)
            quotaLine(each.label(QStringLiteral("upstream")), QStringLiteral("requests")).percentOfLimit =
                lastFinite(each.points);
    });
    instant(q.providerRequestQuotaSecondsToExhaustion(), [quotaLine](const clients::PromQueryResult &result) {
        for (const clients::PromSeries &each : result.series)
            quotaLine(each.label(QStringLiteral("upstream")), QStringLiteral("requests")).secondsToExhaustion =
                lastFinite(each.points);
    });
    instant(q.breakerState(), [this](const clients::PromQueryResult &result) {
        for (const clients::PromSeries &each : result.series) {
            const auto value = lastFinite(each.points);
            if (!value)
                continue;
            const auto state = *value >= 2 ? clients::BreakerState::Open
                               : *value >= 1 ? clients::BreakerState::HalfOpen
                                             : clients::BreakerState::Closed;
            m_promFigures.breakers.push_back({each.label(QStringLiteral("upstream")), state});
        }
    });
    instant(q.requestDurationQuantile(0.95), [this](const clients::PromQueryResult &result) {
        if (const auto value = firstSeriesLast(result))
            m_promAlertValues.insert(QString::fromLatin1(models::kLatencyP95SecondsKey), *value);
    });
    instant(QStringLiteral("(%1) + (%2)").arg(q.ownLimit429Ratio(), q.providerQuota429Ratio()),
            [this](const clients::PromQueryResult &result) {
                if (const auto value = firstSeriesLast(result))
                    m_promAlertValues.insert(QString::fromLatin1(models::kRate429ShareKey), *value);
            });

    auto rowFor = [this](const QString &instance) -> models::InstanceRow & {
        for (models::InstanceRow &row : m_promRows) {
            if (row.id == instance)
                return row;
        }
        models::InstanceRow row;
        row.id = instance;
        row.address = instance;
        m_promRows.push_back(row);
        return m_promRows.back();
    };
    instant(q.buildInfoByInstance(), [rowFor](const clients::PromQueryResult &result) {
        for (const clients::PromSeries &each : result.series)
            rowFor(each.label(QStringLiteral("instance"))).version = each.label(QStringLiteral("version"));
    });
    instant(q.uptimeSecondsByInstance(), [rowFor](const clients::PromQueryResult &result) {
        for (const clients::PromSeries &each : result.series)
            rowFor(each.label(QStringLiteral("instance"))).uptimeSeconds = lastFinite(each.points).value_or(kNaN);
    });
    instant(q.configVersionByInstance(), [rowFor](const clients::PromQueryResult &result) {
        for (const clients::PromSeries &each : result.series)
            rowFor(each.label(QStringLiteral("instance"))).configVersion =
                qint64(std::llround(lastFinite(each.points).value_or(0)));
    });
}

void DashboardController::finishPrometheusRound()
{
    if (!m_promRoundOk) {
        const QString message = m_promRoundError.isEmpty() ? tr("no answer") : m_promRoundError;
        if (m_promEverConnected)
            setStatus(0, SourceStatus::State::Disconnected,
                      tr("%1 — retrying every %2 s").arg(message).arg(m_refreshSeconds));
        else
            setStatus(0, SourceStatus::State::Error, message);
        return;
    }
    m_promEverConnected = true;
    setStatus(0, SourceStatus::State::Connected, m_promRoundError, QDateTime::currentDateTimeUtc());

    for (models::TimeSeriesSet *set : m_sets)
        set->clearData();
    for (const PendingSeries &pending : m_promPending) {
        models::TimeSeriesSet *set = series(pending.chart);
        models::TimeSeriesBuffer &buffer = set->series(pending.name);
        for (const clients::PromPoint &point : pending.points) {
            const qint64 timeMs = qint64(std::llround(point.timestampSeconds * 1000.0));
            if (std::isfinite(point.value))
                buffer.append(timeMs, point.value * pending.scale);
            else
                buffer.appendGap(timeMs);
        }
    }
    m_promPending.clear();

    // Quotas a provider reported but that saw no use are still shown, with what is known.
    m_promFigures.atUtc = m_promRangeEnd;
    std::sort(m_promFigures.quotas.begin(), m_promFigures.quotas.end(),
              [](const auto &a, const auto &b) { return std::tie(a.upstream, a.resource) < std::tie(b.upstream, b.resource); });
    std::sort(m_promFigures.breakers.begin(), m_promFigures.breakers.end(),
              [](const auto &a, const auto &b) { return a.upstream < b.upstream; });
    m_figures = m_promFigures;
    std::optional<double> quotaPercent;
    for (const DashboardFigures::Quota &quota : m_figures.quotas) {
        if (quota.percentOfLimit)
            quotaPercent = std::max(quotaPercent.value_or(0), *quota.percentOfLimit);
    }
    if (quotaPercent)
        m_promAlertValues.insert(QString::fromLatin1(models::kQuotaUsedShareKey), *quotaPercent / 100.0);
    m_alerts->evaluate(m_promRangeEnd.toMSecsSinceEpoch(), m_promAlertValues);
    m_instances->setInstances(m_promRows);
    ++m_frameCount;
    markUpdated(m_promRangeEnd);
    emit dataUpdated();
}

} // namespace sluice::ui
