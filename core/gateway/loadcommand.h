#pragma once

#include "gateway/loadgenerator.h"

#include <QObject>
#include <QStringList>
#include <QTimer>

#include <functional>
#include <memory>
#include <optional>

namespace sluice::gateway {

// `sluice-gateway load ...` without the process around it: parses the arguments
// (parseLoadArguments), runs a LoadGenerator, prints progress lines every
// --report-every seconds, and at the end the report: the text table, or with --json
// exactly one JSON object (loadStatsJson) on `out`, progress lines then going to `err`.
//
// Exit codes: 0 when it ran, whatever the answers (429s and 5xx included); 1 when the
// URL could not be reached at all (no response, only transport errors); 2 for bad
// arguments (the message on `err`, prefixed "sluice-gateway load: ").
//
// Thread affinity: the thread that created it, with a running event loop.
class LoadCommand : public QObject {
    Q_OBJECT
public:
    using LineWriter = std::function<void(const QString &line)>; // one line, no newline
    LoadCommand(LineWriter out, LineWriter err, QObject *parent = nullptr);
    ~LoadCommand() override;

    // The exit code when there is nothing to run (--help: 0, bad arguments: 2);
    // nullopt when the run started, and finished(exitCode) follows from the event loop.
    std::optional<int> start(const QStringList &arguments);
    // SIGINT / SIGTERM: the first stops sending and lets the requests in flight finish,
    // a second cancels them. The report is printed either way.
    void interrupt();

    LoadGenerator *generator() const { return m_generator.get(); }

signals:
    void finished(int exitCode);

private:
    void onFinished(const sluice::gateway::LoadStats &stats);
    void printProgress();

    LineWriter m_out;
    LineWriter m_err;
    std::unique_ptr<LoadGenerator> m_generator;
    QTimer m_progressTimer;
    int m_interrupts = 0;
};

} // namespace sluice::gateway
