#pragma once

#include <vector>

#include <QJsonObject>
#include <QJsonValue>
#include <QString>
#include <QStringView>

#include "policy/result.h"

// Field paths into a configuration document, as used in ConfigError and
// FieldChange:
//   key             a plain word ([A-Za-z0-9_-]+) after a dot, or first
//   ["any key"]     any other object key, as a JSON string
//   [3]             an array index
//   [name=openai]   the element of an array of objects whose "name" is
//                   openai (the value is a JSON string if not a plain word)
// e.g. upstreams[name=openai].aliases["gpt-4.1"].
//
// Reentrant; safe to call from any thread.
namespace sluice::config {

QString pathWithKey(const QString &path, const QString &key);
QString pathWithIndex(const QString &path, qsizetype index);
QString pathWithMatch(const QString &path, const QString &field, const QString &value);

// True if path is ancestor itself or lies below it (upstreams[1].kind is
// within upstreams and upstreams[1], not within upstream or upstreams[10]).
bool isWithinPath(QStringView path, QStringView ancestor);

struct PathSegment {
    enum class Kind { Key, Index, Match };
    Kind kind = Kind::Key;
    QString key;          // Key: the object key; Match: the field matched on
    QString value;        // Match: the value it must have
    qsizetype index = 0;  // Index

    friend bool operator==(const PathSegment &, const PathSegment &) = default;
};

// The segments of a path; an error message if it is not a well-formed path.
Result<std::vector<PathSegment>, QString> parsePath(QStringView path);

// The value at a path; undefined if it does not exist.
QJsonValue valueAtPath(const QJsonValue &root, QStringView path);

// root with the value at path replaced. An undefined value removes the member
// or element. Objects on the way are created for missing keys; an index may be
// one past the end (append); a [field=value] that matches nothing appends a
// new object with that field. Fails if the path is malformed, crosses a value
// of the wrong type, or removes something that does not exist.
Result<QJsonObject, QString> setValueAtPath(const QJsonObject &root, QStringView path,
                                            const QJsonValue &value);

} // namespace sluice::config
