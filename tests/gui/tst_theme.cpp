#include "theme.h"

#include <QApplication>
#include <QSignalSpy>
#include <QTest>

using sluice::ui::Theme;

namespace {

QPalette paletteWith(const QColor &window, const QColor &text)
{
    QPalette palette;
    palette.setColor(QPalette::Window, window);
    palette.setColor(QPalette::WindowText, text);
    palette.setColor(QPalette::Base, window);
    palette.setColor(QPalette::Text, text);
    return palette;
}

const QPalette kLight = paletteWith(QColor(0xef, 0xef, 0xef), QColor(0x10, 0x10, 0x10));
const QPalette kDark = paletteWith(QColor(0x20, 0x22, 0x25), QColor(0xf0, 0xf0, 0xf0));

} // namespace

class TestTheme : public QObject {
    Q_OBJECT
private slots:
    void cleanup();
    void classifiesPalettes_data();
    void classifiesPalettes();
    void followsApplicationPalette();
    void productionStandsOut_data();
    void productionStandsOut();
    void tonesAreDistinct();
};

void TestTheme::cleanup()
{
    QApplication::setPalette(kLight);
}

void TestTheme::classifiesPalettes_data()
{
    QTest::addColumn<QColor>("window");
    QTest::addColumn<QColor>("text");
    QTest::addColumn<bool>("dark");

    QTest::newRow("light") << QColor(0xef, 0xef, 0xef) << QColor(Qt::black) << false;
    QTest::newRow("dark") << QColor(0x2b, 0x2b, 0x2b) << QColor(Qt::white) << true;
    QTest::newRow("mid grey with white text") << QColor(0x70, 0x70, 0x70) << QColor(Qt::white) << true;
    QTest::newRow("mid grey with black text") << QColor(0x90, 0x90, 0x90) << QColor(Qt::black) << false;
    QTest::newRow("dark blue") << QColor(0x10, 0x18, 0x30) << QColor(0xdd, 0xdd, 0xdd) << true;
}

void TestTheme::classifiesPalettes()
{
    QFETCH(QColor, window);
    QFETCH(QColor, text);
    QFETCH(bool, dark);
    QCOMPARE(Theme::isDarkPalette(paletteWith(window, text)), dark);
}

void TestTheme::followsApplicationPalette()
{
    QApplication::setPalette(kLight);
    Theme theme;
    QVERIFY(!theme.isDark());
    QSignalSpy changed(&theme, &Theme::darkChanged);

    QApplication::setPalette(kDark);
    QTRY_VERIFY(theme.isDark());
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed.at(0).at(0).toBool(), true);

    // Another dark palette is no change of scheme.
    QApplication::setPalette(paletteWith(QColor(0x10, 0x10, 0x10), QColor(0xcc, 0xcc, 0xcc)));
    QCoreApplication::processEvents();
    QCOMPARE(changed.count(), 1);

    QApplication::setPalette(kLight);
    QTRY_VERIFY(!theme.isDark());
    QCOMPARE(changed.count(), 2);
    QCOMPARE(changed.at(1).at(0).toBool(), false);

    // A theme created while dark starts dark.
    QApplication::setPalette(kDark);
    Theme later;
    QVERIFY(later.isDark());
}

void TestTheme::productionStandsOut_data()
{
    QTest::addColumn<QString>("environment");
    QTest::addColumn<bool>("production");

    QTest::newRow("production") << "production" << true;
    QTest::newRow("Production") << "Production" << true;
    QTest::newRow("prod") << "prod" << true;
    QTest::newRow("padded") << " PRD " << true;
    QTest::newRow("staging") << "staging" << false;
    QTest::newRow("sandbox") << "sandbox" << false;
    QTest::newRow("dev") << "dev" << false;
    QTest::newRow("other") << "qa-east" << false;
    QTest::newRow("empty") << "" << false;
    QTest::newRow("preproduction") << "preproduction" << false;
}

void TestTheme::productionStandsOut()
{
    QFETCH(QString, environment);
    QFETCH(bool, production);

    const QColor color = Theme::environmentColor(environment);
    const bool red = color.hslHue() >= 0 && (color.hslHue() < 15 || color.hslHue() > 345) && color.hslSaturation() > 150;
    QCOMPARE(red, production);
    // The tag's text must be readable on it.
    const int contrast = qAbs(color.lightness() - Theme::environmentTextColor(environment).lightness());
    QVERIFY2(contrast > 80, qPrintable(environment));
}

void TestTheme::tonesAreDistinct()
{
    for (bool dark : {false, true}) {
        const QList<QColor> colors{Theme::toneColor(Theme::Tone::Good, dark), Theme::toneColor(Theme::Tone::Pending, dark),
                                   Theme::toneColor(Theme::Tone::Idle, dark), Theme::toneColor(Theme::Tone::Bad, dark)};
        for (int i = 0; i < colors.size(); ++i) {
            for (int j = i + 1; j < colors.size(); ++j)
                QVERIFY(colors.at(i) != colors.at(j));
        }
    }
}

QTEST_MAIN(TestTheme)
#include "tst_theme.moc"
