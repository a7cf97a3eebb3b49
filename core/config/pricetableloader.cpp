#include "config/pricetableloader.h"
#include "config/jsontext.h"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <optional>

#include <QDate>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>
#include <QJsonValue>
#include <QLocale>

// Q_INIT_RESOURCE must be used outside any namespace. The resource is linked
// as an object library so it usually registers itself, but initialising it
// explicitly keeps a static link that dropped the initialiser working too.
static void initDefaultResources()
{
    static std::once_flag once;
    std::call_once(once, [] { Q_INIT_RESOURCE(sluice_defaults); });
}

namespace sluice::config {

namespace {

const QString defaultTablePath = QStringLiteral(":/sluice/prices/default-prices.json");

QString typeName(const QJsonValue &value)
{
    switch (value.type()) {
    case QJsonValue::Null:
        return QStringLiteral("null");
    case QJsonValue::Bool:
        return QStringLiteral("bool");
    case QJsonValue::Double:
        return QStringLiteral("number");
    case QJsonValue::String:
        return QStringLiteral("string");
    case QJsonValue::Array:
        return QStringLiteral("array");
    case QJsonValue::Object:
        return QStringLiteral("object");
    case QJsonValue::Undefined:
        break;
    }
    return QStringLiteral("undefined");
}

QString formatNumber(double value)
{
    return QString::number(value, 'g', QLocale::FloatingPointShortest);
}

class Reader {
public:
    void fail(const QString &path, const QString &reason)
    {
        m_errors.push_back((path + QStringLiteral(": ") + reason).toStdString());
    }
    PriceTableErrors takeErrors() { return std::move(m_errors); }
    bool failed() const { return !m_errors.empty(); }

    void rejectUnknownFields(const QJsonObject &object, const QString &prefix,
                             std::initializer_list<QLatin1StringView> known)
    {
        for (auto it = object.begin(); it != object.end(); ++it) {
            if (std::find(known.begin(), known.end(), it.key()) == known.end())
                fail(prefix + it.key(), QStringLiteral("unknown field"));
        }
    }

    std::optional<QString> requiredString(const QJsonObject &object, const QString &key, const QString &path)
    {
        const QJsonValue value = object.value(key);
        if (value.isUndefined()) {
            fail(path, QStringLiteral("required"));
            return std::nullopt;
        }
        if (!value.isString()) {
            fail(path, QStringLiteral("must be a string, got ") + typeName(value));
            return std::nullopt;
        }
        return value.toString();
    }

    // nullopt when absent or invalid (invalid also records an error).
    std::optional<double> price(const QJsonObject &object, QLatin1StringView key, const QString &path, bool required)
    {
        const QJsonValue value = object.value(key);
        if (value.isUndefined()) {
            if (required)
                fail(path, QStringLiteral("required"));
            return std::nullopt;
        }
        if (!value.isDouble()) {
            fail(path, QStringLiteral("must be a number, got ") + typeName(value));
            return std::nullopt;
        }
        const double number = value.toDouble();
        if (!std::isfinite(number)) {
            fail(path, QStringLiteral("must be a finite number"));
            return std::nullopt;
        }
        if (number < 0.0) {
            fail(path, QStringLiteral("must be >= 0, got ") + formatNumber(number));
            return std::nullopt;
        }
        return number;
    }

    std::optional<policy::ModelPrice> modelPrice(const QJsonValue &value, const QString &path)
    {
        if (!value.isObject()) {
            fail(path, QStringLiteral("must be an object, got ") + typeName(value));
            return std::nullopt;
        }
        const QJsonObject object = value.toObject();
        const QString prefix = path + u'.';
        rejectUnknownFields(object, prefix,
                            {QLatin1StringView("input_per_mtok"), QLatin1StringView("output_per_mtok"),
                             QLatin1StringView("cached_input_per_mtok"), QLatin1StringView("cache_write_per_mtok"),
                             QLatin1StringView("per_request_usd")});

        const std::size_t errorsBefore = m_errors.size();
        const auto field = [&](const char *key, bool required) {
            return price(object, QLatin1StringView(key), prefix + QLatin1StringView(key), required);
        };
        policy::ModelPrice result;
        result.inputPerMTokUsd = field("input_per_mtok", true).value_or(0.0);
        result.outputPerMTokUsd = field("output_per_mtok", true).value_or(0.0);
        result.cachedInputPerMTokUsd = field("cached_input_per_mtok", false);
        result.cacheWritePerMTokUsd = field("cache_write_per_mtok", false);
        result.perRequestUsd = field("per_request_usd", false).value_or(0.0);
        if (m_errors.size() != errorsBefore)
            return std::nullopt;
        return result;
    }

