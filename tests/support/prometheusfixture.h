#pragma once

// A real Prometheus server for tests: scrapes the given targets every
// `scrapeIntervalSeconds` (one job laid out as installer/deploy/prometheus/prometheus.yml's
// `sluice-gateway` job), keeps its TSDB in a temporary directory and serves its HTTP API
// on 127.0.0.1 and a free port. Blocking and bounded (no event loop): start() waits for
// /-/ready; query() is one GET of /api/v1/query; stop() sends SIGTERM, then SIGKILL.
//
//   sluice::test::PrometheusFixture prometheus({"127.0.0.1:8081", "127.0.0.1:8082"});
//   if (!prometheus.available())
//       QSKIP(qPrintable(prometheus.unavailableReason()));
//   QVERIFY2(prometheus.start(), qPrintable(prometheus.errorString()));
//   const auto rate = prometheus.query("sum(rate(sluice_requests_total[1m]))");
//   QVERIFY2(rate.ok(), qPrintable(rate.error));
//
// The binary is $SLUICE_PROMETHEUS when set, else prometheus on PATH.

#include "childprocess.h"

#include "blockinghttp.h"

#include <QByteArray>
#include <QDeadlineTimer>
#include <QFile>
#include <QHostAddress>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonValue>
#include <QProcess>
#include <QStandardPaths>
#include <QString>
#include <QStringList>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QThread>
#include <QUrl>

#include <csignal>
#include <memory>
#include <optional>

#include <sys/types.h>

namespace sluice::test {

struct PrometheusFixtureOptions {
    QString jobName = QStringLiteral("sluice-gateway");
    QString metricsPath = QStringLiteral("/metrics");
    int scrapeIntervalSeconds = 1; // also the rule evaluation interval
    // Rule files to load (absolute paths), e.g. installer/deploy/prometheus/sluice-rules.yml.
    QStringList ruleFiles;
};

// One instant query's answer: the first sample of a vector (or the scalar), the number
// of series, and the raw `data.result`.
struct PrometheusQueryResult {
    double value = 0;     // the first sample's value; meaningful when ok()
    int seriesCount = 0;  // samples in the vector (1 for a scalar)
    QJsonValue result;    // data.result as Prometheus sent it
    QString error;        // transport error, Prometheus' error, or "no samples"
    bool ok() const { return error.isEmpty(); }
};

class PrometheusFixture {
public:
    // `targets`: "host:port" of every instance to scrape.
    explicit PrometheusFixture(QStringList targets, PrometheusFixtureOptions options = {})
        : m_targets(std::move(targets)), m_options(std::move(options))
    {
        const QString fromEnvironment = qEnvironmentVariable("SLUICE_PROMETHEUS");
        m_program = fromEnvironment.isEmpty() ? QStandardPaths::findExecutable(QStringLiteral("prometheus"))
                                              : fromEnvironment;
        if (m_program.isEmpty())
            m_unavailableReason = QStringLiteral("prometheus is not installed (apt install prometheus, or set "
                                                 "SLUICE_PROMETHEUS)");
        else if (!m_directory.isValid())
            m_unavailableReason = QStringLiteral("no temporary directory: ") + m_directory.errorString();
    }
    PrometheusFixture(const PrometheusFixture &) = delete;
    PrometheusFixture &operator=(const PrometheusFixture &) = delete;
    ~PrometheusFixture() { stop(); }

    bool available() const { return m_unavailableReason.isEmpty(); }
    QString unavailableReason() const { return m_unavailableReason; }
    QString errorString() const { return m_error; }

    quint16 port() const { return m_port; }
    QString baseUrl() const { return QStringLiteral("http://127.0.0.1:%1").arg(m_port); }
    bool isRunning() const { return m_process && m_process->state() == QProcess::Running; }
    qint64 pid() const { return isRunning() ? m_process->processId() : 0; }
    QString configPath() const { return m_directory.filePath(QStringLiteral("prometheus.yml")); }

