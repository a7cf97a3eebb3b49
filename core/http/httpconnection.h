#pragma once

#include "http/httpheaders.h"
#include "http/httprequestparser.h"
#include "http/httpresponder.h"

#include <QByteArray>
#include <QHostAddress>
#include <QObject>
#include <QTimer>

#include <deque>
#include <memory>

class QTcpSocket;

namespace sluice::http {

struct HttpServerContext;

// Internal. One client connection: parses its requests, hands each to the handler
// and writes the answers back strictly in request order (one output slot per
// request, flushed front to back). Enforces the header/body/idle/send timeouts of
// the options and closes with a lingering close after its last answer.
//
// Lives on its worker's thread and is used only from there; owned by the worker,
// which deletes it (deleteLater) once closed() was emitted. Responders refer to it
// through a QPointer, so they outlive it safely.
class HttpConnection : public QObject {
    Q_OBJECT
public:
    HttpConnection(std::shared_ptr<HttpServerContext> context, quint64 id, QObject *parent = nullptr);
    ~HttpConnection() override;

    // Takes over a connected socket. False (descriptor not taken) if Qt refuses it.
    bool open(qintptr descriptor);
    // Server shutdown: answers in flight complete (with Connection: close), no new
    // request is read, the connection closes after its last answer (now, if idle).
    void beginDrain();
    // Closes at once; unfinished responders are cancelled.
    void abort();
    quint64 id() const { return m_id; }

signals:
    // Emitted once, when the connection is closed for good.
    void closed();

private:
    friend class HttpResponder;

    enum class State { Open, Closing, Lingering, Closed };
    enum class TimerPhase { None, Header, Body, Idle, Send, Linger };
    enum class Framing { None, Length, Chunked, CloseDelimited };

    struct Slot {
        quint64 id = 0;
        std::weak_ptr<HttpResponder> responder;
        QByteArray pending; // produced while earlier answers are still unsent
        bool headRequest = false;
        bool keepAlive = true;
        bool http10 = false;
        bool dispatched = false;
        bool started = false;
        bool chunked = false;
        bool done = false;
        bool closeAfter = false;
        bool aboveLowWater = false;
    };

    // For HttpResponder.
    bool respond(quint64 slotId, int status, HttpHeaders headers, const QByteArray &body);
    bool beginStream(quint64 slotId, int status, HttpHeaders headers);
    HttpResponder::WriteResult write(quint64 slotId, const QByteArray &chunk);
    bool end(quint64 slotId);
    qint64 bufferedBytes(quint64 slotId) const;
    void abandon(quint64 slotId);
    bool abortResponse(quint64 slotId);

    void onReadyRead();
    void onBytesWritten(qint64 bytes);
    void processInput();
    void scheduleProcessInput();
    bool canStartRequest() const;
    void onHeadersComplete();
    void dispatch();
    void failRequest(int status, const QString &message);
    void onTimeout();

    Slot *findSlot(quint64 slotId);
    const Slot *findSlot(quint64 slotId) const;
    bool isHead(const Slot &slot) const;
    qint64 bufferedBytes(const Slot &slot) const;
    QByteArray formatHead(Slot &slot, int status, HttpHeaders headers, Framing framing, qint64 contentLength);
    void sendComplete(Slot &slot, int status, HttpHeaders headers, const QByteArray &body);
    void append(Slot &slot, const QByteArray &bytes);
    void advanceQueue();

    void closeAfterFlush(bool linger);
    void continueClosing();
    void finish(bool hard);
    void cancelResponders();
    void discardInput();
    void updateTimer(bool progress = false);
    TimerPhase desiredPhase() const;

    std::shared_ptr<HttpServerContext> m_context;
    quint64 m_id = 0;
    qint64 m_maxBufferedBytes = 1; // options.maxResponseBufferBytes, at least 1
    int m_maxPipelined = 1;        // options.maxPipelinedRequests, at least 1
    QTcpSocket *m_socket = nullptr;
    QHostAddress m_peerAddress;
    quint16 m_peerPort = 0;
    HttpRequestParser m_parser;
    QByteArray m_input;
    qsizetype m_inputOffset = 0;
    std::deque<Slot> m_slots;
    quint64 m_lastSlotId = 0;
    quint64 m_requestCount = 0;
    State m_state = State::Open;
    TimerPhase m_timerPhase = TimerPhase::None;
    QTimer m_timer;
    bool m_inputStopped = false;
    bool m_draining = false;
    bool m_lingerOnClose = false;
    bool m_processScheduled = false;
};

} // namespace sluice::http
