#include <QTest>

#include "http/proxysettings.h"

#include <optional>

using sluice::http::ProxySettings;

using Variables = QHash<QString, QString>;
Q_DECLARE_METATYPE(Variables)

class TestProxySettings : public QObject {
    Q_OBJECT
private slots:
    void fromValues_data()
    {
        QTest::addColumn<Variables>("variables");
        QTest::addColumn<QString>("httpProxy");
        QTest::addColumn<QString>("httpsProxy");
        QTest::addColumn<QStringList>("noProxy");

        QTest::newRow("none") << Variables{} << QString() << QString() << QStringList();
        QTest::newRow("lower case")
            << Variables{{"http_proxy", "http://proxy.lan:3128"}, {"https_proxy", "http://secure.lan:8443/"}}
            << "http://proxy.lan:3128" << "http://secure.lan:8443" << QStringList();
        QTest::newRow("upper case") << Variables{{"HTTP_PROXY", "http://upper.lan:1"}, {"HTTPS_PROXY", "upper2.lan:2"}}
                                    << "http://upper.lan:1" << "http://upper2.lan:2" << QStringList();
        QTest::newRow("lower case wins")
            << Variables{{"http_proxy", "lower.lan:1"}, {"HTTP_PROXY", "upper.lan:2"},
                         {"no_proxy", "a.com"}, {"NO_PROXY", "b.com"}}
            << "http://lower.lan:1" << QString() << QStringList{"a.com"};
        QTest::newRow("empty lower case falls back")
            << Variables{{"http_proxy", "  "}, {"HTTP_PROXY", "upper.lan:2"}} << "http://upper.lan:2" << QString()
            << QStringList();
        QTest::newRow("no scheme, no port: http and 1080")
            << Variables{{"http_proxy", "proxy.lan"}} << "http://proxy.lan:1080" << QString() << QStringList();
        QTest::newRow("credentials kept")
            << Variables{{"https_proxy", "http://user:p%40ss@proxy.lan:3128"}} << QString()
            << "http://user:p%40ss@proxy.lan:3128" << QStringList();
        QTest::newRow("https proxy scheme unsupported")
            << Variables{{"https_proxy", "https://proxy.lan:443"}} << QString() << QString() << QStringList();
        QTest::newRow("socks unsupported")
            << Variables{{"http_proxy", "socks5://proxy.lan:1080"}} << QString() << QString() << QStringList();
        QTest::newRow("no_proxy list")
            << Variables{{"no_proxy", " .Example.com, internal ,,10.0.0.1 intranet.lan"}} << QString() << QString()
            << QStringList{".example.com", "internal", "10.0.0.1", "intranet.lan"};
    }

    void fromValues()
    {
        QFETCH(Variables, variables);
        QFETCH(QString, httpProxy);
        QFETCH(QString, httpsProxy);
        QFETCH(QStringList, noProxy);
        const ProxySettings settings = ProxySettings::fromValues(variables);
        QCOMPARE(settings.httpProxy.toString(QUrl::FullyEncoded), httpProxy);
        QCOMPARE(settings.httpsProxy.toString(QUrl::FullyEncoded), httpsProxy);
        QCOMPARE(settings.noProxy, noProxy);
    }

    void proxyFor_data()
    {
        QTest::addColumn<QString>("noProxy");
        QTest::addColumn<QString>("target");
        QTest::addColumn<QString>("expected"); // empty: direct

        const QString http = "http://hp.lan:3128";
        const QString https = "http://sp.lan:3129";
        QTest::newRow("http uses http_proxy") << QString() << "http://api.example.com/v1" << http;
        QTest::newRow("https uses https_proxy") << QString() << "https://api.openai.com/v1" << https;
        QTest::newRow("other scheme") << QString() << "ftp://files.example.com/" << QString();
        QTest::newRow("loopback v4") << QString() << "http://127.0.0.1:8080/" << QString();
        QTest::newRow("loopback v4 range") << QString() << "http://127.3.2.1/" << QString();
        QTest::newRow("loopback v6") << QString() << "https://[::1]:8443/" << QString();
        QTest::newRow("localhost") << QString() << "http://localhost:8080/" << QString();
        QTest::newRow("sub.localhost") << QString() << "http://gw.localhost/" << QString();
        QTest::newRow("exact host") << "internal,api.example.com" << "https://api.example.com/" << QString();
        QTest::newRow("exact host is case-insensitive") << "API.Example.com" << "https://api.example.COM/"
                                                        << QString();
        QTest::newRow("bare domain matches subdomain") << "example.com" << "https://api.example.com/" << QString();
        QTest::newRow("bare domain matches itself") << "example.com" << "https://example.com/" << QString();
        QTest::newRow("bare domain is no substring match") << "example.com" << "https://notexample.com/" << https;
        QTest::newRow("dot suffix") << ".example.com" << "https://a.b.example.com/" << QString();
        QTest::newRow("dot suffix matches the domain") << ".example.com" << "https://example.com/" << QString();
        QTest::newRow("star dot suffix") << "*.example.com" << "http://x.example.com/" << QString();
        QTest::newRow("entry with port") << "example.com:443" << "https://api.example.com/" << QString();
        QTest::newRow("ip address") << "10.1.2.3" << "http://10.1.2.3:8000/" << QString();
        QTest::newRow("other ip") << "10.1.2.3" << "http://10.1.2.4:8000/" << http;
        QTest::newRow("ipv6 in brackets") << "[fd00::1]" << "http://[fd00::1]:8000/" << QString();
        QTest::newRow("star disables") << "*" << "https://api.anthropic.com/" << QString();
        QTest::newRow("unrelated entries") << "a.com,b.org" << "https://api.anthropic.com/" << https;
    }

