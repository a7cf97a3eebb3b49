#include "theme.h"

#include <QEvent>
#include <QGuiApplication>

namespace sluice::ui {

Theme::Theme(QObject *parent) : QObject(parent), m_dark(isDarkPalette(QGuiApplication::palette()))
{
    // QGuiApplication sends ApplicationPaletteChange to itself (as well as to every
    // widget); an application-level filter is the one place that sees it without a
    // widget. The deprecated paletteChanged signal is the alternative Qt 6 discourages.
    QCoreApplication::instance()->installEventFilter(this);
}

Theme::~Theme()
{
    if (QCoreApplication::instance())
        QCoreApplication::instance()->removeEventFilter(this);
}

bool Theme::isDarkPalette(const QPalette &palette)
{
    return palette.color(QPalette::Window).lightness() < palette.color(QPalette::WindowText).lightness();
}

QColor Theme::toneColor(Tone tone, bool dark)
{
    switch (tone) {
    case Tone::Good:
        return dark ? QColor(0x4c, 0xc7, 0x64) : QColor(0x2e, 0x9e, 0x44);
    case Tone::Pending:
        return dark ? QColor(0xf5, 0xb7, 0x3b) : QColor(0xe0, 0x8e, 0x00);
    case Tone::Idle:
        return dark ? QColor(0x9a, 0xa0, 0xa6) : QColor(0x80, 0x86, 0x8b);
    case Tone::Bad:
        return dark ? QColor(0xff, 0x5f, 0x57) : QColor(0xd3, 0x2f, 0x2f);
    }
    return QColor(0x80, 0x86, 0x8b);
}

namespace {

enum class EnvironmentKind { Production, Staging, Sandbox, Development, Other };

EnvironmentKind environmentKind(const QString &environment)
{
    const QString name = environment.trimmed().toLower();
    if (name == u"production" || name == u"prod" || name == u"prd")
        return EnvironmentKind::Production;
    if (name == u"staging" || name == u"stage")
        return EnvironmentKind::Staging;
    if (name == u"sandbox")
        return EnvironmentKind::Sandbox;
    if (name == u"development" || name == u"dev" || name == u"test" || name == u"local")
        return EnvironmentKind::Development;
    return EnvironmentKind::Other;
}

} // namespace

QColor Theme::environmentColor(const QString &environment)
{
    switch (environmentKind(environment)) {
    case EnvironmentKind::Production:
        return QColor(0xc6, 0x28, 0x28);
    case EnvironmentKind::Staging:
        return QColor(0xf0, 0xa2, 0x02);
    case EnvironmentKind::Sandbox:
        return QColor(0x00, 0x83, 0x8f);
    case EnvironmentKind::Development:
        return QColor(0x1e, 0x6f, 0xd9);
    case EnvironmentKind::Other:
        break;
    }
    return QColor(0x6b, 0x72, 0x78);
}

QColor Theme::environmentTextColor(const QString &environment)
{
    return environmentKind(environment) == EnvironmentKind::Staging ? QColor(Qt::black) : QColor(Qt::white);
}

bool Theme::eventFilter(QObject *watched, QEvent *event)
{
    if (event->type() == QEvent::ApplicationPaletteChange && watched == QCoreApplication::instance())
        reevaluate();
    return QObject::eventFilter(watched, event);
}

void Theme::reevaluate()
{
    const bool dark = isDarkPalette(QGuiApplication::palette());
    if (dark == m_dark)
        return;
    m_dark = dark;
    emit darkChanged(dark);
}

} // namespace sluice::ui
