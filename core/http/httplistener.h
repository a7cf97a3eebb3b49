#pragma once

#include <QTcpServer>

#include <functional>

namespace sluice::http {

// Internal. A QTcpServer that hands each accepted descriptor to a callback instead
// of wrapping it in a QTcpSocket, so the descriptor can move to another thread.
// Lives on one worker thread; the callback runs there and owns the descriptor.
class HttpListener : public QTcpServer {
    Q_OBJECT
public:
    explicit HttpListener(std::function<void(qintptr)> onAccepted, QObject *parent = nullptr);

protected:
    void incomingConnection(qintptr descriptor) override;

private:
    std::function<void(qintptr)> m_onAccepted;
};

} // namespace sluice::http
