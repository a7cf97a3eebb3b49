// AdminClient against a real gateway's admin listener (the harness): reads, a PATCH
// with If-Match, the typed 409, field errors, authentication, cancellation.
#include "gatewayharness.h"

#include "clients/adminclient.h"

#include <QJsonArray>
#include <QTest>

#include <memory>
#include <optional>

using namespace sluice;
using namespace sluice::clients;
using namespace sluice::test;

namespace {

constexpr int kWaitMs = 15'000; // only guards against hangs

QUrl localUrl(quint16 port)
{
    return QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port));
}

// Collects the one result of a call and waits for it.
template <typename T>
class Outcome {
public:
    AdminClient::Callback<T> callback()
    {
        return [this](Result<T, AdminError> result) {
            ++calls;
            value.emplace(std::move(result));
        };
    }
    bool wait() { return QTest::qWaitFor([this] { return value.has_value(); }, kWaitMs); }
    const T &ok() const { return **value; }
    const AdminError &error() const { return value->error(); }
    bool succeeded() const { return value && value->ok(); }
    QString failure() const
    {
        return value && !value->ok() ? value->error().source.message : QString();
    }

    std::optional<Result<T, AdminError>> value;
    int calls = 0;
};

} // namespace

class TestAdminClient : public QObject {
    Q_OBJECT

private slots:
    void init();
    void cleanup();
    void instanceAndStats();
    void patchWithIfMatchThenStaleIfMatchIsVersionConflict();
    void invalidConfigListsFieldErrors();
    void validateIsADryRun();
    void flushCacheEmptiesTheCache();
    void wrongTokenIsAuthenticationFailed();
    void dataPlanePortIsWrongProtocol();
    void cancelAndDestroyedContext();

private:
    std::unique_ptr<GatewayHarness> m_harness;
    std::unique_ptr<AdminClient> m_client;
};

