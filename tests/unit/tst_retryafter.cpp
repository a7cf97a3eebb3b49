#include <QTest>

#include "policy/retryafter.h"

#include <limits>
#include <optional>

using namespace std::chrono_literals;
using sluice::policy::maxParsedRetryAfter;
using sluice::policy::Nanoseconds;
using sluice::policy::parseResetDuration;
using sluice::policy::parseRetryAfter;

Q_DECLARE_METATYPE(std::optional<Nanoseconds>)

namespace {

constexpr qint64 sunday6Nov1994 = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT
constexpr qint64 newYear2024 = 1704067200;    // Mon, 01 Jan 2024 00:00:00 GMT

using Expected = std::optional<Nanoseconds>;

} // namespace

class TestRetryAfter : public QObject {
    Q_OBJECT
private slots:
    void retryAfter_data()
    {
        QTest::addColumn<QByteArray>("header");
        QTest::addColumn<qint64>("nowUnixSeconds");
        QTest::addColumn<Expected>("expected");

        // delta-seconds
        QTest::newRow("seconds") << QByteArray("120") << qint64{0} << Expected(120s);
        QTest::newRow("zero") << QByteArray("0") << qint64{0} << Expected(0s);
        QTest::newRow("leading zeros") << QByteArray("007") << qint64{0} << Expected(7s);
        QTest::newRow("surrounding whitespace") << QByteArray(" \t7 ") << qint64{0} << Expected(7s);
        QTest::newRow("decimal") << QByteArray("1.5") << qint64{0} << Expected(1500ms);
        QTest::newRow("one nanosecond") << QByteArray("0.000000001") << qint64{0} << Expected(1ns);
        QTest::newRow("digits past ns dropped") << QByteArray("1.1234567899") << qint64{0} << Expected(1123456789ns);
        QTest::newRow("the bound") << QByteArray("2147483648") << qint64{0} << Expected(maxParsedRetryAfter);
        QTest::newRow("overflow clamps") << QByteArray("99999999999999999999999999") << qint64{0} << Expected(maxParsedRetryAfter);
        QTest::newRow("overflow with fraction") << QByteArray("99999999999999999999.5") << qint64{0} << Expected(maxParsedRetryAfter);
        QTest::newRow("just under the bound") << QByteArray("2147483647") << qint64{0} << Expected(2147483647s);

        // garbage
        QTest::newRow("empty") << QByteArray("") << qint64{0} << Expected();
        QTest::newRow("blank") << QByteArray(" \t ") << qint64{0} << Expected();
        QTest::newRow("negative") << QByteArray("-5") << qint64{0} << Expected();
        QTest::newRow("plus sign") << QByteArray("+5") << qint64{0} << Expected();
        QTest::newRow("unit") << QByteArray("5s") << qint64{0} << Expected();
        QTest::newRow("exponent") << QByteArray("1e3") << qint64{0} << Expected();
        QTest::newRow("trailing dot") << QByteArray("1.") << qint64{0} << Expected();
        QTest::newRow("leading dot") << QByteArray(".5") << qint64{0} << Expected();
        QTest::newRow("two numbers") << QByteArray("5 5") << qint64{0} << Expected();
        QTest::newRow("word") << QByteArray("soon") << qint64{0} << Expected();
        QTest::newRow("nan") << QByteArray("nan") << qint64{0} << Expected();

        // HTTP dates, 30 s after now
        QTest::newRow("IMF-fixdate") << QByteArray("Sun, 06 Nov 1994 08:49:37 GMT") << sunday6Nov1994 - 30 << Expected(30s);
        QTest::newRow("rfc850") << QByteArray("Sunday, 06-Nov-94 08:49:37 GMT") << sunday6Nov1994 - 30 << Expected(30s);
        QTest::newRow("asctime") << QByteArray("Sun Nov  6 08:49:37 1994") << sunday6Nov1994 - 30 << Expected(30s);
        QTest::newRow("asctime two-digit day") << QByteArray("Sun Nov 06 08:49:37 1994") << sunday6Nov1994 - 30 << Expected(30s);
        QTest::newRow("date is now") << QByteArray("Sun, 06 Nov 1994 08:49:37 GMT") << sunday6Nov1994 << Expected(0s);
        QTest::newRow("date in the past") << QByteArray("Sun, 06 Nov 1994 08:49:37 GMT") << sunday6Nov1994 + 3600 << Expected(0s);
        QTest::newRow("leap second") << QByteArray("Wed, 31 Dec 2008 23:59:60 GMT") << qint64{1230767999} - 5 << Expected(5s);
        QTest::newRow("far future clamps") << QByteArray("Fri, 31 Dec 9999 23:59:59 GMT") << qint64{0} << Expected(maxParsedRetryAfter);
        QTest::newRow("now far in the past") << QByteArray("Sun, 06 Nov 1994 08:49:37 GMT")
                                             << std::numeric_limits<qint64>::min() << Expected(maxParsedRetryAfter);
        QTest::newRow("rfc850 year 70 is 2070 in 2024") << QByteArray("Wednesday, 01-Jan-70 00:00:10 GMT")
                                                        << newYear2024 << Expected(1451692810s);
        QTest::newRow("rfc850 year 75 is 1975 in 2024") << QByteArray("Wednesday, 01-Jan-75 00:00:10 GMT")
                                                        << newYear2024 << Expected(0s);

        // malformed dates
        QTest::newRow("UTC instead of GMT") << QByteArray("Sun, 06 Nov 1994 08:49:37 UTC") << qint64{0} << Expected();
        QTest::newRow("lower case") << QByteArray("sun, 06 nov 1994 08:49:37 GMT") << qint64{0} << Expected();
        QTest::newRow("one-digit day") << QByteArray("Sun, 6 Nov 1994 08:49:37 GMT") << qint64{0} << Expected();
        QTest::newRow("31 February") << QByteArray("Sun, 31 Feb 1994 08:49:37 GMT") << qint64{0} << Expected();
        QTest::newRow("hour 24") << QByteArray("Sun, 06 Nov 1994 24:00:00 GMT") << qint64{0} << Expected();
        QTest::newRow("minute 60") << QByteArray("Sun, 06 Nov 1994 08:60:00 GMT") << qint64{0} << Expected();
        QTest::newRow("unknown month") << QByteArray("Sun, 06 Nox 1994 08:49:37 GMT") << qint64{0} << Expected();
        QTest::newRow("unknown day") << QByteArray("Sux, 06 Nov 1994 08:49:37 GMT") << qint64{0} << Expected();
        QTest::newRow("trailing junk") << QByteArray("Sun, 06 Nov 1994 08:49:37 GMT+1") << qint64{0} << Expected();
        QTest::newRow("truncated") << QByteArray("Sun, 06 Nov 1994 08:49") << qint64{0} << Expected();
        QTest::newRow("ISO 8601") << QByteArray("1994-11-06T08:49:37Z") << qint64{0} << Expected();
    }

