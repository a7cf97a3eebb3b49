#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include "models/connectionprofile.h"
#include "models/profilejson.h"

using namespace sluice::models;

namespace {

ConnectionProfile validProfile()
{
    ConnectionProfile profile;
    profile.name = QStringLiteral("prod-eu");
    profile.environment = EnvironmentTag::Production;
    profile.adminUrls = {QStringLiteral("http://10.0.0.7:9090"), QStringLiteral("https://gw.example.com")};
    profile.prometheusUrl = QStringLiteral("http://prometheus:9090");
    profile.redis.host = QStringLiteral("redis");
    return profile;
}

QStringList issueTexts(const QList<FieldIssue> &issues)
{
    QStringList texts;
    for (const FieldIssue &issue : issues)
        texts.append(issue.toString());
    return texts;
}

} // namespace

class TestConnectionProfile : public QObject {
    Q_OBJECT

private slots:
    void validProfileHasNoIssues() { QVERIFY(validateProfile(validProfile(), {QStringLiteral("other")}).isEmpty()); }

    void validationMessages_data()
    {
        QTest::addColumn<ConnectionProfile>("profile");
        QTest::addColumn<QStringList>("issues");

        ConnectionProfile profile = validProfile();
        profile.name = QStringLiteral("  ");
        QTest::newRow("empty name") << profile << QStringList{QStringLiteral("name: must not be empty")};

        profile = validProfile();
        profile.name = QStringLiteral("taken");
        QTest::newRow("duplicate name") << profile
                                        << QStringList{QStringLiteral("name: a profile named \"taken\" already exists")};

        profile = validProfile();
        profile.adminUrls = {QStringLiteral("http://ok:1"), QStringLiteral("ftp://files"), QStringLiteral("http://")};
        QTest::newRow("bad admin urls") << profile
                                        << QStringList{QStringLiteral("admin_urls[1]: \"ftp://files\" must be an http or https URL"),
                                                       QStringLiteral("admin_urls[2]: \"http://\" has no host")};

        profile = validProfile();
        profile.prometheusUrl = QStringLiteral("http://exa mple.com");
        QTest::newRow("invalid url") << profile
                                     << QStringList{QStringLiteral("prometheus_url: \"http://exa mple.com\" is not a valid URL: ")};

        profile = validProfile();
        profile.adminUrls.clear();
        QTest::newRow("no gateway") << profile
                                    << QStringList{QStringLiteral("admin_urls: give at least one admin URL, or turn on discovery from Redis")};

        profile = validProfile();
        profile.adminUrls.clear();
        profile.discoverFromRedis = true;
        profile.redis.host.clear();
        QTest::newRow("discovery without redis") << profile
                                                 << QStringList{QStringLiteral("redis.host: needed for discovery from Redis")};

        profile = validProfile();
        profile.redis.port = 70000;
        profile.redis.db = -1;
        QTest::newRow("redis numbers") << profile
                                       << QStringList{QStringLiteral("redis.port: 70000 is out of range 1..65535"),
                                                      QStringLiteral("redis.db: -1 must not be negative")};

        profile = validProfile();
        profile.refreshIntervalSeconds = 0;
        QTest::newRow("refresh too fast") << profile
                                          << QStringList{QStringLiteral("refresh_interval_seconds: 0 is out of range 1..30")};
        profile.refreshIntervalSeconds = 31;
        QTest::newRow("refresh too slow") << profile
                                          << QStringList{QStringLiteral("refresh_interval_seconds: 31 is out of range 1..30")};

        profile = validProfile();
        profile.environment = EnvironmentTag::Custom;
        QTest::newRow("custom without label") << profile
                                              << QStringList{QStringLiteral("environment: a custom environment needs a name")};
    }

    void validationMessages()
    {
        QFETCH(ConnectionProfile, profile);
        QFETCH(QStringList, issues);
        const QStringList actual = issueTexts(validateProfile(profile, {QStringLiteral("taken")}));
        QCOMPARE(actual.size(), issues.size());
        for (qsizetype i = 0; i < issues.size(); ++i) // the URL parser's reason is not ours to pin
            QVERIFY2(actual[i].startsWith(issues[i]), qPrintable(actual[i]));
    }

    void detectsPasswordsInConnectionStrings_data()
    {
        QTest::addColumn<QString>("connection");
        QTest::addColumn<bool>("secret");
        QTest::newRow("key/value") << QStringLiteral("host=db user=sluice password=hunter2") << true;
        QTest::newRow("key/value spaced") << QStringLiteral("host=db PASSWORD = 'x y'") << true;
        QTest::newRow("uri user:pass") << QStringLiteral("postgresql://sluice:hunter2@db:5432/sluice") << true;
        QTest::newRow("uri query") << QStringLiteral("postgresql://sluice@db/sluice?password=x") << true;
        QTest::newRow("key/value plain") << QStringLiteral("host=db user=sluice dbname=sluice") << false;
        QTest::newRow("uri plain") << QStringLiteral("postgresql://sluice@db:5432/sluice") << false;
        QTest::newRow("uri colon after host") << QStringLiteral("postgres://db:5432/x?sslmode=require") << false;
        QTest::newRow("empty") << QString() << false;
    }

    void detectsPasswordsInConnectionStrings()
    {
        QFETCH(QString, connection);
        QFETCH(bool, secret);
        QCOMPARE(connectionStringHoldsPassword(connection), secret);
    }

