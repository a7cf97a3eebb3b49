#include "consolesettings.h"

#include <QDir>

namespace sluice::ui {

namespace {

const QString kGeometryKey = QStringLiteral("window/geometry");
const QString kStateKey = QStringLiteral("window/state");
const QString kPanelKey = QStringLiteral("window/panel");
const QString kLastProfileKey = QStringLiteral("connections/lastProfile");

QString settingsFile(const QString &directory)
{
    QDir().mkpath(directory);
    return QDir(directory).filePath(QStringLiteral("console.ini"));
}

} // namespace

ConsoleSettings::ConsoleSettings(const QString &directory)
    : m_settings(settingsFile(directory), QSettings::IniFormat)
{
}

QByteArray ConsoleSettings::windowGeometry() const
{
    return m_settings.value(kGeometryKey).toByteArray();
}

void ConsoleSettings::setWindowGeometry(const QByteArray &geometry)
{
    m_settings.setValue(kGeometryKey, geometry);
}

QByteArray ConsoleSettings::windowState() const
{
    return m_settings.value(kStateKey).toByteArray();
}

void ConsoleSettings::setWindowState(const QByteArray &state)
{
    m_settings.setValue(kStateKey, state);
}

QString ConsoleSettings::lastPanel() const
{
    return m_settings.value(kPanelKey).toString();
}

void ConsoleSettings::setLastPanel(const QString &panelObjectName)
{
    m_settings.setValue(kPanelKey, panelObjectName);
}

QString ConsoleSettings::lastProfileName() const
{
    return m_settings.value(kLastProfileKey).toString();
}

void ConsoleSettings::setLastProfileName(const QString &profileName)
{
    if (profileName.isEmpty())
        m_settings.remove(kLastProfileKey);
    else
        m_settings.setValue(kLastProfileKey, profileName);
}

bool ConsoleSettings::sync()
{
    m_settings.sync();
    return m_settings.status() == QSettings::NoError;
}

} // namespace sluice::ui