    void retryAfter()
    {
        QFETCH(QByteArray, header);
        QFETCH(qint64, nowUnixSeconds);
        QFETCH(Expected, expected);
        const Expected parsed = parseRetryAfter(std::string_view(header.constData(), header.size()), nowUnixSeconds);
        if (parsed != expected)
            qWarning() << "parsed" << (parsed ? parsed->count() : -1) << "expected" << (expected ? expected->count() : -1);
        QCOMPARE(parsed, expected);
    }

    void resetDuration_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<Expected>("expected");
        QTest::newRow("minutes and seconds") << QByteArray("6m0s") << Expected(6min);
        QTest::newRow("fractional seconds") << QByteArray("1.5s") << Expected(1500ms);
        QTest::newRow("milliseconds") << QByteArray("120ms") << Expected(120ms);
        QTest::newRow("all units") << QByteArray("1h2m3.5s") << Expected(1h + 2min + 3500ms);
        QTest::newRow("bare zero") << QByteArray("0") << Expected(0ns);
        QTest::newRow("zero seconds") << QByteArray("0s") << Expected(0ns);
        QTest::newRow("microseconds us") << QByteArray("5us") << Expected(5us);
        QTest::newRow("microseconds micro sign") << QByteArray("5\xC2\xB5s") << Expected(5us);
        QTest::newRow("microseconds greek mu") << QByteArray("5\xCE\xBCs") << Expected(5us);
        QTest::newRow("nanoseconds") << QByteArray("1ns") << Expected(1ns);
        QTest::newRow("tenth of a second") << QByteArray("0.1s") << Expected(100ms);
        QTest::newRow("leading dot") << QByteArray(".5s") << Expected(500ms);
        QTest::newRow("trailing dot") << QByteArray("1.s") << Expected(1s);
        QTest::newRow("repeated unit") << QByteArray("1h1h") << Expected(2h);
        QTest::newRow("whitespace") << QByteArray(" 2s\t") << Expected(2s);
        QTest::newRow("fractional minutes") << QByteArray("1.25m") << Expected(75s);
        QTest::newRow("largest duration") << QByteArray("2562047h47m16.854775807s") << Expected(Nanoseconds::max());

        QTest::newRow("overflow") << QByteArray("2562048h") << Expected();
        QTest::newRow("overflow in the sum") << QByteArray("2562047h47m17s") << Expected();
        QTest::newRow("huge number") << QByteArray("99999999999999999999ns") << Expected();
        QTest::newRow("empty") << QByteArray("") << Expected();
        QTest::newRow("missing unit") << QByteArray("5") << Expected();
        QTest::newRow("negative") << QByteArray("-1s") << Expected();
        QTest::newRow("plus sign") << QByteArray("+1s") << Expected();
        QTest::newRow("unknown unit") << QByteArray("1x") << Expected();
        QTest::newRow("days are not a unit") << QByteArray("1d") << Expected();
        QTest::newRow("unit alone") << QByteArray("s") << Expected();
        QTest::newRow("space inside") << QByteArray("1 s") << Expected();
        QTest::newRow("two dots") << QByteArray("1.5.5s") << Expected();
        QTest::newRow("dot alone") << QByteArray(".s") << Expected();
        QTest::newRow("RFC 3339 timestamp") << QByteArray("2024-01-01T00:00:00Z") << Expected();
    }

    void resetDuration()
    {
        QFETCH(QByteArray, text);
        QFETCH(Expected, expected);
        const Expected parsed = parseResetDuration(std::string_view(text.constData(), text.size()));
        if (parsed != expected)
            qWarning() << "parsed" << (parsed ? parsed->count() : -1) << "expected" << (expected ? expected->count() : -1);
        QCOMPARE(parsed, expected);
    }
};

QTEST_APPLESS_MAIN(TestRetryAfter)
#include "tst_retryafter.moc"
