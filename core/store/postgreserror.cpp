#include "store/postgreserror.h"

#include <pqxx/except>

namespace sluice::store {

namespace {

using namespace Qt::StringLiterals;

// libpq messages run over several lines ("FATAL: ...\nDETAIL: ..."); the first carries the point.
QString firstLine(const char *what)
{
    QString text = QString::fromUtf8(what).trimmed();
    const qsizetype newline = text.indexOf(QLatin1Char('\n'));
    if (newline >= 0)
        text.truncate(newline);
    return text.trimmed();
}

bool mentions(const QString &text, QLatin1StringView needle)
{
    return text.contains(needle, Qt::CaseInsensitive);
}

StoreErrorKind connectionFailureKind(const QString &text)
{
    // libpq has no error codes for connection failures, only text (strerror and its own).
    if (mentions(text, "password authentication failed"_L1) || mentions(text, "no pg_hba.conf entry"_L1)
        || (mentions(text, "role"_L1) && mentions(text, "does not exist"_L1))
        || mentions(text, "no password supplied"_L1))
        return StoreErrorKind::Authentication;
    if (mentions(text, "timeout expired"_L1) || mentions(text, "timed out"_L1))
        return StoreErrorKind::Timeout;
    if (mentions(text, "refused"_L1) || mentions(text, "could not translate host name"_L1)
        || mentions(text, "unreachable"_L1) || mentions(text, "no route to host"_L1))
        return StoreErrorKind::Refused;
    return StoreErrorKind::NotConnected;
}

StoreErrorKind sqlStateKind(const std::string &state)
{
    if (state.size() != 5)
        return StoreErrorKind::Server;
    const std::string_view cls(state.data(), 2);
    if (cls == "08" || state == "57P01" || state == "57P02" || state == "57P03")
        return StoreErrorKind::NotConnected;
    if (cls == "28")
        return StoreErrorKind::Authentication;
    if (state == "57014" || state == "55P03")
        return StoreErrorKind::Timeout;
    return StoreErrorKind::Server;
}

} // namespace

StoreError storeErrorFromPostgres(const std::exception &error)
{
    const QString text = firstLine(error.what());
    if (dynamic_cast<const pqxx::broken_connection *>(&error))
        return {connectionFailureKind(text), text};
    if (const auto *sql = dynamic_cast<const pqxx::sql_error *>(&error)) {
        const std::string &state = sql->sqlstate();
        const QString message = state.empty() ? text : QStringLiteral("SQLSTATE %1: %2").arg(QString::fromStdString(state), text);
        return {sqlStateKind(state), message};
    }
    if (dynamic_cast<const pqxx::in_doubt_error *>(&error))
        return {StoreErrorKind::NotConnected, QStringLiteral("commit outcome unknown: ") + text};
    if (dynamic_cast<const pqxx::conversion_error *>(&error) || dynamic_cast<const pqxx::range_error *>(&error))
        return {StoreErrorKind::Protocol, text};
    return {StoreErrorKind::Server, text};
}

} // namespace sluice::store