    void proxyFor()
    {
        QFETCH(QString, noProxy);
        QFETCH(QString, target);
        QFETCH(QString, expected);
        const ProxySettings settings = ProxySettings::fromValues(
            {{"http_proxy", "http://hp.lan:3128"}, {"https_proxy", "sp.lan:3129"}, {"no_proxy", noProxy}});
        const std::optional<QUrl> proxy = settings.proxyFor(QUrl(target));
        QCOMPARE(proxy.has_value(), !expected.isEmpty());
        if (proxy)
            QCOMPARE(proxy->toString(), expected);
    }

    void noProxyWithoutProxiesIsDirect()
    {
        const ProxySettings settings = ProxySettings::fromValues({{"no_proxy", "x.com"}});
        QVERIFY(!settings.proxyFor(QUrl("https://api.openai.com/")).has_value());
        QVERIFY(!settings.proxyFor(QUrl("http://api.openai.com/")).has_value());
    }

    void proxyAuthorization()
    {
        QCOMPARE(ProxySettings::proxyAuthorization(ProxySettings::parseProxyUrl("http://alice:s3cret@p.lan:1")),
                 "Basic " + QByteArray("alice:s3cret").toBase64());
        // Percent-encoded user info is decoded before encoding.
        QCOMPARE(ProxySettings::proxyAuthorization(ProxySettings::parseProxyUrl("http://bob:p%40ss%3A@p.lan:1")),
                 "Basic " + QByteArray("bob:p@ss:").toBase64());
        QCOMPARE(ProxySettings::proxyAuthorization(ProxySettings::parseProxyUrl("http://carol@p.lan:1")),
                 "Basic " + QByteArray("carol:").toBase64());
        QVERIFY(ProxySettings::proxyAuthorization(ProxySettings::parseProxyUrl("http://p.lan:1")).isEmpty());
    }

    void parseProxyUrlRejectsGarbage_data()
    {
        QTest::addColumn<QString>("value");
        QTest::newRow("empty") << QString();
        QTest::newRow("spaces") << QString("   ");
        QTest::newRow("no host") << QString("http://:3128");
        QTest::newRow("bad port") << QString("http://proxy.lan:99999");
        QTest::newRow("https scheme") << QString("https://proxy.lan");
    }

    void parseProxyUrlRejectsGarbage()
    {
        QFETCH(QString, value);
        QVERIFY(ProxySettings::parseProxyUrl(value).isEmpty());
    }

    void fromEnvironment()
    {
        const char *names[] = {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY"};
        QHash<QByteArray, std::optional<QByteArray>> saved;
        for (const char *name : names) {
            saved.insert(name, qEnvironmentVariableIsSet(name) ? std::optional(qgetenv(name)) : std::nullopt);
            qunsetenv(name);
        }
        qputenv("HTTP_PROXY", "http://envproxy.lan:8080");
        qputenv("https_proxy", "envsecure.lan:8443");
        qputenv("HTTPS_PROXY", "ignored.lan:1");
        qputenv("NO_PROXY", "corp.lan");
        const ProxySettings settings = ProxySettings::fromEnvironment();
        for (auto it = saved.cbegin(); it != saved.cend(); ++it) {
            if (it.value())
                qputenv(it.key().constData(), *it.value());
            else
                qunsetenv(it.key().constData());
        }
        QCOMPARE(settings.httpProxy, QUrl("http://envproxy.lan:8080"));
        QCOMPARE(settings.httpsProxy, QUrl("http://envsecure.lan:8443"));
        QCOMPARE(settings.noProxy, QStringList{"corp.lan"});
        QVERIFY(!settings.proxyFor(QUrl("https://llm.corp.lan/")).has_value());
        QCOMPARE(settings.proxyFor(QUrl("https://api.openai.com/")), std::optional(QUrl("http://envsecure.lan:8443")));
    }
};

QTEST_GUILESS_MAIN(TestProxySettings)
#include "tst_proxysettings.moc"
