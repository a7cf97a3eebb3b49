#pragma once

#include <QJsonObject>
#include <QJsonValue>

// JSON Merge Patch (RFC 7396), as the admin API's PATCH applies it to a
// configuration: members of patch replace those of base, recursively for
// objects; a null member removes the key; arrays and scalars replace
// wholesale. Reentrant.
namespace sluice::config {

QJsonObject applyMergePatch(const QJsonObject &base, const QJsonObject &patch);

// The general form: a patch that is not an object replaces the target, and a
// target that is not an object is replaced by {} before an object patch.
QJsonValue applyMergePatch(const QJsonValue &target, const QJsonValue &patch);

} // namespace sluice::config