void TestAdminClient::init()
{
    m_harness = std::make_unique<GatewayHarness>();
    QVERIFY2(m_harness->startError.isEmpty(), qPrintable(m_harness->startError));
    m_client = std::make_unique<AdminClient>(
        AdminClientOptions{localUrl(m_harness->adminPort), m_harness->adminToken, 10'000});
}

void TestAdminClient::cleanup()
{
    m_client.reset();
    m_harness.reset();
}

void TestAdminClient::instanceAndStats()
{
    Outcome<AdminInstance> instance;
    QVERIFY(m_client->instance(this, instance.callback()) != 0);
    QVERIFY(instance.wait());
    QVERIFY2(instance.succeeded(), qPrintable(instance.failure()));
    QCOMPARE(instance.ok().id, m_harness->gw->instanceId());
    QVERIFY(!instance.ok().version.isEmpty());
    QCOMPARE(instance.ok().configVersion, qint64(1));
    QVERIFY(!instance.ok().configEtag.isEmpty());
    QVERIFY(instance.ok().startedAtUtc.isValid());
    QVERIFY(instance.ok().listeners.contains(localUrl(m_harness->port).toString()));
    QCOMPARE(instance.calls, 1);

    QCOMPARE(exchange(m_harness->port, "POST", "/v1/chat/completions",
                      chatBody(QStringLiteral("gpt-4o-mini"), QStringLiteral("stats")), bearer())
                 .status,
             200);
    Outcome<QJsonObject> stats;
    m_client->stats(this, stats.callback());
    QVERIFY(stats.wait());
    QVERIFY2(stats.succeeded(), qPrintable(stats.failure()));
    QCOMPARE(stats.ok().value(QStringLiteral("instance")).toString(), m_harness->gw->instanceId());
    QVERIFY(stats.ok().value(QStringLiteral("requests")).toObject().contains(QStringLiteral("total")));
}

void TestAdminClient::patchWithIfMatchThenStaleIfMatchIsVersionConflict()
{
    Outcome<AdminConfigDocument> before;
    m_client->config(this, before.callback());
    QVERIFY(before.wait());
    QVERIFY2(before.succeeded(), qPrintable(before.failure()));
    QCOMPARE(before.ok().version, qint64(1));
    QVERIFY(before.ok().etag.startsWith(u'"'));
    QCOMPARE(before.ok().config.value(QStringLiteral("cache")).toObject().value(QStringLiteral("ttl_seconds")).toInt(),
             300);

    const QJsonObject patch{{QStringLiteral("cache"), QJsonObject{{QStringLiteral("ttl_seconds"), 120}}}};
    Outcome<AdminApplied> applied;
    m_client->patchConfig(patch, before.ok().etag, QStringLiteral("shorter cache\nfor the test"), this,
                          applied.callback());
    QVERIFY(applied.wait());
    QVERIFY2(applied.succeeded(), qPrintable(applied.failure()));
    QCOMPARE(applied.ok().version, qint64(2));
    QVERIFY(applied.ok().etag != before.ok().etag);
    QCOMPARE(applied.ok().changes.size(), 1);
    QCOMPARE(applied.ok().changes[0].path, QStringLiteral("cache.ttl_seconds"));
    QCOMPARE(applied.ok().changes[0].oldValue.toInt(), 300);
    QCOMPARE(applied.ok().changes[0].newValue.toInt(), 120);
    QCOMPARE(m_harness->gw->configStore().current()->cache.ttl, std::chrono::seconds(120));

    // The same If-Match again: version 1 no longer runs.
    Outcome<AdminApplied> stale;
    m_client->patchConfig(QJsonObject{{QStringLiteral("cache"), QJsonObject{{QStringLiteral("ttl_seconds"), 60}}}},
                          before.ok().etag, {}, this, stale.callback());
    QVERIFY(stale.wait());
    QVERIFY(!stale.succeeded());
    QCOMPARE(stale.error().kind, AdminErrorKind::VersionConflict);
    QCOMPARE(stale.error().type, QStringLiteral("version_conflict"));
    QCOMPARE(stale.error().runningVersion.value_or(-1), qint64(2));
    QCOMPARE(stale.error().runningEtag, applied.ok().etag);
    QCOMPARE(stale.error().source.kind, SourceErrorKind::HttpStatus);
    QCOMPARE(stale.error().source.httpStatus, 409);
    QCOMPARE(m_harness->gw->configStore().current()->cache.ttl, std::chrono::seconds(120));

    // A bare version number works as If-Match too.
    Outcome<AdminApplied> byVersion;
    m_client->patchConfig(QJsonObject{{QStringLiteral("cache"), QJsonObject{{QStringLiteral("ttl_seconds"), 90}}}},
                          QStringLiteral("2"), {}, this, byVersion.callback());
    QVERIFY(byVersion.wait());
    QVERIFY2(byVersion.succeeded(), qPrintable(byVersion.failure()));
    QCOMPARE(byVersion.ok().version, qint64(3));

    Outcome<QList<AdminHistoryEntry>> history;
    m_client->configHistory(this, history.callback());
    QVERIFY(history.wait());
    QVERIFY2(history.succeeded(), qPrintable(history.failure()));
    QVERIFY(history.ok().size() >= 2);
    QCOMPARE(history.ok()[0].version, qint64(3)); // newest first
    QCOMPARE(history.ok()[1].version, qint64(2));
    QCOMPARE(history.ok()[1].comment, QStringLiteral("shorter cache for the test"));
    QCOMPARE(history.ok()[1].changeCount, 1);
    QVERIFY(history.ok()[1].appliedAtUtc.isValid());
}

void TestAdminClient::invalidConfigListsFieldErrors()
{
    const QJsonObject patch{{QStringLiteral("cache"), QJsonObject{{QStringLiteral("ttl_seconds"), -5},
                                                                  {QStringLiteral("max_entries"), 0}}}};
    Outcome<AdminApplied> applied;
    m_client->patchConfig(patch, {}, {}, this, applied.callback());
    QVERIFY(applied.wait());
    QVERIFY(!applied.succeeded());
    const AdminError &error = applied.error();
    QCOMPARE(error.kind, AdminErrorKind::InvalidConfig);
    QCOMPARE(error.type, QStringLiteral("invalid_config"));
    QCOMPARE(error.source.httpStatus, 400);
    QStringList paths;
    for (const AdminFieldError &field : error.fieldErrors)
        paths.append(field.path);
    QVERIFY2(paths.contains(QStringLiteral("cache.ttl_seconds")), qPrintable(paths.join(u',')));
    QVERIFY2(paths.contains(QStringLiteral("cache.max_entries")), qPrintable(paths.join(u',')));
    for (const AdminFieldError &field : error.fieldErrors)
        QVERIFY(!field.message.isEmpty());
    QCOMPARE(m_harness->gw->configStore().current()->version, qint64(1));
}

void TestAdminClient::validateIsADryRun()
{
    Outcome<AdminValidation> invalid;
    m_client->validateConfig(QJsonObject{{QStringLiteral("cache"), QJsonObject{{QStringLiteral("ttl_seconds"), -1}}}},
                             true, this, invalid.callback());
    QVERIFY(invalid.wait());
    QVERIFY2(invalid.succeeded(), qPrintable(invalid.failure()));
    QVERIFY(!invalid.ok().valid);
    QCOMPARE(invalid.ok().errors.value(0).path, QStringLiteral("cache.ttl_seconds"));

    Outcome<AdminValidation> valid;
    m_client->validateConfig(QJsonObject{{QStringLiteral("cache"), QJsonObject{{QStringLiteral("ttl_seconds"), 30}}}},
                             true, this, valid.callback());
    QVERIFY(valid.wait());
    QVERIFY2(valid.succeeded(), qPrintable(valid.failure()));
    QVERIFY(valid.ok().valid);
    QCOMPARE(valid.ok().changes.value(0).path, QStringLiteral("cache.ttl_seconds"));
    QCOMPARE(m_harness->gw->configStore().current()->version, qint64(1));
}

void TestAdminClient::flushCacheEmptiesTheCache()
{
    const QByteArray body = chatBody(QStringLiteral("gpt-4o-mini"), QStringLiteral("cache me"));
    QCOMPARE(exchange(m_harness->port, "POST", "/v1/chat/completions", body, bearer()).header("x-sluice-cache"),
             QByteArray("MISS"));
    QCOMPARE(exchange(m_harness->port, "POST", "/v1/chat/completions", body, bearer()).header("x-sluice-cache"),
             QByteArray("HIT"));
    Outcome<AdminCacheFlush> flushed;
    m_client->flushCache({}, this, flushed.callback());
    QVERIFY(flushed.wait());
    QVERIFY2(flushed.succeeded(), qPrintable(flushed.failure()));
    QCOMPARE(flushed.ok().flushedEntries, qint64(1));
    QCOMPARE(exchange(m_harness->port, "POST", "/v1/chat/completions", body, bearer()).header("x-sluice-cache"),
             QByteArray("MISS"));
}

void TestAdminClient::wrongTokenIsAuthenticationFailed()
{
    m_client->setBearerToken("not-the-token");
    Outcome<AdminInstance> instance;
    m_client->instance(this, instance.callback());
    QVERIFY(instance.wait());
    QVERIFY(!instance.succeeded());
    const AdminError &error = instance.error();
    QCOMPARE(error.kind, AdminErrorKind::Source);
    QCOMPARE(error.source.kind, SourceErrorKind::AuthenticationFailed);
    QCOMPARE(error.source.httpStatus, 401);
    QCOMPARE(error.type, QStringLiteral("authentication_error"));
    QVERIFY2(error.source.message.startsWith(QStringLiteral("authentication failed: the admin API at 127.0.0.1:%1 "
                                                            "answered 401")
                                                 .arg(m_harness->adminPort)),
             qPrintable(error.source.message));

    // No token at all.
    AdminClient anonymous(AdminClientOptions{localUrl(m_harness->adminPort), {}, 10'000});
    Outcome<AdminInstance> refused;
    anonymous.instance(this, refused.callback());
    QVERIFY(refused.wait());
    QVERIFY(!refused.succeeded());
    QCOMPARE(refused.error().source.kind, SourceErrorKind::AuthenticationFailed);
}

void TestAdminClient::dataPlanePortIsWrongProtocol()
{
    // The client listener answers /admin/v1/instance with an OpenAI-shaped 404.
    AdminClient misdirected(AdminClientOptions{localUrl(m_harness->port), m_harness->adminToken, 10'000});
    Outcome<AdminInstance> instance;
    misdirected.instance(this, instance.callback());
    QVERIFY(instance.wait());
    QVERIFY(!instance.succeeded());
    QCOMPARE(instance.error().kind, AdminErrorKind::Source);
    QCOMPARE(instance.error().source.kind, SourceErrorKind::WrongProtocol);
    QVERIFY2(instance.error().source.message.contains(QStringLiteral("not the admin API")),
             qPrintable(instance.error().source.message));
}

void TestAdminClient::cancelAndDestroyedContext()
{
    Outcome<AdminInstance> cancelled;
    const RequestId id = m_client->instance(this, cancelled.callback());
    QVERIFY(m_client->cancel(id));
    // Delivered before cancel() returned.
    QVERIFY(cancelled.value.has_value());
    QCOMPARE(cancelled.error().source.kind, SourceErrorKind::Cancelled);
    QVERIFY(!m_client->cancel(id));

    Outcome<AdminInstance> dropped;
    auto context = std::make_unique<QObject>();
    m_client->instance(context.get(), dropped.callback());
    context.reset();
    Outcome<AdminInstance> after;
    m_client->instance(this, after.callback());
    QVERIFY(after.wait());
    QVERIFY(after.succeeded());
    QCOMPARE(dropped.calls, 0);
    QCOMPARE(cancelled.calls, 1);
    QCOMPARE(m_client->cancelAll(), 0);
}

QTEST_GUILESS_MAIN(TestAdminClient)
#include "tst_adminclient.moc"
