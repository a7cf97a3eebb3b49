#include "connections/secretpromptdialog.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPointer>
#include <QVBoxLayout>

#include <utility>

namespace sluice::ui {

SecretPromptDialog::SecretPromptDialog(const SecretRequest &request, Answer answer, QWidget *parent)
    : QDialog(parent), m_answer(std::move(answer))
{
    setObjectName(QStringLiteral("secretPromptDialog"));
    setWindowTitle(tr("Secrets for \"%1\"").arg(request.profileName));
    setAttribute(Qt::WA_DeleteOnClose);
    setWindowModality(Qt::WindowModal);
    auto *layout = new QVBoxLayout(this);
    auto *intro = new QLabel(tr("No keychain is available, so secrets are kept for this session only. Enter them to "
                                "open \"%1\"; leave a field empty if the source needs none.")
                                 .arg(request.profileName));
    intro->setWordWrap(true);
    layout->addWidget(intro);
    auto *form = new QFormLayout;
    auto passwordField = [&](const QString &objectName) {
        auto *edit = new QLineEdit;
        edit->setObjectName(objectName);
        edit->setEchoMode(QLineEdit::Password);
        return edit;
    };
    if (request.adminToken) {
        m_adminToken = passwordField(QStringLiteral("promptAdminToken"));
        form->addRow(tr("Admin token"), m_adminToken);
    }
    if (request.redisPassword) {
        m_redisPassword = passwordField(QStringLiteral("promptRedisPassword"));
        form->addRow(tr("Redis password"), m_redisPassword);
    }
    if (request.postgresConnection) {
        m_postgres = passwordField(QStringLiteral("promptPostgres"));
        form->addRow(tr("PostgreSQL connection string"), m_postgres);
    }
    layout->addLayout(form);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(this, &QDialog::finished, this, [this](int result) {
        if (result != QDialog::Accepted) {
            finishWith(std::nullopt);
            return;
        }
        SecretAnswer values;
        if (m_adminToken)
            values.adminToken = m_adminToken->text();
        if (m_redisPassword)
            values.redisPassword = m_redisPassword->text();
        if (m_postgres)
            values.postgresConnection = m_postgres->text().trimmed();
        finishWith(values);
    });
}

void SecretPromptDialog::finishWith(std::optional<SecretAnswer> answer)
{
    if (Answer callback = std::exchange(m_answer, {}))
        callback(std::move(answer));
}

DeploymentController::SecretPrompt SecretPromptDialog::promptFor(QWidget *parent)
{
    QPointer<QWidget> owner(parent);
    return [owner](const SecretRequest &request, std::function<void(std::optional<SecretAnswer>)> answer) {
        auto *dialog = new SecretPromptDialog(request, std::move(answer), owner);
        dialog->open();
    };
}

} // namespace sluice::ui
