#pragma once

// A real redis-server for tests: started on a free 127.0.0.1 port in a temporary
// directory (no persistence), stopped by pid, restartable on the same port for outage
// tests. Blocking and bounded: start(), stop() and restart() wait for the server (with
// QTcpSocket / QProcess waits, no event loop) for at most a few seconds.
//
//   sluice::test::RedisFixture redis;
//   if (!redis.available())
//       QSKIP(qPrintable(redis.unavailableReason()));
//   QVERIFY2(redis.start(), qPrintable(redis.errorString()));
//
// The server binary is $SLUICE_REDIS_SERVER when set, else redis-server on PATH.

#include "childprocess.h"

#include <QByteArray>
#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QHostAddress>
#include <QProcess>
#include <QStandardPaths>
#include <QString>
#include <QStringList>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QThread>

#include <csignal>
#include <memory>

#include <sys/types.h>

namespace sluice::test {

struct RedisFixtureOptions {
    // requirepass: the default user's password. Empty: none.
    QString password;
    // An extra ACL user with every permission, e.g. "sluice" / "s3cret". Empty: none.
    QString aclUser;
    QString aclPassword;
    // DEBUG is refused by Redis 7 unless enabled; tests use DEBUG SLEEP.
    bool enableDebugCommand = true;
};

class RedisFixture {
public:
    explicit RedisFixture(RedisFixtureOptions options = {}) : m_options(std::move(options))
    {
        const QString fromEnvironment = qEnvironmentVariable("SLUICE_REDIS_SERVER");
        m_program = fromEnvironment.isEmpty() ? QStandardPaths::findExecutable(QStringLiteral("redis-server"))
                                              : fromEnvironment;
        if (m_program.isEmpty())
            m_unavailableReason = QStringLiteral("redis-server is not installed (apt install redis-server, "
                                                 "or set SLUICE_REDIS_SERVER)");
        else if (!m_directory.isValid())
            m_unavailableReason = QStringLiteral("no temporary directory: ") + m_directory.errorString();
    }
    RedisFixture(const RedisFixture &) = delete;
    RedisFixture &operator=(const RedisFixture &) = delete;
    ~RedisFixture() { stop(); }

    bool available() const { return m_unavailableReason.isEmpty(); }
    QString unavailableReason() const { return m_unavailableReason; }
    // Why the last start() or restart() failed.
    QString errorString() const { return m_error; }

    QString host() const { return QStringLiteral("127.0.0.1"); }
    quint16 port() const { return m_port; }
    bool isRunning() const { return m_process && m_process->state() == QProcess::Running; }
    qint64 pid() const { return isRunning() ? m_process->processId() : 0; }
    const RedisFixtureOptions &options() const { return m_options; }

    // Starts the server on a free port and waits until it answers PING. A port taken
    // between choosing and binding it is retried with another one.
    bool start(int timeoutMs = 10'000)
    {
        if (!available()) {
            m_error = m_unavailableReason;
            return false;
        }
        if (isRunning())
            return true;
        return launchOnFreePort(m_port, m_error, [this, timeoutMs] { return launch(timeoutMs); });
    }

    // SIGTERM, then SIGKILL if it has not exited within `graceMs`. Idempotent.
    void stop(int graceMs = 5'000)
    {
        if (!m_process)
            return;
        terminateChild(*m_process, graceMs);
        m_process.reset();
    }

    // stop(), then start again on the same port (its data is gone: nothing is saved).
    bool restart(int timeoutMs = 10'000)
    {
        stop();
        if (m_port == 0)
            return start(timeoutMs);
        return launch(timeoutMs);
    }

    // The server's log so far (for failure messages).
    QString log() const
    {
        QFile file(m_directory.filePath(QStringLiteral("redis.log")));
        if (!file.open(QIODevice::ReadOnly))
            return {};
        return QString::fromUtf8(file.readAll());
    }

private:
    bool writeConfig()
    {
        QFile file(m_directory.filePath(QStringLiteral("redis.conf")));
        if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
            m_error = QStringLiteral("cannot write redis.conf: ") + file.errorString();
            return false;
        }
        QByteArray config;
        if (!m_options.password.isEmpty())
            config += "requirepass " + m_options.password.toUtf8() + '\n';
        if (!m_options.aclUser.isEmpty())
            config += "user " + m_options.aclUser.toUtf8() + " on >" + m_options.aclPassword.toUtf8()
                + " ~* &* +@all\n";
        if (m_options.enableDebugCommand)
            config += "enable-debug-command local\n";
        file.write(config);
        return true;
    }

    bool launch(int timeoutMs)
    {
        if (!writeConfig())
            return false;
        QFile::remove(m_directory.filePath(QStringLiteral("redis.log")));
        m_process = std::make_unique<QProcess>();
        m_process->setProgram(m_program);
        m_process->setArguments({m_directory.filePath(QStringLiteral("redis.conf")),
                                 QStringLiteral("--port"), QString::number(m_port),
                                 QStringLiteral("--bind"), QStringLiteral("127.0.0.1"),
                                 QStringLiteral("--save"), QString(),
                                 QStringLiteral("--appendonly"), QStringLiteral("no"),
                                 QStringLiteral("--dir"), m_directory.path(),
                                 QStringLiteral("--daemonize"), QStringLiteral("no"),
                                 QStringLiteral("--logfile"), m_directory.filePath(QStringLiteral("redis.log"))});
        m_process->setStandardOutputFile(QProcess::nullDevice());
        m_process->setStandardErrorFile(m_directory.filePath(QStringLiteral("stderr.log")));
        m_process->start();
        if (!m_process->waitForStarted(timeoutMs)) {
            m_error = QStringLiteral("%1 did not start: %2").arg(m_program, m_process->errorString());
            m_process.reset();
            return false;
        }
        const QDeadlineTimer deadline(timeoutMs);
        while (!deadline.hasExpired()) {
            if (m_process->state() == QProcess::NotRunning || m_process->waitForFinished(0)) {
                m_error = QStringLiteral("redis-server exited at start-up: ") + log();
                m_process.reset();
                return false;
            }
            if (answersPing())
                return true;
            QThread::msleep(20);
        }
        m_error = QStringLiteral("redis-server on port %1 did not answer PING within %2 ms: %3")
                      .arg(m_port)
                      .arg(timeoutMs)
                      .arg(log());
        stop();
        return false;
    }

    // Any answer counts ("+PONG", or "-NOAUTH" when a password is set): it is serving.
    bool answersPing() const
    {
        QTcpSocket socket;
        socket.connectToHost(QHostAddress::LocalHost, m_port);
        if (!socket.waitForConnected(500))
            return false;
        socket.write("PING\r\n");
        if (!socket.waitForBytesWritten(500))
            return false;
        QByteArray answer;
        while (!answer.contains("\r\n") && socket.waitForReadyRead(500))
            answer += socket.readAll();
        return answer.startsWith('+') || answer.startsWith('-');
    }

    RedisFixtureOptions m_options;
    QString m_program;
    QString m_unavailableReason;
    QString m_error;
    QTemporaryDir m_directory;
    std::unique_ptr<QProcess> m_process;
    quint16 m_port = 0;
};

} // namespace sluice::test
