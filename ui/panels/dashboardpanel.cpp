#include "panels/dashboardpanel.h"

#include "charts/chartframeclock.h"
#include "charts/timeserieschart.h"
#include "panels/emptystate.h"
#include "theme.h"

#include <QApplication>
#include <QComboBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QEvent>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QScrollArea>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QStyle>
#include <QSystemTrayIcon>
#include <QTableView>
#include <QVBoxLayout>

#include <cmath>

namespace sluice::ui {

namespace {

QString money(double usd)
{
    return usd >= 100 ? QStringLiteral("$%1").arg(usd, 0, 'f', 0) : QStringLiteral("$%1").arg(usd, 0, 'f', 2);
}

QString countText(double value)
{
    if (std::abs(value) >= 1e6)
        return QStringLiteral("%1 M").arg(value / 1e6, 0, 'f', 1);
    if (std::abs(value) >= 1e4)
        return QStringLiteral("%1 k").arg(value / 1e3, 0, 'f', 1);
    return QString::number(value, 'f', value == std::floor(value) ? 0 : 1);
}

QString orDash(const std::optional<double> &value, const std::function<QString(double)> &format)
{
    return value ? format(*value) : QStringLiteral("–");
}

QString breakerText(clients::BreakerState state)
{
    switch (state) {
    case clients::BreakerState::Closed:
        return QStringLiteral("closed");
    case clients::BreakerState::HalfOpen:
        return QStringLiteral("half-open");
    case clients::BreakerState::Open:
        return QStringLiteral("open");
    }
    return {};
}

Theme::Tone breakerTone(clients::BreakerState state)
{
    switch (state) {
    case clients::BreakerState::Closed:
        return Theme::Tone::Good;
    case clients::BreakerState::HalfOpen:
        return Theme::Tone::Pending;
    case clients::BreakerState::Open:
        return Theme::Tone::Bad;
    }
    return Theme::Tone::Idle;
}

QLabel *figureLabel(const QString &objectName, QWidget *parent)
{
    auto *label = new QLabel(parent);
    label->setObjectName(objectName);
    label->setWordWrap(true);
    label->setTextFormat(Qt::RichText);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    return label;
}

} // namespace

DashboardPanel::DashboardPanel(QWidget *parent)
    : QWidget(parent),
      m_controller(new DashboardController(nullptr, this)),
      m_frameClock(new ChartFrameClock(this)),
      m_emptyState(new EmptyState(tr("No live data yet"),
                                  tr("Connect a deployment with a Prometheus URL or gateway admin URLs to see live charts."),
                                  this))
{
    setObjectName(QStringLiteral("dashboardPanel"));
    m_dark = Theme::isDarkPalette(palette());
    m_layout = new QVBoxLayout(this);
    m_layout->addWidget(m_emptyState);

    m_ageTimer.setInterval(1000);
    m_ageTimer.setTimerType(Qt::CoarseTimer);
    connect(&m_ageTimer, &QTimer::timeout, this, &DashboardPanel::refreshAgeLabel);

    connect(m_controller, &DashboardController::sourceStatusChanged, this, &DashboardPanel::sourceStatusChanged);
    connect(m_controller, &DashboardController::dataUpdated, this, [this] {
        for (TimeSeriesChart *chart : m_charts) {
            if (chart)
                chart->markDirty();
        }
        refreshFigures();
        refreshAgeLabel();
    });
    connect(m_controller, &DashboardController::pollingChanged, this, [this] { updateAgeTimer(); });
    connect(m_controller, &DashboardController::alertNotification, this, &DashboardPanel::showAlert);
}

DashboardPanel::~DashboardPanel() = default;

void DashboardPanel::buildContent()
{
    if (m_content)
        return;
    m_content = new QWidget(this);
    m_content->setObjectName(QStringLiteral("dashboardContent"));
    auto *contentLayout = new QVBoxLayout(m_content);
    contentLayout->setContentsMargins(0, 0, 0, 0);

    auto *toolbar = new QHBoxLayout;
    m_sourceLabel = new QLabel(m_content);
    m_sourceLabel->setObjectName(QStringLiteral("sourceLabel"));
    toolbar->addWidget(m_sourceLabel);
    m_rangeCombo = new QComboBox(m_content);
    m_rangeCombo->setObjectName(QStringLiteral("timeRangeCombo"));
    m_rangeCombo->setToolTip(tr("Time range (Prometheus)"));
    for (DashboardRange range : {DashboardRange::Minutes5, DashboardRange::Minutes15, DashboardRange::Hour1,
                                 DashboardRange::Hours6, DashboardRange::Hours24, DashboardRange::Days7})
        m_rangeCombo->addItem(dashboardRangeText(range), int(range));
    m_rangeCombo->setCurrentIndex(int(DashboardRange::Minutes15));
    connect(m_rangeCombo, &QComboBox::currentIndexChanged, this, [this] {
        const auto range = DashboardRange(m_rangeCombo->currentData().toInt());
        for (TimeSeriesChart *chart : m_charts)
            chart->setSpanMs(dashboardRangeSeconds(range) * 1000);
        m_controller->setTimeRange(range);
    });
    toolbar->addWidget(m_rangeCombo);
    m_refreshSpin = new QSpinBox(m_content);
    m_refreshSpin->setObjectName(QStringLiteral("refreshIntervalSpin"));
    m_refreshSpin->setRange(1, 30);
    m_refreshSpin->setPrefix(tr("every "));
    m_refreshSpin->setSuffix(tr(" s"));
    m_refreshSpin->setToolTip(tr("Refresh interval of the direct /metrics scrape"));
    connect(m_refreshSpin, &QSpinBox::valueChanged, this, [this](int seconds) {
        m_controller->setRefreshIntervalSeconds(seconds);
        refreshAgeLabel();
    });
    toolbar->addWidget(m_refreshSpin);
    m_pauseButton = new QPushButton(tr("Pause"), m_content);
    m_pauseButton->setObjectName(QStringLiteral("pauseButton"));
    m_pauseButton->setCheckable(true);
    m_pauseButton->setToolTip(tr("Pause or resume live updates (Ctrl+P)"));
    connect(m_pauseButton, &QPushButton::clicked, this, [this](bool paused) {
        setLiveUpdatesPaused(paused);
        emit pauseToggled(paused);
    });
    toolbar->addWidget(m_pauseButton);
    m_refreshButton = new QPushButton(tr("Refresh"), m_content);
    m_refreshButton->setObjectName(QStringLiteral("refreshButton"));
    m_refreshButton->setToolTip(tr("Fetch once now (F5)"));
    connect(m_refreshButton, &QPushButton::clicked, this, &DashboardPanel::refreshNow);
    toolbar->addWidget(m_refreshButton);
    m_updatedLabel = new QLabel(m_content);
    m_updatedLabel->setObjectName(QStringLiteral("updatedLabel"));
    m_updatedLabel->setMargin(2);
    toolbar->addWidget(m_updatedLabel);
    toolbar->addStretch(1);
    m_alertsButton = new QPushButton(tr("Alerts…"), m_content);
    m_alertsButton->setObjectName(QStringLiteral("alertsButton"));
    connect(m_alertsButton, &QPushButton::clicked, this, &DashboardPanel::showAlertsDialog);
    toolbar->addWidget(m_alertsButton);
    m_muteButton = new QPushButton(tr("Mute alerts"), m_content);
    m_muteButton->setObjectName(QStringLiteral("muteAlertsButton"));
    m_muteButton->setCheckable(true);
    connect(m_muteButton, &QPushButton::toggled, this, [this](bool muted) {
        m_controller->setAlertsMuted(muted);
        if (muted)
            m_alertBanner->hide();
    });
    toolbar->addWidget(m_muteButton);
    contentLayout->addLayout(toolbar);

    m_alertBanner = new QLabel(m_content);
    m_alertBanner->setObjectName(QStringLiteral("alertBanner"));
    m_alertBanner->setWordWrap(true);
    m_alertBanner->setMargin(6);
    m_alertBanner->hide();
    contentLayout->addWidget(m_alertBanner);

    m_scroll = new QScrollArea(m_content);
    m_scroll->setWidgetResizable(true);
    m_scroll->setFrameShape(QFrame::NoFrame);
    auto *inner = new QWidget(m_scroll);
    auto *grid = new QGridLayout(inner);
    grid->setContentsMargins(0, 0, 0, 0);

    m_cacheLabel = figureLabel(QStringLiteral("cacheSavingsLabel"), inner);
    m_queueLabel = figureLabel(QStringLiteral("queueLabel"), inner);
    m_quotaLabel = figureLabel(QStringLiteral("quotaLabel"), inner);
    m_costLabel = figureLabel(QStringLiteral("costProjectionLabel"), inner);
    m_breakerLabel = figureLabel(QStringLiteral("breakerLabel"), inner);
    for (int index = 0; index < kDashboardChartCount; ++index) {
        const auto which = DashboardChart(index);
        auto *cell = new QWidget(inner);
        auto *cellLayout = new QVBoxLayout(cell);
        cellLayout->setContentsMargins(0, 0, 0, 0);
        auto *chart = new TimeSeriesChart(m_controller->series(which), m_frameClock, cell);
        chart->setObjectName(QStringLiteral("chart%1").arg(index));
        chart->setTitle(dashboardChartTitle(which));
        chart->setValueUnit(dashboardChartUnit(which));
        chart->setMinimumHeight(280);
        chart->setDark(m_dark);
        m_charts[std::size_t(index)] = chart;
        cellLayout->addWidget(chart, 1);
        if (which == DashboardChart::Cache)
            cellLayout->addWidget(m_cacheLabel);
        else if (which == DashboardChart::Concurrency)
            cellLayout->addWidget(m_queueLabel);
        else if (which == DashboardChart::Quota)
            cellLayout->addWidget(m_quotaLabel);
        else if (which == DashboardChart::Cost)
            cellLayout->addWidget(m_costLabel);
        grid->addWidget(cell, index / 2, index % 2);
    }
    const int nextRow = kDashboardChartCount / 2;
    grid->addWidget(m_breakerLabel, nextRow, 0, 1, 2);

    m_instanceTable = new QTableView(inner);
    m_instanceTable->setObjectName(QStringLiteral("instanceTable"));
    m_instanceTable->setModel(m_controller->instanceModel());
    m_instanceTable->verticalHeader()->hide();
    m_instanceTable->horizontalHeader()->setStretchLastSection(true);
    m_instanceTable->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_instanceTable->setMinimumHeight(120);
    grid->addWidget(m_instanceTable, nextRow + 1, 0, 1, 2);

    m_storeLayout = new QVBoxLayout;
    grid->addLayout(m_storeLayout, nextRow + 2, 0, 1, 2);
    if (m_storeTiles) {
        m_storeTiles->setParent(inner);
        m_storeLayout->addWidget(m_storeTiles);
        m_storeTiles->show();
    }
    m_scroll->setWidget(inner);
    contentLayout->addWidget(m_scroll, 1);
    m_layout->addWidget(m_content);
    refreshFigures();
}

void DashboardPanel::setDeployment(const ActiveDeployment &deployment)
{
    buildContent();
    m_emptyState->hide();
    m_content->show();
    m_controller->setDeployment(deployment);
    {
        const QSignalBlocker blocker(m_refreshSpin);
        m_refreshSpin->setValue(m_controller->refreshIntervalSeconds());
    }
    applySourceKind();
    m_alertBanner->hide();
    refreshFigures();
    refreshAgeLabel();
    updateAgeTimer();
}

void DashboardPanel::clearDeployment()
{
    m_controller->clearDeployment();
    if (m_content)
        m_content->hide();
    m_emptyState->show();
    updateAgeTimer();
}

void DashboardPanel::applySourceKind()
{
    const bool prometheus = m_controller->sourceKind() == DashboardController::SourceKind::Prometheus;
    m_rangeCombo->setVisible(prometheus);
    m_refreshSpin->setVisible(!prometheus);
    m_sourceLabel->setText(prometheus ? tr("Prometheus") : tr("Direct /metrics"));
    const qint64 spanMs = prometheus ? dashboardRangeSeconds(m_controller->timeRange()) * 1000
                                     : TimeSeriesChart::defaultSpanMs;
    for (TimeSeriesChart *chart : m_charts) {
        chart->resetZoom();
        chart->setSpanMs(spanMs);
    }
}

void DashboardPanel::setStoreTiles(QWidget *tiles)
{
    if (m_storeTiles == tiles)
        return;
    delete m_storeTiles.data();
    m_storeTiles = tiles;
    if (!tiles)
        return;
    if (m_storeLayout) {
        m_storeLayout->addWidget(tiles);
        tiles->show();
    } else {
        // Placed when the live content is built (first deployment).
        tiles->setParent(this);
        tiles->hide();
    }
}

void DashboardPanel::setLiveUpdatesPaused(bool paused)
{
    m_controller->setPaused(paused);
    if (m_pauseButton) {
        const QSignalBlocker blocker(m_pauseButton);
        m_pauseButton->setChecked(paused);
        m_pauseButton->setText(paused ? tr("Resume") : tr("Pause"));
    }
    refreshAgeLabel();
}

void DashboardPanel::setLiveViewVisible(bool visible)
{
    m_controller->setLiveViewVisible(visible);
    updateAgeTimer();
}

void DashboardPanel::refreshNow()
{
    m_controller->refreshNow();
}

void DashboardPanel::setDark(bool dark)
{
    m_dark = dark;
    for (TimeSeriesChart *chart : m_charts) {
        if (chart)
            chart->setDark(dark);
    }
    refreshFigures();
    refreshAgeLabel();
}

void DashboardPanel::changeEvent(QEvent *event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange && Theme::isDarkPalette(palette()) != m_dark)
        setDark(Theme::isDarkPalette(palette()));
}