    void tagsAndColours()
    {
        QCOMPARE(environmentTagName(EnvironmentTag::Staging), QStringLiteral("staging"));
        QVERIFY(environmentTagFromName(QStringLiteral("Production")) == EnvironmentTag::Production);
        QVERIFY(!environmentTagFromName(QStringLiteral("prod")));
        ConnectionProfile profile = validProfile();
        QCOMPARE(profile.effectiveColour(), defaultTagColour(EnvironmentTag::Production));
        profile.colour = QColor(Qt::magenta);
        QCOMPARE(profile.effectiveColour(), QColor(Qt::magenta));
        profile.environment = EnvironmentTag::Custom;
        profile.customEnvironment = QStringLiteral("load test");
        QCOMPARE(profile.environmentLabel(), QStringLiteral("load test"));
    }

    void jsonLeavesSecretsOut()
    {
        ConnectionProfile profile = validProfile();
        profile.adminToken = QStringLiteral("admin-token-secret");
        profile.redisPassword = QStringLiteral("redis-password-secret");
        profile.postgresConnection = QStringLiteral("host=db password=pg-secret");
        const QByteArray json = profilesToJson({profile});
        QVERIFY(!json.contains("admin-token-secret"));
        QVERIFY(!json.contains("redis-password-secret"));
        QVERIFY(!json.contains("pg-secret"));
        QVERIFY(!json.contains("\"postgres\""));

        profile.postgresConnection = QStringLiteral("host=db user=sluice");
        QCOMPARE(profileToJson(profile).value(QStringLiteral("postgres")).toString(), QStringLiteral("host=db user=sluice"));
    }

    void jsonRoundTrip()
    {
        ConnectionProfile profile = validProfile();
        profile.environment = EnvironmentTag::Custom;
        profile.customEnvironment = QStringLiteral("perf lab");
        profile.colour = QColor(0x12, 0x34, 0x56);
        profile.discoverFromRedis = true;
        profile.redis = {QStringLiteral("cache"), 6380, 2, QStringLiteral("console")};
        profile.postgresConnection = QStringLiteral("host=db user=sluice");
        profile.readOnly = true;
        profile.refreshIntervalSeconds = 10;
        const auto parsed = parseProfilesJson(profilesToJson({profile}));
        QVERIFY(parsed.ok());
        QCOMPARE(parsed->profiles.size(), 1);
        QCOMPARE(parsed->profiles.first(), profile);
        QVERIFY(parsed->rejected.isEmpty());
        QVERIFY(parsed->ignoredSecrets.isEmpty());
    }

    void importIgnoresAndReportsSecrets()
    {
        const QByteArray json = "{\"format\": \"sluice-profiles\", \"version\": 1, \"profiles\": ["
                                "{\"name\": \"a\", \"admin_urls\": [\"http://a:1\"], \"admin_token\": \"tok\","
                                " \"redis\": {\"host\": \"r\", \"password\": \"pw\"},"
                                " \"postgres\": \"postgresql://u:pw@db/x\"},"
                                "{\"name\": \"b\", \"admin_urls\": [\"http://b:1\"]}]}";
        const auto parsed = parseProfilesJson(json);
        QVERIFY(parsed.ok());
        QCOMPARE(parsed->profiles.size(), 2);
        const ConnectionProfile &a = parsed->profiles.first();
        QVERIFY(!a.adminToken);
        QVERIFY(!a.redisPassword);
        QVERIFY(!a.postgresConnection);
        QCOMPARE(a.redis.host, QStringLiteral("r"));
        QCOMPARE(parsed->ignoredSecrets,
                 QStringList{QStringLiteral("a: ignored admin_token, postgres, redis.password (secrets are never imported)")});
    }

    void importRejectsBadEntriesAndFiles()
    {
        const QByteArray json = "{\"profiles\": [42, {\"name\": \"x\", \"redis\": {\"port\": \"6379\"},"
                                " \"read_only\": 1, \"environment\": \"moon\"}, {\"name\": \"ok\"}]}";
        const auto parsed = parseProfilesJson(json);
        QVERIFY(parsed.ok());
        QCOMPARE(parsed->profiles.size(), 1);
        QCOMPARE(parsed->profiles.first().name, QStringLiteral("ok"));
        QCOMPARE(parsed->rejected,
                 (QStringList{QStringLiteral("profiles[0]: must be an object"),
                              QStringLiteral("profiles[1].environment: unknown environment \"moon\""),
                              QStringLiteral("profiles[1].read_only: must be true or false"),
                              QStringLiteral("profiles[1].redis.port: must be an integer")}));

        const auto notJson = parseProfilesJson("{nope");
        QVERIFY(!notJson);
        QVERIFY2(notJson.error().startsWith(QStringLiteral("not JSON: ")), qPrintable(notJson.error()));
        QCOMPARE(parseProfilesJson("[]").error(),
                 QStringLiteral("not a profile file: the top level must be a JSON object"));
        QCOMPARE(parseProfilesJson("{\"format\": \"other\", \"profiles\": []}").error(),
                 QStringLiteral("format: expected \"sluice-profiles\""));
        QCOMPARE(parseProfilesJson("{\"profiles\": {}}").error(), QStringLiteral("profiles: must be an array"));
    }
};

QTEST_GUILESS_MAIN(TestConnectionProfile)
#include "tst_connectionprofile.moc"
