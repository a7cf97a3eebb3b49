#pragma once

// A real nginx in front of test backends, configured from the shipped example
// (installer/deploy/nginx/sluice-upstream.conf): its `server 127.0.0.1:808x ...` lines
// become one line per backend port (keeping their parameters), its `listen 80;` becomes
// 127.0.0.1 and a free port. Everything nginx writes (pid, logs, temp files) is in a
// temporary directory; `daemon off; master_process on;` keeps the master in the
// foreground, so the QProcess pid is nginx's. Blocking and bounded: start() waits (no
// event loop) until the port accepts connections; stop() sends SIGTERM (fast shutdown)
// to the master, then SIGKILL to it and its workers.
//
//   sluice::test::NginxFixture nginx({gatewayPort1, gatewayPort2});
//   if (!nginx.available())
//       QSKIP(qPrintable(nginx.unavailableReason()));
//   QVERIFY2(nginx.start(), qPrintable(nginx.errorString()));
//   ... http://127.0.0.1:<nginx.port()>/v1/chat/completions
//
// The binary is $SLUICE_NGINX when set, else nginx on PATH, /usr/sbin or /sbin. The
// template defaults to SLUICE_SOURCE_DIR/installer/deploy/nginx/sluice-upstream.conf
// when the including target defines SLUICE_SOURCE_DIR.

#include "childprocess.h"

#include <QByteArray>
#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QHostAddress>
#include <QList>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QString>
#include <QStringList>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QThread>

#include <csignal>
#include <memory>

#include <pwd.h>
#include <sys/types.h>
#include <unistd.h>

namespace sluice::test {

class NginxFixture {
public:
    static QString defaultUpstreamTemplate()
    {
#ifdef SLUICE_SOURCE_DIR
        return QStringLiteral(SLUICE_SOURCE_DIR "/installer/deploy/nginx/sluice-upstream.conf");
#else
        return {};
#endif
    }

    // `backendPorts`: the upstream servers on 127.0.0.1 (at least one).
    explicit NginxFixture(QList<quint16> backendPorts, QString upstreamTemplate = defaultUpstreamTemplate())
        : m_backendPorts(std::move(backendPorts)), m_template(std::move(upstreamTemplate))
    {
        const QString fromEnvironment = qEnvironmentVariable("SLUICE_NGINX");
        m_program = fromEnvironment.isEmpty() ? QStandardPaths::findExecutable(QStringLiteral("nginx")) : fromEnvironment;
        if (m_program.isEmpty())
            m_program = QStandardPaths::findExecutable(QStringLiteral("nginx"),
                                                       {QStringLiteral("/usr/sbin"), QStringLiteral("/sbin")});
        if (m_program.isEmpty())
            m_unavailableReason = QStringLiteral("nginx is not installed (apt install nginx-light, or set SLUICE_NGINX)");
        else if (m_template.isEmpty() || !QFile::exists(m_template))
            m_unavailableReason = QStringLiteral("the nginx upstream template is missing: ") + m_template;
        else if (m_backendPorts.isEmpty())
            m_unavailableReason = QStringLiteral("no backend ports given");
        else if (!m_directory.isValid())
            m_unavailableReason = QStringLiteral("no temporary directory: ") + m_directory.errorString();
    }
    NginxFixture(const NginxFixture &) = delete;
    NginxFixture &operator=(const NginxFixture &) = delete;
    ~NginxFixture() { stop(); }

    bool available() const { return m_unavailableReason.isEmpty(); }
    QString unavailableReason() const { return m_unavailableReason; }
    QString errorString() const { return m_error; }

    quint16 port() const { return m_port; }
    QString baseUrl() const { return QStringLiteral("http://127.0.0.1:%1").arg(m_port); }
    bool isRunning() const { return m_process && m_process->state() == QProcess::Running; }
    qint64 pid() const { return isRunning() ? m_process->processId() : 0; }
    QString directory() const { return m_directory.path(); }
    QString configPath() const { return m_directory.filePath(QStringLiteral("nginx.conf")); }

    // Writes the configuration, starts nginx on a free port and waits until it accepts
    // connections. Retried on another port when the chosen one was taken meanwhile.
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

