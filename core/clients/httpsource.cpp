#include "clients/httpsource.h"

#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QTimer>

#include <algorithm>
#include <chrono>

namespace sluice::clients {

namespace {

// Errors below HTTP (connection, proxy, cancellation): Qt numbers them 1..199.
bool isTransportError(QNetworkReply::NetworkError error)
{
    return error >= QNetworkReply::ConnectionRefusedError && error < QNetworkReply::ContentAccessDenied;
}

} // namespace

qint64 steadyNowMs()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

HttpSource::HttpSource(HttpSourceOptions options, QNetworkAccessManager *network, QObject *parent)
    : QObject(parent), m_options(std::move(options)), m_network(network)
{
    m_options.timeoutMs = std::max(m_options.timeoutMs, 1);
    if (!m_network)
        m_network = new QNetworkAccessManager(this);
}

HttpSource::~HttpSource()
{
    // Nobody is left to hear about these; abort them quietly.
    while (!m_pending.empty())
        finish(m_pending.begin()->first, unexpected(SourceError{}), false);
}

QString HttpSource::endpoint() const
{
    return endpointOf(m_options.baseUrl);
}

QUrl HttpSource::urlFor(const QString &path, const QUrlQuery &query) const
{
    QUrl url = m_options.baseUrl;
    QString prefix = url.path();
    while (prefix.endsWith(u'/'))
        prefix.chop(1);
    url.setPath(prefix + path);
    url.setQuery(query.isEmpty() ? QString() : query.query(QUrl::FullyEncoded));
    url.setFragment(QString());
    return url;
}

RequestId HttpSource::send(HttpCall call, const QObject *context, Callback done)
{
    const RequestId id = m_nextId++;
    QNetworkRequest request(urlFor(call.path, call.query));
    for (const auto &[name, value] : call.headers)
        request.setRawHeader(name, value);
    if (!call.contentType.isEmpty())
        request.setRawHeader("Content-Type", call.contentType);
    if (!m_options.bearerToken.isEmpty())
        request.setRawHeader("Authorization", "Bearer " + m_options.bearerToken);
    // The answer must come from the source itself, never from a cache on the way.
    request.setAttribute(QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);

    QNetworkReply *reply = nullptr;
    if (call.method == "GET")
        reply = m_network->get(request);
    else if (call.method == "HEAD")
        reply = m_network->head(request);
    else
        reply = m_network->sendCustomRequest(request, call.method, call.body);

    Pending pending;
    pending.reply = reply;
    pending.done = std::move(done);
    pending.sentAtMs = steadyNowMs();
    if (context) {
        pending.hasContext = true;
        pending.context = context;
        pending.contextConnection = connect(context, &QObject::destroyed, this, [this, id] {
            finish(id, unexpected(SourceError{}), false);
        });
    }
    // Owned by the reply, so it goes when the reply goes.
    auto *timer = new QTimer(reply);
    pending.timer = timer;
    m_pending.emplace(id, std::move(pending));

    connect(reply, &QNetworkReply::finished, this, [this, id] { onFinished(id); });
    timer->setSingleShot(true);
    connect(timer, &QTimer::timeout, this, [this, id] {
        SourceError error;
        error.kind = SourceErrorKind::TimedOut;
        error.endpoint = endpoint();
        error.message = QStringLiteral("timed out: %1 at %2 did not answer within %3 ms")
                            .arg(m_options.serviceName, error.endpoint)
                            .arg(m_options.timeoutMs);
        finish(id, unexpected(std::move(error)));
    });
    timer->start(m_options.timeoutMs);
    return id;
}

bool HttpSource::cancel(RequestId id)
{
    if (m_pending.find(id) == m_pending.end())
        return false;
    SourceError error;
    error.kind = SourceErrorKind::Cancelled;
    error.endpoint = endpoint();
    error.message = QStringLiteral("cancelled: the request to %1 at %2").arg(m_options.serviceName, error.endpoint);
    finish(id, unexpected(std::move(error)));
    return true;
}

int HttpSource::cancelAll()
{
    int cancelled = 0;
    // A callback may send new requests: cancel only those pending now.
    std::vector<RequestId> ids;
    for (const auto &entry : m_pending)
        ids.push_back(entry.first);
    for (const RequestId id : ids)
        cancelled += cancel(id) ? 1 : 0;
    return cancelled;
}

void HttpSource::onFinished(RequestId id)
{
    const auto it = m_pending.find(id);
    if (it == m_pending.end() || !it->second.reply)
        return;
    QNetworkReply *reply = it->second.reply;
    const QNetworkReply::NetworkError error = reply->error();
    const QVariant statusAttribute = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute);
    const int status = statusAttribute.isValid() ? statusAttribute.toInt() : 0;

