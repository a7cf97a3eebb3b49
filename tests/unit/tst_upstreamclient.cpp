#include <QDir>
#include <QFile>
#include <QPointer>
#include <QProcess>
#include <QSignalSpy>
#include <QSslCertificate>
#include <QSslKey>
#include <QSslSocket>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include "http/httpserver.h"
#include "http/upstreamclient.h"

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

using namespace std::chrono_literals;
using sluice::http::HttpHeaders;
using sluice::http::HttpRequest;
using sluice::http::HttpResponder;
using sluice::http::HttpServer;
using sluice::http::HttpServerOptions;
using sluice::http::ProxySettings;
using sluice::http::UpstreamCall;
using sluice::http::UpstreamCallbacks;
using sluice::http::UpstreamClient;
using sluice::http::UpstreamClientOptions;
using sluice::http::UpstreamError;
using sluice::http::UpstreamErrorKind;
using sluice::http::UpstreamRequest;
using sluice::http::UpstreamResponseHead;
using WriteResult = sluice::http::HttpResponder::WriteResult;

namespace {

constexpr int kTimeoutMs = 20'000; // only guards against hangs

// What a call reported, in order.
struct Outcome {
    std::optional<UpstreamResponseHead> head;
    QByteArray body;
    int bodyPieces = 0;
    bool completed = false;
    std::optional<UpstreamError> error;
    int endings = 0;              // onComplete + onError: must stay <= 1
    int callbacksAfterEnding = 0; // must stay 0
    std::function<void()> afterHead;
    std::function<void()> afterBody;
    std::function<void()> afterComplete;

    bool done() const { return completed || error.has_value(); }
    int callbackCount() const { return (head ? 1 : 0) + bodyPieces + endings; }
};

UpstreamCallbacks record(const std::shared_ptr<Outcome> &outcome)
{
    UpstreamCallbacks callbacks;
    callbacks.onHead = [outcome](const UpstreamResponseHead &head) {
        if (outcome->endings > 0)
            ++outcome->callbacksAfterEnding;
        outcome->head = head;
        if (outcome->afterHead)
            outcome->afterHead();
    };
    callbacks.onBody = [outcome](const QByteArray &bytes) {
        if (outcome->endings > 0 || !outcome->head)
            ++outcome->callbacksAfterEnding;
        outcome->body += bytes;
        ++outcome->bodyPieces;
        if (outcome->afterBody)
            outcome->afterBody();
    };
    callbacks.onComplete = [outcome] {
        if (outcome->endings++ > 0)
            ++outcome->callbacksAfterEnding;
        outcome->completed = true;
        if (outcome->afterComplete)
            outcome->afterComplete();
    };
    callbacks.onError = [outcome](const UpstreamError &error) {
        if (outcome->endings++ > 0)
            ++outcome->callbacksAfterEnding;
        outcome->error = error;
    };
    return callbacks;
}

UpstreamRequest makeRequest(const QString &url, QByteArray method = "GET", QByteArray body = {})
{
    UpstreamRequest request;
    request.url = QUrl(url);
    request.method = std::move(method);
    request.body = std::move(body);
    return request;
}

UpstreamClientOptions directOptions()
{
    UpstreamClientOptions options;
    options.proxy = ProxySettings{}; // whatever the environment says, tests connect directly
    return options;
}

QString localUrl(quint16 port, const QString &path = QStringLiteral("/"), const QString &scheme = QStringLiteral("http"))
{
    return QStringLiteral("%1://127.0.0.1:%2%3").arg(scheme).arg(port).arg(path);
}

HttpServerOptions originOptions()
{
    HttpServerOptions options;
    options.address = QHostAddress::LocalHost;
    options.port = 0;
    options.threads = 1;
    return options;
}

std::unique_ptr<HttpServer> startOrigin(HttpServer::Handler handler)
{
    auto server = std::make_unique<HttpServer>(originOptions(), std::move(handler));
    return server->listen() ? std::move(server) : nullptr;
}

qint64 contentLengthOf(const QByteArray &head)
{
    for (const QByteArray &line : head.split('\n')) {
        const qsizetype colon = line.indexOf(':');
        if (colon > 0 && line.left(colon).trimmed().toLower() == "content-length")
            return line.mid(colon + 1).trimmed().toLongLong();
    }
    return 0;
}

QByteArray headerOf(const QByteArray &request, const QByteArray &name)
{
    for (const QByteArray &line : request.left(request.indexOf("\r\n\r\n")).split('\n')) {
        const qsizetype colon = line.indexOf(':');
        if (colon > 0 && line.left(colon).trimmed().toLower() == name.toLower())
            return line.mid(colon + 1).trimmed();
    }
    return {};
}

struct TlsIdentity {
    QSslCertificate certificate;
    QSslKey key;
};

// Accepts TCP, then the TLS handshake as a server with `identity`.
class TlsTcpServer : public QTcpServer {
public:
    TlsTcpServer(TlsIdentity identity, QObject *parent) : QTcpServer(parent), m_identity(std::move(identity)) {}

protected:
    void incomingConnection(qintptr descriptor) override
    {
        auto *socket = new QSslSocket(this);
        if (!socket->setSocketDescriptor(descriptor)) {
            delete socket;
            return;
        }
        socket->setLocalCertificate(m_identity.certificate);
        socket->setPrivateKey(m_identity.key);
        socket->setPeerVerifyMode(QSslSocket::VerifyNone);
        addPendingConnection(socket);
        socket->startServerEncryption();
    }

private:
    TlsIdentity m_identity;
};

// A server on the test thread that hands each complete request (header block plus a
// Content-Length body) to a script, which answers (or misbehaves) on the raw socket.
class ScriptedServer : public QObject {
public:
    using Script = std::function<void(ScriptedServer &server, QTcpSocket *socket, const QByteArray &request,
                                      int connectionIndex, int requestIndex)>;

    explicit ScriptedServer(Script script, std::optional<TlsIdentity> tls = std::nullopt)
        : m_script(std::move(script))
    {
        m_server = tls ? new TlsTcpServer(*tls, this) : new QTcpServer(this);
        connect(m_server, &QTcpServer::newConnection, this, &ScriptedServer::onNewConnection);
        m_server->listen(QHostAddress::LocalHost, 0);
    }

    ~ScriptedServer() override
    {
        for (QTcpSocket *socket : findChildren<QTcpSocket *>())
            socket->disconnect();
    }

    quint16 port() const { return m_server->serverPort(); }
    int connectionCount() const { return int(sockets.size()); }

    QList<QByteArray> requests;
    QList<QPointer<QTcpSocket>> sockets;

private:
    void onNewConnection()
    {
        while (QTcpSocket *socket = m_server->nextPendingConnection()) {
            const int connectionIndex = int(sockets.size());
            sockets.append(socket);
            auto buffer = std::make_shared<QByteArray>();
            auto requestIndex = std::make_shared<int>(0);
            QPointer<QTcpSocket> guarded(socket);
            connect(socket, &QTcpSocket::readyRead, this, [this, guarded, buffer, requestIndex, connectionIndex] {
                if (!guarded)
                    return;
                *buffer += guarded->readAll();
                while (guarded && guarded->state() == QAbstractSocket::ConnectedState) {
                    const qsizetype end = buffer->indexOf("\r\n\r\n");
                    if (end < 0)
                        return;
                    const qint64 total = end + 4 + contentLengthOf(buffer->left(end + 4));
                    if (buffer->size() < total)
                        return;
                    const QByteArray request = buffer->left(total);
                    buffer->remove(0, total);
                    requests.append(request);
                    m_script(*this, guarded, request, connectionIndex, (*requestIndex)++);
                }
            });
        }
    }

    Script m_script;
    QTcpServer *m_server = nullptr;
};

// A forward proxy on the test thread: CONNECT tunnels and absolute-form requests. Every
// target host is reached at 127.0.0.1 (with the target's port), so names like
// origin.test prove the client let the proxy resolve them.
class TestProxy : public QObject {
public:
    explicit TestProxy(bool refuseConnect = false) : m_refuseConnect(refuseConnect)
    {
        connect(&m_server, &QTcpServer::newConnection, this, &TestProxy::onNewConnection);
        m_server.listen(QHostAddress::LocalHost, 0);
    }

    ~TestProxy() override
    {
        // Sockets close as they are destroyed; no lambda above should hear of it.
        for (QTcpSocket *socket : findChildren<QTcpSocket *>())
            socket->disconnect();
    }

