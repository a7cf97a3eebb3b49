// SourceProber and the SourceError vocabulary over real sockets: refused ports, names
// that do not resolve, silent servers, servers that speak another protocol, TLS against
// plain HTTP, and the real admin API.
#include "gatewayharness.h"

#include "clients/sourceerror.h"
#include "clients/sourceprober.h"
#include "http/httpresponder.h"
#include "http/httpserver.h"

#include <QSslSocket>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

#include <memory>
#include <optional>

using namespace sluice;
using namespace sluice::clients;
using namespace sluice::test;

namespace {

constexpr int kWaitMs = 20'000; // only guards against hangs

QUrl localUrl(quint16 port, const QString &scheme = QStringLiteral("http"), const QString &path = {})
{
    return QUrl(QStringLiteral("%1://127.0.0.1:%2%3").arg(scheme).arg(port).arg(path));
}

// A port on 127.0.0.1 where nothing listens (bound, then closed).
quint16 closedPort()
{
    QTcpServer server;
    if (!server.listen(QHostAddress::LocalHost, 0))
        return 0;
    const quint16 port = server.serverPort();
    server.close();
    return port;
}

// A TCP server on 127.0.0.1 on this thread: `onData` decides what each connection gets
// once its first bytes arrive (nothing, when it does nothing).
class RawServer : public QObject {
public:
    explicit RawServer(std::function<void(QTcpSocket *)> onData)
    {
        connect(&m_server, &QTcpServer::newConnection, this, [this, onData] {
            while (QTcpSocket *socket = m_server.nextPendingConnection()) {
                ++accepted;
                connect(socket, &QTcpSocket::readyRead, socket, [socket, onData] {
                    socket->readAll();
                    if (onData)
                        onData(socket);
                });
            }
        });
        m_server.listen(QHostAddress::LocalHost, 0);
    }
    quint16 port() const { return m_server.serverPort(); }
    int accepted = 0;

private:
    QTcpServer m_server;
};

// A JSON answer for every request, on its own thread.
class JsonServer {
public:
    JsonServer(int status, QByteArray body)
    {
        http::HttpServerOptions options;
        options.threads = 1;
        m_server = std::make_unique<http::HttpServer>(
            options, [status, body](http::HttpRequest, std::shared_ptr<http::HttpResponder> responder) {
                responder->respond(status, http::HttpHeaders{{"Content-Type", "application/json"}}, body);
            });
        auto listening = m_server->listen();
        port = listening ? *listening : 0;
    }
    quint16 port = 0;

private:
    std::unique_ptr<http::HttpServer> m_server;
};

struct ProbeOutcome {
    SourceProber::Callback callback()
    {
        return [this](Result<ProbeResult, SourceError> outcome) {
            ++calls;
            result.emplace(std::move(outcome));
        };
    }
    bool wait() { return QTest::qWaitFor([this] { return result.has_value(); }, kWaitMs); }
    bool ok() const { return result && result->ok(); }
    const SourceError &error() const { return result->error(); }
    std::optional<Result<ProbeResult, SourceError>> result;
    int calls = 0;
};

} // namespace

class TestSourceProbe : public QObject {
    Q_OBJECT

private slots:
    void networkErrorsMapPrecisely_data();
    void networkErrorsMapPrecisely();
    void storeErrorsMapToo();
    void endpointNamesHostAndPort();
    void refusedPort();
    void unknownHostName();
    void silentServerTimesOut();
    void nonHttpBytesAreWrongProtocol();
    void hangUpWithoutAnswerIsWrongProtocol();
    void tlsAgainstPlainHttpIsTlsError();
    void adminProbeAgainstAGateway();
    void prometheusProbeAgainstNonPrometheus();
    void prometheusProbeAgainstPrometheusShapedServer();
    void cancelProbe();
};