void DashboardPanel::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    updateAgeTimer();
    refreshAgeLabel();
}

void DashboardPanel::hideEvent(QHideEvent *event)
{
    QWidget::hideEvent(event);
    updateAgeTimer();
}

void DashboardPanel::resizeEvent(QResizeEvent *event)
{
    QWidget::resizeEvent(event);
    if (m_charts[0])
        m_controller->setChartWidthPixels(m_charts[0]->plotWidthPixels());
}

void DashboardPanel::updateAgeTimer()
{
    // The age label only needs a tick while someone can see it change.
    const bool needed = isVisible() && m_controller->hasDeployment();
    if (needed && !m_ageTimer.isActive())
        m_ageTimer.start();
    else if (!needed)
        m_ageTimer.stop();
}

QString DashboardPanel::updatedText() const
{
    return m_updatedLabel ? m_updatedLabel->text() : QString();
}

void DashboardPanel::refreshAgeLabel()
{
    if (!m_updatedLabel)
        return;
    const QDateTime updatedAt = m_controller->updatedAt();
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const qint64 ageSeconds = updatedAt.isValid() ? updatedAt.secsTo(now) : -1;
    const bool prometheus = m_controller->sourceKind() == DashboardController::SourceKind::Prometheus;
    const int intervalSeconds = m_controller->refreshIntervalSeconds();
    m_stale = m_controller->hasDeployment() && updatedAt.isValid() && ageSeconds > 3 * intervalSeconds;
    QString text = updatedAt.isValid() ? tr("updated %1").arg(formatUpdateAge(updatedAt, now))
                                       : tr("waiting for data");
    if (m_stale)
        text = tr("STALE — %1").arg(text);
    if (m_controller->isPaused())
        text += tr(" (paused)");
    m_updatedLabel->setText(text);
    m_updatedLabel->setProperty("stale", m_stale);
    if (m_stale) {
        const QColor bad = Theme::toneColor(Theme::Tone::Bad, m_dark);
        m_updatedLabel->setStyleSheet(
            QStringLiteral("QLabel { background: %1; color: white; border-radius: 3px; font-weight: bold; }").arg(bad.name()));
    } else {
        m_updatedLabel->setStyleSheet({});
    }
    m_updatedLabel->setToolTip(prometheus ? tr("Prometheus range queries, re-run every %1 s").arg(intervalSeconds)
                                          : tr("Direct /metrics scrape every %1 s").arg(intervalSeconds));
}