    // Writes the configuration, starts Prometheus on a free port and waits (bounded) for
    // /-/ready. Retried on another port when the chosen one was taken meanwhile.
    bool start(int timeoutMs = 30'000)
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
    void stop(int graceMs = 10'000)
    {
        if (!m_process)
            return;
        terminateChild(*m_process, graceMs);
        m_process.reset();
    }

    // An instant query, evaluated at `atUnixSeconds` (Prometheus' `time` parameter) or
    // now. Blocks for at most `timeoutMs`.
    PrometheusQueryResult query(const QString &promql, std::optional<double> atUnixSeconds = std::nullopt,
                                int timeoutMs = 10'000) const
    {
        QByteArray path = "/api/v1/query?query=" + QUrl::toPercentEncoding(promql);
        if (atUnixSeconds)
            path += "&time=" + QByteArray::number(*atUnixSeconds, 'f', 3);
        PrometheusQueryResult answer;
        const auto reply = blockingHttp(m_port, "GET", path, {}, {}, timeoutMs);
        if (!reply.ok()) {
            answer.error = reply.error;
            return answer;
        }
        const QJsonObject document = QJsonDocument::fromJson(reply.response.body).object();
        if (document.value(QLatin1String("status")).toString() != QLatin1String("success")) {
            answer.error = QStringLiteral("HTTP %1: %2").arg(reply.response.status).arg(QString::fromUtf8(reply.response.body.left(500)));
            return answer;
        }
        const QJsonObject data = document.value(QLatin1String("data")).toObject();
        answer.result = data.value(QLatin1String("result"));
        QJsonArray sample;
        if (data.value(QLatin1String("resultType")).toString() == QLatin1String("scalar")) {
            sample = answer.result.toArray();
            answer.seriesCount = 1;
        } else {
            const QJsonArray series = answer.result.toArray();
            answer.seriesCount = int(series.size());
            if (!series.isEmpty())
                sample = series.first().toObject().value(QLatin1String("value")).toArray();
        }
        if (sample.size() < 2) {
            answer.error = QStringLiteral("no samples for %1").arg(promql);
            return answer;
        }
        bool numeric = false;
        answer.value = sample.at(1).toString().toDouble(&numeric);
        if (!numeric)
            answer.error = QStringLiteral("not a number: %1").arg(sample.at(1).toString());
        return answer;
    }

    // Targets whose last scrape succeeded (health "up"), from /api/v1/targets.
    int healthyTargets(int timeoutMs = 5'000) const
    {
        const auto reply = blockingHttp(m_port, "GET", "/api/v1/targets?state=active", {}, {}, timeoutMs);
        if (!reply.ok())
            return 0;
        const QJsonArray targets = QJsonDocument::fromJson(reply.response.body)
                                       .object()
                                       .value(QLatin1String("data"))
                                       .toObject()
                                       .value(QLatin1String("activeTargets"))
                                       .toArray();
        int up = 0;
        for (const QJsonValue &target : targets)
            up += target.toObject().value(QLatin1String("health")).toString() == QLatin1String("up") ? 1 : 0;
        return up;
    }

    QString log() const
    {
        QFile file(m_directory.filePath(QStringLiteral("prometheus.log")));
        return file.open(QIODevice::ReadOnly) ? QString::fromUtf8(file.readAll()) : QString();
    }

private:
    bool writeConfig()
    {
        const QByteArray interval = QByteArray::number(m_options.scrapeIntervalSeconds) + 's';
        QByteArray config = "global:\n  scrape_interval: " + interval + "\n  evaluation_interval: " + interval + "\n";
        if (!m_options.ruleFiles.isEmpty()) {
            config += "rule_files:\n";
            for (const QString &file : m_options.ruleFiles)
                config += "  - \"" + file.toUtf8() + "\"\n";
        }
        config += "scrape_configs:\n  - job_name: " + m_options.jobName.toUtf8() + "\n";
        config += "    scrape_interval: " + interval + "\n    scrape_timeout: " + interval + "\n";
        config += "    metrics_path: " + m_options.metricsPath.toUtf8() + "\n";
        config += "    static_configs:\n      - targets:\n";
        for (const QString &target : m_targets)
            config += "          - \"" + target.toUtf8() + "\"\n";
        QFile file(configPath());
        if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
            m_error = QStringLiteral("cannot write prometheus.yml: ") + file.errorString();
            return false;
        }
        file.write(config);
        return true;
    }

    bool launch(int timeoutMs)
    {
        if (!writeConfig())
            return false;
        m_process = std::make_unique<QProcess>();
        m_process->setProgram(m_program);
        m_process->setArguments({QStringLiteral("--config.file=") + configPath(),
                                 QStringLiteral("--storage.tsdb.path=") + m_directory.filePath(QStringLiteral("data")),
                                 QStringLiteral("--web.listen-address=127.0.0.1:%1").arg(m_port),
                                 QStringLiteral("--log.level=warn")});
        m_process->setProcessChannelMode(QProcess::MergedChannels);
        m_process->setStandardOutputFile(m_directory.filePath(QStringLiteral("prometheus.log")), QIODevice::Truncate);
        m_process->start();
        if (!m_process->waitForStarted(timeoutMs)) {
            m_error = QStringLiteral("%1 did not start: %2").arg(m_program, m_process->errorString());
            m_process.reset();
            return false;
        }
        const QDeadlineTimer deadline(timeoutMs);
        while (!deadline.hasExpired()) {
            if (m_process->state() == QProcess::NotRunning || m_process->waitForFinished(0)) {
                m_error = QStringLiteral("prometheus exited at start-up: ") + log().right(3000);
                m_process.reset();
                return false;
            }
            const auto ready = blockingHttp(m_port, "GET", "/-/ready", {}, {}, 1000);
            if (ready.ok() && ready.response.status == 200)
                return true;
            QThread::msleep(100);
        }
        m_error = QStringLiteral("prometheus on port %1 was not ready within %2 ms: %3")
                      .arg(m_port)
                      .arg(timeoutMs)
                      .arg(log().right(3000));
        stop();
        return false;
    }

    QStringList m_targets;
    PrometheusFixtureOptions m_options;
    QString m_program;
    QString m_unavailableReason;
    QString m_error;
    QTemporaryDir m_directory;
    std::unique_ptr<QProcess> m_process;
    quint16 m_port = 0;
};

} // namespace sluice::test