void TestSourceProbe::networkErrorsMapPrecisely_data()
{
    QTest::addColumn<QNetworkReply::NetworkError>("error");
    QTest::addColumn<SourceErrorKind>("kind");
    QTest::addColumn<QString>("messageStart");

    QTest::newRow("host not found") << QNetworkReply::HostNotFoundError << SourceErrorKind::NameNotFound
                                    << QStringLiteral("host name not found: db.example");
    QTest::newRow("proxy not found") << QNetworkReply::ProxyNotFoundError << SourceErrorKind::NameNotFound
                                     << QStringLiteral("proxy host name not found");
    QTest::newRow("refused") << QNetworkReply::ConnectionRefusedError << SourceErrorKind::Refused
                             << QStringLiteral("connection refused by db.example:9090");
    QTest::newRow("proxy refused") << QNetworkReply::ProxyConnectionRefusedError << SourceErrorKind::Refused
                                   << QStringLiteral("connection refused by the proxy");
    QTest::newRow("timeout") << QNetworkReply::TimeoutError << SourceErrorKind::TimedOut
                             << QStringLiteral("timed out connecting to db.example:9090");
    QTest::newRow("proxy timeout") << QNetworkReply::ProxyTimeoutError << SourceErrorKind::TimedOut
                                   << QStringLiteral("timed out connecting to the proxy");
    QTest::newRow("tls") << QNetworkReply::SslHandshakeFailedError << SourceErrorKind::TlsError
                         << QStringLiteral("TLS handshake with db.example:9090 failed");
    QTest::newRow("auth") << QNetworkReply::AuthenticationRequiredError << SourceErrorKind::AuthenticationFailed
                          << QStringLiteral("authentication failed: the admin API at db.example:9090");
    QTest::newRow("proxy auth") << QNetworkReply::ProxyAuthenticationRequiredError
                                << SourceErrorKind::AuthenticationFailed
                                << QStringLiteral("authentication failed: the proxy");
    QTest::newRow("closed") << QNetworkReply::RemoteHostClosedError << SourceErrorKind::WrongProtocol
                            << QStringLiteral("wrong protocol: db.example:9090 did not answer HTTP");
    QTest::newRow("protocol failure") << QNetworkReply::ProtocolFailure << SourceErrorKind::WrongProtocol
                                      << QStringLiteral("wrong protocol: db.example:9090 did not answer HTTP");
    QTest::newRow("unknown protocol") << QNetworkReply::ProtocolUnknownError << SourceErrorKind::WrongProtocol
                                      << QStringLiteral("wrong protocol");
    QTest::newRow("cancelled") << QNetworkReply::OperationCanceledError << SourceErrorKind::Cancelled
                               << QStringLiteral("cancelled");
    QTest::newRow("network session") << QNetworkReply::NetworkSessionFailedError << SourceErrorKind::Other
                                     << QStringLiteral("network error with db.example:9090: qt text");
    QTest::newRow("unknown") << QNetworkReply::UnknownNetworkError << SourceErrorKind::Other
                             << QStringLiteral("network error with db.example:9090");
}

void TestSourceProbe::networkErrorsMapPrecisely()
{
    QFETCH(QNetworkReply::NetworkError, error);
    QFETCH(SourceErrorKind, kind);
    QFETCH(QString, messageStart);
    const SourceError mapped = sourceErrorFromNetworkError(error, QStringLiteral("qt text"),
                                                           QStringLiteral("db.example:9090"),
                                                           QStringLiteral("the admin API"));
    QCOMPARE(mapped.kind, kind);
    QCOMPARE(mapped.endpoint, QStringLiteral("db.example:9090"));
    QVERIFY2(mapped.message.startsWith(messageStart), qPrintable(mapped.message));
    QVERIFY(!sourceErrorKindName(kind).isEmpty());
}

