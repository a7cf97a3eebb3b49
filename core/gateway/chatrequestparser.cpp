#include "gateway/chatrequestparser.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>

#include <cmath>
#include <limits>

namespace sluice::gateway {

namespace {

using Failure = std::optional<ApiError>;

const QString missingCode = QStringLiteral("missing_required_parameter");
const QString typeCode = QStringLiteral("invalid_type");
const QString valueCode = QStringLiteral("invalid_value");

ApiError fieldError(const QString &path, const QString &problem, const QString &code)
{
    return invalidRequest(path + QStringLiteral(": ") + problem, path, code);
}

QString indexed(const QString &path, qsizetype index)
{
    return path + QLatin1Char('[') + QString::number(index) + QLatin1Char(']');
}

QString compactJson(const QJsonValue &value)
{
    if (value.isObject())
        return QString::fromUtf8(QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact));
    if (value.isArray())
        return QString::fromUtf8(QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact));
    return value.toVariant().toString();
}

void appendText(QString &text, const QString &piece)
{
    if (piece.isEmpty())
        return;
    if (!text.isEmpty())
        text += QLatin1Char('\n');
    text += piece;
}

bool isPresent(const QJsonValue &value)
{
    return !value.isUndefined() && !value.isNull();
}

bool isIntegral(const QJsonValue &value)
{
    if (!value.isDouble())
        return false;
    const double number = value.toDouble();
    return std::isfinite(number) && std::floor(number) == number;
}

Result<QJsonObject, ApiError> parseObject(const QByteArray &body)
{
    if (body.trimmed().isEmpty())
        return unexpected(invalidRequest(QStringLiteral("request body is empty; expected a JSON object")));
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(body, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        return unexpected(invalidRequest(QStringLiteral("invalid JSON at offset %1: %2")
                                             .arg(parseError.offset)
                                             .arg(parseError.errorString())));
    }
    if (!document.isObject())
        return unexpected(invalidRequest(QStringLiteral("request body must be a JSON object")));
    return document.object();
}

Failure readModel(const QJsonObject &root, ChatRequest &request)
{
    const QJsonValue model = root.value(QStringLiteral("model"));
    if (!isPresent(model))
        return fieldError(QStringLiteral("model"), QStringLiteral("required"), missingCode);
    if (!model.isString() || model.toString().isEmpty())
        return fieldError(QStringLiteral("model"), QStringLiteral("must be a non-empty string"), typeCode);
    request.model = model.toString();
    return std::nullopt;
}

Failure readBool(const QJsonObject &root, const QString &name, bool &out)
{
    const QJsonValue value = root.value(name);
    if (!isPresent(value))
        return std::nullopt;
    if (!value.isBool())
        return fieldError(name, QStringLiteral("must be a boolean"), typeCode);
    out = value.toBool();
    return std::nullopt;
}

Failure readNumber(const QJsonObject &root, const QString &name, double min, double max,
                   std::optional<double> &out)
{
    const QJsonValue value = root.value(name);
    if (!isPresent(value))
        return std::nullopt;
    const double number = value.toDouble();
    if (!value.isDouble() || !(number >= min && number <= max)) {
        return fieldError(name,
                          QStringLiteral("must be a number between %1 and %2").arg(min).arg(max),
                          value.isDouble() ? valueCode : typeCode);
    }
    out = number;
    return std::nullopt;
}

Failure readInteger(const QJsonObject &root, const QString &name, std::optional<qint64> min,
                    std::optional<qint64> max, std::optional<qint64> &out)
{
    const QJsonValue value = root.value(name);
    if (!isPresent(value))
        return std::nullopt;
    QString problem = QStringLiteral("must be an integer");
    if (min && max)
        problem += QStringLiteral(" between %1 and %2").arg(*min).arg(*max);
    else if (min)
        problem += QStringLiteral(" >= %1").arg(*min);
    if (!isIntegral(value))
        return fieldError(name, problem, typeCode);
    const qint64 number = value.toInteger(static_cast<qint64>(value.toDouble()));
    if ((min && number < *min) || (max && number > *max))
        return fieldError(name, problem, valueCode);
    out = number;
    return std::nullopt;
}

Failure readStringList(const QJsonValue &value, const QString &path, bool allowSingleString,
                       qsizetype maxCount, const QString &problem, QStringList &out)
{
    if (!isPresent(value))
        return std::nullopt;
    if (allowSingleString && value.isString()) {
        out = {value.toString()};
        return std::nullopt;
    }
    if (!value.isArray() || value.toArray().size() > maxCount)
        return fieldError(path, problem, typeCode);
    for (const QJsonValue item : value.toArray()) {
        if (!item.isString())
            return fieldError(path, problem, typeCode);
        out.append(item.toString());
    }
    return std::nullopt;
}

