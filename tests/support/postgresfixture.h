#pragma once

#include "childprocess.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHostAddress>
#include <QProcess>
#include <QStandardPaths>
#include <QString>
#include <QStringList>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QThread>

#include <algorithm>
#include <csignal>
#include <memory>

#include <pwd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

namespace sluice::test {

// A throw-away PostgreSQL server for tests: initdb into a temporary directory under /tmp,
// `-A trust`, a postmaster on 127.0.0.1 and a free port, and one database created in it.
// When the test runs as root the server runs as the `postgres` user through
// `runuser -u postgres --` (PostgreSQL refuses to run as root); the data directory is
// chown'ed to that user and its parent is 0755 so the user can reach it.
//
// available() is false, with reason(), only when the binaries (or, as root, the postgres
// user or runuser) are missing: the test should QSKIP. When they are present but the
// server did not come up, isRunning() is false and lastError() says why (a test failure).
//
// stop() shuts the server down by its pid (SIGINT: fast shutdown, bounded, then SIGKILL);
// start() brings it back on the same port and data directory, for outage tests. The
// destructor stops it. Blocking calls with bounded waits; use it from the test thread.
//
// The binaries are looked up in $SLUICE_POSTGRES_BINDIR, then /usr/lib/postgresql/<newest>/bin,
// then PATH.
class PostgresFixture {
public:
    struct Options {
        QString databaseName = QStringLiteral("sluice");
        int startTimeoutMs = 30000;
        int stopTimeoutMs = 10000;
    };

    PostgresFixture() : PostgresFixture(Options{}) {}
    explicit PostgresFixture(Options options) : m_options(std::move(options))
    {
        if (!locateTools())
            return;
        m_available = true;
        if (!initialize())
            return;
        for (int attempt = 0; attempt < 3; ++attempt) {
            m_port = freeLocalPort();
            if (m_port != 0 && start())
                break;
        }
        if (!isRunning())
            return;
        if (!createDatabase(m_options.databaseName))
            stop();
    }

    PostgresFixture(const PostgresFixture &) = delete;
    PostgresFixture &operator=(const PostgresFixture &) = delete;

    ~PostgresFixture() { stop(); }

    bool available() const { return m_available; }
    QString reason() const { return m_reason; }
    QString lastError() const { return m_error; }
    bool isRunning() const { return m_server && m_server->state() != QProcess::NotRunning && m_ready; }

    quint16 port() const { return m_port; }
    QString databaseName() const { return m_options.databaseName; }
    QString dataDirectory() const { return m_dataDir; }

    // libpq key/value connection string for the fixture's database (or `database`).
    QString connectionString() const { return connectionString(m_options.databaseName); }
    QString connectionString(const QString &database) const
    {
        return QStringLiteral("host=127.0.0.1 port=%1 user=postgres dbname=%2").arg(m_port).arg(database);
    }

    // A connection string to a port nothing listens on (for "server absent" tests).
    static QString unreachableConnectionString()
    {
        const quint16 port = freeLocalPort();
        return QStringLiteral("host=127.0.0.1 port=%1 user=postgres dbname=sluice").arg(port);
    }

    // Creates another database on the running server (`name`: letters, digits, '_').
    bool createDatabase(const QString &name)
    {
        QString output;
        if (!runTool(tool(QStringLiteral("createdb")),
                     {QStringLiteral("-h"), QStringLiteral("127.0.0.1"), QStringLiteral("-p"), QString::number(m_port),
                      QStringLiteral("-U"), QStringLiteral("postgres"), name},
                     false, 30000, &output)) {
            m_error = QStringLiteral("createdb %1 failed: %2").arg(name, output);
            return false;
        }
        return true;
    }