void TestSourceProbe::storeErrorsMapToo()
{
    const auto map = [](store::StoreErrorKind kind) {
        return sourceErrorFromStore(store::StoreError{kind, QStringLiteral("detail")}, QStringLiteral("redis:6379"));
    };
    QCOMPARE(map(store::StoreErrorKind::Timeout).kind, SourceErrorKind::TimedOut);
    QCOMPARE(map(store::StoreErrorKind::Refused).kind, SourceErrorKind::Refused);
    QCOMPARE(map(store::StoreErrorKind::Authentication).kind, SourceErrorKind::AuthenticationFailed);
    QCOMPARE(map(store::StoreErrorKind::Protocol).kind, SourceErrorKind::WrongProtocol);
    QCOMPARE(map(store::StoreErrorKind::Cancelled).kind, SourceErrorKind::Cancelled);
    QCOMPARE(map(store::StoreErrorKind::Server).kind, SourceErrorKind::Other);
    QVERIFY(map(store::StoreErrorKind::Refused).message.contains(QStringLiteral("redis:6379")));
}

void TestSourceProbe::endpointNamesHostAndPort()
{
    QCOMPARE(endpointOf(QUrl(QStringLiteral("http://127.0.0.1:9090/x"))), QStringLiteral("127.0.0.1:9090"));
    QCOMPARE(endpointOf(QUrl(QStringLiteral("http://prometheus"))), QStringLiteral("prometheus:80"));
    QCOMPARE(endpointOf(QUrl(QStringLiteral("https://prometheus/p"))), QStringLiteral("prometheus:443"));
    QCOMPARE(endpointOf(QUrl(QStringLiteral("http://[::1]:9090"))), QStringLiteral("[::1]:9090"));
}

