#include <QTest>

#include <string>

#include "policy/ratescope.h"

using sluice::policy::RateScope;
using sluice::policy::RequestIdentity;

class TestRateScope : public QObject {
    Q_OBJECT
private slots:
    void composesKeysInFixedOrder_data()
    {
        QTest::addColumn<int>("scopes");
        QTest::addColumn<QString>("apiKey");
        QTest::addColumn<QString>("ip");
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("expected");

        const auto s = [](RateScope scope) { return int(scope); };
        QTest::newRow("global") << s(RateScope::None) << "abc" << "10.0.0.1" << "gpt-4o" << "*";
        QTest::newRow("key") << s(RateScope::ApiKey) << "abc" << "10.0.0.1" << "gpt-4o" << "k=abc";
        QTest::newRow("key and model") << s(RateScope::Model | RateScope::ApiKey) << "abc" << "10.0.0.1" << "gpt-4o"
                                       << "k=abc|m=gpt-4o";
        QTest::newRow("ip") << s(RateScope::Ip) << "abc" << "::1" << "gpt-4o" << "i=::1";
        QTest::newRow("all") << s(RateScope::ApiKey | RateScope::Ip | RateScope::Route | RateScope::Model) << "abc"
                             << "10.0.0.1" << "gpt-4o" << "k=abc|i=10.0.0.1|r=/v1/chat/completions|m=gpt-4o";
        QTest::newRow("empty field") << s(RateScope::ApiKey | RateScope::Model) << "" << "" << "gpt-4o" << "k=|m=gpt-4o";
        QTest::newRow("separators escaped") << s(RateScope::ApiKey) << "a|m=b" << "" << "" << "k=a%7Cm%3Db";
        QTest::newRow("percent escaped") << s(RateScope::Model) << "" << "" << "50%" << "m=50%25";
    }

    void composesKeysInFixedOrder()
    {
        QFETCH(int, scopes);
        QFETCH(QString, apiKey);
        QFETCH(QString, ip);
        QFETCH(QString, model);
        QFETCH(QString, expected);

        const std::string apiKeyBytes = apiKey.toStdString();
        const std::string ipBytes = ip.toStdString();
        const std::string modelBytes = model.toStdString();
        const RequestIdentity identity{apiKeyBytes, ipBytes, "/v1/chat/completions", modelBytes};
        const std::string key = sluice::policy::composeRateKey(RateScope(scopes), identity);
        QCOMPARE(QString::fromStdString(key), expected);

        std::string buffer = "prefix:";
        sluice::policy::appendRateKey(buffer, RateScope(scopes), identity);
        QCOMPARE(QString::fromStdString(buffer), "prefix:" + expected);
    }

    void escapingKeepsIdentitiesApart()
    {
        const std::string sneaky = sluice::policy::composeRateKey(RateScope::ApiKey, RequestIdentity{"a|m=b", {}, {}, {}});
        const std::string honest =
            sluice::policy::composeRateKey(RateScope::ApiKey | RateScope::Model, RequestIdentity{"a", {}, {}, "b"});
        QCOMPARE(honest, std::string("k=a|m=b"));
        QVERIFY(sneaky != honest);
    }

    void scopesCombine()
    {
        const RateScope scopes = RateScope::ApiKey | RateScope::Model;
        QVERIFY(sluice::policy::hasScope(scopes, RateScope::ApiKey));
        QVERIFY(sluice::policy::hasScope(scopes, RateScope::Model));
        QVERIFY(!sluice::policy::hasScope(scopes, RateScope::Ip));
        QVERIFY(!sluice::policy::hasScope(scopes, RateScope::Route));
    }
};

QTEST_APPLESS_MAIN(TestRateScope)
#include "tst_ratescope.moc"
