#pragma once

// One HTTP/1.1 request on its own connection to 127.0.0.1, answered in full or not at
// all within `timeoutMs`. Blocking (QTcpSocket waits, no event loop), for talking to
// servers in other processes (a gateway child, Prometheus, nginx) from the test thread.
// The body of the answer is de-chunked (parseRawResponses()).
//
//   const auto answer = sluice::test::blockingHttp(port, "GET", "/-/ready");
//   QVERIFY2(answer.ok(), qPrintable(answer.error));

#include "rawhttpclient.h"

#include <QByteArray>
#include <QDeadlineTimer>
#include <QHostAddress>
#include <QList>
#include <QPair>
#include <QString>
#include <QTcpSocket>

#include <algorithm>

namespace sluice::test {

struct BlockingHttpResult {
    RawHttpResponse response; // status 0 when none arrived
    QString error;            // why there is no response; empty when there is one
    bool ok() const { return error.isEmpty() && response.status != 0; }
};

inline BlockingHttpResult blockingHttp(quint16 port, const QByteArray &method, const QByteArray &path,
                                       const QList<QPair<QByteArray, QByteArray>> &headers = {},
                                       const QByteArray &body = {}, int timeoutMs = 10'000)
{
    BlockingHttpResult result;
    const QDeadlineTimer deadline(timeoutMs);
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(int(deadline.remainingTime()))) {
        result.error = QStringLiteral("cannot connect to 127.0.0.1:%1: %2").arg(port).arg(socket.errorString());
        return result;
    }
    QByteArray request = method + ' ' + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    for (const auto &[name, value] : headers)
        request += name + ": " + value + "\r\n";
    if (!body.isEmpty() || method == "POST" || method == "PUT" || method == "PATCH")
        request += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    request += "\r\n" + body;
    socket.write(request);
    QByteArray received;
    // Connection: close, so the answer ends when the server closes; a complete answer
    // with a length is also accepted before that.
    while (!deadline.hasExpired()) {
        if (socket.bytesToWrite() > 0)
            socket.waitForBytesWritten(int(std::min<qint64>(deadline.remainingTime(), 100)));
        const bool more = socket.waitForReadyRead(int(std::min<qint64>(deadline.remainingTime(), 100)));
        received += socket.readAll();
        const bool closed = socket.state() == QAbstractSocket::UnconnectedState;
        const RawHttpParse parsed = parseRawResponses(received, closed);
        if (parsed.malformed) {
            result.error = QStringLiteral("malformed answer from 127.0.0.1:%1: %2").arg(port).arg(QString::fromUtf8(received.left(300)));
            return result;
        }
        if (!parsed.responses.isEmpty()) {
            result.response = parsed.responses.first();
            return result;
        }
        if (closed && !more) {
            result.error = QStringLiteral("127.0.0.1:%1 closed the connection without a complete answer (%2 bytes)")
                               .arg(port)
                               .arg(received.size());
            return result;
        }
    }
    result.error = QStringLiteral("no complete answer from 127.0.0.1:%1 %2 within %3 ms")
                       .arg(port)
                       .arg(QString::fromLatin1(path))
                       .arg(timeoutMs);
    return result;
}

} // namespace sluice::test