Failure readTools(const QJsonObject &root, const QStringList &names, ChatRequest &request)
{
    QJsonArray definitions;
    for (const QString &name : names) {
        const QJsonValue value = root.value(name);
        if (!isPresent(value))
            continue;
        if (!value.isArray())
            return fieldError(name, QStringLiteral("must be an array"), typeCode);
        for (const QJsonValue tool : value.toArray())
            definitions.append(tool);
    }
    if (!definitions.isEmpty())
        request.toolsJson = compactJson(definitions);
    return std::nullopt;
}

Failure requireMessagesArray(const QJsonObject &root, QJsonArray &messages)
{
    const QJsonValue value = root.value(QStringLiteral("messages"));
    if (!value.isArray() || value.toArray().isEmpty()) {
        return fieldError(QStringLiteral("messages"), QStringLiteral("must be a non-empty array"),
                          isPresent(value) ? typeCode : missingCode);
    }
    messages = value.toArray();
    return std::nullopt;
}

Failure readRole(const QJsonObject &message, const QString &path, const QStringList &roles, QString &role)
{
    const QJsonValue value = message.value(QStringLiteral("role"));
    const QString rolePath = path + QStringLiteral(".role");
    if (!isPresent(value))
        return fieldError(rolePath, QStringLiteral("required"), missingCode);
    if (!value.isString() || !roles.contains(value.toString()))
        return fieldError(rolePath, QStringLiteral("must be one of ") + roles.join(QStringLiteral(", ")), valueCode);
    role = value.toString();
    return std::nullopt;
}

// One typed part/block, for both shapes: text and refusal parts add their string,
// tool_use its name and input, tool_result its content; `ignored` types add nothing;
// anything else (image, audio, file, document, future types) is an attachment.
Failure readPart(const QJsonValue &value, const QString &path, const QStringList &ignored, ChatMessage &message)
{
    if (!value.isObject())
        return fieldError(path, QStringLiteral("must be an object"), typeCode);
    const QJsonObject part = value.toObject();
    const QJsonValue type = part.value(QStringLiteral("type"));
    if (!type.isString() || type.toString().isEmpty())
        return fieldError(path + QStringLiteral(".type"), QStringLiteral("required"), missingCode);
    const QString kind = type.toString();
    if (kind == QStringLiteral("text") || kind == QStringLiteral("refusal")) {
        const QJsonValue text = part.value(kind);
        if (!text.isString())
            return fieldError(path + QLatin1Char('.') + kind, QStringLiteral("must be a string"), typeCode);
        appendText(message.text, text.toString());
    } else if (kind == QStringLiteral("tool_use")) {
        appendText(message.text, compactJson(QJsonObject{{QStringLiteral("name"), part.value(QStringLiteral("name"))},
                                                         {QStringLiteral("input"), part.value(QStringLiteral("input"))}}));
    } else if (kind == QStringLiteral("tool_result")) {
        const QJsonValue content = part.value(QStringLiteral("content"));
        if (content.isString()) {
            appendText(message.text, content.toString());
        } else if (content.isArray()) {
            const QJsonArray blocks = content.toArray();
            for (qsizetype i = 0; i < blocks.size(); ++i) {
                if (const Failure failure = readPart(blocks.at(i), indexed(path + QStringLiteral(".content"), i),
                                                     ignored, message))
                    return failure;
            }
        }
    } else if (!ignored.contains(kind)) {
        ++message.attachmentCount;
    }
    return std::nullopt;
}

Failure readContent(const QJsonValue &content, const QString &path, const QString &problem,
                    const QStringList &ignored, ChatMessage &message)
{
    if (content.isString()) {
        message.text = content.toString();
        return std::nullopt;
    }
    if (!content.isArray())
        return fieldError(path, problem, typeCode);
    const QJsonArray parts = content.toArray();
    for (qsizetype i = 0; i < parts.size(); ++i) {
        if (const Failure failure = readPart(parts.at(i), indexed(path, i), ignored, message))
            return failure;
    }
    return std::nullopt;
}