    // SIGTERM to the master (fast shutdown), then SIGKILL to its workers and itself if it
    // has not exited within `graceMs`. Idempotent.
    void stop(int graceMs = 5'000)
    {
        if (!m_process)
            return;
        if (m_process->state() != QProcess::NotRunning)
            terminateChild(*m_process, graceMs, childrenOf(pid_t(m_process->processId())));
        m_process.reset();
    }

    QString errorLog() const { return readFile(m_directory.filePath(QStringLiteral("error.log"))); }
    QString accessLog() const { return readFile(m_directory.filePath(QStringLiteral("access.log"))); }

private:
    static QString readFile(const QString &path)
    {
        QFile file(path);
        return file.open(QIODevice::ReadOnly) ? QString::fromUtf8(file.readAll()) : QString();
    }

    // The pids whose parent is `parent` (nginx's workers), from /proc.
    static QList<pid_t> childrenOf(pid_t parent)
    {
        QList<pid_t> children;
        const QString taskDir = QStringLiteral("/proc/%1/task").arg(parent);
        for (const QString &task : QDir(taskDir).entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
            QFile file(taskDir + QLatin1Char('/') + task + QStringLiteral("/children"));
            if (!file.open(QIODevice::ReadOnly))
                continue;
            for (const QByteArray &field : file.readAll().simplified().split(' ')) {
                if (const pid_t child = pid_t(field.toLongLong()); child > 0)
                    children.append(child);
            }
        }
        return children;
    }

    // The example's upstream file with the real backends and listen address.
    bool writeUpstream(const QString &path)
    {
        QFile source(m_template);
        if (!source.open(QIODevice::ReadOnly)) {
            m_error = QStringLiteral("cannot read %1: %2").arg(m_template, source.errorString());
            return false;
        }
        static const QRegularExpression serverLine(QStringLiteral("^(\\s*)server\\s+127\\.0\\.0\\.1:\\d+(.*)$"));
        static const QRegularExpression listenLine(QStringLiteral("^(\\s*)listen\\s+80\\s*;(.*)$"));
        QStringList out;
        bool serversWritten = false;
        bool listenWritten = false;
        for (const QString &line : QString::fromUtf8(source.readAll()).split(QLatin1Char('\n'))) {
            if (const auto match = serverLine.match(line); match.hasMatch()) {
                if (!serversWritten) {
                    for (const quint16 backend : m_backendPorts)
                        out << QStringLiteral("%1server 127.0.0.1:%2%3").arg(match.captured(1)).arg(backend).arg(match.captured(2));
                    serversWritten = true;
                }
                continue;
            }
            if (const auto match = listenLine.match(line); match.hasMatch()) {
                out << QStringLiteral("%1listen 127.0.0.1:%2;%3").arg(match.captured(1)).arg(m_port).arg(match.captured(2));
                listenWritten = true;
                continue;
            }
            out << line;
        }
        if (!serversWritten || !listenWritten) {
            m_error = QStringLiteral("%1 has no `server 127.0.0.1:PORT` or no `listen 80;` line to replace").arg(m_template);
            return false;
        }
        QFile file(path);
        if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
            m_error = QStringLiteral("cannot write %1: %2").arg(path, file.errorString());
            return false;
        }
        file.write(out.join(QLatin1Char('\n')).toUtf8());
        return true;
    }

    bool writeConfig()
    {
        const QString upstream = m_directory.filePath(QStringLiteral("sluice-upstream.conf"));
        if (!writeUpstream(upstream))
            return false;
        const QString dir = m_directory.path();
        QByteArray config;
        // As root the workers would switch to `nobody`, who cannot write the temporary
        // directory; keep them as the user running the test.
        if (::geteuid() == 0) {
            if (const passwd *user = ::getpwuid(::geteuid()))
                config += "user " + QByteArray(user->pw_name) + ";\n";
        }
        config += "daemon off;\nmaster_process on;\nworker_processes 1;\n";
        config += "pid " + dir.toUtf8() + "/nginx.pid;\n";
        config += "error_log " + dir.toUtf8() + "/error.log warn;\n";
        config += "events { worker_connections 1024; }\n";
        config += "http {\n";
        config += "    access_log " + dir.toUtf8() + "/access.log;\n";
        for (const char *kind : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"})
            config += "    " + QByteArray(kind) + "_temp_path " + dir.toUtf8() + '/' + kind + ";\n";
        config += "    include " + upstream.toUtf8() + ";\n";
        config += "}\n";
        QFile file(configPath());
        if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
            m_error = QStringLiteral("cannot write nginx.conf: ") + file.errorString();
            return false;
        }
        file.write(config);
        return true;
    }

    bool answers() const
    {
        QTcpSocket socket;
        socket.connectToHost(QHostAddress::LocalHost, m_port);
        return socket.waitForConnected(500);
    }

    bool launch(int timeoutMs)
    {
        if (!writeConfig())
            return false;
        QFile::remove(m_directory.filePath(QStringLiteral("error.log")));
        m_process = std::make_unique<QProcess>();
        m_process->setProgram(m_program);
        m_process->setArguments({QStringLiteral("-p"), m_directory.path(), QStringLiteral("-e"),
                                 m_directory.filePath(QStringLiteral("error.log")), QStringLiteral("-c"), configPath()});
        m_process->setStandardOutputFile(m_directory.filePath(QStringLiteral("stdout.log")));
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
                m_error = QStringLiteral("nginx exited at start-up: ") + errorLog()
                          + readFile(m_directory.filePath(QStringLiteral("stderr.log")));
                m_process.reset();
                return false;
            }
            if (answers())
                return true;
            QThread::msleep(20);
        }
        m_error = QStringLiteral("nginx on port %1 did not accept connections within %2 ms: %3")
                      .arg(m_port)
                      .arg(timeoutMs)
                      .arg(errorLog());
        stop();
        return false;
    }

    QList<quint16> m_backendPorts;
    QString m_template;
    QString m_program;
    QString m_unavailableReason;
    QString m_error;
    QTemporaryDir m_directory;
    std::unique_ptr<QProcess> m_process;
    quint16 m_port = 0;
};

} // namespace sluice::test
