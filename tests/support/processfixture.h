#pragma once

// A child process for integration tests (a gateway, a simulated provider, a load driver):
// stdout and stderr go to files in a temporary directory (so a chatty child never blocks
// on a full pipe and its output is there for failure messages), extra environment
// variables are added to the test's own, and it is stopped by pid: SIGTERM, then SIGKILL
// after a grace period. The destructor stops it, so every path of a test ends its
// children. Blocking, bounded calls (QProcess waits, no event loop); use it from the
// test thread.
//
//   sluice::test::ProcessFixture gateway(QStringLiteral("gateway-1"));
//   gateway.setEnvironmentValue(QStringLiteral("SLUICE_ADMIN_TOKEN"), token);
//   QVERIFY2(gateway.start(binary, {"--config", path}), qPrintable(gateway.failureText()));

#include "childprocess.h"

#include <QByteArray>
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>

#include <csignal>
#include <memory>

#include <sys/types.h>

namespace sluice::test {

class ProcessFixture {
public:
    // `name`: for messages and the output files' names.
    explicit ProcessFixture(QString name = QStringLiteral("child")) : m_name(std::move(name)) {}
    ProcessFixture(const ProcessFixture &) = delete;
    ProcessFixture &operator=(const ProcessFixture &) = delete;
    ~ProcessFixture() { stop(); }

    QString name() const { return m_name; }

    // Added to (or replacing in) the test's environment for the next start().
    void setEnvironmentValue(const QString &variable, const QString &value) { m_environment.insert(variable, value); }

    // Starts `program` with `arguments`; true once it runs. A running child is stopped
    // first. The output files of an earlier run are replaced.
    bool start(const QString &program, const QStringList &arguments, int timeoutMs = 10'000)
    {
        stop();
        if (!m_directory.isValid()) {
            m_error = QStringLiteral("no temporary directory: ") + m_directory.errorString();
            return false;
        }
        m_program = program;
        m_arguments = arguments;
        m_process = std::make_unique<QProcess>();
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        for (const QString &variable : m_environment.keys())
            environment.insert(variable, m_environment.value(variable));
        m_process->setProcessEnvironment(environment);
        m_process->setStandardOutputFile(stdoutPath(), QIODevice::Truncate);
        m_process->setStandardErrorFile(stderrPath(), QIODevice::Truncate);
        m_process->setStandardInputFile(QProcess::nullDevice());
        m_process->start(program, arguments);
        if (!m_process->waitForStarted(timeoutMs)) {
            m_error = QStringLiteral("%1 (%2) did not start: %3").arg(m_name, program, m_process->errorString());
            m_process.reset();
            return false;
        }
        m_error.clear();
        return true;
    }

    bool isRunning() const { return m_process && m_process->state() == QProcess::Running && !exitedNow(); }
    qint64 pid() const { return m_process && m_process->state() != QProcess::NotRunning ? m_process->processId() : 0; }

    // Waits (bounded) for the child to exit by itself; true if it did.
    bool waitForFinished(int timeoutMs)
    {
        if (!m_process)
            return true;
        if (m_process->state() == QProcess::NotRunning)
            return true;
        return m_process->waitForFinished(timeoutMs);
    }
    // Exit code of a finished child; -1 while running, after a crash or without one.
    int exitCode() const
    {
        if (!m_process || m_process->state() != QProcess::NotRunning || m_process->exitStatus() != QProcess::NormalExit)
            return -1;
        return m_process->exitCode();
    }
    bool crashed() const
    {
        return m_process && m_process->state() == QProcess::NotRunning && m_process->exitStatus() == QProcess::CrashExit;
    }

    // Sends `signal` to the child's pid (no wait).
    void signal(int signalNumber)
    {
        if (const qint64 id = pid(); id > 0)
            ::kill(pid_t(id), signalNumber);
    }

    // SIGTERM, then SIGKILL if it has not exited within `graceMs`. Idempotent. The
    // output files stay until the fixture is destroyed.
    void stop(int graceMs = 5'000)
    {
        if (!m_process)
            return;
        terminateChild(*m_process, graceMs);
        m_finishedProcess = std::move(m_process);
    }

    QByteArray standardOutput() const { return readFile(stdoutPath()); }
    QByteArray standardError() const { return readFile(stderrPath()); }
    QString errorString() const { return m_error; }

    // For failure messages: the command, its state and the end of its stderr.
    QString failureText(qsizetype tailBytes = 3000) const
    {
        QString state = QStringLiteral("not started");
        if (const QProcess *process = m_process ? m_process.get() : m_finishedProcess.get()) {
            if (process->state() != QProcess::NotRunning)
                state = QStringLiteral("running, pid %1").arg(process->processId());
            else if (process->exitStatus() == QProcess::CrashExit)
                state = QStringLiteral("crashed / killed by a signal");
            else
                state = QStringLiteral("exited with %1").arg(process->exitCode());
        }
        return QStringLiteral("%1: %2 %3 [%4]%5\nstderr (end): %6")
            .arg(m_name, m_program, m_arguments.join(QLatin1Char(' ')), state,
                 m_error.isEmpty() ? QString() : QStringLiteral(" ") + m_error,
                 QString::fromUtf8(standardError().right(tailBytes)));
    }

    QString directory() const { return m_directory.path(); }

private:
    // QProcess learns of an exit only when it reads its signal pipe; ask without waiting.
    bool exitedNow() const { return m_process->waitForFinished(0); }

    QString stdoutPath() const { return m_directory.filePath(m_name + QStringLiteral(".stdout")); }
    QString stderrPath() const { return m_directory.filePath(m_name + QStringLiteral(".stderr")); }

    static QByteArray readFile(const QString &path)
    {
        QFile file(path);
        return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
    }

    QString m_name;
    QString m_program;
    QStringList m_arguments;
    QString m_error;
    QProcessEnvironment m_environment;
    QTemporaryDir m_directory;
    std::unique_ptr<QProcess> m_process;
    std::unique_ptr<QProcess> m_finishedProcess;
};

} // namespace sluice::test
