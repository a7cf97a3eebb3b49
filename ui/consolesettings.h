#pragma once

#include <QByteArray>
#include <QSettings>
#include <QString>

namespace sluice::ui {

// The console's persistent settings: one INI file, console.ini, in a settings
// directory (ConsoleOptions::settingsDirectory or defaultSettingsDirectory()). Only
// stores and returns values; nothing here acts on them. Setters write through to
// QSettings, which writes the file on sync(), on destruction and from the event loop.
//
// Keys: window/geometry, window/state (QMainWindow blobs), window/panel (the object
// name of the panel last shown), connections/lastProfile.
//
// Thread affinity: the thread that created it (the GUI thread).
class ConsoleSettings {
public:
    // Creates the directory if it is missing.
    explicit ConsoleSettings(const QString &directory);
    ConsoleSettings(const ConsoleSettings &) = delete;
    ConsoleSettings &operator=(const ConsoleSettings &) = delete;

    QString filePath() const { return m_settings.fileName(); }

    QByteArray windowGeometry() const;
    void setWindowGeometry(const QByteArray &geometry);
    QByteArray windowState() const;
    void setWindowState(const QByteArray &state);
    // Empty when never saved.
    QString lastPanel() const;
    void setLastPanel(const QString &panelObjectName);
    // Empty when no profile was ever opened.
    QString lastProfileName() const;
    void setLastProfileName(const QString &profileName);

    // Writes pending changes now; false if the file could not be written.
    bool sync();

private:
    QSettings m_settings;
};

} // namespace sluice::ui