    // Starts the server on port() and the existing data directory; waits (bounded) until it
    // accepts connections. True if it is running afterwards.
    bool start()
    {
        if (!m_available || m_dataDir.isEmpty() || m_port == 0)
            return false;
        if (isRunning())
            return true;
        m_ready = false;
        m_server = std::make_unique<QProcess>();
        m_server->setWorkingDirectory(m_root->path());
        m_server->setProcessChannelMode(QProcess::MergedChannels);
        m_server->setStandardOutputFile(logPath(), QIODevice::Append);
        const QStringList serverArgs{
            QStringLiteral("-D"), m_dataDir,
            QStringLiteral("-p"), QString::number(m_port),
            QStringLiteral("-k"), m_socketDir,
            QStringLiteral("-c"), QStringLiteral("listen_addresses=127.0.0.1"),
            // A test server: durability is not the point, speed is.
            QStringLiteral("-c"), QStringLiteral("fsync=off"),
            QStringLiteral("-c"), QStringLiteral("synchronous_commit=off"),
            QStringLiteral("-c"), QStringLiteral("full_page_writes=off"),
            QStringLiteral("-c"), QStringLiteral("max_connections=60"),
        };
        const auto [program, args] = command(tool(QStringLiteral("postgres")), serverArgs, true);
        m_server->start(program, args);
        if (!m_server->waitForStarted(5000)) {
            m_error = QStringLiteral("could not start %1: %2").arg(program, m_server->errorString());
            m_server.reset();
            return false;
        }
        const QDeadlineTimer deadline(m_options.startTimeoutMs);
        while (!deadline.hasExpired()) {
            if (m_server->state() == QProcess::NotRunning) {
                m_error = QStringLiteral("postgres exited during start-up: %1").arg(serverLog().right(2000));
                m_server.reset();
                return false;
            }
            if (ping()) {
                m_ready = true;
                return true;
            }
            QThread::msleep(100);
        }
        m_error = QStringLiteral("postgres did not accept connections within %1 ms: %2")
                      .arg(m_options.startTimeoutMs)
                      .arg(serverLog().right(2000));
        stop();
        return false;
    }

    // Fast shutdown (SIGINT to the postmaster), bounded by stopTimeoutMs, then SIGKILL.
    // True once the server process is gone.
    bool stop()
    {
        if (!m_server)
            return true;
        m_ready = false;
        const pid_t pid = postmasterPid();
        if (m_server->state() != QProcess::NotRunning) {
            if (pid > 0)
                ::kill(pid, SIGINT);
            else
                ::kill(pid_t(m_server->processId()), SIGINT);
            if (!m_server->waitForFinished(m_options.stopTimeoutMs)) {
                if (pid > 0)
                    ::kill(pid, SIGKILL);
                m_server->kill();
                m_server->waitForFinished(5000);
            }
        }
        const bool stopped = m_server->state() == QProcess::NotRunning;
        m_server.reset();
        return stopped;
    }

    bool restart() { return stop() && start(); }

    QString serverLog() const
    {
        QFile file(logPath());
        return file.open(QIODevice::ReadOnly) ? QString::fromLocal8Bit(file.readAll()) : QString();
    }

private:
    QString tool(const QString &name) const { return m_binDir + QLatin1Char('/') + name; }
    QString logPath() const { return m_root ? m_root->filePath(QStringLiteral("server.log")) : QString(); }

    static bool runningAsRoot() { return ::geteuid() == 0; }

    bool locateTools()
    {
        QStringList candidates;
        const QString fromEnv = qEnvironmentVariable("SLUICE_POSTGRES_BINDIR");
        if (!fromEnv.isEmpty())
            candidates << fromEnv;
        QStringList versions = QDir(QStringLiteral("/usr/lib/postgresql")).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
        std::sort(versions.begin(), versions.end(),
                  [](const QString &a, const QString &b) { return a.toDouble() > b.toDouble(); });
        for (const QString &version : versions)
            candidates << QStringLiteral("/usr/lib/postgresql/%1/bin").arg(version);
        const QString onPath = QStandardPaths::findExecutable(QStringLiteral("postgres"));
        if (!onPath.isEmpty())
            candidates << QFileInfo(onPath).absolutePath();
        for (const QString &dir : candidates) {
            const bool complete = std::all_of(
                std::begin(toolNames), std::end(toolNames),
                [&dir](const char *name) { return QFileInfo(dir + QLatin1Char('/') + QLatin1String(name)).isExecutable(); });
            if (complete) {
                m_binDir = dir;
                break;
            }
        }
        if (m_binDir.isEmpty()) {
            m_reason = QStringLiteral("PostgreSQL server binaries (initdb, postgres, pg_isready, createdb) not found; "
                                      "install postgresql or set SLUICE_POSTGRES_BINDIR");
            return false;
        }
        if (runningAsRoot()) {
            m_runuser = QStandardPaths::findExecutable(
                QStringLiteral("runuser"), {QStringLiteral("/usr/sbin"), QStringLiteral("/sbin"),
                                            QStringLiteral("/usr/bin"), QStringLiteral("/bin")});
            const passwd *user = ::getpwnam("postgres");
            if (m_runuser.isEmpty() || user == nullptr) {
                m_reason = QStringLiteral("running as root, but runuser or the postgres user is missing "
                                          "(PostgreSQL refuses to run as root)");
                return false;
            }
            m_uid = user->pw_uid;
            m_gid = user->pw_gid;
        }
        return true;
    }

