#pragma once

// A raw HTTP/1.1 test client: the test writes exact bytes, the client collects
// what comes back and splits it into responses. For tests of servers running on
// other threads; the test thread's event loop (QTRY_*, QSignalSpy::wait) drives it.

#include <QByteArray>
#include <QHostAddress>
#include <QList>
#include <QTcpSocket>

#include <memory>
#include <optional>
#include <utility>

namespace sluice::test {

struct RawHttpResponse {
    int status = 0;
    QByteArray reason;
    QList<std::pair<QByteArray, QByteArray>> headers;
    QByteArray body;            // de-chunked
    QList<QByteArray> chunks;   // the chunks as framed, for chunked bodies
    bool chunked = false;

    QByteArray header(QByteArrayView name) const
    {
        for (const auto &field : headers) {
            if (QByteArrayView(field.first).compare(name, Qt::CaseInsensitive) == 0)
                return field.second;
        }
        return {};
    }
    bool hasHeader(QByteArrayView name) const
    {
        for (const auto &field : headers) {
            if (QByteArrayView(field.first).compare(name, Qt::CaseInsensitive) == 0)
                return true;
        }
        return false;
    }
};

struct RawHttpParse {
    QList<RawHttpResponse> responses; // complete ones, in order
    // The start of an incomplete response after them, if any (for streaming checks).
    std::optional<RawHttpResponse> partial;
    bool malformed = false;
};

// Splits `wire` into responses. `closed`: the server closed, so a body without
// length ends at the end of the data. `headRequests`: the indexes of responses that
// answer HEAD (no body whatever the headers say).
inline RawHttpParse parseRawResponses(const QByteArray &wire, bool closed, QList<int> headRequests = {})
{
    RawHttpParse result;
    qsizetype offset = 0;
    while (offset < wire.size()) {
        const qsizetype headEnd = wire.indexOf("\r\n\r\n", offset);
        if (headEnd < 0)
            return result;
        RawHttpResponse response;
        const QList<QByteArray> lines = wire.mid(offset, headEnd - offset).split('\n');
        const QByteArray statusLine = lines.value(0).trimmed();
        if (!statusLine.startsWith("HTTP/1.")) {
            result.malformed = true;
            return result;
        }
        response.status = statusLine.mid(9, 3).toInt();
        response.reason = statusLine.mid(13);
        for (qsizetype index = 1; index < lines.size(); ++index) {
            const QByteArray line = lines[index].trimmed();
            const qsizetype colon = line.indexOf(':');
            if (colon <= 0) {
                result.malformed = true;
                return result;
            }
            response.headers.append({line.left(colon), line.mid(colon + 1).trimmed()});
        }
        qsizetype position = headEnd + 4;
        const bool noBody = response.status < 200 || response.status == 204 || response.status == 304
                            || headRequests.contains(result.responses.size());
        if (noBody) {
            // nothing
        } else if (response.header("transfer-encoding").toLower() == "chunked") {
            response.chunked = true;
            for (;;) {
                const qsizetype lineEnd = wire.indexOf("\r\n", position);
                if (lineEnd < 0) {
                    result.partial = response;
                    return result;
                }
                bool ok = false;
                const qsizetype size = wire.mid(position, lineEnd - position).toLongLong(&ok, 16);
                if (!ok) {
                    result.malformed = true;
                    return result;
                }
                if (wire.size() < lineEnd + 2 + size + 2) {
                    result.partial = response;
                    return result;
                }
                if (wire.mid(lineEnd + 2 + size, 2) != "\r\n") {
                    result.malformed = true;
                    return result;
                }
                position = lineEnd + 2 + size + 2;
                if (size == 0)
                    break;
                const QByteArray chunk = wire.mid(lineEnd + 2, size);
                response.chunks.append(chunk);
                response.body += chunk;
            }
        } else if (response.hasHeader("content-length")) {
            const qsizetype length = response.header("content-length").toLongLong();
            if (wire.size() < position + length) {
                result.partial = response;
                return result;
            }
            response.body = wire.mid(position, length);
            position += length;
        } else {
            response.body = wire.mid(position);
            if (!closed) {
                result.partial = response;
                return result;
            }
            position = wire.size();
        }
        result.responses.append(response);
        offset = position;
    }
    return result;
}

class RawHttpClient {
public:
    RawHttpClient() : m_socket(std::make_unique<QTcpSocket>())
    {
        QObject::connect(m_socket.get(), &QTcpSocket::readyRead, m_socket.get(), [this] { pump(); });
        QObject::connect(m_socket.get(), &QTcpSocket::disconnected, m_socket.get(), [this] {
            pump();
            m_closed = true;
        });
    }

    // Blocking connect: the server runs on its own threads, so this cannot deadlock.
    bool connectTo(quint16 port, int timeoutMs = 5000)
    {
        m_socket->connectToHost(QHostAddress::LocalHost, port);
        return m_socket->waitForConnected(timeoutMs);
    }
    void send(const QByteArray &bytes)
    {
        m_socket->write(bytes);
        m_socket->flush();
    }
    // While paused, nothing is read: Qt's buffer and then the kernel's fill up.
    void setPaused(bool paused)
    {
        m_paused = paused;
        if (!paused)
            pump();
    }
    void pump()
    {
        if (!m_paused && m_socket->isOpen())
            m_received += m_socket->readAll();
    }
    bool isClosed() const { return m_closed || m_socket->state() == QAbstractSocket::UnconnectedState; }
    QTcpSocket &socket() { return *m_socket; }
    const QByteArray &received() const { return m_received; }
    void clearReceived() { m_received.clear(); }
    RawHttpParse parse(QList<int> headRequests = {}) const
    {
        return parseRawResponses(m_received, isClosed(), std::move(headRequests));
    }
    qsizetype responseCount() const { return parse().responses.size(); }
    RawHttpResponse response(qsizetype index) const { return parse().responses.value(index); }

private:
    std::unique_ptr<QTcpSocket> m_socket;
    QByteArray m_received;
    bool m_closed = false;
    bool m_paused = false;
};

} // namespace sluice::test