    if (status > 0 && !isTransportError(error) && error != QNetworkReply::ProtocolFailure) {
        HttpAnswer answer;
        answer.status = status;
        answer.reason = reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toByteArray();
        for (const auto &[name, value] : reply->rawHeaderPairs())
            answer.headers.add(name, value);
        answer.body = reply->readAll();
        answer.sentAtMs = it->second.sentAtMs;
        answer.finishedAtMs = steadyNowMs();
        finish(id, std::move(answer));
        return;
    }
    SourceError failure;
    if (status > 0 && error == QNetworkReply::RemoteHostClosedError) {
        failure.kind = SourceErrorKind::Other;
        failure.endpoint = endpoint();
        failure.message = QStringLiteral("%1 at %2 closed the connection in the middle of its answer")
                              .arg(m_options.serviceName, failure.endpoint);
    } else if (error == QNetworkReply::NoError) {
        // Finished without an error and without a status: not an HTTP exchange.
        failure.kind = SourceErrorKind::WrongProtocol;
        failure.endpoint = endpoint();
        failure.message = QStringLiteral("wrong protocol: %1 did not answer HTTP").arg(failure.endpoint);
    } else {
        failure = sourceErrorFromNetworkError(error, reply->errorString(), endpoint(), m_options.serviceName);
    }
    failure.httpStatus = status;
    finish(id, unexpected(std::move(failure)));
}

void HttpSource::finish(RequestId id, Result<HttpAnswer, SourceError> result, bool deliver)
{
    const auto it = m_pending.find(id);
    if (it == m_pending.end())
        return;
    Pending pending = std::move(it->second);
    m_pending.erase(it);
    if (pending.contextConnection)
        disconnect(pending.contextConnection);
    if (pending.timer)
        pending.timer->stop();
    if (QNetworkReply *reply = pending.reply) {
        disconnect(reply, nullptr, this, nullptr);
        if (reply->isRunning())
            reply->abort();
        reply->deleteLater();
    }
    if (!deliver || (pending.hasContext && !pending.context) || !pending.done)
        return;
    pending.done(std::move(result));
}

SourceError HttpSource::statusError(const HttpAnswer &answer, const QString &detail) const
{
    SourceError error;
    error.endpoint = endpoint();
    error.httpStatus = answer.status;
    const QString suffix = detail.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(detail);
    if (answer.status == 401 || answer.status == 403) {
        error.kind = SourceErrorKind::AuthenticationFailed;
        error.message = QStringLiteral("authentication failed: %1 at %2 answered %3%4")
                            .arg(m_options.serviceName, error.endpoint)
                            .arg(answer.status)
                            .arg(suffix);
    } else {
        error.kind = SourceErrorKind::HttpStatus;
        const QString reason = answer.reason.isEmpty() ? QString() : u' ' + QString::fromLatin1(answer.reason);
        error.message = QStringLiteral("%1 at %2 answered %3%4%5")
                            .arg(m_options.serviceName, error.endpoint)
                            .arg(answer.status)
                            .arg(reason, suffix);
    }
    return error;
}

SourceError HttpSource::wrongProtocol(const QString &what, const QString &detail) const
{
    SourceError error;
    error.kind = SourceErrorKind::WrongProtocol;
    error.endpoint = endpoint();
    error.message = QStringLiteral("wrong protocol: %1 answered HTTP but is not %2%3")
                        .arg(error.endpoint, what,
                             detail.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(detail));
    return error;
}

} // namespace sluice::clients
