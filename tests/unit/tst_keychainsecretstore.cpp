#include <QFile>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>

#include "models/keychainsecretstore.h"
#include "models/profilestore.h"

#include <memory>
#include <optional>

using namespace sluice::models;

namespace {

using WriteOutcome = std::optional<SecretError>;

// Runs one write/remove and waits for its callback. nullopt: no callback in time.
std::optional<WriteOutcome> waitForWrite(const std::function<void(QObject *, SecretStore::WriteCallback)> &start)
{
    QObject context;
    std::optional<WriteOutcome> outcome;
    start(&context, [&](WriteOutcome result) { outcome = std::move(result); });
    if (!QTest::qWaitFor([&] { return outcome.has_value(); }, 30'000))
        return std::nullopt;
    return outcome;
}

std::optional<sluice::Result<QString, SecretError>> waitForRead(KeychainSecretStore &store, const QString &key)
{
    QObject context;
    std::optional<sluice::Result<QString, SecretError>> outcome;
    store.read(key, &context, [&](sluice::Result<QString, SecretError> result) { outcome = std::move(result); });
    if (!QTest::qWaitFor([&] { return outcome.has_value(); }, 30'000))
        return std::nullopt;
    return outcome;
}

} // namespace

// Talks to the real desktop keychain under a throw-away service name and key. A machine
// without a usable secret service (a headless CI box, no D-Bus session) skips with the
// keychain's own message.
class TestKeychainSecretStore : public QObject {
    Q_OBJECT

private slots:
    void initTestCase()
    {
        m_key = QStringLiteral("tst-profile-%1/admin_token").arg(QUuid::createUuid().toString(QUuid::WithoutBraces));
        m_store = std::make_unique<KeychainSecretStore>(QStringLiteral("sluice-unit-test"));
        const auto probe = waitForWrite([&](QObject *context, SecretStore::WriteCallback done) {
            m_store->write(m_key, QStringLiteral("probe"), context, std::move(done));
        });
        if (!probe)
            QSKIP("the keychain did not answer within 30 s");
        if (*probe)
            QSKIP(qPrintable(QStringLiteral("no usable keychain: %1").arg((*probe)->message)));
        m_available = true;
    }

    void cleanupTestCase()
    {
        if (m_available) {
            (void)waitForWrite([&](QObject *context, SecretStore::WriteCallback done) {
                m_store->remove(m_key, context, std::move(done));
            });
        }
    }

    void writeReadRemove()
    {
        const QString secret = QStringLiteral("s3cret-%1").arg(QUuid::createUuid().toString());
        const auto written = waitForWrite([&](QObject *context, SecretStore::WriteCallback done) {
            m_store->write(m_key, secret, context, std::move(done));
        });
        QVERIFY(written);
        QVERIFY2(!*written, qPrintable(*written ? (*written)->message : QString()));

        auto read = waitForRead(*m_store, m_key);
        QVERIFY(read);
        QVERIFY2(read->ok(), qPrintable(read->ok() ? QString() : read->error().message));
        QCOMPARE(**read, secret);

        const auto removed = waitForWrite([&](QObject *context, SecretStore::WriteCallback done) {
            m_store->remove(m_key, context, std::move(done));
        });
        QVERIFY(removed);
        QVERIFY(!*removed);
        read = waitForRead(*m_store, m_key);
        QVERIFY(read);
        QVERIFY(!read->ok());
        QCOMPARE(int(read->error().kind), int(SecretError::Kind::NotFound));

        // Removing what is not there is not an error.
        const auto removedAgain = waitForWrite([&](QObject *context, SecretStore::WriteCallback done) {
            m_store->remove(m_key, context, std::move(done));
        });
        QVERIFY(removedAgain);
        QVERIFY(!*removedAgain);
    }

    void callbackIsDroppedWithItsContext()
    {
        bool called = false;
        {
            QObject context;
            m_store->read(m_key, &context, [&](sluice::Result<QString, SecretError>) { called = true; });
        }
        // A later operation completes after the first (jobs run in order), so waiting for
        // it proves the first one's answer came and went.
        QVERIFY(waitForRead(*m_store, m_key));
        QVERIFY(!called);
    }

    void profileSecretsGoToTheKeychain()
    {
        QTemporaryDir dir;
        ProfileStore profiles(dir.path(), *m_store);
        ConnectionProfile profile;
        profile.name = QStringLiteral("tst-keychain-%1").arg(QUuid::createUuid().toString(QUuid::WithoutBraces));
        profile.adminUrls = {QStringLiteral("http://127.0.0.1:9090")};
        const QString token = QStringLiteral("kc-token-%1").arg(QUuid::createUuid().toString(QUuid::WithoutBraces));
        profile.adminToken = token;
        profile.redisPassword = QString();

        QObject context;
        std::optional<QStringList> saveFailures;
        QVERIFY(profiles.save(profile, {}, &context, [&](QStringList failures) { saveFailures = failures; }).ok());
        QTRY_VERIFY_WITH_TIMEOUT(saveFailures.has_value(), 30'000);
        QCOMPARE(*saveFailures, QStringList());
        QFile settings(profiles.settingsFilePath());
        QVERIFY(settings.open(QIODevice::ReadOnly));
        QVERIFY(!settings.readAll().contains(token.toUtf8()));

        std::optional<sluice::Result<ConnectionProfile, QString>> loaded;
        profiles.loadSecrets(profile.name, &context, [&](sluice::Result<ConnectionProfile, QString> result) { loaded = result; });
        QTRY_VERIFY_WITH_TIMEOUT(loaded.has_value(), 30'000);
        QVERIFY2(loaded->ok(), qPrintable(loaded->ok() ? QString() : loaded->error()));
        QCOMPARE((*loaded)->adminToken.value_or(QString()), token);

        std::optional<QStringList> removeFailures;
        QVERIFY(profiles.remove(profile.name, &context, [&](QStringList failures) { removeFailures = failures; }));
        QTRY_VERIFY_WITH_TIMEOUT(removeFailures.has_value(), 30'000);
        QCOMPARE(*removeFailures, QStringList());
        const auto gone = waitForRead(*m_store, profile.name + QStringLiteral("/admin_token"));
        QVERIFY(gone);
        QVERIFY(!gone->ok());
        QCOMPARE(int(gone->error().kind), int(SecretError::Kind::NotFound));
    }

private:
    std::unique_ptr<KeychainSecretStore> m_store;
    QString m_key;
    bool m_available = false;
};

QTEST_GUILESS_MAIN(TestKeychainSecretStore)
#include "tst_keychainsecretstore.moc"
