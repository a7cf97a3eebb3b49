#include "http/httplistener.h"

namespace sluice::http {

HttpListener::HttpListener(std::function<void(qintptr)> onAccepted, QObject *parent)
    : QTcpServer(parent), m_onAccepted(std::move(onAccepted))
{
}

void HttpListener::incomingConnection(qintptr descriptor)
{
    m_onAccepted(descriptor);
}

} // namespace sluice::http
