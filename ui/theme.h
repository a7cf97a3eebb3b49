#pragma once

#include <QColor>
#include <QObject>
#include <QPalette>

namespace sluice::ui {

// Light or dark, following the system. Qt 6.4 has no QStyleHints::colorScheme(), so the
// decision comes from the application palette: dark when the window background is
// darker than the window text. The platform theme replaces that palette when the
// desktop switches scheme, and Qt then sends ApplicationPaletteChange to the
// application, which Theme watches (as does QApplication::setPalette()).
//
// Widgets that only paint with palette roles need none of this; it is for colours the
// palette has no role for (status dots, environment tags) and for QChart themes
// (ChartThemeDark / ChartThemeLight, chosen under ui/charts/).
//
// One instance per window, owned by it; no global state. Thread affinity: GUI thread.
// Needs a QGuiApplication.
class Theme : public QObject {
    Q_OBJECT
public:
    explicit Theme(QObject *parent = nullptr);
    ~Theme() override;

    bool isDark() const { return m_dark; }

    static bool isDarkPalette(const QPalette &palette);

    // A connection or health state shown as a coloured dot.
    enum class Tone { Good, Pending, Idle, Bad };
    // Saturated enough to read on both backgrounds, a little lighter on dark ones.
    static QColor toneColor(Tone tone, bool dark);

    // The background of a deployment's environment tag; the text colour is
    // environmentTextColor(). "production"/"prod"/"prd" is red so it stands out;
    // "staging"/"stage" amber; "sandbox" teal; "development"/"dev"/"test"/"local" blue;
    // anything else (or empty) grey. Case-insensitive.
    static QColor environmentColor(const QString &environment);
    static QColor environmentTextColor(const QString &environment);

signals:
    void darkChanged(bool dark);

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void reevaluate();

    bool m_dark = false;
};

} // namespace sluice::ui
