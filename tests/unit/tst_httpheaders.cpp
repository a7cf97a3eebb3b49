#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>
#include <QTimeZone>

#include "http/httpdate.h"
#include "http/httperrorbody.h"
#include "http/httpheaders.h"
#include "http/httpstatus.h"

using sluice::http::HttpDate;
using sluice::http::HttpHeaders;

class TestHttpHeaders : public QObject {
    Q_OBJECT
private slots:
    void lookupIsCaseInsensitiveAndKeepsRepeats()
    {
        HttpHeaders headers{{"Content-Type", "text/plain"}, {"Set-Cookie", "a=1"}};
        headers.add("set-cookie", "b=2");
        QVERIFY(headers.contains("CONTENT-TYPE"));
        QCOMPARE(headers.value("content-type"), QByteArray("text/plain"));
        QCOMPARE(headers.value("missing", "fallback"), QByteArray("fallback"));
        QCOMPARE(headers.values("Set-Cookie"), (QList<QByteArray>{"a=1", "b=2"}));
        QCOMPARE(headers.combinedValue("SET-COOKIE"), QByteArray("a=1, b=2"));
        headers.set("set-COOKIE", "c=3");
        QCOMPARE(headers.values("set-cookie"), QList<QByteArray>{"c=3"});
        QCOMPARE(headers.remove("Content-type"), 1);
        QCOMPARE(headers.size(), 1);
    }

    void hasToken_data()
    {
        QTest::addColumn<QByteArray>("value");
        QTest::addColumn<QByteArray>("token");
        QTest::addColumn<bool>("found");
        QTest::newRow("single") << QByteArray("close") << QByteArray("Close") << true;
        QTest::newRow("list") << QByteArray("keep-alive, Upgrade") << QByteArray("upgrade") << true;
        QTest::newRow("spaces") << QByteArray(" a ,\tb\t") << QByteArray("b") << true;
        QTest::newRow("prefix only") << QByteArray("closed") << QByteArray("close") << false;
        QTest::newRow("empty") << QByteArray() << QByteArray("close") << false;
    }

    void hasToken()
    {
        QFETCH(QByteArray, value);
        QFETCH(QByteArray, token);
        QFETCH(bool, found);
        const HttpHeaders headers{{"Connection", value}};
        QCOMPARE(headers.hasToken("connection", token), found);
    }

    void formattingDropsInjection()
    {
        const HttpHeaders headers{{"X-Ok", "fine"},
                                  {"X-Bad", "a\r\nSet-Cookie: evil"},
                                  {"Bad Name", "x"},
                                  {"", "x"},
                                  {"X-Nul", QByteArray("a\0b", 3)},
                                  {"X-Empty", ""}};
        QByteArray out;
        QCOMPARE(headers.appendTo(out), 4);
        QCOMPARE(out, QByteArray("X-Ok: fine\r\nX-Empty: \r\n"));
    }

    void httpDate()
    {
        const QDateTime rfcExample(QDate(1994, 11, 6), QTime(8, 49, 37), Qt::UTC);
        QCOMPARE(HttpDate::format(rfcExample), QByteArray("Sun, 06 Nov 1994 08:49:37 GMT"));
        const QDateTime offset(QDate(2024, 2, 29), QTime(23, 30, 0), QTimeZone(3600));
        QCOMPARE(HttpDate::format(offset), QByteArray("Thu, 29 Feb 2024 22:30:00 GMT"));
        QCOMPARE(HttpDate::format(QDateTime()), QByteArray());
        const QByteArray now = HttpDate::now();
        QCOMPARE(now.size(), 29);
        QVERIFY(now.endsWith(" GMT"));
    }

    void statusHelpers()
    {
        QCOMPARE(sluice::http::reasonPhrase(431), QByteArray("Request Header Fields Too Large"));
        QCOMPARE(sluice::http::reasonPhrase(299), QByteArray("Unknown"));
        QCOMPARE(sluice::http::statusLine(404), QByteArray("HTTP/1.1 404 Not Found\r\n"));
        QVERIFY(sluice::http::statusForbidsBody(204));
        QVERIFY(sluice::http::statusForbidsBody(304));
        QVERIFY(sluice::http::statusForbidsBody(100));
        QVERIFY(!sluice::http::statusForbidsBody(200));
    }

    void errorBodyIsOpenAiShaped()
    {
        const QJsonObject body = QJsonDocument::fromJson(sluice::http::defaultErrorBody(413, "too \"big\"")).object();
        const QJsonObject error = body.value("error").toObject();
        QCOMPARE(error.value("message").toString(), QStringLiteral("too \"big\""));
        QCOMPARE(error.value("type").toString(), QStringLiteral("invalid_request_error"));
        QCOMPARE(error.value("code").toString(), QStringLiteral("request_too_large"));
        const QJsonObject server =
            QJsonDocument::fromJson(sluice::http::defaultErrorBody(500, "x")).object().value("error").toObject();
        QCOMPARE(server.value("type").toString(), QStringLiteral("server_error"));
    }
};

QTEST_APPLESS_MAIN(TestHttpHeaders)
#include "tst_httpheaders.moc"
