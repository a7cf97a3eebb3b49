#pragma once

#include "activedeployment.h"
#include "dashboard/dashboardcontroller.h"
#include "statusbar/sourcestatus.h"

#include <QDialog>
#include <QPointer>
#include <QTimer>
#include <QWidget>

#include <array>

class QCheckBox;
class QComboBox;
class QGridLayout;
class QLabel;
class QPushButton;
class QScrollArea;
class QSpinBox;
class QSystemTrayIcon;
class QTableView;
class QVBoxLayout;

namespace sluice::ui {

class ChartFrameClock;
class EmptyState;
class TimeSeriesChart;

// Live throughput, latency percentiles, cache hit rate, quota use, cost, breakers and
// the instances of the active deployment; the data comes from a DashboardController.
//
// Without a deployment it shows only an EmptyState (no buttons, no numbers); the live
// content is built at the first setDeployment() and hidden again by clearDeployment().
// Toolbar: time range (Prometheus source) or refresh interval 1–30 s (scrape source),
// Pause, Refresh, "updated N s ago" (a red "stale" marker once older than 3 × the
// refresh interval), Alerts… (the rule editor, a non-modal dialog) and Mute alerts.
// Eight TimeSeriesCharts sharing one ChartFrameClock, labels for the values that are
// not lines (cache savings, queue wait, quota use and time to exhaustion, cost per
// day/month, breaker states), the per-instance table (a differing config version is
// highlighted by the model), and room for store tiles (setStoreTiles()).
//
// Alert notifications go to a QSystemTrayIcon message where a system tray exists,
// otherwise to a banner at the top of the panel.
//
// MainWindow wiring (the panel does not look for its window):
//   liveUpdatesPausedChanged(bool)  → setLiveUpdatesPaused(bool)
//   liveViewVisibilityChanged(bool) → setLiveViewVisible(bool)  (and once with
//                                     liveViewVisible() at start: the panel assumes visible)
//   refreshRequested()              → refreshNow()
//   Theme::darkChanged(bool)        → setDark(bool)  (palette changes are also followed)
//   pauseToggled(bool)              → MainWindow::setLiveUpdatesPaused(bool)
//   sourceStatusChanged(status)     → ConsoleStatusBar::updateSource(status)
//
// objectName: "dashboardPanel". Thread affinity: GUI thread.
class DashboardPanel : public QWidget {
    Q_OBJECT
public:
    explicit DashboardPanel(QWidget *parent = nullptr);
    ~DashboardPanel() override;

    EmptyState *emptyState() const { return m_emptyState; }

    void setDeployment(const ActiveDeployment &deployment);
    void clearDeployment();
    bool hasDeployment() const { return m_controller->hasDeployment(); }

    // Places `tiles` (Redis/PostgreSQL tiles) under the charts; the panel takes
    // ownership. A second call replaces (and deletes) the previous widget; nullptr removes.
    void setStoreTiles(QWidget *tiles);
    QWidget *storeTiles() const { return m_storeTiles; }

    DashboardController *controller() const { return m_controller; }
    // nullptr before the first deployment.
    TimeSeriesChart *chart(DashboardChart chart) const { return m_charts[std::size_t(chart)]; }
    QTableView *instanceTable() const { return m_instanceTable; }
    QLabel *alertBanner() const { return m_alertBanner; }
    QDialog *alertsDialog() const { return m_alertsDialog; }
    ChartFrameClock *frameClock() const { return m_frameClock; }

    // What the "updated" label says now, and whether it is the stale marker.
    QString updatedText() const;
    bool isStale() const { return m_stale; }
    // The last alert notification shown (tray or banner); empty before any.
    QString lastAlertText() const { return m_lastAlertText; }

    // Opens the alert rule editor (non-modal).
    void showAlertsDialog();

public slots:
    void setLiveUpdatesPaused(bool paused);
    void setLiveViewVisible(bool visible);
    void refreshNow();
    void setDark(bool dark);

signals:
    // The state of each source of the deployment (for ConsoleStatusBar::updateSource).
    void sourceStatusChanged(const sluice::ui::SourceStatus &status);
    // The Pause button was clicked: what the live-updates state should become.
    void pauseToggled(bool paused);

protected:
    void changeEvent(QEvent *event) override;
    void showEvent(QShowEvent *event) override;
    void hideEvent(QHideEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;

private:
    void buildContent();
    void refreshFigures();
    void refreshAgeLabel();
    void updateAgeTimer();
    void showAlert(const models::AlertTransition &transition);
    void applySourceKind();

    DashboardController *m_controller = nullptr;
    ChartFrameClock *m_frameClock = nullptr;
    EmptyState *m_emptyState = nullptr;
    QVBoxLayout *m_layout = nullptr;
    QWidget *m_content = nullptr;
    QScrollArea *m_scroll = nullptr;

    QLabel *m_sourceLabel = nullptr;
    QComboBox *m_rangeCombo = nullptr;
    QSpinBox *m_refreshSpin = nullptr;
    QPushButton *m_pauseButton = nullptr;
    QPushButton *m_refreshButton = nullptr;
    QLabel *m_updatedLabel = nullptr;
    QPushButton *m_alertsButton = nullptr;
    QPushButton *m_muteButton = nullptr;
    QLabel *m_alertBanner = nullptr;

    std::array<TimeSeriesChart *, kDashboardChartCount> m_charts{};
    QLabel *m_cacheLabel = nullptr;
    QLabel *m_queueLabel = nullptr;
    QLabel *m_quotaLabel = nullptr;
    QLabel *m_costLabel = nullptr;
    QLabel *m_breakerLabel = nullptr;
    QTableView *m_instanceTable = nullptr;
    QVBoxLayout *m_storeLayout = nullptr;
    QPointer<QWidget> m_storeTiles;
    QPointer<QDialog> m_alertsDialog;
    QSystemTrayIcon *m_tray = nullptr;

    QTimer m_ageTimer;
    bool m_stale = false;
    bool m_dark = false;
    QString m_lastAlertText;
};

} // namespace sluice::ui