Failure readOpenAIMessage(const QJsonValue &value, const QString &path, ChatMessage &message)
{
    static const QStringList roles = {QStringLiteral("system"), QStringLiteral("developer"), QStringLiteral("user"),
                                      QStringLiteral("assistant"), QStringLiteral("tool"), QStringLiteral("function")};
    if (!value.isObject())
        return fieldError(path, QStringLiteral("must be an object"), typeCode);
    const QJsonObject object = value.toObject();
    if (const Failure failure = readRole(object, path, roles, message.role))
        return failure;

    const QJsonValue toolCalls = object.value(QStringLiteral("tool_calls"));
    const QJsonValue functionCall = object.value(QStringLiteral("function_call"));
    if (isPresent(toolCalls) && !toolCalls.isArray())
        return fieldError(path + QStringLiteral(".tool_calls"), QStringLiteral("must be an array"), typeCode);
    if (message.role == QStringLiteral("tool") && !object.value(QStringLiteral("tool_call_id")).isString()) {
        return fieldError(path + QStringLiteral(".tool_call_id"), QStringLiteral("required for role tool"),
                          missingCode);
    }

    const QJsonValue content = object.value(QStringLiteral("content"));
    const QString contentPath = path + QStringLiteral(".content");
    if (isPresent(content)) {
        if (const Failure failure = readContent(content, contentPath,
                                                QStringLiteral("must be a string or an array of content parts"),
                                                {}, message))
            return failure;
    } else {
        const bool callsInstead = message.role == QStringLiteral("assistant")
                                  && (isPresent(toolCalls) || isPresent(functionCall)
                                      || isPresent(object.value(QStringLiteral("audio"))));
        if (!callsInstead)
            return fieldError(contentPath, QStringLiteral("required"), missingCode);
    }
    for (const QJsonValue call : toolCalls.toArray())
        appendText(message.text, compactJson(call.toObject().value(QStringLiteral("function"))));
    if (functionCall.isObject())
        appendText(message.text, compactJson(functionCall));
    return std::nullopt;
}

Failure readAnthropicMessage(const QJsonValue &value, const QString &path, ChatMessage &message)
{
    static const QStringList roles = {QStringLiteral("user"), QStringLiteral("assistant")};
    static const QStringList ignoredBlocks = {QStringLiteral("thinking"), QStringLiteral("redacted_thinking")};
    if (!value.isObject())
        return fieldError(path, QStringLiteral("must be an object"), typeCode);
    const QJsonObject object = value.toObject();
    if (object.value(QStringLiteral("role")).toString() == QStringLiteral("system")) {
        return fieldError(path + QStringLiteral(".role"),
                          QStringLiteral("\"system\" is not a message role; use the top-level system parameter"),
                          valueCode);
    }
    if (const Failure failure = readRole(object, path, roles, message.role))
        return failure;
    const QJsonValue content = object.value(QStringLiteral("content"));
    if (!isPresent(content))
        return fieldError(path + QStringLiteral(".content"), QStringLiteral("required"), missingCode);
    return readContent(content, path + QStringLiteral(".content"),
                       QStringLiteral("must be a string or an array of content blocks"), ignoredBlocks, message);
}

Failure readAnthropicSystem(const QJsonObject &root, ChatRequest &request)
{
    const QString path = QStringLiteral("system");
    const QJsonValue system = root.value(path);
    if (!isPresent(system))
        return std::nullopt;
    if (system.isString()) {
        request.system = system.toString();
        return std::nullopt;
    }
    if (!system.isArray())
        return fieldError(path, QStringLiteral("must be a string or an array of text blocks"), typeCode);
    const QJsonArray blocks = system.toArray();
    for (qsizetype i = 0; i < blocks.size(); ++i) {
        const QJsonObject block = blocks.at(i).toObject();
        const QJsonValue text = block.value(QStringLiteral("text"));
        if (block.value(QStringLiteral("type")).toString() != QStringLiteral("text") || !text.isString())
            return fieldError(indexed(path, i), QStringLiteral("must be a text block with a string text"), typeCode);
        appendText(request.system, text.toString());
    }
    return std::nullopt;
}