    bool initialize()
    {
        m_root = std::make_unique<QTemporaryDir>(QStringLiteral("/tmp/sluice-pg-XXXXXX"));
        if (!m_root->isValid()) {
            m_error = QStringLiteral("cannot create a temporary directory: %1").arg(m_root->errorString());
            return false;
        }
        ::chmod(QFile::encodeName(m_root->path()).constData(), 0755);
        m_dataDir = m_root->filePath(QStringLiteral("data"));
        m_socketDir = m_root->filePath(QStringLiteral("sock"));
        for (const QString &dir : {m_dataDir, m_socketDir}) {
            const QByteArray path = QFile::encodeName(dir);
            if (::mkdir(path.constData(), 0700) != 0
                || (runningAsRoot() && ::chown(path.constData(), m_uid, m_gid) != 0)) {
                m_error = QStringLiteral("cannot prepare %1").arg(dir);
                return false;
            }
        }
        QString output;
        if (!runTool(tool(QStringLiteral("initdb")),
                     {QStringLiteral("-D"), m_dataDir, QStringLiteral("-A"), QStringLiteral("trust"),
                      QStringLiteral("-U"), QStringLiteral("postgres"), QStringLiteral("-E"), QStringLiteral("UTF8"),
                      QStringLiteral("--locale=C"), QStringLiteral("--no-sync")},
                     true, 120000, &output)) {
            m_error = QStringLiteral("initdb failed: %1").arg(output);
            return false;
        }
        return true;
    }

    bool ping() const
    {
        return runTool(tool(QStringLiteral("pg_isready")),
                       {QStringLiteral("-q"), QStringLiteral("-h"), QStringLiteral("127.0.0.1"), QStringLiteral("-p"),
                        QString::number(m_port), QStringLiteral("-U"), QStringLiteral("postgres"), QStringLiteral("-d"),
                        QStringLiteral("postgres"), QStringLiteral("-t"), QStringLiteral("2")},
                       false, 5000, nullptr);
    }

    // The postmaster's pid: the first line of postmaster.pid (the QProcess runs runuser when
    // we are root, so its pid is not the server's).
    pid_t postmasterPid() const
    {
        QFile file(m_dataDir + QStringLiteral("/postmaster.pid"));
        if (!file.open(QIODevice::ReadOnly))
            return runningAsRoot() || !m_server ? 0 : pid_t(m_server->processId());
        return pid_t(file.readLine().trimmed().toLongLong());
    }

    std::pair<QString, QStringList> command(const QString &program, const QStringList &args, bool asPostgres) const
    {
        if (!asPostgres || !runningAsRoot())
            return {program, args};
        return {m_runuser, QStringList{QStringLiteral("-u"), QStringLiteral("postgres"), QStringLiteral("--"), program} + args};
    }

    bool runTool(const QString &program, const QStringList &args, bool asPostgres, int timeoutMs, QString *output) const
    {
        QProcess process;
        if (m_root)
            process.setWorkingDirectory(m_root->path());
        process.setProcessChannelMode(QProcess::MergedChannels);
        const auto [actualProgram, actualArgs] = command(program, args, asPostgres);
        process.start(actualProgram, actualArgs);
        if (!process.waitForStarted(5000)) {
            if (output)
                *output = process.errorString();
            return false;
        }
        if (!process.waitForFinished(timeoutMs)) {
            process.kill();
            process.waitForFinished(2000);
            if (output)
                *output = QStringLiteral("timed out after %1 ms").arg(timeoutMs);
            return false;
        }
        if (output)
            *output = QString::fromLocal8Bit(process.readAll());
        return process.exitStatus() == QProcess::NormalExit && process.exitCode() == 0;
    }

    static constexpr const char *toolNames[] = {"initdb", "postgres", "pg_isready", "createdb"};

    Options m_options;
    bool m_available = false;
    bool m_ready = false;
    QString m_reason;
    QString m_error;
    QString m_binDir;
    QString m_runuser;
    uid_t m_uid = 0;
    gid_t m_gid = 0;
    std::unique_ptr<QTemporaryDir> m_root;
    QString m_dataDir;
    QString m_socketDir;
    quint16 m_port = 0;
    std::unique_ptr<QProcess> m_server;
};

} // namespace sluice::test
