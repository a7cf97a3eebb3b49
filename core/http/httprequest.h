#pragma once

#include "http/httpheaders.h"

#include <QByteArray>
#include <QHostAddress>
#include <QString>

namespace sluice::http {

// One parsed HTTP/1.x request, complete with its body (chunked bodies arrive
// decoded). A value type handed to the handler by value.
struct HttpRequest {
    QByteArray method;  // as sent, upper case: "GET", "POST", ...
    QByteArray target;  // the request-target as sent: "/v1/chat/completions?x=1"
    QByteArray path;    // target without query or fragment, still percent-encoded; "*" for OPTIONS *
    QByteArray query;   // the part after '?', without it; empty if none
    int versionMajor = 1;
    int versionMinor = 1;
    HttpHeaders headers;
    QByteArray body;

    QHostAddress peerAddress;
    quint16 peerPort = 0;
    // Unique per server for the life of the server; requests on one keep-alive
    // connection share it.
    quint64 connectionId = 0;
    // Empty from the server; a slot for the gateway to fill (x-request-id, logs).
    QString requestId;

    bool isHttp10() const { return versionMajor == 1 && versionMinor == 0; }
};

} // namespace sluice::http