void DashboardPanel::refreshFigures()
{
    if (!m_cacheLabel)
        return;
    const DashboardFigures &f = m_controller->figures();
    auto percent = [](double share) { return QStringLiteral("%1 %").arg(share * 100, 0, 'f', 1); };
    m_cacheLabel->setText(tr("Hit rate %1 · saved %2 tokens/h · %3/h")
                              .arg(orDash(f.cacheHitRatio, percent), orDash(f.cacheSavedTokensPerHour, countText),
                                   orDash(f.cacheSavedUsdPerHour, money)));
    m_queueLabel->setText(tr("In flight %1 of limit %2 · queue %3 · mean wait %4")
                              .arg(orDash(f.inFlight, countText), orDash(f.concurrencyLimit, countText),
                                   orDash(f.queueDepth, countText),
                                   orDash(f.meanQueueWaitSeconds, [](double seconds) {
                                       return models::InstanceTableModel::formatLatency(seconds);
                                   })));
    QStringList quotaLines;
    for (const DashboardFigures::Quota &quota : f.quotas) {
        QString line = QStringLiteral("<b>%1 %2</b>: %3/min of %4/min (%5)")
                           .arg(quota.upstream.toHtmlEscaped(), quota.resource.toHtmlEscaped(),
                                orDash(quota.usedPerMinute, countText), orDash(quota.limitPerMinute, countText),
                                orDash(quota.percentOfLimit,
                                       [](double value) { return QStringLiteral("%1 %").arg(value, 0, 'f', 0); }));
        if (quota.secondsToExhaustion)
            line += tr(" — exhausted in %1").arg(models::InstanceTableModel::formatUptime(*quota.secondsToExhaustion));
        quotaLines << line;
    }
    m_quotaLabel->setText(quotaLines.isEmpty() ? tr("No provider has reported a quota yet.")
                                               : quotaLines.join(QStringLiteral("<br>")));
    m_costLabel->setText(tr("%1/h · projected %2/day · %3/month")
                             .arg(orDash(f.costUsdPerHour, money), orDash(f.costUsdPerDay, money),
                                  orDash(f.costUsdPerMonth, money)));
    QStringList breakers;
    for (const DashboardFigures::Breaker &breaker : f.breakers)
        breakers << QStringLiteral("<span style=\"color:%1\">●</span> %2 %3")
                        .arg(Theme::toneColor(breakerTone(breaker.state), m_dark).name(),
                             breaker.upstream.toHtmlEscaped(), breakerText(breaker.state));
    m_breakerLabel->setText(tr("Breakers: %1").arg(breakers.isEmpty() ? tr("none reported")
                                                                       : breakers.join(QStringLiteral(" &nbsp; "))));
}

