#pragma once

#include "clients/sourceerror.h"
#include "http/httpheaders.h"
#include "policy/result.h"

#include <QByteArray>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QUrl>
#include <QUrlQuery>

#include <functional>
#include <map>

class QNetworkAccessManager;
class QNetworkReply;
class QTimer;

namespace sluice::clients {

// Milliseconds on the steady (monotonic) clock: comparable within one process only,
// never affected by changes of the wall clock.
qint64 steadyNowMs();

// 0 is never a valid id.
using RequestId = quint64;

struct HttpSourceOptions {
    // Scheme, host, port and an optional path prefix (a source behind a reverse proxy
    // at "/prometheus"); request paths are appended to the prefix.
    QUrl baseUrl;
    // Sent as `Authorization: Bearer <token>` on every request; empty: no header.
    QByteArray bearerToken;
    // The whole request (connect, send, the complete answer); at least 1.
    int timeoutMs = 10'000;
    // How messages name the source: "authentication failed: the admin API at
    // 127.0.0.1:9090 answered 401".
    QString serviceName = QStringLiteral("the server");
};

struct HttpCall {
    QByteArray method = "GET";
    // Appended to the base URL's path: "/admin/v1/config".
    QString path;
    QUrlQuery query;
    QByteArray body;
    // Content-Type of the body; empty: none sent.
    QByteArray contentType;
    // Extra request header fields (If-Match, X-Sluice-Comment, Accept, ...).
    http::HttpHeaders headers;
};

// An HTTP answer of any status: the caller decides which statuses are errors.
struct HttpAnswer {
    int status = 0;
    QByteArray reason;
    http::HttpHeaders headers;
    QByteArray body;
    // steadyNowMs() when the request was handed to the network stack and when the
    // answer was complete.
    qint64 sentAtMs = 0;
    qint64 finishedAtMs = 0;
};

// Asynchronous HTTP requests to one source (a base URL), each with a timeout and
// cancellable, for the console's GUI thread: nothing here blocks or spins an event
// loop, answers arrive by callback from the event loop.
//
// Every send() gets exactly one callback, with the answer (any HTTP status) or a
// SourceError for what went wrong below HTTP (see sourceErrorFromNetworkError();
// a timeout is TimedOut whatever stage it hit), except when the callback is dropped:
//  - `context` (optional) was destroyed first: the request is aborted, no callback;
//  - this object is destroyed: every request is aborted, no callback.
// cancel() delivers Cancelled synchronously, before it returns.
//
// Thread affinity: create, use and destroy on one thread with an event loop (the GUI
// thread); `network`, when given, must live on that thread and outlive this object
// (otherwise an own QNetworkAccessManager is created). Callbacks run on that thread;
// they may call send() and cancel() but must not destroy this object (deleteLater()).
class HttpSource : public QObject {
    Q_OBJECT
public:
    using Callback = std::function<void(Result<HttpAnswer, SourceError>)>;

    explicit HttpSource(HttpSourceOptions options, QNetworkAccessManager *network = nullptr,
                        QObject *parent = nullptr);
    ~HttpSource() override;

    RequestId send(HttpCall call, const QObject *context, Callback done);
    // Aborts the request and calls its callback with Cancelled; false if it is not
    // pending (answered, timed out, cancelled or never issued).
    bool cancel(RequestId id);
    // Cancels every pending request, oldest first; returns how many.
    int cancelAll();
    int pendingCount() const { return int(m_pending.size()); }

    const HttpSourceOptions &options() const { return m_options; }
    void setBearerToken(QByteArray token) { m_options.bearerToken = std::move(token); }
    // "host:port" of the base URL.
    QString endpoint() const;
    QUrl urlFor(const QString &path, const QUrlQuery &query = {}) const;

    // The error for an answer with a status the caller did not expect: 401 and 403 are
    // AuthenticationFailed, anything else HttpStatus; `detail` (the server's own
    // message, if it gave one) goes in parentheses.
    SourceError statusError(const HttpAnswer &answer, const QString &detail = {}) const;
    // WrongProtocol: "<endpoint> answered HTTP but is not <what> (<detail>)".
    SourceError wrongProtocol(const QString &what, const QString &detail = {}) const;

private:
    struct Pending {
        QPointer<QNetworkReply> reply;
        QPointer<QTimer> timer; // the request's timeout; a child of the reply
        bool hasContext = false;
        QPointer<const QObject> context;
        QMetaObject::Connection contextConnection;
        Callback done;
        qint64 sentAtMs = 0;
    };

    void onFinished(RequestId id);
    // Removes the request, aborts its reply if it still runs, and calls its callback
    // (unless `deliver` is false or its context is gone).
    void finish(RequestId id, Result<HttpAnswer, SourceError> result, bool deliver = true);

    HttpSourceOptions m_options;
    QNetworkAccessManager *m_network = nullptr;
    std::map<RequestId, Pending> m_pending;
    RequestId m_nextId = 1;
};

} // namespace sluice::clients
