#include "gateway/optionvalues.h"

#include <cmath>

namespace sluice::gateway {

QString quotedValue(const QString &value)
{
    return QLatin1Char('"') + value + QLatin1Char('"');
}

QString optionValueError(const QString &option, const QString &what, const QString &value)
{
    return QStringLiteral("%1: expected %2, got %3").arg(option, what, quotedValue(value));
}

std::optional<quint64> wholeNumber(const QString &text)
{
    if (text.isEmpty())
        return std::nullopt;
    for (const QChar character : text) {
        if (character < QLatin1Char('0') || character > QLatin1Char('9'))
            return std::nullopt;
    }
    bool ok = false;
    const quint64 value = text.toULongLong(&ok);
    return ok ? std::optional<quint64>(value) : std::nullopt;
}

std::optional<double> finiteNumber(const QString &text)
{
    if (text.isEmpty() || text.trimmed() != text)
        return std::nullopt;
    bool ok = false;
    const double value = text.toDouble(&ok);
    return ok && std::isfinite(value) ? std::optional<double>(value) : std::nullopt;
}

QString parseProbability(const QString &option, const QString &value, double &target)
{
    const std::optional<double> number = finiteNumber(value);
    if (!number || *number < 0 || *number > 1)
        return optionValueError(option, QStringLiteral("a probability from 0 to 1"), value);
    target = *number;
    return {};
}

QString parseMeanSpread(const QString &option, const QString &value, Distribution &target)
{
    const QStringList parts = value.split(QLatin1Char(','));
    const std::optional<double> mean = finiteNumber(parts.value(0));
    const std::optional<double> spread = parts.size() > 1 ? finiteNumber(parts.value(1)) : std::optional<double>(0.0);
    if (parts.size() > 2 || !mean || !spread || *mean < 0 || *spread < 0)
        return optionValueError(option, QStringLiteral("MEAN[,SPREAD] with numbers >= 0"), value);
    target.mean = *mean;
    target.spread = *spread;
    return {};
}

QString parseModels(const QString &option, const QString &value, QStringList &target)
{
    QStringList models;
    for (const QString &part : value.split(QLatin1Char(','))) {
        const QString model = part.trimmed();
        if (model.isEmpty())
            return optionValueError(option, QStringLiteral("comma-separated model names"), value);
        if (!models.contains(model))
            models.append(model);
    }
    target = models;
    return {};
}

} // namespace sluice::gateway
