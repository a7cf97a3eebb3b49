#pragma once

#include "deploymentcontroller.h"

#include <QDialog>

#include <functional>
#include <optional>

class QLineEdit;

namespace sluice::ui {

// Asks for the secrets of a profile being opened when there is no keychain ("ask each
// time" mode): one password field per secret in the request. Window-modal and opened
// with open(), never exec(): `answer` is called once, with the values on OK or nullopt
// on Cancel / close, and the dialog deletes itself afterwards.
class SecretPromptDialog : public QDialog {
    Q_OBJECT
public:
    using Answer = std::function<void(std::optional<SecretAnswer>)>;

    SecretPromptDialog(const SecretRequest &request, Answer answer, QWidget *parent = nullptr);

    // A DeploymentController::SecretPrompt that opens this dialog over `parent`.
    static DeploymentController::SecretPrompt promptFor(QWidget *parent);

private:
    void finishWith(std::optional<SecretAnswer> answer);

    Answer m_answer;
    QLineEdit *m_adminToken = nullptr;
    QLineEdit *m_redisPassword = nullptr;
    QLineEdit *m_postgres = nullptr;
};

} // namespace sluice::ui