    void table(const QJsonObject &root, policy::PriceTable &table)
    {
        rejectUnknownFields(root, QString(),
                            {QLatin1StringView("as_of"), QLatin1StringView("currency"), QLatin1StringView("source"),
                             QLatin1StringView("models")});

        if (const auto asOf = requiredString(root, QStringLiteral("as_of"), QStringLiteral("as_of"))) {
            if (!QDate::fromString(*asOf, QStringLiteral("yyyy-MM-dd")).isValid())
                fail(QStringLiteral("as_of"), QStringLiteral("must be a date YYYY-MM-DD, got \"%1\"").arg(*asOf));
            else
                table.asOf = asOf->toStdString();
        }

        if (const auto currency = requiredString(root, QStringLiteral("currency"), QStringLiteral("currency"))) {
            if (*currency != QLatin1StringView("USD"))
                fail(QStringLiteral("currency"), QStringLiteral("must be \"USD\", got \"%1\"").arg(*currency));
            else
                table.currency = currency->toStdString();
        }

        if (root.contains(QLatin1StringView("source"))) {
            if (const auto source = requiredString(root, QStringLiteral("source"), QStringLiteral("source")))
                table.source = source->toStdString();
        }

        const QJsonValue models = root.value(QLatin1StringView("models"));
        if (models.isUndefined()) {
            fail(QStringLiteral("models"), QStringLiteral("required"));
            return;
        }
        if (!models.isObject()) {
            fail(QStringLiteral("models"), QStringLiteral("must be an object, got ") + typeName(models));
            return;
        }
        const QJsonObject modelObject = models.toObject();
        if (modelObject.isEmpty()) {
            fail(QStringLiteral("models"), QStringLiteral("must contain at least one model"));
            return;
        }
        for (auto it = modelObject.begin(); it != modelObject.end(); ++it) {
            QString quotedName = it.key();
            quotedName.replace(u'"', QStringLiteral("\\\""));
            const QString path = QStringLiteral("models[\"%1\"]").arg(quotedName);
            if (it.key().trimmed().isEmpty() || it.key().trimmed() != it.key()) {
                fail(path, QStringLiteral("model name must be non-empty without surrounding spaces"));
                continue;
            }
            if (auto price = modelPrice(it.value(), path))
                table.models.emplace(it.key().toStdString(), *price);
        }
    }

private:
    PriceTableErrors m_errors;
};

PriceTableResult prefixed(PriceTableResult result, const QString &prefix)
{
    if (result.ok())
        return result;
    PriceTableErrors errors = std::move(result).error();
    for (std::string &error : errors)
        error.insert(0, prefix.toStdString() + ": ");
    return unexpected(std::move(errors));
}

} // namespace

PriceTableResult loadPriceTable(const QByteArray &json)
{
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(json, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        const QString message = jsonLocation(json, parseError.offset) + QStringLiteral(": ") + parseError.errorString();
        return unexpected(PriceTableErrors{message.toStdString()});
    }
    if (!document.isObject()) {
        const QString got = document.isArray() ? QStringLiteral("array") : QStringLiteral("nothing");
        return unexpected(PriceTableErrors{("$: must be an object, got " + got).toStdString()});
    }

    Reader reader;
    policy::PriceTable table;
    reader.table(document.object(), table);
    if (reader.failed())
        return unexpected(reader.takeErrors());
    return table;
}

PriceTableResult loadPriceTableFile(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return unexpected(PriceTableErrors{(path + QStringLiteral(": cannot read: ") + file.errorString()).toStdString()});
    return prefixed(loadPriceTable(file.readAll()), path);
}

PriceTableResult defaultPriceTable()
{
    initDefaultResources();
    return loadPriceTableFile(defaultTablePath);
}

} // namespace sluice::config