void DashboardPanel::showAlert(const models::AlertTransition &transition)
{
    m_lastAlertText = transition.text();
    if (QSystemTrayIcon::isSystemTrayAvailable()) {
        if (!m_tray) {
            m_tray = new QSystemTrayIcon(this);
            QIcon icon = window()->windowIcon();
            if (icon.isNull())
                icon = style()->standardIcon(QStyle::SP_MessageBoxWarning);
            m_tray->setIcon(icon);
            m_tray->setToolTip(tr("Sluice alerts"));
        }
        m_tray->show();
        m_tray->showMessage(tr("Sluice alert"), m_lastAlertText,
                            transition.kind == models::AlertTransition::Kind::Firing ? QSystemTrayIcon::Warning
                                                                                      : QSystemTrayIcon::Information);
        return;
    }
    if (!m_alertBanner)
        return;
    const bool firing = transition.kind == models::AlertTransition::Kind::Firing;
    const QColor background = Theme::toneColor(firing ? Theme::Tone::Bad : Theme::Tone::Good, m_dark);
    m_alertBanner->setStyleSheet(
        QStringLiteral("QLabel { background: %1; color: white; border-radius: 3px; }").arg(background.name()));
    m_alertBanner->setText(m_lastAlertText);
    m_alertBanner->show();
}

