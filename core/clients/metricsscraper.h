#pragma once

#include "clients/httpsource.h"
#include "clients/scrapesnapshot.h"
#include "clients/sourceerror.h"

#include <QObject>
#include <QTimer>
#include <QUrl>

#include <memory>

class QNetworkAccessManager;

namespace sluice::clients {

struct MetricsScraperOptions {
    // The metrics page. A URL without a path (or "/") gets "/metrics", which every
    // gateway serves on its client listener and on its admin listener.
    QUrl url;
    // Optional `Authorization: Bearer` token (a /metrics behind an authenticating proxy).
    QByteArray bearerToken;
    // One scrape, request to complete answer.
    int timeoutMs = 5'000;
    // The instance name snapshots carry; empty: "host:port" of the URL.
    QString instance;
};

// Reads one gateway's /metrics, parses it (metrics::parseExposition) and keeps the
// latest two successful snapshots, stamped with steady and wall time, for
// DashboardFrame. A failed scrape leaves them as they were, so the next success is
// compared with the last one (over the real, longer interval).
//
// Errors: transport errors as HttpSource reports them; 401/403 AuthenticationFailed;
// another non-2xx HttpStatus; a 2xx whose body is not Prometheus text WrongProtocol.
//
// Thread affinity: create, use and destroy on one thread with an event loop (the GUI
// thread); nothing blocks it. Signals are emitted on that thread, scrapeFailed() with
// Cancelled from inside cancel().
class MetricsScraper : public QObject {
    Q_OBJECT
public:
    explicit MetricsScraper(MetricsScraperOptions options, QNetworkAccessManager *network = nullptr,
                            QObject *parent = nullptr);
    ~MetricsScraper() override;

    // Starts one scrape; returns false, and does nothing, while one is in flight.
    bool scrape();
    // Cancels the scrape in flight (scrapeFailed(Cancelled) is emitted before this
    // returns); false if none was.
    bool cancel();
    bool isScraping() const { return m_requestId != 0; }

    // Scrapes now and then every `intervalMs` (at least 100); a tick that finds the
    // previous scrape still in flight is skipped.
    void start(int intervalMs);
    void stop();
    bool isRunning() const { return m_timer.isActive(); }

    // The latest successful snapshot and the one before it; null until there are any.
    std::shared_ptr<const ScrapeSnapshot> latest() const { return m_latest; }
    std::shared_ptr<const ScrapeSnapshot> previous() const { return m_previous; }
    QString instance() const { return m_instance; }
    QUrl url() const { return m_url; }

signals:
    void scraped(std::shared_ptr<const sluice::clients::ScrapeSnapshot> snapshot);
    void scrapeFailed(const sluice::clients::SourceError &error);

private:
    void onAnswer(Result<HttpAnswer, SourceError> result);

    HttpSource m_source;
    QUrl m_url;
    QString m_instance;
    RequestId m_requestId = 0;
    QTimer m_timer;
    std::shared_ptr<const ScrapeSnapshot> m_latest;
    std::shared_ptr<const ScrapeSnapshot> m_previous;
};

} // namespace sluice::clients