    quint16 port() const { return m_server.serverPort(); }
    QString url(const QByteArray &credentials = {}) const
    {
        const QString userInfo = credentials.isEmpty() ? QString() : QString::fromLatin1(credentials + '@');
        return QStringLiteral("http://") + userInfo + QStringLiteral("127.0.0.1:") + QString::number(port());
    }

    QList<QByteArray> requestLines;   // first line of each connection
    QList<QByteArray> authorizations; // its Proxy-Authorization
    int connections = 0;

private:
    struct Tunnel {
        QPointer<QTcpSocket> client;
        QPointer<QTcpSocket> upstream;
        QByteArray pending;
    };

    void onNewConnection()
    {
        while (QTcpSocket *client = m_server.nextPendingConnection()) {
            ++connections;
            auto tunnel = std::make_shared<Tunnel>();
            tunnel->client = client;
            connect(client, &QTcpSocket::readyRead, this, [this, tunnel] { onClientData(tunnel); });
            connect(client, &QTcpSocket::disconnected, this, [tunnel] {
                if (tunnel->upstream)
                    tunnel->upstream->disconnectFromHost();
            });
        }
    }

    void onClientData(const std::shared_ptr<Tunnel> &tunnel)
    {
        if (!tunnel->client)
            return;
        if (tunnel->upstream) {
            tunnel->upstream->write(tunnel->client->readAll());
            return;
        }
        tunnel->pending += tunnel->client->readAll();
        const qsizetype end = tunnel->pending.indexOf("\r\n\r\n");
        if (end < 0)
            return;
        const QByteArray head = tunnel->pending.left(end + 4);
        const QByteArray requestLine = head.left(head.indexOf("\r\n"));
        requestLines.append(requestLine);
        authorizations.append(headerOf(head, "proxy-authorization"));
        const QList<QByteArray> parts = requestLine.split(' ');
        if (parts.size() != 3) {
            tunnel->client->abort();
            return;
        }
        const bool isConnect = parts[0] == "CONNECT";
        quint16 port = 0;
        if (isConnect) {
            if (m_refuseConnect) {
                tunnel->client->write("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n");
                return;
            }
            port = parts[1].mid(parts[1].lastIndexOf(':') + 1).toUShort();
            tunnel->pending.remove(0, end + 4);
        } else {
            port = quint16(QUrl(QString::fromLatin1(parts[1])).port(80));
        }
        auto *upstream = new QTcpSocket(this);
        tunnel->upstream = upstream;
        connect(upstream, &QTcpSocket::readyRead, this, [tunnel] {
            if (tunnel->client && tunnel->upstream)
                tunnel->client->write(tunnel->upstream->readAll());
        });
        connect(upstream, &QTcpSocket::disconnected, this, [tunnel] {
            if (tunnel->client)
                tunnel->client->disconnectFromHost();
        });
        connect(upstream, &QTcpSocket::connected, this, [tunnel, isConnect] {
            if (isConnect && tunnel->client)
                tunnel->client->write("HTTP/1.1 200 Connection established\r\n\r\n");
            if (!tunnel->pending.isEmpty() && tunnel->upstream)
                tunnel->upstream->write(std::exchange(tunnel->pending, QByteArray()));
        });
        upstream->connectToHost(QHostAddress::LocalHost, port);
    }

    QTcpServer m_server;
    bool m_refuseConnect = false;
};

// Streams `totalBytes` as fast as the responder takes them, pausing on BufferFull until
// drained. Runs on the server's thread; the test reads its atomics.
struct Producer {
    qint64 totalBytes = 0;
    qint64 chunkBytes = 64 * 1024;
    std::shared_ptr<HttpResponder> responder;
    std::atomic<qint64> acceptedBytes{0};
    std::atomic<int> refusals{0};
    std::atomic<bool> waiting{false};
    std::atomic<bool> finished{false};

    void start(std::shared_ptr<HttpResponder> answer)
    {
        responder = std::move(answer);
        responder->onDrained([this] { pump(); });
        responder->onCancelled([this] { responder.reset(); });
        responder->beginStream(200, {{"Content-Type", "application/octet-stream"}});
        pump();
    }

    void pump()
    {
        if (!responder)
            return;
        waiting = false;
        while (acceptedBytes < totalBytes) {
            const QByteArray chunk(chunkBytes, char('a' + (acceptedBytes / chunkBytes) % 26));
            const WriteResult result = responder->write(chunk);
            if (result == WriteResult::BufferFull) {
                ++refusals;
                waiting = true;
                return;
            }
            if (result == WriteResult::Closed)
                return;
            acceptedBytes += chunkBytes;
        }
        responder->end();
        finished = true;
        responder.reset();
    }

    QByteArray expectedBody() const
    {
        QByteArray body;
        for (qint64 offset = 0; offset < totalBytes; offset += chunkBytes)
            body += QByteArray(chunkBytes, char('a' + (offset / chunkBytes) % 26));
        return body;
    }
};

// Writes "part-<n>\n" every few milliseconds on the server's thread, `count` times, then
// ends; counts what it wrote.
struct Ticker {
    int count = 0;
    std::chrono::milliseconds interval{5};
    std::atomic<int> written{0};
    std::atomic<bool> finished{false};
    std::atomic<bool> cancelled{false};

    void start(std::shared_ptr<HttpResponder> responder)
    {
        responder->onCancelled([this] { cancelled = true; });
        responder->beginStream(200, {{"Content-Type", "text/plain"}});
        tick(std::move(responder));
    }

    void tick(std::shared_ptr<HttpResponder> responder)
    {
        if (written == count) {
            responder->end();
            finished = true;
            return;
        }
        if (responder->write("part-" + QByteArray::number(written.load()) + "\n") == WriteResult::Closed)
            return;
        ++written;
        QTimer::singleShot(interval, [this, responder] { tick(responder); });
    }

    QByteArray expectedBody() const
    {
        QByteArray body;
        for (int index = 0; index < count; ++index)
            body += "part-" + QByteArray::number(index) + "\n";
        return body;
    }
};

bool runOpenssl(const QString &directory, const QStringList &arguments, QString *errors)
{
    QProcess process;
    process.setWorkingDirectory(directory);
    process.start(QStringLiteral("openssl"), arguments);
    if (!process.waitForFinished(60'000) || process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0) {
        *errors = QString::fromLocal8Bit(process.readAllStandardError());
        return false;
    }
    return true;
}

} // namespace

class TestUpstreamClient : public QObject {
    Q_OBJECT

    QTemporaryDir m_certificateDirectory;
    std::optional<TlsIdentity> m_identity;
    QSslCertificate m_caCertificate;
    QString m_tlsSkipReason;

    std::pair<std::shared_ptr<UpstreamCall>, std::shared_ptr<Outcome>> start(UpstreamClient &client,
                                                                              UpstreamRequest request)
    {
        auto outcome = std::make_shared<Outcome>();
        auto call = client.start(std::move(request), record(outcome));
        return {call, outcome};
    }