void DashboardPanel::showAlertsDialog()
{
    if (!m_alertsDialog) {
        auto *dialog = new QDialog(this);
        dialog->setObjectName(QStringLiteral("alertsDialog"));
        dialog->setWindowTitle(tr("Threshold alerts"));
        auto *layout = new QVBoxLayout(dialog);
        auto *help = new QLabel(tr("Values: latency_p95_seconds (seconds), rate_429_share and quota_used_share "
                                   "(shares, 0.01 = 1 %). A rule fires once its condition has held for its "
                                   "\"for\" seconds."),
                                dialog);
        help->setWordWrap(true);
        layout->addWidget(help);
        auto *table = new QTableView(dialog);
        table->setObjectName(QStringLiteral("alertRuleTable"));
        table->setModel(m_controller->alertRuleModel());
        table->horizontalHeader()->setStretchLastSection(true);
        table->verticalHeader()->hide();
        layout->addWidget(table);
        auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, dialog);
        QPushButton *add = buttons->addButton(tr("Add rule"), QDialogButtonBox::ActionRole);
        QPushButton *remove = buttons->addButton(tr("Remove rule"), QDialogButtonBox::ActionRole);
        connect(add, &QPushButton::clicked, this, [this] {
            models::AlertRuleModel *model = m_controller->alertRuleModel();
            model->insertRows(model->rowCount(), 1);
        });
        connect(remove, &QPushButton::clicked, this, [this, table] {
            const QModelIndex current = table->currentIndex();
            if (current.isValid())
                m_controller->alertRuleModel()->removeRows(current.row(), 1);
        });
        connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::close);
        dialog->resize(640, 300);
        m_alertsDialog = dialog;
    }
    m_alertsDialog->show();
    m_alertsDialog->raise();
}

} // namespace sluice::ui