void TestSourceProbe::refusedPort()
{
    const quint16 port = closedPort();
    QVERIFY(port != 0);
    SourceProber prober;
    ProbeOutcome outcome;
    prober.probeAdmin(localUrl(port), "token", 10'000, this, outcome.callback());
    QVERIFY(outcome.wait());
    QVERIFY(!outcome.ok());
    QCOMPARE(outcome.error().kind, SourceErrorKind::Refused);
    QCOMPARE(outcome.error().message, QStringLiteral("connection refused by 127.0.0.1:%1").arg(port));
    QCOMPARE(prober.pendingCount(), 0);
}

void TestSourceProbe::unknownHostName()
{
    SourceProber prober;
    ProbeOutcome outcome;
    prober.probePrometheus(QUrl(QStringLiteral("http://no-such-host.invalid:9090")), {}, 15'000, this,
                           outcome.callback());
    QVERIFY(outcome.wait());
    QVERIFY(!outcome.ok());
    QCOMPARE(outcome.error().kind, SourceErrorKind::NameNotFound);
    QCOMPARE(outcome.error().message, QStringLiteral("host name not found: no-such-host.invalid"));
}

void TestSourceProbe::silentServerTimesOut()
{
    RawServer silent(nullptr);
    SourceProber prober;
    ProbeOutcome outcome;
    prober.probeAdmin(localUrl(silent.port()), {}, 300, this, outcome.callback());
    QVERIFY(outcome.wait());
    QVERIFY(!outcome.ok());
    QCOMPARE(outcome.error().kind, SourceErrorKind::TimedOut);
    QVERIFY2(outcome.error().message.contains(QStringLiteral("127.0.0.1:%1").arg(silent.port())),
             qPrintable(outcome.error().message));
    QVERIFY2(outcome.error().message.contains(QStringLiteral("300 ms")), qPrintable(outcome.error().message));
    QCOMPARE(silent.accepted, 1);
    QCOMPARE(outcome.calls, 1);
}

void TestSourceProbe::nonHttpBytesAreWrongProtocol()
{
    // What Redis answers to a line it does not understand.
    RawServer redisLike([](QTcpSocket *socket) {
        socket->write("-ERR unknown command 'GET', with args beginning with: '/admin/v1/instance'\r\n");
        socket->disconnectFromHost();
    });
    SourceProber prober;
    ProbeOutcome outcome;
    prober.probeAdmin(localUrl(redisLike.port()), {}, 10'000, this, outcome.callback());
    QVERIFY(outcome.wait());
    QVERIFY(!outcome.ok());
    QCOMPARE(outcome.error().kind, SourceErrorKind::WrongProtocol);
    QVERIFY2(outcome.error().message.startsWith(
                 QStringLiteral("wrong protocol: 127.0.0.1:%1 did not answer HTTP").arg(redisLike.port())),
             qPrintable(outcome.error().message));
}

void TestSourceProbe::hangUpWithoutAnswerIsWrongProtocol()
{
    // Redis closes at once on a "Host:" line (a cross-protocol attack guard).
    RawServer hangsUp([](QTcpSocket *socket) { socket->disconnectFromHost(); });
    SourceProber prober;
    ProbeOutcome outcome;
    prober.probePrometheus(localUrl(hangsUp.port()), {}, 10'000, this, outcome.callback());
    QVERIFY(outcome.wait());
    QVERIFY(!outcome.ok());
    QCOMPARE(outcome.error().kind, SourceErrorKind::WrongProtocol);
    QVERIFY2(outcome.error().message.contains(QStringLiteral("127.0.0.1:%1").arg(hangsUp.port())),
             qPrintable(outcome.error().message));
}

void TestSourceProbe::tlsAgainstPlainHttpIsTlsError()
{
    if (!QSslSocket::supportsSsl())
        QSKIP("Qt has no TLS backend here");
    GatewayHarness harness;
    QVERIFY2(harness.startError.isEmpty(), qPrintable(harness.startError));
    SourceProber prober;
    ProbeOutcome outcome;
    prober.probeAdmin(localUrl(harness.adminPort, QStringLiteral("https")), harness.adminToken, 10'000, this,
                      outcome.callback());
    QVERIFY(outcome.wait());
    QVERIFY(!outcome.ok());
    QCOMPARE(outcome.error().kind, SourceErrorKind::TlsError);
    QVERIFY2(outcome.error().message.startsWith(
                 QStringLiteral("TLS handshake with 127.0.0.1:%1 failed").arg(harness.adminPort)),
             qPrintable(outcome.error().message));
}

void TestSourceProbe::adminProbeAgainstAGateway()
{
    GatewayHarness harness;
    QVERIFY2(harness.startError.isEmpty(), qPrintable(harness.startError));
    SourceProber prober;

    ProbeOutcome good;
    prober.probeAdmin(localUrl(harness.adminPort), harness.adminToken, 10'000, this, good.callback());
    QVERIFY(good.wait());
    QVERIFY2(good.ok(), qPrintable(good.ok() ? QString() : good.error().message));
    QCOMPARE(good.result->value().serverId, harness.gw->instanceId());
    QVERIFY(!good.result->value().version.isEmpty());
    QCOMPARE(good.result->value().endpoint, QStringLiteral("127.0.0.1:%1").arg(harness.adminPort));
    QVERIFY(good.result->value().roundTripMs >= 0);

    ProbeOutcome wrongToken;
    prober.probeAdmin(localUrl(harness.adminPort), "wrong", 10'000, this, wrongToken.callback());
    QVERIFY(wrongToken.wait());
    QVERIFY(!wrongToken.ok());
    QCOMPARE(wrongToken.error().kind, SourceErrorKind::AuthenticationFailed);
    QVERIFY2(wrongToken.error().message.startsWith(
                 QStringLiteral("authentication failed: the admin API at 127.0.0.1:%1 answered 401")
                     .arg(harness.adminPort)),
             qPrintable(wrongToken.error().message));

    // The client listener is not the admin API.
    ProbeOutcome dataPlane;
    prober.probeAdmin(localUrl(harness.port), harness.adminToken, 10'000, this, dataPlane.callback());
    QVERIFY(dataPlane.wait());
    QVERIFY(!dataPlane.ok());
    QCOMPARE(dataPlane.error().kind, SourceErrorKind::WrongProtocol);
}

void TestSourceProbe::prometheusProbeAgainstNonPrometheus()
{
    GatewayHarness harness;
    QVERIFY2(harness.startError.isEmpty(), qPrintable(harness.startError));
    SourceProber prober;
    // The gateway's /metrics URL: an HTTP server, but not Prometheus.
    ProbeOutcome metrics;
    prober.probePrometheus(localUrl(harness.port, QStringLiteral("http"), QStringLiteral("/metrics")), {}, 10'000,
                           this, metrics.callback());
    QVERIFY(metrics.wait());
    QVERIFY(!metrics.ok());
    QCOMPARE(metrics.error().kind, SourceErrorKind::WrongProtocol);
    QVERIFY2(metrics.error().message.startsWith(
                 QStringLiteral("wrong protocol: 127.0.0.1:%1 answered HTTP but is not Prometheus").arg(harness.port)),
             qPrintable(metrics.error().message));
    // The admin listener, with its token (JSON, but not Prometheus' envelope).
    ProbeOutcome admin;
    prober.probePrometheus(localUrl(harness.adminPort), harness.adminToken, 10'000, this, admin.callback());
    QVERIFY(admin.wait());
    QVERIFY(!admin.ok());
    QCOMPARE(admin.error().kind, SourceErrorKind::WrongProtocol);
    QVERIFY2(admin.error().message.contains(QStringLiteral("answered 404")), qPrintable(admin.error().message));
    // Without the token the admin API answers 401: that is an authentication failure,
    // whatever is behind it.
    ProbeOutcome anonymous;
    prober.probePrometheus(localUrl(harness.adminPort), {}, 10'000, this, anonymous.callback());
    QVERIFY(anonymous.wait());
    QCOMPARE(anonymous.error().kind, SourceErrorKind::AuthenticationFailed);
}

void TestSourceProbe::prometheusProbeAgainstPrometheusShapedServer()
{
    JsonServer prometheus(200, "{\"status\":\"success\",\"data\":{\"version\":\"2.42.0\",\"revision\":\"abc\","
                               "\"branch\":\"HEAD\",\"goVersion\":\"go1.19\"}}");
    QVERIFY(prometheus.port != 0);
    SourceProber prober;
    ProbeOutcome outcome;
    prober.probePrometheus(localUrl(prometheus.port), {}, 10'000, this, outcome.callback());
    QVERIFY(outcome.wait());
    QVERIFY2(outcome.ok(), qPrintable(outcome.ok() ? QString() : outcome.error().message));
    QCOMPARE(outcome.result->value().version, QStringLiteral("2.42.0"));
    QVERIFY(outcome.result->value().serverId.isEmpty());

    // success without a version: something else that happens to speak the envelope.
    JsonServer impostor(200, "{\"status\":\"success\",\"data\":{}}");
    ProbeOutcome wrong;
    prober.probePrometheus(localUrl(impostor.port), {}, 10'000, this, wrong.callback());
    QVERIFY(wrong.wait());
    QCOMPARE(wrong.error().kind, SourceErrorKind::WrongProtocol);
}

void TestSourceProbe::cancelProbe()
{
    RawServer silent(nullptr);
    SourceProber prober;
    ProbeOutcome outcome;
    const RequestId id = prober.probeAdmin(localUrl(silent.port()), {}, 10'000, this, outcome.callback());
    QCOMPARE(prober.pendingCount(), 1);
    QVERIFY(prober.cancel(id));
    QVERIFY(outcome.result.has_value());
    QCOMPARE(outcome.error().kind, SourceErrorKind::Cancelled);
    QCOMPARE(prober.pendingCount(), 0);
    QVERIFY(!prober.cancel(id));

    // A probe whose context goes away never calls back.
    ProbeOutcome dropped;
    auto context = std::make_unique<QObject>();
    prober.probeAdmin(localUrl(silent.port()), {}, 200, context.get(), dropped.callback());
    context.reset();
    QCOMPARE(prober.pendingCount(), 0);
    QTest::qWait(400);
    QCOMPARE(dropped.calls, 0);
    QCOMPARE(outcome.calls, 1);
}

QTEST_GUILESS_MAIN(TestSourceProbe)
#include "tst_sourceprobe.moc"
