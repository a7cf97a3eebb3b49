#include "clients/metricsscraper.h"

#include <QDateTime>

#include <algorithm>

namespace sluice::clients {

namespace {

QUrl metricsUrl(QUrl url)
{
    if (url.path().isEmpty() || url.path() == u"/")
        url.setPath(QStringLiteral("/metrics"));
    return url;
}

HttpSourceOptions sourceOptions(const MetricsScraperOptions &options)
{
    HttpSourceOptions source;
    // The whole page URL is the base; requests add no path.
    source.baseUrl = metricsUrl(options.url);
    source.bearerToken = options.bearerToken;
    source.timeoutMs = options.timeoutMs;
    source.serviceName = QStringLiteral("the metrics endpoint");
    return source;
}

} // namespace

MetricsScraper::MetricsScraper(MetricsScraperOptions options, QNetworkAccessManager *network, QObject *parent)
    : QObject(parent),
      m_source(sourceOptions(options), network),
      m_url(metricsUrl(options.url)),
      m_instance(options.instance.isEmpty() ? endpointOf(m_url) : options.instance)
{
    connect(&m_timer, &QTimer::timeout, this, [this] { scrape(); });
}

MetricsScraper::~MetricsScraper() = default;

bool MetricsScraper::scrape()
{
    if (m_requestId != 0)
        return false;
    HttpCall call;
    call.headers.add("Accept", "text/plain; version=0.0.4");
    // The id is set before any callback can run: answers come from the event loop.
    m_requestId = m_source.send(std::move(call), this,
                                [this](Result<HttpAnswer, SourceError> result) { onAnswer(std::move(result)); });
    return true;
}

bool MetricsScraper::cancel()
{
    return m_requestId != 0 && m_source.cancel(m_requestId);
}

void MetricsScraper::start(int intervalMs)
{
    m_timer.start(std::max(intervalMs, 100));
    scrape();
}

void MetricsScraper::stop()
{
    m_timer.stop();
}

void MetricsScraper::onAnswer(Result<HttpAnswer, SourceError> result)
{
    m_requestId = 0;
    if (!result) {
        emit scrapeFailed(result.error());
        return;
    }
    const HttpAnswer &answer = *result;
    if (answer.status < 200 || answer.status > 299) {
        emit scrapeFailed(m_source.statusError(answer));
        return;
    }
    const qint64 midpointMs = answer.sentAtMs + (answer.finishedAtMs - answer.sentAtMs) / 2;
    const QDateTime wallTime =
        QDateTime::currentDateTimeUtc().addMSecs(-(answer.finishedAtMs - midpointMs));
    auto snapshot = snapshotFromText(std::string_view(answer.body.constData(), std::size_t(answer.body.size())),
                                     m_instance, midpointMs, wallTime);
    if (!snapshot) {
        emit scrapeFailed(m_source.wrongProtocol(QStringLiteral("a Prometheus metrics page"), snapshot.error()));
        return;
    }
    snapshot->durationMs = answer.finishedAtMs - answer.sentAtMs;
    m_previous = std::move(m_latest);
    m_latest = std::make_shared<const ScrapeSnapshot>(std::move(*snapshot));
    emit scraped(m_latest);
}

} // namespace sluice::clients
