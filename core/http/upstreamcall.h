#pragma once

#include "http/upstreamconnection.h"
#include "http/upstreamerror.h"
#include "http/upstreamrequest.h"
#include "http/upstreamresponseparser.h"

#include <QAbstractSocket>
#include <QByteArray>
#include <QObject>
#include <QPointer>
#include <QTimer>

#include <memory>
#include <optional>

namespace sluice::http {

class UpstreamClient;

// One call in flight, returned by UpstreamClient::start(); keep it to cancel or pace the
// call. The client keeps the call running whether or not the caller keeps a reference;
// dropping the reference does not cancel it.
//
// Thread affinity: the client's thread; every method is called there. The object may
// outlive its client: once the client is destroyed the call is finished (cancelled) and
// its methods do nothing.
class UpstreamCall : public QObject, public std::enable_shared_from_this<UpstreamCall> {
    Q_OBJECT
public:
    ~UpstreamCall() override;
    UpstreamCall(const UpstreamCall &) = delete;
    UpstreamCall &operator=(const UpstreamCall &) = delete;

    // Stops the call: no callback runs after cancel() returns; the connection is closed
    // (not returned to the pool). Safe to call twice, from inside a callback, or after
    // completion (then it does nothing).
    void cancel();
    // Backpressure: stop reading from the socket (Qt's read buffer fills to 256 KiB, the
    // kernel's then, and TCP pushes back on the provider) until resumeReading(). No
    // onBody/onComplete/onError for the response arrives while paused — except a timeout:
    // the first-byte and idle timeouts are suspended while paused, the total one is not.
    // Callable from inside a callback: the rest of the bytes already read wait too.
    void pauseReading();
    // Delivery goes on from the event loop (never from inside this call).
    void resumeReading();

    bool isFinished() const { return m_phase == Phase::Finished; }
    bool isPaused() const { return m_paused; }
    bool isCancelled() const { return m_cancelled; }
    // The request as given to start().
    const UpstreamRequest &request() const { return m_request; }
    // The (last) connection it ran on was taken from the idle pool.
    bool connectionReused() const { return m_reused; }
    // The call was retried once on a fresh connection after a reused one failed.
    bool wasRetried() const { return m_retried; }

private:
    friend class UpstreamClient;
    enum class Phase { Created, Connecting, Sending, AwaitingResponse, Receiving, Finished };

    UpstreamCall(UpstreamClient *client, UpstreamRequest request, UpstreamCallbacks callbacks);

    void begin();
    void acquireConnection(bool allowPooled);
    void attach(UpstreamConnection *connection);
    void detach();
    void sendRequest();
    void onConnectionReady();
    void onConnectionFailed(const sluice::http::UpstreamError &error);
    void onBytesWritten();
    void onReadyRead();
    void onSocketError(QAbstractSocket::SocketError error);
    void onSocketClosed();
    void process();
    bool deliverParsed();
    void feed(const QByteArray &data);
    void handleEndOfStream();
    bool mayRetry() const;
    void retry();
    void armPhaseTimer();
    void onPhaseTimeout();
    void onTotalTimeout();
    void complete();
    void fail(UpstreamErrorKind kind, QString message);
    // Finished: timers stopped, socket signals detached.
    void stop();
    void dropCallbacksIfFinished();
    void releaseConnection(bool reusable);
    void abandonConnection();

    QPointer<UpstreamClient> m_client;
    UpstreamRequest m_request;
    UpstreamCallbacks m_callbacks;
    UpstreamEndpoint m_endpoint;
    QByteArray m_wire; // the formatted request
    QPointer<UpstreamConnection> m_connection;
    std::unique_ptr<UpstreamResponseParser> m_parser;
    Phase m_phase = Phase::Created;
    QTimer m_phaseTimer; // connect, first byte or idle, depending on m_phase
    QTimer m_totalTimer;
    QString m_socketError; // why the socket ended, if not a clean close
    qint64 m_bytesReceived = 0;
    bool m_headRequest = false;
    bool m_reused = false;
    bool m_retried = false;
    bool m_paused = false;
    bool m_cancelled = false;
    bool m_endOfStream = false;  // the peer closed (or reset) the connection
    bool m_trailingBytes = false; // bytes after the response: the connection is not reusable
    bool m_headDelivered = false;
    bool m_processing = false;
    int m_callbackDepth = 0; // onHead/onBody running
    bool m_resumeScheduled = false;
};

} // namespace sluice::http
