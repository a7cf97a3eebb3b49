#include <QTest>

#include "gateway/apierror.h"

#include <QJsonDocument>
#include <QJsonObject>

using sluice::gateway::ApiError;
using sluice::gateway::ProviderKind;
using namespace sluice::gateway;

Q_DECLARE_METATYPE(ProviderKind)

class TestApiError : public QObject {
    Q_OBJECT
private slots:
    void statusMapsToProviderTypes_data()
    {
        QTest::addColumn<ProviderKind>("kind");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("type");
        QTest::addColumn<QString>("code");

        const auto openAI = ProviderKind::OpenAI;
        const auto anthropic = ProviderKind::Anthropic;
        QTest::newRow("openai 400") << openAI << 400 << "invalid_request_error" << "";
        QTest::newRow("openai 401") << openAI << 401 << "invalid_request_error" << "invalid_api_key";
        QTest::newRow("openai 404") << openAI << 404 << "invalid_request_error" << "";
        QTest::newRow("openai 413") << openAI << 413 << "invalid_request_error" << "request_too_large";
        QTest::newRow("openai 429") << openAI << 429 << "requests" << "rate_limit_exceeded";
        QTest::newRow("openai 500") << openAI << 500 << "server_error" << "";
        QTest::newRow("openai 503") << openAI << 503 << "server_error" << "";
        QTest::newRow("openai 504") << openAI << 504 << "server_error" << "timeout";
        QTest::newRow("anthropic 400") << anthropic << 400 << "invalid_request_error" << "";
        QTest::newRow("anthropic 401") << anthropic << 401 << "authentication_error" << "";
        QTest::newRow("anthropic 402") << anthropic << 402 << "billing_error" << "";
        QTest::newRow("anthropic 403") << anthropic << 403 << "permission_error" << "";
        QTest::newRow("anthropic 404") << anthropic << 404 << "not_found_error" << "";
        QTest::newRow("anthropic 409") << anthropic << 409 << "invalid_request_error" << "";
        QTest::newRow("anthropic 413") << anthropic << 413 << "request_too_large" << "";
        QTest::newRow("anthropic 429") << anthropic << 429 << "rate_limit_error" << "";
        QTest::newRow("anthropic 500") << anthropic << 500 << "api_error" << "";
        QTest::newRow("anthropic 502") << anthropic << 502 << "api_error" << "";
        QTest::newRow("anthropic 503") << anthropic << 503 << "overloaded_error" << "";
        QTest::newRow("anthropic 504") << anthropic << 504 << "timeout_error" << "";
        QTest::newRow("anthropic 529") << anthropic << 529 << "overloaded_error" << "";
    }

    void statusMapsToProviderTypes()
    {
        QFETCH(ProviderKind, kind);
        QFETCH(int, status);
        QFETCH(QString, type);
        QFETCH(QString, code);
        const ApiError error = errorForStatus(kind, status);
        QCOMPARE(error.httpStatus, status);
        QCOMPARE(error.type, type);
        QCOMPARE(error.code, code);
        QVERIFY(!error.message.isEmpty());
        QCOMPARE(defaultErrorType(kind, status), type);
        if (kind == ProviderKind::Anthropic && status != 409 && status != 502)
            QCOMPARE(statusForErrorType(kind, type), status == 503 ? 529 : status);
    }

    void openAITypesMapBackToStatus()
    {
        QCOMPARE(statusForErrorType(ProviderKind::OpenAI, "requests"), 429);
        QCOMPARE(statusForErrorType(ProviderKind::OpenAI, "tokens"), 429);
        QCOMPARE(statusForErrorType(ProviderKind::OpenAI, "insufficient_quota"), 429);
        QCOMPARE(statusForErrorType(ProviderKind::OpenAI, "invalid_request_error"), 400);
        QCOMPARE(statusForErrorType(ProviderKind::OpenAI, "server_error"), 500);
    }

    void openAIShape()
    {
        ApiError error = invalidRequest("messages: must be a non-empty array", "messages");
        QCOMPARE(errorBody(ProviderKind::OpenAI, error),
                 QByteArray(R"({"error":{"code":null,"message":"messages: must be a non-empty array",)"
                            R"("param":"messages","type":"invalid_request_error"}})"));
        error = errorForStatus(ProviderKind::OpenAI, 429, "slow down");
        error.type = "tokens";
        const QJsonObject inner =
            QJsonDocument::fromJson(errorBody(ProviderKind::OpenAI, error)).object().value("error").toObject();
        QCOMPARE(inner.value("type").toString(), QStringLiteral("tokens"));
        QCOMPARE(inner.value("code").toString(), QStringLiteral("rate_limit_exceeded"));
        QVERIFY(inner.value("param").isNull());
        QCOMPARE(inner.keys(), (QStringList{"code", "message", "param", "type"}));
    }

    void anthropicShape()
    {
        ApiError error = errorForStatus(ProviderKind::Anthropic, 529);
        QCOMPARE(errorBody(ProviderKind::Anthropic, error),
                 QByteArray(R"({"error":{"message":"Overloaded","type":"overloaded_error"},"type":"error"})"));
        error.requestId = "req_1";
        error.param = "ignored";
        error.code = "ignored";
        const QJsonObject body = QJsonDocument::fromJson(errorBody(ProviderKind::Anthropic, error)).object();
        QCOMPARE(body.keys(), (QStringList{"error", "request_id", "type"}));
        QCOMPARE(body.value("error").toObject().keys(), (QStringList{"message", "type"}));
    }

    void emptyTypeFallsBackToStatus()
    {
        ApiError error;
        error.httpStatus = 413;
        error.message = "too big";
        const QJsonObject body = QJsonDocument::fromJson(errorBody(ProviderKind::Anthropic, error)).object();
        QCOMPARE(body.value("error").toObject().value("type").toString(), QStringLiteral("request_too_large"));
    }

    void parsesBodiesBack_data()
    {
        QTest::addColumn<ProviderKind>("kind");
        QTest::addColumn<int>("status");
        QTest::newRow("openai 429") << ProviderKind::OpenAI << 429;
        QTest::newRow("openai 400") << ProviderKind::OpenAI << 400;
        QTest::newRow("anthropic 529") << ProviderKind::Anthropic << 529;
        QTest::newRow("anthropic 401") << ProviderKind::Anthropic << 401;
    }

    void parsesBodiesBack()
    {
        QFETCH(ProviderKind, kind);
        QFETCH(int, status);
        ApiError error = errorForStatus(kind, status);
        if (kind == ProviderKind::OpenAI)
            error.param = "model";
        else
            error.requestId = "req_x";
        const auto parsed = parseErrorBody(kind, status, errorBody(kind, error));
        QVERIFY(parsed.has_value());
        QCOMPARE(parsed->httpStatus, status);
        QCOMPARE(parsed->type, error.type);
        QCOMPARE(parsed->code, error.code);
        QCOMPARE(parsed->message, error.message);
        QCOMPARE(parsed->param, error.param);
        QCOMPARE(parsed->requestId, error.requestId);
    }

    void rejectsForeignBodies()
    {
        QVERIFY(!parseErrorBody(ProviderKind::OpenAI, 500, "<html>bad gateway</html>"));
        QVERIFY(!parseErrorBody(ProviderKind::Anthropic, 500, R"({"error":{"message":"x"}})"));
        QVERIFY(!parseErrorBody(ProviderKind::OpenAI, 500, R"({"detail":"x"})"));
    }
};

QTEST_APPLESS_MAIN(TestApiError)
#include "tst_apierror.moc"