Failure validateOpenAI(const QJsonObject &root, ChatRequest &request)
{
    if (const Failure failure = readModel(root, request))
        return failure;
    QJsonArray messages;
    if (const Failure failure = requireMessagesArray(root, messages))
        return failure;
    for (qsizetype i = 0; i < messages.size(); ++i) {
        ChatMessage message;
        if (const Failure failure = readOpenAIMessage(messages.at(i), indexed(QStringLiteral("messages"), i), message))
            return failure;
        request.messages.append(message);
    }
    if (const Failure failure = readBool(root, QStringLiteral("stream"), request.stream))
        return failure;
    const QJsonValue streamOptions = root.value(QStringLiteral("stream_options"));
    if (isPresent(streamOptions)) {
        if (!request.stream) {
            return fieldError(QStringLiteral("stream_options"), QStringLiteral("only allowed when stream is true"),
                              valueCode);
        }
        if (!streamOptions.isObject())
            return fieldError(QStringLiteral("stream_options"), QStringLiteral("must be an object"), typeCode);
        const QJsonValue includeUsage = streamOptions.toObject().value(QStringLiteral("include_usage"));
        if (isPresent(includeUsage) && !includeUsage.isBool()) {
            return fieldError(QStringLiteral("stream_options.include_usage"), QStringLiteral("must be a boolean"),
                              typeCode);
        }
        request.includeUsage = includeUsage.toBool();
    }

    std::optional<qint64> maxTokens;
    std::optional<qint64> maxCompletionTokens;
    if (const Failure failure = readInteger(root, QStringLiteral("max_tokens"), 1, std::nullopt, maxTokens))
        return failure;
    if (const Failure failure =
            readInteger(root, QStringLiteral("max_completion_tokens"), 1, std::nullopt, maxCompletionTokens))
        return failure;
    request.maxOutputTokens = maxCompletionTokens ? maxCompletionTokens : maxTokens;

    std::optional<double> ignoredPenalty;
    if (const Failure failure = readNumber(root, QStringLiteral("temperature"), 0, 2, request.temperature))
        return failure;
    if (const Failure failure = readNumber(root, QStringLiteral("top_p"), 0, 1, request.topP))
        return failure;
    if (const Failure failure = readNumber(root, QStringLiteral("presence_penalty"), -2, 2, ignoredPenalty))
        return failure;
    if (const Failure failure = readNumber(root, QStringLiteral("frequency_penalty"), -2, 2, ignoredPenalty))
        return failure;
    std::optional<qint64> choiceCount;
    if (const Failure failure = readInteger(root, QStringLiteral("n"), 1, 128, choiceCount))
        return failure;
    request.choiceCount = static_cast<int>(choiceCount.value_or(1));
    if (const Failure failure = readInteger(root, QStringLiteral("seed"), std::nullopt, std::nullopt, request.seed))
        return failure;
    if (const Failure failure = readStringList(root.value(QStringLiteral("stop")), QStringLiteral("stop"), true, 4,
                                               QStringLiteral("must be a string or an array of at most 4 strings"),
                                               request.stop))
        return failure;
    return readTools(root, {QStringLiteral("tools"), QStringLiteral("functions")}, request);
}

Failure validateAnthropic(const QJsonObject &root, ChatRequest &request)
{
    if (const Failure failure = readModel(root, request))
        return failure;
    if (!isPresent(root.value(QStringLiteral("max_tokens"))))
        return fieldError(QStringLiteral("max_tokens"), QStringLiteral("required"), missingCode);
    if (const Failure failure =
            readInteger(root, QStringLiteral("max_tokens"), 1, std::nullopt, request.maxOutputTokens))
        return failure;
    QJsonArray messages;
    if (const Failure failure = requireMessagesArray(root, messages))
        return failure;
    for (qsizetype i = 0; i < messages.size(); ++i) {
        ChatMessage message;
        if (const Failure failure =
                readAnthropicMessage(messages.at(i), indexed(QStringLiteral("messages"), i), message))
            return failure;
        request.messages.append(message);
    }
    if (const Failure failure = readAnthropicSystem(root, request))
        return failure;
    if (const Failure failure = readBool(root, QStringLiteral("stream"), request.stream))
        return failure;
    if (const Failure failure = readNumber(root, QStringLiteral("temperature"), 0, 1, request.temperature))
        return failure;
    if (const Failure failure = readNumber(root, QStringLiteral("top_p"), 0, 1, request.topP))
        return failure;
    if (const Failure failure = readInteger(root, QStringLiteral("top_k"), 0, std::nullopt, request.topK))
        return failure;
    if (const Failure failure =
            readStringList(root.value(QStringLiteral("stop_sequences")), QStringLiteral("stop_sequences"), false,
                           std::numeric_limits<qsizetype>::max(), QStringLiteral("must be an array of strings"),
                           request.stop))
        return failure;
    return readTools(root, {QStringLiteral("tools")}, request);
}

Result<ChatRequest, ApiError> parseWith(ProviderKind kind, const QByteArray &body,
                                        Failure (*validate)(const QJsonObject &, ChatRequest &))
{
    Result<QJsonObject, ApiError> root = parseObject(body);
    if (!root)
        return unexpected(std::move(root).error());
    ChatRequest request;
    request.kind = kind;
    if (Failure failure = validate(*root, request))
        return unexpected(std::move(*failure));
    request.original = std::move(root).value();
    return request;
}

} // namespace

Result<ChatRequest, ApiError> parseOpenAIChatRequest(const QByteArray &body)
{
    return parseWith(ProviderKind::OpenAI, body, validateOpenAI);
}

Result<ChatRequest, ApiError> parseAnthropicMessagesRequest(const QByteArray &body)
{
    return parseWith(ProviderKind::Anthropic, body, validateAnthropic);
}

Result<ChatRequest, ApiError> parseChatRequest(ProviderKind kind, const QByteArray &body)
{
    return kind == ProviderKind::OpenAI ? parseOpenAIChatRequest(body) : parseAnthropicMessagesRequest(body);
}

} // namespace sluice::gateway