    UpstreamClientOptions tlsOptions(bool trustTestCa)
    {
        UpstreamClientOptions options = directOptions();
        if (trustTestCa)
            options.extraCaCertificates = {m_caCertificate};
        return options;
    }

private slots:
    void initTestCase()
    {
        if (!QSslSocket::supportsSsl()) {
            m_tlsSkipReason = QStringLiteral("Qt has no TLS backend here");
            return;
        }
        if (QStandardPaths::findExecutable(QStringLiteral("openssl")).isEmpty()) {
            m_tlsSkipReason = QStringLiteral("the openssl command is not on PATH");
            return;
        }
        QVERIFY(m_certificateDirectory.isValid());
        const QString directory = m_certificateDirectory.path();
        QFile extensions(QDir(directory).filePath(QStringLiteral("server.ext")));
        QVERIFY(extensions.open(QIODevice::WriteOnly));
        extensions.write("subjectAltName=DNS:origin.test,IP:127.0.0.1\n"
                         "basicConstraints=CA:FALSE\n"
                         "keyUsage=critical,digitalSignature,keyEncipherment\n"
                         "extendedKeyUsage=serverAuth\n");
        extensions.close();
        QString errors;
        QVERIFY2(runOpenssl(directory,
                            {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
                             "-days", "2", "-subj", "/CN=Sluice Test CA", "-addext",
                             "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"},
                            &errors),
                 qPrintable(errors));
        QVERIFY2(runOpenssl(directory,
                            {"req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
                             "-subj", "/CN=origin.test"},
                            &errors),
                 qPrintable(errors));
        QVERIFY2(runOpenssl(directory,
                            {"x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                             "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext"},
                            &errors),
                 qPrintable(errors));
        const auto read = [&directory](const QString &name) {
            QFile file(QDir(directory).filePath(name));
            return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
        };
        m_caCertificate = QSslCertificate(read(QStringLiteral("ca.pem")), QSsl::Pem);
        TlsIdentity identity;
        identity.certificate = QSslCertificate(read(QStringLiteral("server.pem")), QSsl::Pem);
        identity.key = QSslKey(read(QStringLiteral("server.key")), QSsl::Rsa, QSsl::Pem);
        QVERIFY(!m_caCertificate.isNull());
        QVERIFY(!identity.certificate.isNull());
        QVERIFY(!identity.key.isNull());
        m_identity = identity;
    }

    // --- answers from a real HTTP/1.1 server -------------------------------------------

    void contentLengthAnswer()
    {
        auto origin = startOrigin([](HttpRequest request, std::shared_ptr<HttpResponder> responder) {
            responder->respond(201, {{"Content-Type", "application/json"}, {"X-Path", request.target}},
                               "{\"echo\":\"" + request.body + "\"}");
        });
        QVERIFY(origin);
        UpstreamClient client(directOptions());
        auto [call, outcome] = start(client, makeRequest(localUrl(origin->serverPort(), "/v1/chat?x=1"), "POST", "hi"));
        QVERIFY(!outcome->done()); // never from inside start()
        QTRY_VERIFY_WITH_TIMEOUT(outcome->done(), kTimeoutMs);
        QVERIFY2(outcome->completed, outcome->error ? qPrintable(outcome->error->message) : "");
        QVERIFY(outcome->head);
        QCOMPARE(outcome->head->status, 201);
        QCOMPARE(outcome->head->headers.value("content-type"), QByteArray("application/json"));
        QCOMPARE(outcome->head->headers.value("x-path"), QByteArray("/v1/chat?x=1"));
        QCOMPARE(outcome->head->headers.value("content-length"), QByteArray("13"));
        QCOMPARE(outcome->body, QByteArray("{\"echo\":\"hi\"}"));
        QCOMPARE(outcome->callbacksAfterEnding, 0);
        QVERIFY(call->isFinished());
        const auto stats = client.stats();
        QCOMPARE(stats.callsStarted, quint64(1));
        QCOMPARE(stats.callsFailed, quint64(0));
        QCOMPARE(stats.connectionsOpened, quint64(1));
        QCOMPARE(stats.idleConnections, 1);
        QCOMPARE(stats.activeCalls, 0);
    }

    void requestHeadersAsSent()
    {
        ScriptedServer server([](ScriptedServer &, QTcpSocket *socket, const QByteArray &, int, int) {
            socket->write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        });
        UpstreamClient client(directOptions());
        UpstreamRequest get = makeRequest(localUrl(server.port(), "/v1/models"));
        get.headers = {{"Authorization", "Bearer sk-test"}, {"Connection", "close"}, {"Keep-Alive", "1"},
                       {"TE", "trailers"},  {"Upgrade", "websocket"}, {"Proxy-Connection", "close"},
                       {"Host", "spoofed"}, {"Content-Length", "12"}, {"Transfer-Encoding", "chunked"},
                       {"Expect", "100-continue"}};
        auto [getCall, getOutcome] = start(client, get);
        QTRY_VERIFY_WITH_TIMEOUT(getOutcome->done(), kTimeoutMs);
        QVERIFY(getOutcome->completed);
        auto [postCall, postOutcome] = start(client, makeRequest(localUrl(server.port(), "/v1/x"), "POST", "12345"));
        QTRY_VERIFY_WITH_TIMEOUT(postOutcome->done(), kTimeoutMs);
        QVERIFY(postOutcome->completed);

        QCOMPARE(server.requests.size(), 2);
        const QByteArray first = server.requests[0];
        QVERIFY2(first.startsWith("GET /v1/models HTTP/1.1\r\n"), first.constData());
        QCOMPARE(headerOf(first, "host"), QByteArray("127.0.0.1:") + QByteArray::number(server.port()));
        QCOMPARE(headerOf(first, "content-length"), QByteArray("0"));
        QCOMPARE(headerOf(first, "connection"), QByteArray("keep-alive"));
        QCOMPARE(headerOf(first, "authorization"), QByteArray("Bearer sk-test"));
        for (const QByteArray name : {"keep-alive", "te", "upgrade", "proxy-connection", "transfer-encoding", "expect"})
            QVERIFY2(headerOf(first, name).isEmpty(), name.constData());
        QCOMPARE(first.count("Host:"), 1);
        QCOMPARE(first.count("Connection:"), 1);
        const QByteArray second = server.requests[1];
        QVERIFY(second.startsWith("POST /v1/x HTTP/1.1\r\n"));
        QCOMPARE(headerOf(second, "content-length"), QByteArray("5"));
        QVERIFY(second.endsWith("\r\n\r\n12345"));
        QCOMPARE(server.connectionCount(), 1); // the same connection, kept alive
    }

    void reusesKeepAliveConnections()
    {
        auto origin = startOrigin([](HttpRequest request, std::shared_ptr<HttpResponder> responder) {
            responder->respond(200, {}, request.target);
        });
        QVERIFY(origin);
        UpstreamClient client(directOptions());
        for (int index = 0; index < 3; ++index) {
            const QString path = QStringLiteral("/call/%1").arg(index);
            auto [call, outcome] = start(client, makeRequest(localUrl(origin->serverPort(), path)));
            QTRY_VERIFY_WITH_TIMEOUT(outcome->done(), kTimeoutMs);
            QVERIFY(outcome->completed);
            QCOMPARE(outcome->body, path.toLatin1());
            QCOMPARE(call->connectionReused(), index > 0);
        }
        const auto stats = client.stats();
        QCOMPARE(stats.connectionsOpened, quint64(1));
        QCOMPARE(stats.connectionsReused, quint64(2));
        QCOMPARE(stats.idleConnections, 1);
        QCOMPARE(origin->stats().connectionsAccepted, quint64(1));
    }

    void startFromInsideOnCompleteReusesTheConnection()
    {
        auto origin = startOrigin([](HttpRequest request, std::shared_ptr<HttpResponder> responder) {
            responder->respond(200, {}, request.target);
        });
        QVERIFY(origin);
        UpstreamClient client(directOptions());
        std::shared_ptr<UpstreamCall> secondCall;
        auto second = std::make_shared<Outcome>();
        bool startReturned = false;
        auto [firstCall, first] = start(client, makeRequest(localUrl(origin->serverPort(), "/first")));
        first->afterComplete = [&] {
            secondCall = client.start(makeRequest(localUrl(origin->serverPort(), "/second")), record(second));
            startReturned = true;
            QCOMPARE(second->callbackCount(), 0);
        };
        QTRY_VERIFY_WITH_TIMEOUT(second->done(), kTimeoutMs);
        QVERIFY(startReturned);
        QVERIFY(second->completed);
        QCOMPARE(second->body, QByteArray("/second"));
        QVERIFY(secondCall->connectionReused());
        QCOMPARE(client.stats().connectionsOpened, quint64(1));
    }

    void concurrentCallsUseSeparateConnections()
    {
        auto origin = startOrigin([](HttpRequest, std::shared_ptr<HttpResponder> responder) {
            // Both answers wait until both requests are in, so the calls overlap.
            responder->beginStream(200);
            QTimer::singleShot(50ms, [responder] {
                responder->write("done");
                responder->end();
            });
        });
        QVERIFY(origin);
        UpstreamClient client(directOptions());
        auto [callA, a] = start(client, makeRequest(localUrl(origin->serverPort(), "/a")));
        auto [callB, b] = start(client, makeRequest(localUrl(origin->serverPort(), "/b")));
        QCOMPARE(client.stats().activeCalls, 2);
        QTRY_VERIFY_WITH_TIMEOUT(a->done() && b->done(), kTimeoutMs);
        QVERIFY(a->completed && b->completed);
        QCOMPARE(client.stats().connectionsOpened, quint64(2));
        QCOMPARE(client.stats().idleConnections, 2);
        auto [callC, c] = start(client, makeRequest(localUrl(origin->serverPort(), "/c")));
        QTRY_VERIFY_WITH_TIMEOUT(c->done(), kTimeoutMs);
        QVERIFY(c->completed);
        QCOMPARE(client.stats().connectionsReused, quint64(1));
        QCOMPARE(client.stats().connectionsOpened, quint64(2));
    }

    void poolIsBoundedPerOrigin()
    {
        auto origin = startOrigin([](HttpRequest, std::shared_ptr<HttpResponder> responder) {
            responder->beginStream(200);
            QTimer::singleShot(50ms, [responder] { responder->end(); });
        });
        QVERIFY(origin);
        UpstreamClientOptions options = directOptions();
        options.maxIdleConnectionsPerOrigin = 1;
        UpstreamClient client(options);
        auto [callA, a] = start(client, makeRequest(localUrl(origin->serverPort())));
        auto [callB, b] = start(client, makeRequest(localUrl(origin->serverPort())));
        auto [callC, c] = start(client, makeRequest(localUrl(origin->serverPort())));
        QTRY_VERIFY_WITH_TIMEOUT(a->done() && b->done() && c->done(), kTimeoutMs);
        QCOMPARE(client.stats().connectionsOpened, quint64(3));
        QCOMPARE(client.stats().idleConnections, 1);
        // The closed ones are closed for real: the server sees them go.
        QTRY_COMPARE_WITH_TIMEOUT(origin->stats().connectionsActive, quint64(1), kTimeoutMs);
    }

    void streamsChunkedAnswerIncrementally()
    {
        auto release = std::make_shared<std::atomic<bool>>(false);
        auto origin = startOrigin([release](HttpRequest, std::shared_ptr<HttpResponder> responder) {
            responder->beginEventStream();
            responder->write("data: first\n\n");
            auto step = std::make_shared<std::function<void()>>();
            *step = [responder, step, release] {
                if (!*release) {
                    QTimer::singleShot(5ms, [step] { (*step)(); });
                    return;
                }
                responder->write("data: second\n\n");
                responder->write("data: [DONE]\n\n");
                responder->end();
                *step = nullptr;
            };
            (*step)();
        });
        QVERIFY(origin);
        UpstreamClient client(directOptions());
        auto [call, outcome] = start(client, makeRequest(localUrl(origin->serverPort(), "/stream"), "POST", "{}"));
        QTRY_VERIFY_WITH_TIMEOUT(outcome->bodyPieces >= 1, kTimeoutMs);
        // The first event arrived on its own, before the rest was even written.
        QCOMPARE(outcome->body, QByteArray("data: first\n\n"));
        QVERIFY(!outcome->done());
        QCOMPARE(outcome->head->headers.value("transfer-encoding"), QByteArray("chunked"));
        QCOMPARE(outcome->head->headers.value("content-type"), QByteArray("text/event-stream"));
        *release = true;
        QTRY_VERIFY_WITH_TIMEOUT(outcome->done(), kTimeoutMs);
        QVERIFY(outcome->completed);
        QCOMPARE(outcome->body, QByteArray("data: first\n\ndata: second\n\ndata: [DONE]\n\n"));
        QCOMPARE(client.stats().idleConnections, 1); // a complete chunked answer keeps the connection
    }

    void largeBodies()
    {
        auto origin = startOrigin([](HttpRequest request, std::shared_ptr<HttpResponder> responder) {
            responder->respond(200, {}, request.body + request.body);
        });
        QVERIFY(origin);
        QByteArray body(3 * 1024 * 1024, Qt::Uninitialized);
        for (qsizetype index = 0; index < body.size(); ++index)
            body[index] = char('A' + (index * 7) % 26);
        UpstreamClient client(directOptions());
        auto [call, outcome] = start(client, makeRequest(localUrl(origin->serverPort(), "/echo"), "POST", body));
        QTRY_VERIFY_WITH_TIMEOUT(outcome->done(), kTimeoutMs);
        QVERIFY2(outcome->completed, outcome->error ? qPrintable(outcome->error->message) : "");
        QCOMPARE(outcome->body.size(), body.size() * 2);
        QVERIFY(outcome->body == body + body);
        QVERIFY(outcome->bodyPieces > 1); // handed over as it arrived
    }

    void headAnswerHasNoBody()
    {
        auto origin = startOrigin([](HttpRequest, std::shared_ptr<HttpResponder> responder) {
            responder->respond(200, {{"Content-Type", "text/plain"}}, QByteArray(1000, 'x'));
        });
        QVERIFY(origin);
        UpstreamClient client(directOptions());
        auto [headCall, head] = start(client, makeRequest(localUrl(origin->serverPort()), "HEAD"));
        QTRY_VERIFY_WITH_TIMEOUT(head->done(), kTimeoutMs);
        QVERIFY(head->completed);
        QCOMPARE(head->head->headers.value("content-length"), QByteArray("1000"));
        QCOMPARE(head->bodyPieces, 0);
        // Framing stayed in step: the same connection answers the next call right.
        auto [getCall, get] = start(client, makeRequest(localUrl(origin->serverPort())));
        QTRY_VERIFY_WITH_TIMEOUT(get->done(), kTimeoutMs);
        QVERIFY(get->completed);
        QCOMPARE(get->body, QByteArray(1000, 'x'));
        QVERIFY(getCall->connectionReused());
    }

    // --- scripted answers ----------------------------------------------------------------

    void scriptedAnswers_data()
    {
        QTest::addColumn<QByteArray>("answer");
        QTest::addColumn<bool>("closeAfter");
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<int>("idleAfter"); // pooled connections afterwards

        QTest::newRow("204") << QByteArray("HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\n") << false << 204
                             << QByteArray() << 1;
        QTest::newRow("interim 100 and 103 skipped")
            << QByteArray("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"
                          "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            << false << 200 << QByteArray("ok") << 1;
        QTest::newRow("read until close") << QByteArray("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nhello")
                                          << true << 200 << QByteArray("hello") << 0;
        QTest::newRow("connection close") << QByteArray("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")
                                          << false << 200 << QByteArray("ok") << 0;
        QTest::newRow("http/1.0") << QByteArray("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok") << false << 200
                                  << QByteArray("ok") << 0;
        QTest::newRow("chunked with trailer")
            << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwiki\r\n5\r\npedia\r\n0\r\n"
                          "X-Trailer: 1\r\n\r\n")
            << false << 200 << QByteArray("wikipedia") << 1;
        QTest::newRow("extra bytes after the answer")
            << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n") << false << 200
            << QByteArray("ok") << 0;
    }

    void scriptedAnswers()
    {
        QFETCH(QByteArray, answer);
        QFETCH(bool, closeAfter);
        QFETCH(int, status);
        QFETCH(QByteArray, body);
        QFETCH(int, idleAfter);
        ScriptedServer server([answer, closeAfter](ScriptedServer &, QTcpSocket *socket, const QByteArray &, int, int) {
            socket->write(answer);
            if (closeAfter)
                socket->disconnectFromHost();
        });
        UpstreamClient client(directOptions());
        auto [call, outcome] = start(client, makeRequest(localUrl(server.port())));
        QTRY_VERIFY_WITH_TIMEOUT(outcome->done(), kTimeoutMs);
        QVERIFY2(outcome->completed, outcome->error ? qPrintable(outcome->error->message) : "");
        QCOMPARE(outcome->head->status, status);
        QCOMPARE(outcome->body, body);
        QCOMPARE(client.stats().idleConnections, idleAfter);
        QCOMPARE(outcome->callbacksAfterEnding, 0);
    }

    void brokenAnswers_data()
    {
        QTest::addColumn<QByteArray>("answer");
        QTest::addColumn<bool>("closeAfter");
        QTest::addColumn<int>("kind");
        QTest::addColumn<bool>("responseStarted");
        QTest::addColumn<QByteArray>("bodyBefore");

        QTest::newRow("garbage status line") << QByteArray("garbage\r\n\r\n") << false
                                             << int(UpstreamErrorKind::ProtocolError) << false << QByteArray();
        QTest::newRow("binary noise") << QByteArray("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) << false
                                      << int(UpstreamErrorKind::ProtocolError) << false << QByteArray();
        QTest::newRow("bad chunk size")
            << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n") << false
            << int(UpstreamErrorKind::ProtocolError) << true << QByteArray();
        QTest::newRow("close before answering") << QByteArray() << true << int(UpstreamErrorKind::ConnectionReset)
                                                << false << QByteArray();
        QTest::newRow("close inside the header") << QByteArray("HTTP/1.1 200 OK\r\nContent-Le") << true
                                                 << int(UpstreamErrorKind::ConnectionReset) << false << QByteArray();
        QTest::newRow("close mid-body") << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
                                        << true << int(UpstreamErrorKind::ConnectionReset) << true
                                        << QByteArray("0123456789");
        QTest::newRow("truncated chunked body")
            << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n") << true
            << int(UpstreamErrorKind::ConnectionReset) << true << QByteArray("hello");
    }

    void brokenAnswers()
    {
        QFETCH(QByteArray, answer);
        QFETCH(bool, closeAfter);
        QFETCH(int, kind);
        QFETCH(bool, responseStarted);
        QFETCH(QByteArray, bodyBefore);
        ScriptedServer server([answer, closeAfter](ScriptedServer &, QTcpSocket *socket, const QByteArray &, int, int) {
            socket->write(answer);
            if (closeAfter)
                socket->disconnectFromHost();
        });
        UpstreamClient client(directOptions());
        auto [call, outcome] = start(client, makeRequest(localUrl(server.port())));
        QTRY_VERIFY_WITH_TIMEOUT(outcome->done(), kTimeoutMs);
        QVERIFY(outcome->error);
        QVERIFY2(int(outcome->error->kind) == kind, qPrintable(outcome->error->message));
        QCOMPARE(outcome->error->responseStarted, responseStarted);
        QCOMPARE(outcome->head.has_value(), responseStarted);
        QCOMPARE(outcome->body, bodyBefore);
        QVERIFY(outcome->error->message.contains(QString::number(server.port())));
        QCOMPARE(client.stats().callsFailed, quint64(1));
        QCOMPARE(client.stats().idleConnections, 0);
        QCOMPARE(server.connectionCount(), 1); // a fresh connection is never retried
    }

    void headerBlockTooLarge()
    {
        ScriptedServer server([](ScriptedServer &, QTcpSocket *socket, const QByteArray &, int, int) {
            QByteArray answer = "HTTP/1.1 200 OK\r\n";
            for (int index = 0; index < 200; ++index)
                answer += "X-Filler-" + QByteArray::number(index) + ": " + QByteArray(60, 'v') + "\r\n";
            socket->write(answer + "Content-Length: 0\r\n\r\n");
        });
        UpstreamClientOptions options = directOptions();
        options.maxResponseHeaderBytes = 4096;
        UpstreamClient client(options);
        auto [call, outcome] = start(client, makeRequest(localUrl(server.port())));
        QTRY_VERIFY_WITH_TIMEOUT(outcome->done(), kTimeoutMs);
        QVERIFY(outcome->error);
        QCOMPARE(outcome->error->kind, UpstreamErrorKind::ProtocolError);
        QVERIFY2(outcome->error->message.contains("4096"), qPrintable(outcome->error->message));
    }

    // --- timeouts and connect failures -----------------------------------------------------

    void firstByteTimeout()
    {
        ScriptedServer server([](ScriptedServer &, QTcpSocket *, const QByteArray &, int, int) {}); // never answers
        UpstreamClient client(directOptions());
        UpstreamRequest request = makeRequest(localUrl(server.port()));
        request.timeouts.firstByte = 200ms;
        auto [call, outcome] = start(client, request);
        QTRY_VERIFY_WITH_TIMEOUT(outcome->done(), kTimeoutMs);
        QVERIFY(outcome->error);
        QCOMPARE(outcome->error->kind, UpstreamErrorKind::FirstByteTimeout);
        QVERIFY(!outcome->error->responseStarted);
        QCOMPARE(server.requests.size(), 1); // it was sent
        // The connection is dropped, never pooled.
        QCOMPARE(client.stats().idleConnections, 0);
        QTRY_VERIFY_WITH_TIMEOUT(server.sockets.value(0).isNull() ||
                                     server.sockets.value(0)->state() == QAbstractSocket::UnconnectedState,
                                 kTimeoutMs);
    }

    void idleTimeoutMidStream()
    {
        ScriptedServer server([](ScriptedServer &, QTcpSocket *socket, const QByteArray &, int, int) {
            socket->write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"); // then stalls
        });
        UpstreamClient client(directOptions());
        UpstreamRequest request = makeRequest(localUrl(server.port()));
        request.timeouts.idle = 200ms;
        auto [call, outcome] = start(client, request);
        QTRY_VERIFY_WITH_TIMEOUT(outcome->done(), kTimeoutMs);
        QVERIFY(outcome->error);
        QCOMPARE(outcome->error->kind, UpstreamErrorKind::IdleTimeout);
        QVERIFY(outcome->error->responseStarted);
        QCOMPARE(outcome->body, QByteArray("hello"));
    }

    void totalTimeoutWhileBytesKeepComing()
    {
        ScriptedServer server([](ScriptedServer &, QTcpSocket *socket, const QByteArray &, int, int) {
            socket->write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
            auto *timer = new QTimer(socket);
            QObject::connect(timer, &QTimer::timeout, socket, [socket] { socket->write("1\r\n.\r\n"); });
            timer->start(20);
        });
        UpstreamClient client(directOptions());
        UpstreamRequest request = makeRequest(localUrl(server.port()));
        request.timeouts.idle = 10s;
        request.timeouts.total = 400ms;
        auto [call, outcome] = start(client, request);
        QTRY_VERIFY_WITH_TIMEOUT(outcome->done(), kTimeoutMs);
        QVERIFY(outcome->error);
        QCOMPARE(outcome->error->kind, UpstreamErrorKind::TotalTimeout);
        QVERIFY(outcome->error->responseStarted);
        QVERIFY(outcome->body.startsWith("."));
    }

    void connectionRefused()
    {
        quint16 port = 0;
        {
            QTcpServer probe;
            QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
            port = probe.serverPort();
        }
        UpstreamClient client(directOptions());
        auto [call, outcome] = start(client, makeRequest(localUrl(port)));
        QVERIFY(!outcome->done());
        QTRY_VERIFY_WITH_TIMEOUT(outcome->done(), kTimeoutMs);
        QVERIFY(outcome->error);
        QCOMPARE(outcome->error->kind, UpstreamErrorKind::ConnectionRefused);
        QCOMPARE(outcome->error->message, QStringLiteral("connect to 127.0.0.1:%1 refused").arg(port));
        QCOMPARE(sluice::http::upstreamErrorKindName(outcome->error->kind), QString("connection_refused"));
    }

    void hostNotFound()
    {
        UpstreamClient client(directOptions());
        auto [call, outcome] = start(client, makeRequest("http://no-such-host.sluice.invalid/v1"));
        QTRY_VERIFY_WITH_TIMEOUT(outcome->done(), kTimeoutMs);
        QVERIFY(outcome->error);
        QVERIFY2(outcome->error->kind == UpstreamErrorKind::HostNotFound, qPrintable(outcome->error->message));
        QVERIFY(outcome->error->message.contains("no-such-host.sluice.invalid"));
    }

    void connectTimeoutCoversTheTlsHandshake()
    {
        if (!QSslSocket::supportsSsl())
            QSKIP("Qt has no TLS backend here");
        // Accepts TCP but never speaks TLS.
        QTcpServer silent;
        QVERIFY(silent.listen(QHostAddress::LocalHost, 0));
        UpstreamClient client(directOptions());
        UpstreamRequest request = makeRequest(localUrl(silent.serverPort(), "/", "https"));
        request.timeouts.connect = 300ms;
        auto [call, outcome] = start(client, request);
        QTRY_VERIFY_WITH_TIMEOUT(outcome->done(), kTimeoutMs);
        QVERIFY(outcome->error);
        QCOMPARE(outcome->error->kind, UpstreamErrorKind::ConnectTimeout);
        QVERIFY2(outcome->error->message.contains("TLS handshake"), qPrintable(outcome->error->message));
    }

    void invalidRequestsFailFromTheEventLoop_data()
    {
        QTest::addColumn<QString>("url");
        QTest::addColumn<QByteArray>("method");
        QTest::newRow("scheme") << "ftp://127.0.0.1/x" << QByteArray("GET");
        QTest::newRow("no host") << "http:///x" << QByteArray("GET");
        QTest::newRow("method") << "http://127.0.0.1:1/x" << QByteArray("GE T");
    }

    void invalidRequestsFailFromTheEventLoop()
    {
        QFETCH(QString, url);
        QFETCH(QByteArray, method);
        UpstreamClient client(directOptions());
        auto [call, outcome] = start(client, makeRequest(url, method));
        QCOMPARE(outcome->callbackCount(), 0);
        QTRY_VERIFY_WITH_TIMEOUT(outcome->done(), kTimeoutMs);
        QCOMPARE(outcome->error->kind, UpstreamErrorKind::InvalidRequest);
        QCOMPARE(client.stats().connectionsOpened, quint64(0));
        QCOMPARE(client.stats().callsFailed, quint64(1));
    }

    // --- reuse edge cases ---------------------------------------------------------------

    void retriesOnceWhenAReusedConnectionWasClosed()
    {
        // Connection 0 answers its first request, then drops the second unanswered (as a
        // server closing an idle connection just as it is reused); connection 1 answers.
        ScriptedServer server([](ScriptedServer &, QTcpSocket *socket, const QByteArray &, int connection, int index) {
            if (connection == 0 && index == 1) {
                socket->abort();
                return;
            }
            socket->write("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n" + QByteArray::number(connection));
        });
        UpstreamClient client(directOptions());
        auto [first, firstOutcome] = start(client, makeRequest(localUrl(server.port())));
        QTRY_VERIFY_WITH_TIMEOUT(firstOutcome->done(), kTimeoutMs);
        QCOMPARE(firstOutcome->body, QByteArray("0"));
        auto [second, secondOutcome] = start(client, makeRequest(localUrl(server.port())));
        QTRY_VERIFY_WITH_TIMEOUT(secondOutcome->done(), kTimeoutMs);
        QVERIFY2(secondOutcome->completed, secondOutcome->error ? qPrintable(secondOutcome->error->message) : "");
        QCOMPARE(secondOutcome->body, QByteArray("1"));
        QVERIFY(second->wasRetried());
        QCOMPARE(server.requests.size(), 3);
        const auto stats = client.stats();
        QCOMPARE(stats.connectionsOpened, quint64(2));
        QCOMPARE(stats.connectionsReused, quint64(1));
        QCOMPARE(stats.callsFailed, quint64(0));
    }

    void retriesOnlyOnce()
    {
        ScriptedServer server([](ScriptedServer &, QTcpSocket *socket, const QByteArray &, int connection, int index) {
            if (connection == 0 && index == 0)
                socket->write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
            else
                socket->abort();
        });
        UpstreamClient client(directOptions());
        auto [first, firstOutcome] = start(client, makeRequest(localUrl(server.port())));
        QTRY_VERIFY_WITH_TIMEOUT(firstOutcome->done(), kTimeoutMs);
        QVERIFY(firstOutcome->completed);
        auto [second, secondOutcome] = start(client, makeRequest(localUrl(server.port())));
        QTRY_VERIFY_WITH_TIMEOUT(secondOutcome->done(), kTimeoutMs);
        QVERIFY(secondOutcome->error);
        QCOMPARE(secondOutcome->error->kind, UpstreamErrorKind::ConnectionReset);
        QCOMPARE(server.connectionCount(), 2);
        QCOMPARE(server.requests.size(), 3);
    }

    void noRetryOnceResponseBytesArrived()
    {
        ScriptedServer server([](ScriptedServer &, QTcpSocket *socket, const QByteArray &, int, int index) {
            if (index == 0) {
                socket->write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
                return;
            }
            socket->write("HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\npartial");
            socket->flush();
            socket->disconnectFromHost();
        });
        UpstreamClient client(directOptions());
        auto [first, firstOutcome] = start(client, makeRequest(localUrl(server.port())));
        QTRY_VERIFY_WITH_TIMEOUT(firstOutcome->done(), kTimeoutMs);
        auto [second, secondOutcome] = start(client, makeRequest(localUrl(server.port())));
        QTRY_VERIFY_WITH_TIMEOUT(secondOutcome->done(), kTimeoutMs);
        QVERIFY(secondOutcome->error);
        QCOMPARE(secondOutcome->error->kind, UpstreamErrorKind::ConnectionReset);
        QVERIFY(secondOutcome->error->responseStarted);
        QCOMPARE(secondOutcome->body, QByteArray("partial"));
        QVERIFY(!second->wasRetried());
        QCOMPARE(server.connectionCount(), 1);
    }

    void idleConnectionClosedByTheServerLeavesThePool()
    {
        ScriptedServer server([](ScriptedServer &, QTcpSocket *socket, const QByteArray &, int, int) {
            socket->write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        });
        UpstreamClient client(directOptions());
        auto [first, firstOutcome] = start(client, makeRequest(localUrl(server.port())));
        QTRY_VERIFY_WITH_TIMEOUT(firstOutcome->done(), kTimeoutMs);
        QCOMPARE(client.stats().idleConnections, 1);
        server.sockets.value(0)->disconnectFromHost(); // the server's own idle timeout
        QTRY_COMPARE_WITH_TIMEOUT(client.stats().idleConnections, 0, kTimeoutMs);
        auto [second, secondOutcome] = start(client, makeRequest(localUrl(server.port())));
        QTRY_VERIFY_WITH_TIMEOUT(secondOutcome->done(), kTimeoutMs);
        QVERIFY(secondOutcome->completed);
        QVERIFY(!second->connectionReused());
        QCOMPARE(client.stats().connectionsOpened, quint64(2));
    }

    void idleConnectionTimeoutClosesPooledConnections()
    {
        auto origin = startOrigin([](HttpRequest, std::shared_ptr<HttpResponder> responder) {
            responder->respond(200, {}, "ok");
        });
        QVERIFY(origin);
        UpstreamClientOptions options = directOptions();
        options.idleConnectionTimeout = 100ms;
        UpstreamClient client(options);
        auto [call, outcome] = start(client, makeRequest(localUrl(origin->serverPort())));
        QTRY_VERIFY_WITH_TIMEOUT(outcome->done(), kTimeoutMs);
        QCOMPARE(client.stats().idleConnections, 1);
        QTRY_COMPARE_WITH_TIMEOUT(client.stats().idleConnections, 0, kTimeoutMs);
        QTRY_COMPARE_WITH_TIMEOUT(origin->stats().connectionsActive, quint64(0), kTimeoutMs);
    }

    // --- cancel, pause, destruction -------------------------------------------------------

    void cancelStopsEverything()
    {
        auto ticker = std::make_shared<Ticker>();
        ticker->count = 1000;
        ticker->interval = 5ms;
        auto origin = startOrigin([ticker](HttpRequest request, std::shared_ptr<HttpResponder> responder) {
            if (request.path == "/stream")
                ticker->start(std::move(responder));
            else
                responder->respond(200, {}, "marker");
        });
        QVERIFY(origin);
        UpstreamClient client(directOptions());
        auto [call, outcome] = start(client, makeRequest(localUrl(origin->serverPort(), "/stream")));
        outcome->afterBody = [call = call.get()] { call->cancel(); }; // from inside onBody
        QTRY_VERIFY_WITH_TIMEOUT(outcome->bodyPieces >= 1, kTimeoutMs);
        QVERIFY(call->isFinished());
        QVERIFY(call->isCancelled());
        call->cancel(); // twice is fine
        const QByteArray bodyAtCancel = outcome->body;
        // The server sees the connection go (it was closed, not pooled).
        QTRY_VERIFY_WITH_TIMEOUT(ticker->cancelled, kTimeoutMs);
        // Something else completes on the same client meanwhile; nothing more reached the
        // cancelled call.
        auto [marker, markerOutcome] = start(client, makeRequest(localUrl(origin->serverPort(), "/marker")));
        QTRY_VERIFY_WITH_TIMEOUT(markerOutcome->done(), kTimeoutMs);
        QVERIFY(markerOutcome->completed);
        QVERIFY(!marker->connectionReused());
        QCOMPARE(outcome->bodyPieces, 1);
        QCOMPARE(outcome->body, bodyAtCancel);
        QVERIFY(!outcome->done());
        const auto stats = client.stats();
        QCOMPARE(stats.activeCalls, 0);
        QCOMPARE(stats.callsFailed, quint64(0));
    }

    void cancelRightAfterStart()
    {
        auto origin = startOrigin([](HttpRequest, std::shared_ptr<HttpResponder> responder) {
            responder->respond(200, {}, "ok");
        });
        QVERIFY(origin);
        UpstreamClient client(directOptions());
        auto [call, outcome] = start(client, makeRequest(localUrl(origin->serverPort())));
        call->cancel();
        QVERIFY(call->isFinished());
        QCOMPARE(client.stats().activeCalls, 0);
        auto [other, otherOutcome] = start(client, makeRequest(localUrl(origin->serverPort())));
        QTRY_VERIFY_WITH_TIMEOUT(otherOutcome->done(), kTimeoutMs);
        QCOMPARE(outcome->callbackCount(), 0);
        QCOMPARE(client.stats().idleConnections, 1); // only the second call's connection
    }

    void cancelInvalidRequestBeforeItsError()
    {
        UpstreamClient client(directOptions());
        auto [call, outcome] = start(client, makeRequest("ftp://x/"));
        call->cancel();
        auto [other, otherOutcome] = start(client, makeRequest("gopher://y/"));
        QTRY_VERIFY_WITH_TIMEOUT(otherOutcome->done(), kTimeoutMs);
        QCOMPARE(outcome->callbackCount(), 0);
    }

    void pauseHoldsDeliveryUntilResume()
    {
        auto ticker = std::make_shared<Ticker>();
        ticker->count = 20;
        auto origin = startOrigin([ticker](HttpRequest, std::shared_ptr<HttpResponder> responder) {
            ticker->start(std::move(responder));
        });
        QVERIFY(origin);
        UpstreamClient client(directOptions());
        UpstreamRequest request = makeRequest(localUrl(origin->serverPort()));
        request.timeouts.idle = 150ms; // suspended while paused
        auto [call, outcome] = start(client, request);
        outcome->afterBody = [call = call.get(), outcome = outcome.get()] {
            if (outcome->bodyPieces == 1)
                call->pauseReading();
        };
        QTRY_VERIFY_WITH_TIMEOUT(outcome->bodyPieces == 1, kTimeoutMs);
        QVERIFY(call->isPaused());
        const QByteArray bodyAtPause = outcome->body;
        // The server writes everything and ends while the call is paused...
        QTRY_VERIFY_WITH_TIMEOUT(ticker->finished, kTimeoutMs);
        // ...for longer than the idle timeout; nothing is delivered, nothing times out.
        QTest::qWait(400);
        QCOMPARE(outcome->bodyPieces, 1);
        QCOMPARE(outcome->body, bodyAtPause);
        QVERIFY(!outcome->done());
        call->resumeReading();
        QCOMPARE(outcome->bodyPieces, 1); // not from inside resumeReading()
        QTRY_VERIFY_WITH_TIMEOUT(outcome->done(), kTimeoutMs);
        QVERIFY2(outcome->completed, outcome->error ? qPrintable(outcome->error->message) : "");
        QCOMPARE(outcome->body, ticker->expectedBody());
        QCOMPARE(client.stats().idleConnections, 1);
    }

    void pausePushesBackOnTheServer()
    {
        auto producer = std::make_shared<Producer>();
        producer->totalBytes = 48 * 1024 * 1024;
        auto origin = startOrigin([producer](HttpRequest, std::shared_ptr<HttpResponder> responder) {
            producer->start(std::move(responder));
        });
        QVERIFY(origin);
        UpstreamClient client(directOptions());
        UpstreamRequest request = makeRequest(localUrl(origin->serverPort(), "/big"));
        auto [call, outcome] = start(client, request);
        outcome->afterHead = [call = call.get()] { call->pauseReading(); };
        QTRY_VERIFY_WITH_TIMEOUT(outcome->head.has_value(), kTimeoutMs);
        // With the reader paused, the server's writes are refused until the pipe drains:
        // TCP pushed back, well before the whole body was produced.
        QTRY_VERIFY_WITH_TIMEOUT(producer->waiting && producer->refusals > 0, kTimeoutMs);
        const qint64 producedWhilePaused = producer->acceptedBytes;
        QTest::qWait(200);
        QVERIFY(producer->acceptedBytes < producer->totalBytes);
        QVERIFY(producer->waiting);
        QCOMPARE(producer->acceptedBytes.load(), producedWhilePaused);
        QCOMPARE(outcome->bodyPieces, 0);
        call->resumeReading();
        QTRY_VERIFY_WITH_TIMEOUT(outcome->done(), kTimeoutMs);
        QVERIFY2(outcome->completed, outcome->error ? qPrintable(outcome->error->message) : "");
        QVERIFY(producer->finished);
        QCOMPARE(outcome->body.size(), producer->totalBytes);
        QVERIFY(outcome->body == producer->expectedBody());
    }

    void destroyingTheClientCancelsCalls()
    {
        auto ticker = std::make_shared<Ticker>();
        ticker->count = 1000;
        auto origin = startOrigin([ticker](HttpRequest, std::shared_ptr<HttpResponder> responder) {
            ticker->start(std::move(responder));
        });
        QVERIFY(origin);
        ScriptedServer silent([](ScriptedServer &, QTcpSocket *, const QByteArray &, int, int) {});
        auto client = std::make_unique<UpstreamClient>(directOptions());
        auto [call, outcome] = start(*client, makeRequest(localUrl(origin->serverPort())));
        auto [pending, pendingOutcome] = start(*client, makeRequest(localUrl(silent.port())));
        QTRY_VERIFY_WITH_TIMEOUT(outcome->bodyPieces >= 1, kTimeoutMs);
        const int callbacksBefore = outcome->callbackCount() + pendingOutcome->callbackCount();
        client.reset();
        QVERIFY(call->isFinished());
        QVERIFY(pending->isFinished());
        call->cancel();         // safe after the client is gone
        pending->resumeReading(); // no-op
        QTRY_VERIFY_WITH_TIMEOUT(ticker->cancelled, kTimeoutMs);
        QTest::qWait(50);
        QCOMPARE(outcome->callbackCount() + pendingOutcome->callbackCount(), callbacksBefore);
        QVERIFY(!outcome->done());
    }

    void callbacksMayDropTheCall()
    {
        auto origin = startOrigin([](HttpRequest, std::shared_ptr<HttpResponder> responder) {
            responder->respond(200, {}, "ok");
        });
        QVERIFY(origin);
        UpstreamClient client(directOptions());
        auto outcome = std::make_shared<Outcome>();
        auto holder = std::make_shared<std::shared_ptr<UpstreamCall>>();
        UpstreamCallbacks callbacks = record(outcome);
        auto onComplete = callbacks.onComplete;
        // The callback holds the only caller reference and drops it: a cycle the client
        // must break, and a release from inside the call's own callback.
        callbacks.onComplete = [holder, onComplete] {
            onComplete();
            holder->reset();
        };
        *holder = client.start(makeRequest(localUrl(origin->serverPort())), std::move(callbacks));
        std::weak_ptr<UpstreamCall> weak = *holder;
        QTRY_VERIFY_WITH_TIMEOUT(outcome->done(), kTimeoutMs);
        QVERIFY(outcome->completed);
        QTRY_VERIFY_WITH_TIMEOUT(weak.expired(), kTimeoutMs);
    }

    // --- proxies ---------------------------------------------------------------------------

    void httpThroughProxy()
    {
        auto origin = startOrigin([](HttpRequest request, std::shared_ptr<HttpResponder> responder) {
            responder->respond(200, {}, request.headers.value("host") + " " + request.path);
        });
        QVERIFY(origin);
        TestProxy proxy;
        UpstreamClientOptions options;
        options.proxy = ProxySettings::fromValues({{"http_proxy", proxy.url("user:pw")}});
        UpstreamClient client(options);
        const QString target = QStringLiteral("http://origin.test:%1/v1/models?x=1").arg(origin->serverPort());
        auto [call, outcome] = start(client, makeRequest(target));
        QTRY_VERIFY_WITH_TIMEOUT(outcome->done(), kTimeoutMs);
        QVERIFY2(outcome->completed, outcome->error ? qPrintable(outcome->error->message) : "");
        QCOMPARE(outcome->body, "origin.test:" + QByteArray::number(origin->serverPort()) + " /v1/models");
        QCOMPARE(proxy.requestLines.size(), 1);
        QCOMPARE(proxy.requestLines[0], "GET " + target.toLatin1() + " HTTP/1.1");
        QCOMPARE(proxy.authorizations[0], "Basic " + QByteArray("user:pw").toBase64());
        // Kept alive through the proxy too.
        auto [again, againOutcome] = start(client, makeRequest(target));
        QTRY_VERIFY_WITH_TIMEOUT(againOutcome->done(), kTimeoutMs);
        QVERIFY(againOutcome->completed);
        QVERIFY(again->connectionReused());
        QCOMPARE(proxy.connections, 1);
    }

    void loopbackAndNoProxyBypassTheProxy()
    {
        auto origin = startOrigin([](HttpRequest, std::shared_ptr<HttpResponder> responder) {
            responder->respond(200, {}, "direct");
        });
        QVERIFY(origin);
        TestProxy proxy;
        UpstreamClientOptions options;
        options.proxy = ProxySettings::fromValues({{"http_proxy", proxy.url()}, {"no_proxy", "*"}});
        UpstreamClient client(options);
        auto [call, outcome] = start(client, makeRequest(localUrl(origin->serverPort())));
        QTRY_VERIFY_WITH_TIMEOUT(outcome->done(), kTimeoutMs);
        QVERIFY(outcome->completed);
        QCOMPARE(outcome->body, QByteArray("direct"));
        QCOMPARE(proxy.connections, 0);
    }

    void unreachableProxy()
    {
        quint16 port = 0;
        {
            QTcpServer probe;
            QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
            port = probe.serverPort();
        }
        UpstreamClientOptions options;
        options.proxy = ProxySettings::fromValues({{"http_proxy", QStringLiteral("127.0.0.1:%1").arg(port)}});
        UpstreamClient client(options);
        auto [call, outcome] = start(client, makeRequest("http://origin.test/v1"));
        QTRY_VERIFY_WITH_TIMEOUT(outcome->done(), kTimeoutMs);
        QVERIFY(outcome->error);
        QCOMPARE(outcome->error->kind, UpstreamErrorKind::ProxyFailure);
        QVERIFY2(outcome->error->message.contains(QString::number(port)), qPrintable(outcome->error->message));
    }

    void proxyRefusesConnect()
    {
        if (!QSslSocket::supportsSsl())
            QSKIP("Qt has no TLS backend here");
        TestProxy proxy(/*refuseConnect*/ true);
        UpstreamClientOptions options;
        options.proxy = ProxySettings::fromValues({{"HTTPS_PROXY", proxy.url("me:secret")}});
        UpstreamClient client(options);
        auto [call, outcome] = start(client, makeRequest("https://origin.test:8443/v1"));
        QTRY_VERIFY_WITH_TIMEOUT(outcome->done(), kTimeoutMs);
        QVERIFY(outcome->error);
        QCOMPARE(outcome->error->kind, UpstreamErrorKind::ProxyFailure);
        QVERIFY2(outcome->error->message.contains("407"), qPrintable(outcome->error->message));
        QCOMPARE(proxy.requestLines.value(0), QByteArray("CONNECT origin.test:8443 HTTP/1.1"));
        QCOMPARE(proxy.authorizations.value(0), "Basic " + QByteArray("me:secret").toBase64());
    }

    // --- TLS ------------------------------------------------------------------------------

    void httpsWithTheTestCa()
    {
        if (!m_identity)
            QSKIP(qPrintable(m_tlsSkipReason));
        ScriptedServer server(
            [](ScriptedServer &, QTcpSocket *socket, const QByteArray &request, int, int) {
                const QByteArray body = "secure " + request.left(request.indexOf(' '));
                socket->write("HTTP/1.1 200 OK\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" +
                              body);
            },
            m_identity);
        UpstreamClient client(tlsOptions(true));
        auto [call, outcome] = start(client, makeRequest(localUrl(server.port(), "/v1", "https"), "POST", "{}"));
        QTRY_VERIFY_WITH_TIMEOUT(outcome->done(), kTimeoutMs);
        QVERIFY2(outcome->completed, outcome->error ? qPrintable(outcome->error->message) : "");
        QCOMPARE(outcome->body, QByteArray("secure POST"));
        auto [again, againOutcome] = start(client, makeRequest(localUrl(server.port(), "/v1", "https")));
        QTRY_VERIFY_WITH_TIMEOUT(againOutcome->done(), kTimeoutMs);
        QVERIFY(againOutcome->completed);
        QCOMPARE(againOutcome->body, QByteArray("secure GET"));
        QVERIFY(again->connectionReused());
        QCOMPARE(server.connectionCount(), 1);
    }

    void httpsLargeStreamedBody()
    {
        if (!m_identity)
            QSKIP(qPrintable(m_tlsSkipReason));
        const qint64 totalBytes = 6 * 1024 * 1024;
        ScriptedServer server(
            [totalBytes](ScriptedServer &, QTcpSocket *socket, const QByteArray &, int, int) {
                socket->write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
                for (qint64 offset = 0; offset < totalBytes; offset += 64 * 1024) {
                    const QByteArray chunk(64 * 1024, char('a' + (offset / (64 * 1024)) % 26));
                    socket->write(QByteArray::number(chunk.size(), 16) + "\r\n" + chunk + "\r\n");
                }
                socket->write("0\r\n\r\n");
            },
            m_identity);
        UpstreamClient client(tlsOptions(true));
        auto [call, outcome] = start(client, makeRequest(localUrl(server.port(), "/big", "https")));
        outcome->afterBody = [call = call.get(), outcome = outcome.get()] {
            // Pause now and then: TLS with a bounded read buffer must not stall.
            if (outcome->bodyPieces % 8 == 0) {
                call->pauseReading();
                QTimer::singleShot(1ms, call, [call] { call->resumeReading(); });
            }
        };
        QTRY_VERIFY_WITH_TIMEOUT(outcome->done(), kTimeoutMs);
        QVERIFY2(outcome->completed, outcome->error ? qPrintable(outcome->error->message) : "");
        QCOMPARE(outcome->body.size(), totalBytes);
        QCOMPARE(outcome->body.count('a'), qsizetype(64 * 1024 * 4)); // chunks 0, 26, 52, 78
    }

    void httpsWithoutTheTestCaFails()
    {
        if (!m_identity)
            QSKIP(qPrintable(m_tlsSkipReason));
        ScriptedServer server(
            [](ScriptedServer &, QTcpSocket *socket, const QByteArray &, int, int) {
                socket->write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
            },
            m_identity);
        UpstreamClient client(tlsOptions(false));
        auto [call, outcome] = start(client, makeRequest(localUrl(server.port(), "/v1", "https")));
        QTRY_VERIFY_WITH_TIMEOUT(outcome->done(), kTimeoutMs);
        QVERIFY(outcome->error);
        QCOMPARE(outcome->error->kind, UpstreamErrorKind::TlsFailure);
        QVERIFY2(outcome->error->message.contains("certificate"), qPrintable(outcome->error->message));
        QVERIFY(server.requests.isEmpty());
    }

    void httpsHostNameMismatchFails()
    {
        if (!m_identity)
            QSKIP(qPrintable(m_tlsSkipReason));
        ScriptedServer server(
            [](ScriptedServer &, QTcpSocket *socket, const QByteArray &, int, int) {
                socket->write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
            },
            m_identity);
        // Through a proxy, so the name "wrong.test" reaches the server; the certificate
        // only names origin.test and 127.0.0.1.
        TestProxy proxy;
        UpstreamClientOptions options = tlsOptions(true);
        options.proxy = ProxySettings::fromValues({{"https_proxy", proxy.url()}});
        UpstreamClient client(options);
        auto [call, outcome] =
            start(client, makeRequest(QStringLiteral("https://wrong.test:%1/").arg(server.port())));
        QTRY_VERIFY_WITH_TIMEOUT(outcome->done(), kTimeoutMs);
        QVERIFY(outcome->error);
        QCOMPARE(outcome->error->kind, UpstreamErrorKind::TlsFailure);
        QVERIFY2(outcome->error->message.contains("host name", Qt::CaseInsensitive),
                 qPrintable(outcome->error->message));
        QVERIFY(server.requests.isEmpty());
    }

    void httpsThroughConnectTunnel()
    {
        if (!m_identity)
            QSKIP(qPrintable(m_tlsSkipReason));
        ScriptedServer server(
            [](ScriptedServer &, QTcpSocket *socket, const QByteArray &request, int, int) {
                const QByteArray body = "tunnelled, host " + headerOf(request, "host");
                socket->write("HTTP/1.1 200 OK\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" +
                              body);
            },
            m_identity);
        TestProxy proxy;
        UpstreamClientOptions options = tlsOptions(true);
        options.proxy = ProxySettings::fromValues({{"https_proxy", proxy.url("tunnel:pw")}});
        UpstreamClient client(options);
        const QString target = QStringLiteral("https://origin.test:%1/v1/chat/completions").arg(server.port());
        auto [call, outcome] = start(client, makeRequest(target, "POST", "{}"));
        QTRY_VERIFY_WITH_TIMEOUT(outcome->done(), kTimeoutMs);
        QVERIFY2(outcome->completed, outcome->error ? qPrintable(outcome->error->message) : "");
        QCOMPARE(outcome->body, "tunnelled, host origin.test:" + QByteArray::number(server.port()));
        QCOMPARE(proxy.requestLines.value(0), "CONNECT origin.test:" + QByteArray::number(server.port()) + " HTTP/1.1");
        QCOMPARE(proxy.authorizations.value(0), "Basic " + QByteArray("tunnel:pw").toBase64());
        // The request inside the tunnel is in origin form, without proxy credentials.
        QVERIFY(server.requests.value(0).startsWith("POST /v1/chat/completions HTTP/1.1\r\n"));
        QVERIFY(headerOf(server.requests.value(0), "proxy-authorization").isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestUpstreamClient)
#include "tst_upstreamclient.moc"
